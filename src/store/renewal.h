/*
 * renewal.h: the SQL behind the renewal scheduler and expiry events
 * (renewal/scheduler.c). Every function costs what is due: the rows it
 * reads come from partial indexes on next_due_at, renewal_due_dirty and
 * next_expiry_event_at.
 *
 * Same conventions as store.h: synchronous, on a connection of the
 * caller's; 0 or a negative errno with a message. Functions that change
 * several rows open their own transaction when the caller has none.
 */
#ifndef CERTFLEET_STORE_RENEWAL_H
#define CERTFLEET_STORE_RENEWAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cleanup.h"

typedef struct pg_conn PGconn;

/*
 * (Re)computes next_due_at for up to `limit` rows marked dirty and not in
 * a renewal: NotAfter - min(renew_before, lifetime / 3) - random(0 ..
 * a tenth of that window) for a bound, issued, certfleet-issued
 * certificate, NULL otherwise. *n: rows done (== limit: call again).
 */
int store_renewal_refresh_due(PGconn *conn, int64_t renew_before_ms,
    int limit, size_t *n, char **reterr_msg) _wur_;

/* A renewal claimed by this daemon. */
struct store_renewal {
	int64_t id;
	char *arn;
	char *state;		/* CHECKING, ISSUING, DEPLOYING, VERIFYING,
				   VALIDATING */
	int current_version;
	int renewal_version;	/* 0 until ISSUING */
	int failure_count;
	bool overdue;		/* the state's deadline has passed */
	char **names;		/* DomainName first */
	char *started;		/* a renewal begins: "due", "requested"
				   (RenewCertificate) or "retry" (after a
				   backoff); NULL: one in progress resumes */
};

void store_renewals_free(struct store_renewal *v, size_t n);

/*
 * Claims up to `limit` due rows (oldest due first, SKIP LOCKED), leases
 * them to owner for lease_ms and moves their next_due_at to the lease's
 * end, so that the row comes due again (for any daemon) exactly when the
 * lease runs out. A row with no renewal in progress enters CHECKING with
 * RenewalStatus PENDING_AUTO_RENEWAL. A claim that starts a renewal (as
 * opposed to resuming one another daemon or an earlier attempt left)
 * says why in `started`.
 */
int store_renewal_claim(PGconn *conn, const char *owner, int64_t lease_ms,
    int limit, struct store_renewal **out, size_t *n,
    char **reterr_msg) _wur_;

/*
 * Extends the leases of ids[0..n) still held by owner; lost[i] is set for
 * those that are not (another daemon took them over).
 */
int store_renewal_heartbeat(PGconn *conn, const char *owner,
    int64_t lease_ms, const int64_t *ids, size_t n, bool *lost,
    char **reterr_msg) _wur_;

/*
 * Moves a leased renewal to `state` with a deadline deadline_ms from now
 * (and renewal_detail = detail, may be NULL). -ESTALE when the lease is
 * no longer ours.
 */
int store_renewal_set_state(PGconn *conn, const char *owner, int64_t id,
    const char *state, int64_t deadline_ms, const char *detail,
    char **reterr_msg) _wur_;

/*
 * ISSUING: writes (once) the issuance intent of purpose RENEWAL for the
 * next version, with a fresh serial (hex), and the state. *version: the
 * version it produces. A renewal resumed after a takeover keeps its
 * version: nothing is written when that version is already committed, and
 * an intent the issuer abandoned is reset to be tried again. -ESTALE when
 * the lease is lost.
 */
int store_renewal_issue(PGconn *conn, const char *owner, int64_t id,
    const char *serial, int64_t deadline_ms, int *version,
    char **reterr_msg) _wur_;

/* Whether the intent for `version` is committed (0) or ended (-EPIPE). */
int store_renewal_issued(PGconn *conn, int64_t id, int version,
    bool *done, char **reterr_msg) _wur_;

/* One binding of a certificate being renewed. */
struct store_renewal_binding {
	int64_t id;
	char *host_name;
	char *address;		/* NULL: no endpoint */
	int port;
	char *server_name;
	int deployed_version;	/* 0: never */
	char *deploy_status;
	char *deploy_error;
};

void store_renewal_bindings_free(struct store_renewal_binding *v, size_t n);

/* The bindings of a certificate, with the current version's fingerprint. */
int store_renewal_bindings(PGconn *conn, int64_t id,
    struct store_renewal_binding **out, size_t *n, char **fingerprint,
    char **reterr_msg) _wur_;

/*
 * Bindings of host_name whose certificate is DEPLOYING and that do not
 * have its current version yet: what this host must deploy for renewals
 * driven by any daemon. Returns binding ids.
 */
int store_renewal_local_deploys(PGconn *conn, const char *host_name,
    int64_t **ids, size_t *n, char **reterr_msg) _wur_;

/* Records what an endpoint served (bindings.probe_*). */
int store_renewal_probed(PGconn *conn, int64_t binding_id,
    const char *fingerprint, const char *error, char **reterr_msg) _wur_;

