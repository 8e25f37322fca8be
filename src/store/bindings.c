/*
 * bindings.c: bindings (a certificate bound to a consumer on one fleet
 * host) and their deployment state. Creating or deleting a binding also
 * keeps the certificate's RenewalEligibility in step: ELIGIBLE exactly when
 * certfleet issued it and at least one binding exists.
 *
 * The statements run as SQL text (store_exec_sql): they are few, and
 * listing has optional filters a generic plan could not tell apart.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/xmalloc.h"
#include "store/bindings.h"
#include "store/db.h"

/* The certificate, locked against a concurrent DeleteCertificate. */
#define SQL_CERT_LOCK                                                   \
	"SELECT id, status, current_version FROM certificates"          \
	" WHERE arn = $1 FOR NO KEY UPDATE"

#define SQL_INSERT                                                      \
	"INSERT INTO bindings (arn, certificate_id, host_name,"          \
	" endpoint_address, endpoint_port, server_name, file_targets,"   \
	" reload) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb)"  \
	" RETURNING id"

#define SQL_ELIGIBILITY                                                 \
	"UPDATE certificates c SET renewal_eligibility = CASE WHEN"      \
	" c.type = 'AMAZON_ISSUED' AND EXISTS (SELECT 1 FROM bindings b"  \
	" WHERE b.certificate_id = c.id) THEN 'ELIGIBLE'"                \
	" ELSE 'INELIGIBLE' END, updated_at = now() WHERE c.id = $1"

/* Columns of struct store_binding, in binding_from_row()'s order. */
#define SQL_COLUMNS                                                     \
	"SELECT b.id, b.arn, c.arn, c.type, b.host_name,"                \
	" b.endpoint_address, b.endpoint_port, b.server_name,"           \
	" b.file_targets::text, b.reload::text, b.deploy_status,"        \
	" b.deploy_error, b.deployed_version, dv.fingerprint_sha256,"    \
	" epoch_s(b.deployed_at), epoch_s(b.created_at),"                \
	" c.current_version, cv.fingerprint_sha256"                      \
	" FROM bindings b JOIN certificates c ON c.id = b.certificate_id" \
	" LEFT JOIN certificate_versions dv ON dv.certificate_id = c.id"  \
	"  AND dv.version = b.deployed_version"                          \
	" LEFT JOIN certificate_versions cv ON cv.certificate_id = c.id"  \
	"  AND cv.version = c.current_version"

/* A failed binding waits a minute before it is tried again, so that a
 * broken reload action is not run in a loop. */
#define SQL_STALE                                                       \
	" AND (b.deploy_status <> 'DEPLOYED'"                            \
	" OR b.deployed_version IS DISTINCT FROM c.current_version)"      \
	" AND (b.deploy_status <> 'FAILED'"                              \
	" OR b.updated_at < now() - interval '60 seconds')"

static void
binding_clear(struct store_binding *b)
{
	free(b->arn);
	free(b->certificate_arn);
	free(b->certificate_type);
	free(b->host_name);
	free(b->endpoint_address);
	free(b->server_name);
	free(b->file_targets);
	free(b->reload);
	free(b->deploy_status);
	free(b->deploy_error);
	free(b->deployed_fingerprint);
	free(b->current_fingerprint);
}

void
store_binding_free(struct store_binding *b)
{
	if (b == NULL)
		return;
	binding_clear(b);
	free(b);
}

void
store_bindings_free(struct store_binding *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		binding_clear(&v[i]);
	free(v);
}

static void
binding_from_row(const PGresult *res, int i, struct store_binding *b)
{
	b->id = res_i64(res, i, 0);
	b->arn = res_str(res, i, 1);
	b->certificate_arn = res_str(res, i, 2);
	b->certificate_type = res_str(res, i, 3);
	b->host_name = res_str(res, i, 4);
	b->endpoint_address = res_str(res, i, 5);
	b->endpoint_port = (int)res_i64(res, i, 6);
	b->server_name = res_str(res, i, 7);
	b->file_targets = res_str(res, i, 8);
	b->reload = res_str(res, i, 9);
	b->deploy_status = res_str(res, i, 10);
	b->deploy_error = res_str(res, i, 11);
	b->deployed_version = (int)res_i64(res, i, 12);
	b->deployed_fingerprint = res_str(res, i, 13);
	b->deployed_at = res_i64(res, i, 14);
	b->created_at = res_i64(res, i, 15);
	b->current_version = (int)res_i64(res, i, 16);
	b->current_fingerprint = res_str(res, i, 17);
}

static struct store_binding *
bindings_from_result(const PGresult *res, int n)
{
	struct store_binding *v = xcalloc((size_t)n + 1, sizeof(*v));

	for (int i = 0; i < n; i++)
		binding_from_row(res, i, &v[i]);
	return v;
}

/* ---- create and delete ---------------------------------------------- */

