/*
 * requests.c: certificates requested through RequestCertificate: the row,
 * its names, tags and one domain_validations row per name, written in one
 * transaction with the idempotency token; what DescribeCertificate adds for
 * them; ResendValidationEmail; and the reaper that ends requests left
 * unapproved for too long.
 *
 * The count against [limits] issued_certificates runs under an advisory
 * lock, as imports do, so concurrent requests cannot overshoot it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/xmalloc.h"
#include "store/db.h"
#include "store/store.h"

#define SQL_TOKEN_GET                                                  \
	"SELECT request_hash, arn FROM request_tokens"                  \
	" WHERE action = 'RequestCertificate' AND token = $1"           \
	" AND expires_at > now()"

#define SQL_TOKEN_PUT                                                  \
	"INSERT INTO request_tokens (action, token, request_hash, arn,"  \
	" expires_at) VALUES ('RequestCertificate', $1, $2, $3,"         \
	" now() + interval '1 hour')"                                    \
	" ON CONFLICT (action, token) DO UPDATE SET request_hash ="      \
	" excluded.request_hash, arn = excluded.arn, created_at = now(),"\
	" expires_at = excluded.expires_at"

/*
 * $1 arn, $2 status, $3 failure_reason, $4 failure_detail, $5 domain_name,
 * $6 names, $7 key_algorithm, $8 validation_method, $9 ct_logging,
 * $10 export, $11 managed_by, $12 tag keys, $13 tag values,
 * $14 validation domains (NULL: the name itself, not given),
 * $15 per-name status (SUCCESS... never; PENDING_VALIDATION or FAILED).
 */
#define SQL_INSERT                                                          \
	"WITH c AS ("                                                        \
	" INSERT INTO certificates (arn, type, status, failure_reason,"      \
	"  failure_detail, domain_name, names, key_algorithm,"               \
	"  validation_method, ct_logging, export_option, managed_by)"        \
	" VALUES ($1, 'AMAZON_ISSUED', $2, $3, $4, $5, $6::text[], $7, $8,"  \
	"  $9, $10, $11) RETURNING id),"                                     \
	"n AS ("                                                             \
	" INSERT INTO certificate_names (certificate_id, position, name)"    \
	" SELECT c.id, o.ord, o.name FROM c,"                                \
	"  unnest($6::text[]) WITH ORDINALITY AS o(name, ord)),"             \
	"t AS ("                                                             \
	" INSERT INTO certificate_tags (certificate_id, key, value)"         \
	" SELECT c.id, u.k, u.v FROM c,"                                     \
	"  unnest($12::text[], $13::text[]) AS u(k, v)),"                    \
	"v AS ("                                                             \
	" INSERT INTO domain_validations (certificate_id, domain_name,"      \
	"  validation_domain, validation_domain_given, validation_method,"   \
	"  status, discovery_state, position)"                               \
	" SELECT c.id, u.name, coalesce(u.vd, u.name), u.vd IS NOT NULL, $8,"\
	"  $2, CASE WHEN $2 = 'FAILED' THEN 'FAILED' ELSE 'PENDING' END,"   \
	"  u.ord FROM c, unnest($6::text[], $14::text[]) WITH ORDINALITY"    \
	"  AS u(name, vd, ord))"                                             \
	"SELECT id FROM c"

/* Columns 3 and 4: a renewal of the certificate waits for email
 * validation, and its validation period has not ended. */
#define SQL_RESEND_LOCK                                                   \
	"SELECT c.id, c.type, c.status, c.type = 'AMAZON_ISSUED' AND"        \
	" c.status = 'ISSUED' AND c.renewal_state IS NOT DISTINCT FROM"      \
	" 'VALIDATING', coalesce(c.renewal_deadline > now(), false)"         \
	" FROM certificates c WHERE c.arn = $1 FOR UPDATE"

#define SQL_RESEND                                                           \
	"UPDATE domain_validations SET discovery_state = 'PENDING',"          \
	" discovery_next_at = now(), discovery_attempts = 0,"                 \
	" discovery_lease_owner = NULL, discovery_lease_expires_at = NULL,"   \
	" validation_domain = $3,"                                            \
	" validation_domain_given = validation_domain_given OR"               \
	"  validation_domain <> $3, updated_at = now()"                       \
	" WHERE certificate_id = $1 AND domain_name = $2"                     \
	" AND status = 'PENDING_VALIDATION' RETURNING 1"

/* A renewal's name: the same, for a name its renewal still waits for
 * (the scheduler's check failed for it and it is not approved yet). */
