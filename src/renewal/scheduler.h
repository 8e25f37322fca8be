/*
 * scheduler.h: managed renewal and expiry events. One scheduler per
 * daemon; several daemons on one database share the work through the
 * certificates table.
 *
 * Every bound certfleet-issued certificate carries next_due_at (absolute
 * wall-clock time): NotAfter - min(renew_before, lifetime / 3) - a random
 * offset of up to a tenth of that window. It is (re)computed whenever a
 * certificate is issued, renewed, bound or fails: triggers mark the row
 * (renewal_due_dirty) and the next tick computes the due time for the
 * marked rows only, with the configured renew_before. Unbound rows have no
 * due time and are never renewed.
 *
 * Each tick ([renewal] scan_interval, and at once when the wall clock is
 * stepped: renewal/clock_step.h) claims due rows through the
 * partial index on next_due_at with FOR UPDATE SKIP LOCKED and a lease
 * ([renewal] lease_duration), so each certificate is renewed by one daemon
 * at a time, and a daemon that dies leaves its work to another once the
 * lease has run out. A tick with nothing due reads no rows.
 *
 * A renewal, per certificate (stored in certificates.renewal_state, so a
 * daemon taking over resumes where the last one stopped):
 *
 *   CHECKING    DNS check of every name, TLS probe of every binding's
 *               endpoint (renewal/dns_check.h, renewal/tls_probe.h)
 *   ISSUING     an issuance intent of purpose RENEWAL: the issuer makes a
 *               new version under the same ARN with a new key
 *   DEPLOYING   every binding gets the new version (each host deploys its
 *               own bindings, renewal/deploy.h)
 *   VERIFYING   every endpoint address is probed until it serves the new
 *               certificate; a stale endpoint is logged and retried
 *   VALIDATING  a check failed: validation emails for exactly the failing
 *               names (approval tokens of purpose RENEWAL); approval goes
 *               on to ISSUING, no approval in time ends FAILED with an
 *               email to [notifications] email and a journal warning
 *
 * Every state has a deadline; the reaper moves overdue work on with a
 * recorded reason. Failures back off exponentially with jitter
 * (backoff_until, failure_count in the database, so a restart does not
 * reset them).
 *
 * Expiry: the same tick writes EXPIRED for certificates past NotAfter and
 * sends expiry events (email + journal entry, once per day and certificate,
 * "a day" being [notifications] expiry_event_interval) from the account's
 * DaysBeforeExpiry on.
 */
#ifndef CERTFLEET_RENEWAL_SCHEDULER_H
#define CERTFLEET_RENEWAL_SCHEDULER_H

#include <stdint.h>

struct daemon_ctx;
struct scheduler;

/* Needs ctx->pool and ctx->base; reads ctx->cfg at each tick. */
struct scheduler *scheduler_new(struct daemon_ctx *ctx);

/* Starts the timer (once the schema is ready). */
void scheduler_start(struct scheduler *s);

/*
 * Scan now: after RenewCertificate, an approval of a renewal, a new
 * binding, or a deployment that finished.
 */
void scheduler_kick(struct scheduler *s);

/*
 * A deployment of one binding of this host finished (rc 0 or -errno):
 * the scheduler goes on with the certificate if it is waiting for it.
 * For the deployer (renewal/deploy.h) to call; ids, not pointers.
 */
void scheduler_deployed(struct scheduler *s, int64_t binding_id, int rc);

/*
 * The issuer committed new versions (loop thread): renewals waiting for
 * theirs look now rather than at their next poll.
 */
void scheduler_issued(struct scheduler *s);

/*
 * Shutdown: scheduler_stop() before dbpool_free() (no new claims; leases
 * held are released so another daemon need not wait for them),
 * scheduler_free() after it. Both accept NULL.
 */
void scheduler_stop(struct scheduler *s);
void scheduler_free(struct scheduler *s);

#endif