static int
insert_binding(PGconn *conn, const struct store_binding_new *b,
    int64_t cert_id, int64_t *id, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_params_ struct store_params e = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	sp_text(&p, b->arn);
	sp_int(&p, cert_id);
	sp_text(&p, b->host_name);
	sp_text(&p, b->endpoint_address);
	sp_int(&p, b->endpoint_port);
	sp_text(&p, b->server_name);
	sp_text(&p, b->file_targets);
	sp_text(&p, b->reload);
	r = store_exec_sql(conn, SQL_INSERT, &p, &res, reterr_msg);
	if (r < 0)
		return r;
	*id = res_i64(res, 0, 0);
	sp_int(&e, cert_id);
	return store_exec_sql(conn, SQL_ELIGIBILITY, &e, NULL, reterr_msg);
}

int
store_binding_create(PGconn *conn, const struct store_binding_new *b,
    int64_t *id, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	bool own;
	int r;

	r = store_tx_enter(conn, &own, reterr_msg);
	if (r < 0)
		return r;
	sp_text(&p, b->certificate_arn);
	r = store_exec_sql(conn, SQL_CERT_LOCK, &p, &res, reterr_msg);
	if (r == 0)
		r = store_require_certificate(res, b->certificate_arn,
		    reterr_msg);
	if (r == 0 && (strcmp(PQgetvalue(res, 0, 1), "ISSUED") != 0 ||
	    PQgetisnull(res, 0, 2))) {
		store_set_msg(reterr_msg, "Certificate %s is %s: only an "
		    "issued certificate can be bound.", b->certificate_arn,
		    PQgetvalue(res, 0, 1));
		r = -EPERM;
	}
	if (r == 0)
		r = insert_binding(conn, b, res_i64(res, 0, 0), id,
		    reterr_msg);
	return store_tx_leave(conn, own, r, reterr_msg);
}

#define SQL_DELETE                                                      \
	"DELETE FROM bindings b USING certificates c"                    \
	" WHERE b.arn = $1 AND c.id = b.certificate_id"                  \
	" RETURNING c.id, c.arn"

int
store_binding_delete(PGconn *conn, const char *arn, char **certificate_arn,
    char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_params_ struct store_params e = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	bool own;
	int r;

	r = store_tx_enter(conn, &own, reterr_msg);
	if (r < 0)
		return r;
	sp_text(&p, arn);
	r = store_exec_sql(conn, SQL_DELETE, &p, &res, reterr_msg);
	if (r == 0 && PQntuples(res) != 1) {
		store_set_msg(reterr_msg, "Could not find binding %s.", arn);
		r = -ENOENT;
	}
	if (r == 0) {
		sp_int(&e, res_i64(res, 0, 0));
		r = store_exec_sql(conn, SQL_ELIGIBILITY, &e, NULL,
		    reterr_msg);
	}
	if (r == 0 && certificate_arn != NULL)
		*certificate_arn = res_str(res, 0, 1);
	return store_tx_leave(conn, own, r, reterr_msg);
}

/* ---- reading ---------------------------------------------------------- */

static int
get_one(PGconn *conn, const char *sql, struct store_params *p,
    const char *what, struct store_binding **out, char **reterr_msg)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	*out = NULL;
	r = store_exec_sql(conn, sql, p, &res, reterr_msg);
	if (r < 0)
		return r;
	if (PQntuples(res) != 1) {
		store_set_msg(reterr_msg, "Could not find binding %s.", what);
		return -ENOENT;
	}
	*out = xcalloc(1, sizeof(**out));
	binding_from_row(res, 0, *out);
	return 0;
}

int
store_binding_get(PGconn *conn, const char *arn, struct store_binding **out,
    char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };

	sp_text(&p, arn);
	return get_one(conn, SQL_COLUMNS " WHERE b.arn = $1", &p, arn, out,
	    reterr_msg);
}

int
store_binding_get_id(PGconn *conn, int64_t id, struct store_binding **out,
    char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	char what[32];

	snprintf(what, sizeof(what), "#%lld", (long long)id);
	sp_int(&p, id);
	return get_one(conn, SQL_COLUMNS " WHERE b.id = $1", &p, what, out,
	    reterr_msg);
}

#define SQL_CERT_EXISTS "SELECT 1 FROM certificates WHERE arn = $1"

