/*
 * store.h: every SQL statement certfleet runs lives behind this header.
 *
 * All functions are synchronous and take a connection owned by the caller:
 * the daemon calls them from its database threads (src/loop/dbpool.c), never
 * from the event loop. They run inside whatever transaction the caller has
 * opened (store_begin/store_commit/store_rollback), so that an API action, its
 * side effects and, later, its audit event commit together or not at all.
 *
 * Return values: 0 on success, or
 *   -ENOENT      no such certificate (or tag, where it matters)
 *   -EBUSY       the certificate is in use (bindings exist)
 *   -ENOSPC      a configured limit would be exceeded
 *   -E2BIG       too many tags
 *   -EINVAL      a value the database refused (bad token, constraint)
 *   -ECONNRESET  the connection is unusable: the caller answers 503 and
 *                reconnects; nothing was committed
 *   -EIO         any other database error (message in *reterr_msg)
 */
#ifndef CERTFLEET_STORE_STORE_H
#define CERTFLEET_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cleanup.h"

typedef struct pg_conn PGconn;

/* ---- connection-level helpers ------------------------------------------ */

/* Prepares this module's statements on a fresh connection. */
int store_prepare(PGconn *conn, char **reterr_msg) _wur_;
int store_begin(PGconn *conn, char **reterr_msg) _wur_;
int store_commit(PGconn *conn, char **reterr_msg) _wur_;
void store_rollback(PGconn *conn);
/* Maps the connection's state after a failure to -ECONNRESET or -EIO. */
int store_error_code(PGconn *conn);

/* ---- migrations (store/migrate.c) --------------------------------------- */

/*
 * Applies the migrations compiled into the binary (sql/NNN_name.sql), in
 * order, each in its own transaction, under a session advisory lock so that
 * several daemons starting together apply each migration once. A database
 * whose newest applied migration is unknown to this binary is refused with
 * -EPROTO and a message naming both versions.
 */
int store_migrate(PGconn *conn, int *applied, char **reterr_msg) _wur_;
/* Highest migration number this binary knows. */
int store_schema_version(void);

/* ---- certificates (store/certificates.c) -------------------------------- */

struct store_tag {
	char *key;
	char *value;	/* NULL when the tag has no value */
};

/* A certificate version as it is written: the facts and the sealed key. */
struct store_cert_version {
	char *certificate_pem;
	char *chain_pem;		/* NULL when none */
	unsigned char *sealed_key;	/* output of key_seal(), never plaintext */
	size_t sealed_key_len;
	char *serial;
	char *subject;
	char *issuer;
	char *domain_name;
	char **names;			/* SubjectAlternativeNames, NULL-terminated */
	int64_t not_before;
	int64_t not_after;
	char *key_algorithm;		/* "RSA_2048", "EC_prime256v1", ... */
	char *signature_algorithm;
	char **key_usages;		/* NULL-terminated ACM names */
	char **extended_key_usages;	/* NULL-terminated ACM names */
	char *fingerprint_sha256;
};

/* One certificate as DescribeCertificate and GetCertificate need it. */
struct store_cert {
	char *arn;
	char *type;			/* IMPORTED, AMAZON_ISSUED, PRIVATE */
	char *status;			/* CertificateStatus */
	char *failure_reason;		/* NULL unless FAILED */
	char *renewal_eligibility;	/* ELIGIBLE, INELIGIBLE */
	int64_t created_at;
	int64_t imported_at;		/* 0 when not imported */
	int64_t issued_at;		/* 0 when not issued */
	int version;			/* current version number, from 1 */
	struct store_cert_version cur;	/* sealed_key left NULL by reads */
	char **in_use_by;		/* binding ARNs, NULL-terminated */
};

void store_cert_free(struct store_cert *c);
void store_cert_version_clear(struct store_cert_version *v);
void store_tags_free(struct store_tag *tags, size_t n);

/*
 * Inserts an imported certificate: row, version 1, names and tags. Refuses
 * with -ENOSPC when `limit` imported certificates exist already (counted
 * under a lock, so concurrent imports cannot overshoot); a negative limit
 * means none. The same ARN twice is -EEXIST.
 */
int store_cert_import(PGconn *conn, const char *arn,
    const struct store_cert_version *v, const struct store_tag *tags,
    size_t n_tags, int limit, char **reterr_msg) _wur_;