/*
 * The renewal is complete (deployment verified): RenewalStatus SUCCESS,
 * state cleared, failure count and backoff reset, the lease released and
 * the next due time computed. Per-name renewal results become SUCCESS.
 */
int store_renewal_done(PGconn *conn, const char *owner, int64_t id,
    int64_t renew_before_ms, char **reterr_msg) _wur_;

/*
 * A failed attempt: failure_count + 1, backoff_until = now + min(max,
 * min * 2^failures) with jitter (between half and all of it), next_due_at
 * the same, the lease released and the state kept (the next attempt
 * resumes it), the detail recorded.
 */
int store_renewal_backoff(PGconn *conn, const char *owner, int64_t id,
    int64_t min_ms, int64_t max_ms, const char *detail,
    char **reterr_msg) _wur_;

/* Gives up leases (the daemon stops): due again at once for others. */
int store_renewal_release(PGconn *conn, const char *owner,
    const int64_t *ids, size_t n, char **reterr_msg) _wur_;

/* The per-name results of the DNS check (domain_validations.renewal_*). */
int store_renewal_name_result(PGconn *conn, int64_t id, const char *name,
    bool ok, const char *detail, char **reterr_msg) _wur_;

/*
 * The fallback: the failing names wait for approval (renewal state
 * VALIDATING, RenewalStatus PENDING_VALIDATION, deadline timeout_ms), the
 * lease released and next_due_at set to the deadline (approval moves it to
 * now).
 */
int store_renewal_validate(PGconn *conn, const char *owner, int64_t id,
    int64_t timeout_ms, char **reterr_msg) _wur_;

/*
 * A claimed renewal in VALIDATING: *pending is how many names still wait
 * for approval (domain_validations.renewal_status PENDING_VALIDATION),
 * *failed how many cannot be approved (no contacts: FAILED), and
 * *failed_detail (malloc'd, NULL when none) "name: reason" for one of
 * those.
 */
int store_renewal_pending_names(PGconn *conn, int64_t id, int *pending,
    int *failed, char **failed_detail, char **reterr_msg) _wur_;

/*
 * Goes on waiting for approval: the lease released, next_due_at back at
 * the validation's deadline.
 */
int store_renewal_wait(PGconn *conn, const char *owner, int64_t id,
    char **reterr_msg) _wur_;

/*
 * Ends the renewal FAILED (reason, detail), state cleared, backoff as
 * store_renewal_backoff; a notice to `email` (when not NULL) is queued in
 * the same transaction: message_id, sender and body built by the caller.
 */
struct store_notice {
	const char *message_id;
	const char *sender;
	const char *recipient;
	const char *body;
	const char *kind;	/* RENEWAL, EXPIRY */
};
int store_renewal_fail(PGconn *conn, const char *owner, int64_t id,
    const char *reason, const char *detail, int64_t min_ms, int64_t max_ms,
    const struct store_notice *notice, char **reterr_msg) _wur_;

/*
 * RenewCertificate: the certificate comes due now, RenewalStatus
 * PENDING_AUTO_RENEWAL. -ENOENT: no such ARN;
 * -EPERM: not eligible (not issued by certfleet, not ISSUED, or not in
 * use); -EBUSY: a renewal is already in progress.
 */
int store_renewal_request(PGconn *conn, const char *arn,
    char **reterr_msg) _wur_;

/* DescribeCertificate's RenewalSummary; status NULL: no renewal yet. */
struct store_renewal_name {
	char *domain_name;
	char *validation_domain;
	char *status;		/* SUCCESS, PENDING_VALIDATION, FAILED */
	char **emails;
};

struct store_renewal_summary {
	char *status;		/* RenewalStatus */
	char *reason;		/* RenewalStatusReason, may be NULL */
	int64_t updated_at;	/* epoch seconds */
	struct store_renewal_name *names;
	size_t n_names;
};

void store_renewal_summary_free(struct store_renewal_summary *s);


/* ---- expiry ------------------------------------------------------------ */

/* One expiry event (or expiry) to announce. */
struct store_expiry {
	int64_t id;
	char *arn;
	char *domain_name;
	int64_t not_after;	/* epoch seconds */
	bool expired;		/* now EXPIRED */
};

void store_expiries_free(struct store_expiry *v, size_t n);

/*
 * Claims up to `limit` certificates whose next expiry event is due: those
 * past NotAfter become EXPIRED; the others get an expiry event unless one
 * was recorded less than interval_ms ago for the same NotAfter
 * (expiry_events), and their next event is moved interval_ms on (never
 * past NotAfter). Returns what to announce. In the caller's transaction
 * (open one: the caller queues the emails in it).
 */
int store_expiry_claim(PGconn *conn, int64_t interval_ms, int limit,
    struct store_expiry **out, size_t *n, char **reterr_msg) _wur_;

/* Queues a notice in mail_outbox (in the caller's transaction). */
int store_notice_queue(PGconn *conn, int64_t certificate_id,
    const struct store_notice *notice, char **reterr_msg) _wur_;

#endif
