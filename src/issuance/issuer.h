/*
 * issuer.h: turns issuance intents into certificates. A request whose
 * names are all approved leaves a PREPARED intent (with the serial the
 * certificate will carry) and calls issuer_kick(); the issuer claims the
 * intent with a lease, generates the key pair and signs the leaf on the
 * CPU work queue, then writes version 1, status ISSUED, the intent
 * COMMITTED and the audit event "IssueCertificate" in one transaction.
 *
 * A daemon that dies between signing and committing leaves the intent
 * PREPARED; once its lease ([ca] lease_duration) runs out, the next claim
 * (by any daemon on the database) redoes it with a new key and the same
 * serial. Claims skip rows another daemon holds, so each intent is issued
 * once. The issuer also scans every few seconds by itself.
 *
 * At most workq_threads() * 2 intents are being generated and signed at
 * once; signed ones wait for the next commit, which takes all that are
 * ready in one transaction (one fsync for many certificates).
 */
#ifndef CERTFLEET_ISSUANCE_ISSUER_H
#define CERTFLEET_ISSUANCE_ISSUER_H

struct daemon_ctx;
struct issuer;

/*
 * Needs ctx->pool, ctx->workq and ctx->ca (loaded), and reads ctx->cfg's
 * [ca] settings at each claim (validity, backdate and lease reload).
 */
struct issuer *issuer_new(struct daemon_ctx *ctx);

/* Scan for intents now (after the commit that prepared one). */
void issuer_kick(struct issuer *iss);

/*
 * Shutdown, in this order: issuer_stop() (no new claims; from now on
 * every signed intent is committed at once), workq_free() (finishes the
 * signing, whose results are queued to the database), dbpool_free()
 * (runs those commits and the callbacks), then issuer_free(). Intents
 * whose claim comes back after issuer_stop() are left to their lease.
 * Both accept NULL.
 */
void issuer_stop(struct issuer *iss);
void issuer_free(struct issuer *iss);

#endif