/*
 * Re-import: replaces certificate, chain and key of an existing imported
 * certificate with a new version; keeps ARN, tags and bindings. -ENOENT if
 * unknown; -EINVAL with a message if the certificate is not IMPORTED.
 */
int store_cert_reimport(PGconn *conn, const char *arn,
    const struct store_cert_version *v, char **reterr_msg) _wur_;

/* Reads one certificate with its current version (sealed key not read). */
int store_cert_get(PGconn *conn, const char *arn, struct store_cert **out,
    char **reterr_msg) _wur_;

/*
 * The sealed private key of a version (0 = the current one), for
 * GetCertificate/ExportCertificate and deployment; malloc'd, the caller
 * frees it with secret_free(). -ENOENT if there is no such version.
 */
int store_cert_sealed_key(PGconn *conn, const char *arn, int version,
    unsigned char **key, size_t *key_len, char **reterr_msg) _wur_;

/*
 * Deletes a certificate with all versions, names, tags and key material.
 * -EBUSY if bindings refer to it.
 */
int store_cert_delete(PGconn *conn, const char *arn, char **reterr_msg) _wur_;

/* ---- listing ------------------------------------------------------------- */

struct store_list_query {
	char **statuses;		/* NULL = every status */
	char **key_types;		/* ACM KeyAlgorithm names; never NULL here:
					   the API supplies the RSA_1024/RSA_2048
					   default ACM applies */
	char **key_usages;		/* NULL = no filter; "ANY" matches all */
	char **extended_key_usages;	/* NULL = no filter; "ANY" matches all */
	bool descending;		/* SortOrder DESCENDING */
	int64_t after_seq;		/* keyset position from NextToken; 0 = start */
	int max_items;			/* 1..1000 */
};

struct store_cert_summary {
	int64_t seq;			/* creation order; feeds NextToken */
	char *arn;
	char *domain_name;
	char **names;			/* SubjectAlternativeNameSummaries */
	char *status;
	char *type;
	char *key_algorithm;
	char **key_usages;
	char **extended_key_usages;
	bool in_use;
	char *renewal_eligibility;
	int64_t not_before, not_after, created_at, imported_at, issued_at;
};

struct store_cert_page {
	struct store_cert_summary *items;
	size_t n_items;
	bool more;			/* a further page exists */
};

void store_cert_page_free(struct store_cert_page *p);

/*
 * One page in creation order (ascending or descending) strictly after
 * after_seq. Keyset paging on an immutable sequence keeps pages correct
 * while certificates are added and deleted between calls.
 */
int store_cert_list(PGconn *conn, const struct store_list_query *q,
    struct store_cert_page **out, char **reterr_msg) _wur_;

/* ---- tags (store/tags.c) ------------------------------------------------ */

/* Adds or overwrites tags; -E2BIG if the result would exceed `max_tags`. */
int store_tags_add(PGconn *conn, const char *arn, const struct store_tag *tags,
    size_t n, int max_tags, char **reterr_msg) _wur_;
/* Removes by key, or by key and value when value is not NULL. */
int store_tags_remove(PGconn *conn, const char *arn,
    const struct store_tag *tags, size_t n, char **reterr_msg) _wur_;
/* Tags sorted by key. */
int store_tags_list(PGconn *conn, const char *arn, struct store_tag **out,
    size_t *n, char **reterr_msg) _wur_;

/* ---- account configuration (store/account.c) ----------------------------- */

/* DaysBeforeExpiry; 45 until set. */
int store_account_get(PGconn *conn, int *days_before_expiry,
    char **reterr_msg) _wur_;
/*
 * Sets DaysBeforeExpiry. The idempotency token is remembered for an hour:
 * the same token with another value is refused with -EEXIST (ACM's
 * ConflictException).
 */
int store_account_put(PGconn *conn, int days_before_expiry,
    const char *idempotency_token, char **reterr_msg) _wur_;

/* ---- audit trail (store/audit.c) -------------------------------------- */

