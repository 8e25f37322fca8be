/*
 * issuance.h: the SQL behind certfleet's own CA and the issuer: the CA rows
 * (certificate_authorities) and the issuance intents a request leaves for
 * the issuer (issuance_intents), up to the transaction that turns an intent
 * into an issued certificate.
 *
 * Same conventions as store.h: synchronous, on a connection of the
 * caller's, inside the caller's transaction where one is open; 0 or a
 * negative errno (-ENOENT, -ECONNRESET, -EIO, ...) with a message.
 */
#ifndef CERTFLEET_STORE_ISSUANCE_H
#define CERTFLEET_STORE_ISSUANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cleanup.h"

typedef struct pg_conn PGconn;
struct store_cert_version;

/* ---- certfleet's CA (store/ca.c) ------------------------------------- */

/*
 * One row of certificate_authorities. The signing CA (the intermediate) is
 * the active row: certificate_pem is its certificate, chain_pem the root,
 * sealed_key its key. A root certfleet created is kept as an inactive row
 * of its own (chain_pem NULL) with its sealed key, to sign a successor one
 * day; an operator's root has no row.
 */
struct store_ca {
	char *name;			/* unique; the key's AAD is "ca:<name>" */
	char *certificate_pem;
	char *chain_pem;
	unsigned char *sealed_key;
	size_t sealed_key_len;
	char *fingerprint_sha256;	/* of certificate_pem's DER */
	int64_t not_before, not_after;	/* epoch seconds */
};

void store_ca_free(struct store_ca *ca);

/*
 * Takes the transaction-scoped advisory lock that serialises CA creation,
 * so that daemons starting together on one database make one CA. Needs an
 * open transaction (store_begin).
 */
int store_ca_lock(PGconn *conn, char **reterr_msg) _wur_;

/* The active CA with its sealed key; -ENOENT when there is none. */
int store_ca_get_active(PGconn *conn, struct store_ca **out,
    char **reterr_msg) _wur_;

/* The active CA's certificate and chain only, for the API. -ENOENT. */
int store_ca_get_active_pem(PGconn *conn, char **certificate_pem,
    char **chain_pem, char **reterr_msg) _wur_;

/* Adds a CA row; -EEXIST for a name or fingerprint already stored. */
int store_ca_insert(PGconn *conn, const struct store_ca *ca, bool active,
    char **reterr_msg) _wur_;

/*
 * Makes the row with this fingerprint the only active one; -ENOENT if no
 * row has it.
 */
int store_ca_activate(PGconn *conn, const char *fingerprint_sha256,
    char **reterr_msg) _wur_;

/* ---- issuance intents (store/intents.c) ------------------------------ */

/* A claimed intent and what the issuer needs to carry it out. */
struct store_intent {
	int64_t id;
	int64_t certificate_id;
	int version;
	char *serial;		/* as written by the request: hex, ':' optional */
	char *arn;
	char *key_algorithm;	/* ACM KeyAlgorithm name */
	char **names;		/* domain name first; NULL-terminated */
};

void store_intents_free(struct store_intent *v, size_t n);

/*
 * Claims up to `limit` PREPARED intents of purpose ISSUE whose lease is
 * free or has run out, oldest first, skipping rows another daemon is
 * claiming this instant (FOR UPDATE SKIP LOCKED), and leases them to
 * `owner` for lease_ms. Intents whose certificate is no longer
 * PENDING_VALIDATION (failed, timed out) are abandoned instead. Runs in
 * its own transaction (the caller has none open).
 */
int store_intents_claim(PGconn *conn, const char *owner, int64_t lease_ms,
    int limit, struct store_intent **out, size_t *n,
    char **reterr_msg) _wur_;

/* One intent of a batch being recorded, as store_intents_lock found it. */
struct store_intent_lock {
	int64_t intent_id;		/* in */
	int64_t certificate_id;		/* out */
	int version;			/* out: the version it becomes */
	/* out: 0 when still PREPARED, leased to owner and its certificate
	 * PENDING_VALIDATION; -ESTALE when another daemon took it over
	 * after our lease ran out or it finished or ended meanwhile. An
	 * intent whose certificate is no longer pending (timed out,
	 * failed) is abandoned here, also -ESTALE. */
	int rc;
};

/*
 * Locks the intents of a batch and their certificates (FOR UPDATE, in id
 * order) in one round trip, inside the caller's transaction, and sets
 * each one's rc.
 */
int store_intents_lock(PGconn *conn, const char *owner,
    struct store_intent_lock *v, size_t n, char **reterr_msg) _wur_;

/*
 * Records an issued certificate for a locked intent (rc 0), inside the
 * caller's transaction: version `version` of the certificate, status
 * ISSUED, issued_at, validity and usages copied to the row,
 * current_version, and the intent COMMITTED.
 */
int store_intent_commit(PGconn *conn, const struct store_intent_lock *l,
    const struct store_cert_version *v, char **reterr_msg) _wur_;

/* One issued certificate of a batch. */
struct store_issued {
	const struct store_intent_lock *lock;	/* rc 0 */
	const char *arn;
	const struct store_cert_version *version;
};

/*
 * What store_intent_commit does, for n locked intents in one statement,
 * plus each one's audit event "IssueCertificate" (the daemon's own work,
 * recorded as audit_record_work() records it, from host_name). In the
 * caller's transaction.
 */
int store_intents_commit_issued(PGconn *conn, const char *host_name,
    const struct store_issued *items, size_t n, char **reterr_msg) _wur_;

/*
 * A locked intent that cannot be issued (the CA refuses its names, say):
 * the intent ABANDONED, its certificate FAILED with reason OTHER and the
 * detail.
 */
int store_intent_abandon(PGconn *conn, const struct store_intent_lock *l,
    const char *detail, char **reterr_msg) _wur_;

/*
 * A temporary failure: the error is recorded and the lease shortened to
 * retry_ms from now, so that this or another daemon tries again then.
 */
int store_intent_retry_later(PGconn *conn, int64_t intent_id,
    const char *owner, int64_t retry_ms, const char *error,
    char **reterr_msg) _wur_;

/*
 * Gives up the leases of claimed intents this daemon will not sign after
 * all (it is stopping), so that the next claim need not wait for them.
 */
int store_intents_release(PGconn *conn, const char *owner,
    const int64_t *ids, size_t n, char **reterr_msg) _wur_;

#endif