int
store_binding_list(PGconn *conn, const struct store_binding_query *q,
    struct store_binding **out, size_t *n, bool *more, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_params_ struct store_params c = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	_cleanup_pgresult_ PGresult *cres = NULL;
	int r, rows;

	*out = NULL;
	*n = 0;
	*more = false;
	if (q->certificate_arn != NULL) {
		sp_text(&c, q->certificate_arn);
		r = store_exec_sql(conn, SQL_CERT_EXISTS, &c, &cres,
		    reterr_msg);
		if (r < 0)
			return r;
		if (PQntuples(cres) == 0) {
			store_set_msg(reterr_msg, "Could not find certificate "
			    "%s.", q->certificate_arn);
			return -ENOENT;
		}
	}
	sp_text(&p, q->certificate_arn);
	sp_text(&p, q->host_name);
	sp_int(&p, q->after_id);
	sp_int(&p, q->max_items + 1);
	r = store_exec_sql(conn, SQL_COLUMNS
	    " WHERE ($1::text IS NULL OR c.arn = $1)"
	    " AND ($2::text IS NULL OR b.host_name = $2)"
	    " AND b.id > $3 ORDER BY b.id LIMIT $4", &p, &res, reterr_msg);
	if (r < 0)
		return r;
	rows = PQntuples(res);
	if (rows > q->max_items) {
		*more = true;
		rows = q->max_items;
	}
	*out = bindings_from_result(res, rows);
	*n = (size_t)rows;
	return 0;
}

int
store_bindings_of_host(PGconn *conn, const char *host_name,
    const char *certificate_arn, bool stale_only, struct store_binding **out,
    size_t *n, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	*out = NULL;
	*n = 0;
	sp_text(&p, host_name);
	sp_text(&p, certificate_arn);
	r = store_exec_sql(conn, stale_only ?
	    SQL_COLUMNS " WHERE b.host_name = $1"
	    " AND ($2::text IS NULL OR c.arn = $2)" SQL_STALE " ORDER BY b.id" :
	    SQL_COLUMNS " WHERE b.host_name = $1"
	    " AND ($2::text IS NULL OR c.arn = $2) ORDER BY b.id",
	    &p, &res, reterr_msg);
	if (r < 0)
		return r;
	*n = (size_t)PQntuples(res);
	*out = bindings_from_result(res, PQntuples(res));
	return 0;
}

/* ---- deployment --------------------------------------------------------- */

#define SQL_MATERIAL                                                    \
	"SELECT v.version, v.fingerprint_sha256, v.certificate_pem,"     \
	" v.chain_pem, v.sealed_key FROM bindings b"                     \
	" JOIN certificates c ON c.id = b.certificate_id"                \
	" JOIN certificate_versions v ON v.certificate_id = c.id"        \
	"  AND v.version = c.current_version WHERE b.id = $1"

void
store_deploy_material_clear(struct store_deploy_material *m)
{
	free(m->fingerprint_sha256);
	free(m->certificate_pem);
	free(m->chain_pem);
	if (m->sealed_key != NULL)
		secret_free(m->sealed_key, m->sealed_key_len);
	memset(m, 0, sizeof(*m));
}

int
store_binding_material(PGconn *conn, int64_t binding_id,
    struct store_deploy_material *m, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	unsigned char *raw;
	size_t len;
	int r;

	memset(m, 0, sizeof(*m));
	sp_int(&p, binding_id);
	r = store_exec_sql(conn, SQL_MATERIAL, &p, &res, reterr_msg);
	if (r < 0)
		return r;
	if (PQntuples(res) != 1) {
		store_set_msg(reterr_msg, "binding #%lld or its certificate's "
		    "current version is gone", (long long)binding_id);
		return -ENOENT;
	}
	raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 4),
	    &len);
	if (raw == NULL) {
		store_set_msg(reterr_msg, "cannot decode the sealed key");
		return -EIO;
	}
	m->sealed_key = xmalloc(len ? len : 1);
	memcpy(m->sealed_key, raw, len);
	m->sealed_key_len = len;
	PQfreemem(raw);
	m->version = (int)res_i64(res, 0, 0);
	m->fingerprint_sha256 = res_str(res, 0, 1);
	m->certificate_pem = res_str(res, 0, 2);
	m->chain_pem = res_str(res, 0, 3);
	return 0;
}

#define SQL_DEPLOYED                                                    \
	"UPDATE bindings SET deploy_status = CASE WHEN $3::text IS NULL" \
	" THEN 'DEPLOYED' ELSE 'FAILED' END,"                            \
	" deployed_version = CASE WHEN $3::text IS NULL THEN $2"         \
	" ELSE deployed_version END, deploy_error = $3,"                 \
	" deployed_at = CASE WHEN $3::text IS NULL THEN now()"           \
	" ELSE deployed_at END, updated_at = now() WHERE id = $1"

int
store_binding_deployed(PGconn *conn, int64_t binding_id, int version,
    const char *error, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	sp_int(&p, binding_id);
	sp_int(&p, version);
	sp_text(&p, error);
	r = store_exec_sql(conn, SQL_DEPLOYED, &p, &res, reterr_msg);
	if (r == 0 && strcmp(PQcmdTuples(res), "1") != 0) {
		store_set_msg(reterr_msg, "binding #%lld is gone",
		    (long long)binding_id);
		r = -ENOENT;
	}
	return r;
}