/* One event: a control call, or work the daemon did by itself. */
struct store_audit_event {
	const char *event_id;		/* uuid chosen by the caller */
	const char *event_name;		/* action, or "IssueCertificate", ... */
	bool read_only;
	int64_t caller_uid;		/* -1 when not a control call */
	int64_t caller_gid;
	int64_t caller_pid;
	const char *caller_user;
	const char *caller_process;
	const char *source;		/* "unix", a client address, "certfleetd" */
	const char *user_agent;
	const char *request_params;	/* JSON text with secrets removed */
	const char *response_elements;	/* JSON text, or NULL */
	const char *error_code;		/* NULL on success */
	const char *error_message;
	const char *request_id;
	const char *certificate_arn;
	const char *host_name;
	int64_t time_us;		/* when it happened (epoch µs); 0: now */
	bool outside_change;		/* not part of a change's transaction:
					   committed without waiting for the
					   WAL flush */
};

int store_audit_insert(PGconn *conn, const struct store_audit_event *e,
    char **reterr_msg) _wur_;
/* n events outside any change (outside_change is implied), in one
 * statement. */
int store_audit_insert_many(PGconn *conn,
    const struct store_audit_event *events, size_t n, char **reterr_msg) _wur_;

struct store_audit_query {
	int64_t start_us;		/* epoch microseconds; -1 = no bound */
	int64_t end_us;			/* -1 = no bound */
	const char *attribute;		/* EventName, ResourceName, Username,
					   EventId, ReadOnly; NULL = none */
	const char *value;
	int64_t before_us;		/* keyset: strictly older than this ... */
	const char *before_id;		/* ... or equal time and smaller id */
	int max_results;
};

/* One stored event, as JSON ready for LookupEvents. */
struct store_audit_row {
	int64_t time_us;		/* for the keyset token */
	char *event_id;
	char *json;			/* the whole record */
};

struct store_audit_page {
	struct store_audit_row *rows;
	size_t n_rows;
	bool more;
};

void store_audit_page_free(struct store_audit_page *p);
/* Newest first. */
int store_audit_lookup(PGconn *conn, const struct store_audit_query *q,
    struct store_audit_page **out, char **reterr_msg) _wur_;
/* Deletes up to `batch` events older than `before` (epoch seconds). */
int store_audit_expire(PGconn *conn, int64_t before, int batch, int *deleted,
    char **reterr_msg) _wur_;

/* ---- metrics (store/metrics.c) ------------------------------------------ */

/* One certificate's figures; the strings live until the callback returns. */
struct store_metrics_cert {
	const char *arn;
	const char *domain_name;
	const char *type;
	const char *status;		/* as clients see it (EXPIRED when past) */
	const char *renewal_status;	/* NULL when none */
	int64_t not_before, not_after, next_due;	/* epoch seconds */
	bool has_not_before, has_not_after, has_next_due;
	bool in_use;			/* bindings exist */
	/* The last renewal check in which every name passed; absent when
	 * some name never did (or none was ever checked). */
	int64_t checks_passed;
	bool has_checks_passed;
};

typedef void (*store_metrics_cert_fn)(const struct store_metrics_cert *c,
    void *arg);

/*
 * Calls fn once per certificate, streaming the rows (one query, single-row
 * mode), in no particular order. Runs outside any transaction.
 */
int store_metrics_certificates(PGconn *conn, store_metrics_cert_fn fn,
    void *arg, char **reterr_msg) _wur_;

/* One binding's endpoint as its probes left it; strings as above. */
struct store_metrics_endpoint {
	const char *certificate_arn;
	const char *binding_arn;
	const char *address;
	const char *port;
	const char *server_name;	/* "" when none */
	bool probed;			/* probed at least once */
	bool match;			/* the last probe saw the current version */
	int64_t succeeded;		/* the last successful probe, epoch s */
	bool has_succeeded;
};

typedef void (*store_metrics_endpoint_fn)(
    const struct store_metrics_endpoint *e, void *arg);

/* Calls fn once per binding with an endpoint, streaming as above. */
int store_metrics_endpoints(PGconn *conn, store_metrics_endpoint_fn fn,
    void *arg, char **reterr_msg) _wur_;

/* The mail queue (every daemon's): messages waiting or being sent, and
 * when the oldest of them was queued (epoch seconds; 0 when none). */
int store_metrics_mail_queue(PGconn *conn, int64_t *messages,
    int64_t *oldest, char **reterr_msg) _wur_;
/* A round trip to the server, for readiness checks. */
int store_ping(PGconn *conn, char **reterr_msg) _wur_;

/* ---- requested certificates (store/requests.c) -------------------------- */