#define SQL_RESEND_RENEWAL                                                   \
	"UPDATE domain_validations SET discovery_state = 'PENDING',"          \
	" discovery_next_at = now(), discovery_attempts = 0,"                 \
	" discovery_error = NULL, discovery_lease_owner = NULL,"              \
	" discovery_lease_expires_at = NULL, validation_domain = $3,"         \
	" validation_domain_given = validation_domain_given OR"               \
	"  validation_domain <> $3, updated_at = now()"                       \
	" WHERE certificate_id = $1 AND domain_name = $2"                     \
	" AND renewal_status = 'PENDING_VALIDATION' RETURNING 1"

#define SQL_TIMEOUT                                                         \
	"UPDATE certificates c SET status = 'VALIDATION_TIMED_OUT',"         \
	" updated_at = now() WHERE c.id IN (SELECT id FROM certificates"      \
	"  WHERE status = 'PENDING_VALIDATION' AND type = 'AMAZON_ISSUED'"    \
	"  AND created_at <= now() - $1::bigint * interval '1 millisecond'"   \
	"  AND NOT EXISTS (SELECT 1 FROM issuance_intents i"                  \
	"   WHERE i.certificate_id = certificates.id)"                        \
	"  ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)"                      \
	" RETURNING c.arn"

#define SQL_LOCK_ISSUED "SELECT pg_advisory_xact_lock($1::integer, $2::integer)"
#define SQL_COUNT_ISSUED                                                  \
	"SELECT count(*) FROM certificates WHERE type = 'AMAZON_ISSUED'"

/* ---- RequestCertificate ---------------------------------------------- */

/* 1 and *arn when the token names a live earlier request. */
static int
token_lookup(PGconn *conn, const struct store_request *r, char **arn,
    char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	int rc;

	sp_text(&p, r->idempotency_token);
	rc = store_exec_sql(conn, SQL_TOKEN_GET, &p, &res, reterr_msg);
	if (rc < 0 || PQntuples(res) == 0)
		return rc;
	if (strcmp(PQgetvalue(res, 0, 0), r->request_hash) != 0) {
		store_set_msg(reterr_msg, "The idempotency token %s was "
		    "already used within the last hour for a different "
		    "request.", r->idempotency_token);
		return -EEXIST;
	}
	*arn = res_str(res, 0, 1);
	return 1;
}

static int
check_issued_limit(PGconn *conn, int limit, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	if (limit < 0)
		return 0;
	r = store_exec_sql(conn, SQL_COUNT_ISSUED, NULL, &res, reterr_msg);
	if (r < 0)
		return r;
	if (res_i64(res, 0, 0) >= limit) {
		store_set_msg(reterr_msg, "The limit of %d issued "
		    "certificates has been reached.", limit);
		return -ENOSPC;
	}
	return 0;
}

static int
lock_requests(PGconn *conn, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };

	/* One lock for the token check and the count: two requests with the
	 * same token must not both find it unused. */
	sp_int(&p, STORE_LOCK_CLASS);
	sp_int(&p, STORE_LOCK_REQUEST);
	return store_exec_sql(conn, SQL_LOCK_ISSUED, &p, NULL, reterr_msg);
}

static int
insert_request(PGconn *conn, const struct store_request *r,
    char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_free_ const char **keys = NULL, **values = NULL;
	size_t n, n_names = strv_len(r->names);

	n = store_tags_split(r->tags, r->n_tags, &keys, &values);
	sp_text(&p, r->arn);
	sp_text(&p, r->failure_reason ? "FAILED" : "PENDING_VALIDATION");
	sp_text(&p, r->failure_reason);
	sp_text(&p, r->failure_detail);
	sp_text(&p, r->names[0]);
	sp_array(&p, (const char *const *)r->names, n_names);
	sp_text(&p, r->key_algorithm);
	sp_text(&p, r->validation_method);
	sp_text(&p, r->ct_logging);
	sp_text(&p, r->export_option);
	sp_text(&p, r->managed_by);
	sp_array(&p, keys, n);
	sp_array(&p, values, n);
	sp_array(&p, r->validation_domains, n_names);
	return store_exec_sql(conn, SQL_INSERT, &p, NULL, reterr_msg);
}

static int
remember_token(PGconn *conn, const struct store_request *r,
    char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };

	sp_text(&p, r->idempotency_token);
	sp_text(&p, r->request_hash);
	sp_text(&p, r->arn);
	return store_exec_sql(conn, SQL_TOKEN_PUT, &p, NULL, reterr_msg);
}