/* A RequestCertificate, checked and normalised by the API. */
struct store_request {
	const char *arn;		/* the new ARN */
	char *const *names;		/* NULL-terminated, DomainName first */
	/* One per name: its ValidationDomain, or NULL when none was given. */
	const char *const *validation_domains;
	const char *key_algorithm;
	const char *validation_method;	/* EMAIL */
	const char *ct_logging;		/* ENABLED, DISABLED */
	const char *export_option;	/* ENABLED, DISABLED */
	const char *managed_by;		/* NULL or CLOUDFRONT */
	const struct store_tag *tags;
	size_t n_tags;
	/* Non-NULL: stored as FAILED with this FailureReason. */
	const char *failure_reason;
	const char *failure_detail;
	const char *idempotency_token;	/* NULL: none */
	const char *request_hash;	/* digest of every parameter */
	int limit;			/* [limits] issued_certificates */
};

/*
 * Stores a requested certificate (type AMAZON_ISSUED, status
 * PENDING_VALIDATION or FAILED) with names, tags and a domain_validations
 * row per name, and remembers the idempotency token for an hour. The same
 * token with the same request_hash within the hour returns the first ARN in
 * *ret_arn and writes nothing; with another request_hash: -EEXIST. -ENOSPC
 * when the issued-certificate limit is reached.
 */
int store_request_insert(PGconn *conn, const struct store_request *r,
    char **ret_arn, char **reterr_msg) _wur_;

struct store_domain_validation {
	char *domain_name;
	char *validation_domain;
	char *status;			/* PENDING_VALIDATION, SUCCESS, FAILED */
	char *method;
	char **emails;			/* NULL-terminated, maybe empty */
};

/* What DescribeCertificate shows beyond store_cert. */
struct store_request_info {
	char *validation_method;	/* NULL for imports */
	char *ct_logging;
	char *export_option;
	char *managed_by;
	char *failure_detail;
	struct store_domain_validation *validations;	/* request order */
	size_t n_validations;
};

void store_request_info_free(struct store_request_info *info);

/*
 * ResendValidationEmail: makes the name's contacts be looked up and mailed
 * again, to validation_domain, for a requested certificate in
 * PENDING_VALIDATION or for an ISSUED certificate whose renewal waits for
 * email validation (RenewalStatus PENDING_VALIDATION). -ENOENT no such
 * certificate; -EPERM neither of those (or the renewal's validation period
 * has ended); -ESRCH the name is not one of the names still waiting.
 */
int store_request_resend(PGconn *conn, const char *arn, const char *domain,
    const char *validation_domain, char **reterr_msg) _wur_;

/*
 * Ends requests older than timeout_ms still in PENDING_VALIDATION (and
 * with no issuance under way) in VALIDATION_TIMED_OUT, at most batch of
 * them; *arns (NULL-terminated, free with strv_free) names them.
 */
int store_requests_time_out(PGconn *conn, int64_t timeout_ms, int batch,
    char ***arns, char **reterr_msg) _wur_;

/* ---- email validation (store/validation.c) ------------------------------- */

/* A name whose contacts must be found, claimed with a lease. */
struct store_discovery_item {
	int64_t certificate_id;
	char *arn;
	char *requested_domain;		/* the certificate's DomainName */
	char *domain_name;
	char *validation_domain;
	bool validation_domain_given;	/* else: MX walk from the name */
	int attempts;			/* temporary failures so far */
	bool renewal;			/* a renewal's fallback, not a request */
};

int store_discovery_claim(PGconn *conn, const char *owner, int64_t lease_ms,
    int max, struct store_discovery_item **out, size_t *n_out,
    char **reterr_msg) _wur_;
void store_discovery_items_free(struct store_discovery_item *items, size_t n);

/* One validation email to queue: one recipient, its own token. */
struct store_validation_mail {
	const char *recipient;
	const char *nonce_hex;		/* 32 hex digits */
	const char *token_hash_hex;	/* 64 hex digits: SHA-256(token) */
	const char *message_id;		/* fixed now, reused on re-sends */
};

struct store_discovery_result {
	int64_t certificate_id;
	const char *domain_name;
	const char *validation_domain;	/* where the admin@ were formed */
	char *const *emails;		/* every address, NULL-terminated */
	const struct store_validation_mail *mails;
	size_t n_mails;
	const char *sender;		/* [mail] from */
	int64_t token_lifetime_ms;
};

/*
 * Records found contacts, their token hashes and outbox rows in one
 * transaction. -ESTALE (nothing written) when the lease was lost or the
 * request is no longer pending.
 */
int store_discovery_done(PGconn *conn, const char *owner,
    const struct store_discovery_result *d, char **reterr_msg) _wur_;
/*
 * Nobody to ask: the name and the request end FAILED NO_AVAILABLE_CONTACTS.
 * For a renewal's name the certificate stays ISSUED: the name's renewal
 * status becomes FAILED and the certificate comes due at once, so the
 * scheduler ends the renewal FAILED with NO_AVAILABLE_CONTACTS.
 */
int store_discovery_no_contacts(PGconn *conn, const char *owner, int64_t id,
    const char *name, const char *detail, char **reterr_msg) _wur_;
/* A temporary failure: try again after delay_ms. */
int store_discovery_retry(PGconn *conn, const char *owner, int64_t id,
    const char *name, int64_t delay_ms, const char *why,
    char **reterr_msg) _wur_;

enum store_token_state {
	STORE_TOKEN_VALID,		/* may approve */
	STORE_TOKEN_UNKNOWN,		/* no such token (or deleted) */
	STORE_TOKEN_USED,		/* approved with already */
	STORE_TOKEN_EXPIRED,
	STORE_TOKEN_APPROVED,		/* the name was approved another way */
	STORE_TOKEN_CLOSED,		/* the request is no longer pending */
};

struct store_token_info {
	enum store_token_state state;
	int64_t certificate_id;
	char *arn;
	char *requested_domain;
	char *domain_name;
	char *validation_domain;
	bool renewal;			/* a RENEWAL token */
	/* approve: the intent was written (renewal: no name is left
	 * waiting and the certificate is due for the scheduler) */
	bool issue;
};

void store_token_info_clear(struct store_token_info *t);
/* Reads what a token would approve; changes nothing. */
int store_token_lookup(PGconn *conn, const char *hash_hex,
    struct store_token_info *t, char **reterr_msg) _wur_;
/*
 * Approves the token's name if the token is VALID (t->state says): the
 * token is used (by client), the name SUCCESS and, when no name is left
 * pending, an issuance intent (version 1, serial as given) is written and
 * t->issue set. A RENEWAL token sets the name's renewal_status SUCCESS
 * instead and, when no name of the renewal is left waiting, makes the
 * certificate due now (t->issue set; the scheduler issues). Runs in the
 * caller's transaction if one is open.
 */
int store_token_approve(PGconn *conn, const char *hash_hex,
    const char *client, const char *serial, struct store_token_info *t,
    char **reterr_msg) _wur_;

/* ---- the mail queue (store/outbox.c) ------------------------------------- */

struct store_outbox_item {
	int64_t id;
	char *message_id;
	char *kind;			/* VALIDATION, ... */
	char *sender;
	char *recipient;
	char *body;			/* NULL for VALIDATION: rendered */
	char *domain_name;		/* VALIDATION: the name ... */
	char *validation_domain;
	char *nonce_hex;		/* ... and its token's nonce */
	int64_t created_at;		/* the Date header: fixed */
	int attempts;			/* this one included */
	char *arn;			/* NULL when the certificate is gone */
	char *requested_domain;
	char *certificate_status;
};

int store_outbox_claim(PGconn *conn, const char *owner, int64_t lease_ms,
    int max, struct store_outbox_item **out, size_t *n_out,
    char **reterr_msg) _wur_;
void store_outbox_items_free(struct store_outbox_item *items, size_t n);
/* *changed is false when the row was already SENT (a second sender). */
int store_outbox_sent(PGconn *conn, int64_t id, bool *changed,
    char **reterr_msg) _wur_;
int store_outbox_retry(PGconn *conn, int64_t id, int64_t delay_ms,
    const char *why, char **reterr_msg) _wur_;
/*
 * Gives a row up. When it was the last hope of a name (every validation
 * email of it failed), the request ends FAILED with OTHER and *failed_arn
 * names it.
 */
int store_outbox_fail(PGconn *conn, int64_t id, const char *why,
    char **failed_arn, char **reterr_msg) _wur_;

#endif