int
store_request_insert(PGconn *conn, const struct store_request *r,
    char **ret_arn, char **reterr_msg)
{
	bool own;
	int rc;

	*ret_arn = NULL;
	rc = store_tx_enter(conn, &own, reterr_msg);
	if (rc < 0)
		return rc;
	rc = lock_requests(conn, reterr_msg);
	if (rc == 0 && r->idempotency_token != NULL)
		rc = token_lookup(conn, r, ret_arn, reterr_msg);
	if (rc == 1)
		return store_tx_leave(conn, own, 0, reterr_msg);
	if (rc == 0)
		rc = check_issued_limit(conn, r->limit, reterr_msg);
	if (rc == 0)
		rc = insert_request(conn, r, reterr_msg);
	if (rc == 0 && r->idempotency_token != NULL)
		rc = remember_token(conn, r, reterr_msg);
	if (rc == 0)
		*ret_arn = xstrdup(r->arn);
	return store_tx_leave(conn, own, rc, reterr_msg);
}

/* ---- DescribeCertificate's additions --------------------------------- */

void
store_request_info_free(struct store_request_info *info)
{
	if (info == NULL)
		return;
	for (size_t i = 0; i < info->n_validations; i++) {
		struct store_domain_validation *v = &info->validations[i];

		free(v->domain_name);
		free(v->validation_domain);
		free(v->status);
		free(v->method);
		strv_free(v->emails);
	}
	free(info->validations);
	free(info->validation_method);
	free(info->ct_logging);
	free(info->export_option);
	free(info->managed_by);
	free(info->failure_detail);
	free(info);
}

/* ---- ResendValidationEmail --------------------------------------------- */

static int
resend_locked(PGconn *conn, const char *arn, const char *domain,
    const char *validation_domain, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 }, pu = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL, *ures = NULL;
	bool renewal;
	int r;

	sp_text(&p, arn);
	if ((r = store_exec_sql(conn, SQL_RESEND_LOCK, &p, &res,
	    reterr_msg)) < 0 ||
	    (r = store_require_certificate(res, arn, reterr_msg)) < 0)
		return r;
	renewal = res_bool(res, 0, 3);
	if (renewal && !res_bool(res, 0, 4)) {
		store_set_msg(reterr_msg, "The validation period of the "
		    "renewal of certificate %s has ended: the renewal fails "
		    "and is tried again later.", arn);
		return -EPERM;
	}
	if (!renewal && (strcmp(PQgetvalue(res, 0, 1), "AMAZON_ISSUED") != 0 ||
	    strcmp(PQgetvalue(res, 0, 2), "PENDING_VALIDATION") != 0)) {
		store_set_msg(reterr_msg, "Certificate %s is %s %s: validation "
		    "emails are sent only for requested certificates pending "
		    "validation and for renewals pending validation.", arn,
		    PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
		return -EPERM;
	}
	sp_int(&pu, res_i64(res, 0, 0));
	sp_text(&pu, domain);
	sp_text(&pu, validation_domain);
	if ((r = store_exec_sql(conn, renewal ? SQL_RESEND_RENEWAL :
	    SQL_RESEND, &pu, &ures, reterr_msg)) < 0)
		return r;
	if (PQntuples(ures) == 0) {
		store_set_msg(reterr_msg, "Certificate %s has no name %s "
		    "waiting for validation.", arn, domain);
		return -ESRCH;
	}
	return 0;
}

int
store_request_resend(PGconn *conn, const char *arn, const char *domain,
    const char *validation_domain, char **reterr_msg)
{
	bool own;
	int r;

	if ((r = store_tx_enter(conn, &own, reterr_msg)) < 0)
		return r;
	r = resend_locked(conn, arn, domain, validation_domain, reterr_msg);
	return store_tx_leave(conn, own, r, reterr_msg);
}

/* ---- the timeout reaper -------------------------------------------------- */

int
store_requests_time_out(PGconn *conn, int64_t timeout_ms, int batch,
    char ***arns, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	size_t n;
	int r;

	*arns = NULL;
	sp_int(&p, timeout_ms);
	sp_int(&p, batch);
	if ((r = store_exec_sql(conn, SQL_TIMEOUT, &p, &res, reterr_msg)) < 0)
		return r;
	n = (size_t)PQntuples(res);
	*arns = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		(*arns)[i] = res_str(res, (int)i, 0);
	return 0;
}
