/*
 * intents.c: the issuer's side of issuance_intents. A request leaves a
 * PREPARED intent; a daemon claims it with a lease, generates and signs
 * off the database, then writes the certificate and marks the intent
 * COMMITTED in one transaction. A daemon that dies in between leaves the
 * intent PREPARED with a lease that runs out, and the next claim redoes it
 * with the same serial: nothing is issued twice, nothing is lost.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "common/json_wipe.h"
#include "common/xmalloc.h"
#include "store/db.h"
#include "store/issuance.h"
#include "store/store.h"

/*
 * Oldest first; SKIP LOCKED lets daemons claiming at the same instant take
 * different rows, and the lease keeps them apart after the commit.
 */
#define SQL_CLAIM                                                            \
	"WITH due AS ("                                                       \
	" SELECT i.id FROM issuance_intents i"                               \
	" WHERE i.state = 'PREPARED' AND i.purpose IN ('ISSUE', 'RENEWAL')"  \
	"  AND (i.lease_expires_at IS NULL OR i.lease_expires_at <= now())"  \
	" ORDER BY i.created_at, i.id LIMIT $3::integer"                     \
	" FOR UPDATE OF i SKIP LOCKED)"                                      \
	"UPDATE issuance_intents i SET lease_owner = $1,"                    \
	" lease_expires_at = now() + $2::bigint * interval '1 millisecond',"  \
	" updated_at = now()"                                                \
	" FROM due, certificates c"                                          \
	" WHERE i.id = due.id AND c.id = i.certificate_id"                   \
	" RETURNING i.id, i.certificate_id, i.version, i.serial, c.arn,"     \
	" c.key_algorithm, c.domain_name, array_to_json(c.names), c.status," \
	" i.purpose"

/* In id order, so two batches never wait for each other in a cycle. */
#define SQL_LOCK                                                          \
	"SELECT i.id, i.state, i.lease_owner, c.status, c.id, i.version,"  \
	" i.purpose"                                                       \
	" FROM issuance_intents i JOIN certificates c"                     \
	"  ON c.id = i.certificate_id"                                     \
	" WHERE i.id = ANY ($1::bigint[]) ORDER BY i.id FOR UPDATE OF i, c"

/* The version's columns, $2..$16, as in certificates.c. */
#define SQL_COMMIT                                                            \
	"WITH v AS ("                                                          \
	" INSERT INTO certificate_versions (certificate_id, version, source,"  \
	"  certificate_pem, chain_pem, sealed_key, serial, subject, issuer,"   \
	"  domain_name, names, not_before, not_after, key_algorithm,"          \
	"  signature_algorithm, key_usages, extended_key_usages,"              \
	"  fingerprint_sha256)"                                                \
	" VALUES ($1::bigint, $17::integer, (SELECT purpose FROM"             \
	"  issuance_intents WHERE id = $18::bigint), $2, $3, $4::bytea, $5,"   \
	"  $6, $7, $8, $9::text[], to_timestamp($10::bigint),"                 \
	"  to_timestamp($11::bigint), $12, $13, $14::text[], $15::text[],"     \
	"  $16)),"                                                             \
	"i AS ("                                                               \
	" UPDATE issuance_intents SET state = 'COMMITTED', lease_owner = NULL," \
	"  lease_expires_at = NULL, last_error = NULL, updated_at = now()"     \
	" WHERE id = $18::bigint)"                                             \
	"UPDATE certificates SET status = 'ISSUED', issued_at = now(),"        \
	" current_version = $17::integer, failure_reason = NULL,"              \
	" not_before = to_timestamp($10::bigint),"                             \
	" not_after = to_timestamp($11::bigint),"                              \
	" key_usages = $14::text[], extended_key_usages = $15::text[],"        \
	" updated_at = now() WHERE id = $1::bigint"

/*
 * A whole batch of issued certificates in one statement (one round trip):
 * $1 is a JSON array of rows, $2 the daemon's host name for the audit
 * events, which are written as audit_record_work() writes the daemon's
 * own work.
 */
#define SQL_COMMIT_BATCH                                                      \
	"WITH x AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x("         \
	"  certificate_id bigint, version integer, intent_id bigint, arn text," \
	"  certificate_pem text, chain_pem text, sealed_key text, serial text," \
	"  subject text, issuer text, domain_name text, names text[],"         \
	"  not_before bigint, not_after bigint, key_algorithm text,"           \
	"  signature_algorithm text, key_usages text[],"                       \
	"  extended_key_usages text[], fingerprint_sha256 text)),"             \
	"v AS ("                                                               \
	" INSERT INTO certificate_versions (certificate_id, version, source,"  \
	"  certificate_pem, chain_pem, sealed_key, serial, subject, issuer,"   \
	"  domain_name, names, not_before, not_after, key_algorithm,"          \
	"  signature_algorithm, key_usages, extended_key_usages,"              \
	"  fingerprint_sha256)"                                                \
	" SELECT x.certificate_id, x.version, n.purpose, x.certificate_pem,"   \
	"  x.chain_pem, decode(x.sealed_key, 'hex'), x.serial, x.subject,"     \
	"  x.issuer, x.domain_name, x.names, to_timestamp(x.not_before),"      \
	"  to_timestamp(x.not_after), x.key_algorithm, x.signature_algorithm," \
	"  x.key_usages, x.extended_key_usages, x.fingerprint_sha256"          \
	"  FROM x JOIN issuance_intents n ON n.id = x.intent_id),"             \
	"i AS ("                                                               \
	" UPDATE issuance_intents n SET state = 'COMMITTED',"                  \
	"  lease_owner = NULL, lease_expires_at = NULL, last_error = NULL,"    \
	"  updated_at = now() FROM x WHERE n.id = x.intent_id),"               \
	"a AS ("                                                               \
	" INSERT INTO audit_events (event_name, read_only, caller_user,"       \
	"  source, request_params, certificate_arn, host_name)"                \
	" SELECT CASE n.purpose WHEN 'RENEWAL' THEN 'RenewCertificate'"        \
	"  ELSE 'IssueCertificate' END, false, 'certfleetd', 'certfleetd',"    \
	"  jsonb_build_object('serial', x.serial, 'version', x.version,"       \
	"  'keyAlgorithm', x.key_algorithm, 'notAfter', x.not_after), x.arn,"  \
	"  $2"                                                                 \
	" FROM x JOIN issuance_intents n ON n.id = x.intent_id)"               \
	"UPDATE certificates c SET status = 'ISSUED', issued_at = now(),"      \
	" current_version = x.version, failure_reason = NULL,"                 \
	" not_before = to_timestamp(x.not_before),"                            \
	" not_after = to_timestamp(x.not_after), key_usages = x.key_usages,"   \
	" extended_key_usages = x.extended_key_usages, updated_at = now()"     \
	" FROM x WHERE c.id = x.certificate_id"

#define SQL_ABANDON_INTENT                                                   \
	"UPDATE issuance_intents SET state = 'ABANDONED', lease_owner = NULL," \
	" lease_expires_at = NULL, last_error = $2, updated_at = now()"        \
	" WHERE id = $1::bigint"

/* Only a request fails: a refused renewal leaves the certificate issued
 * (the scheduler sees the intent ABANDONED and backs off). */
#define SQL_FAIL_CERT                                                    \
	"UPDATE certificates SET status = 'FAILED', failure_reason = 'OTHER'," \
	" failure_detail = $2, updated_at = now() WHERE id = $1::bigint"    \
	" AND status = 'PENDING_VALIDATION'"

#define SQL_RETRY                                                           \
	"UPDATE issuance_intents SET last_error = $3,"                        \
	" lease_expires_at = now() + $4::bigint * interval '1 millisecond',"  \
	" updated_at = now()"                                                 \
	" WHERE id = $1::bigint AND lease_owner = $2 AND state = 'PREPARED'"

const struct store_stmt store_intent_stmts[] = {
	{ "intent_claim", SQL_CLAIM },
	{ "intent_lock", SQL_LOCK },
	{ "intent_commit", SQL_COMMIT },
	{ "intent_commit_batch", SQL_COMMIT_BATCH },
	{ "intent_abandon", SQL_ABANDON_INTENT },
	{ "intent_fail_cert", SQL_FAIL_CERT },
	{ "intent_retry", SQL_RETRY },
	{ "intent_release", "UPDATE issuance_intents SET lease_owner = NULL,"
	    " lease_expires_at = NULL, updated_at = now() WHERE"
	    " id = ANY ($2::bigint[]) AND lease_owner = $1"
	    " AND state = 'PREPARED'" },
	{ NULL, NULL },
};

static void
intent_clear(struct store_intent *it)
{
	free(it->serial);
	free(it->arn);
	free(it->key_algorithm);
	strv_free(it->names);
}

void
store_intents_free(struct store_intent *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		intent_clear(&v[i]);
	free(v);
}

/* The certificate's names with the domain name first, once. */
static char **
intent_names(const PGresult *res, int row)
{
	char **names = res_strv(res, row, 7);
	char *domain = res_str(res, row, 6);
	size_t n = strv_len(names);
	char **out;

	if (domain == NULL || strv_contains(names, domain)) {
		free(domain);
		return names;
	}
	out = xcalloc(n + 2, sizeof(*out));
	out[0] = domain;
	memcpy(out + 1, names, n * sizeof(*out));
	free(names);
	return out;
}

static int
abandon(PGconn *conn, int64_t id, const char *why, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };

	sp_int(&p, id);
	sp_text(&p, why);
	return store_exec(conn, "intent_abandon", &p, NULL, reterr_msg);
}

/*
 * Whether an intent's certificate still wants it: a first issuance while
 * the request is pending, a renewal while the certificate is issued.
 */
static bool
intent_open(const char *purpose, const char *status)
{
	return strcmp(status, strcmp(purpose, "RENEWAL") == 0 ? "ISSUED" :
	    "PENDING_VALIDATION") == 0;
}

/* Keeps the rows still to issue, abandons those whose request ended. */
static int
claimed_rows(PGconn *conn, const PGresult *res, struct store_intent *v,
    size_t *n, char **reterr_msg)
{
	int r;

	*n = 0;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *status = PQgetvalue(res, i, 8);
		struct store_intent *it = &v[*n];

		if (!intent_open(PQgetvalue(res, i, 9), status)) {
			_cleanup_free_ char *why = xasprintf("the certificate "
			    "is %s", status);

			if ((r = abandon(conn, res_i64(res, i, 0), why,
			    reterr_msg)) < 0)
				return r;
			continue;
		}
		it->id = res_i64(res, i, 0);
		it->certificate_id = res_i64(res, i, 1);
		it->version = (int)res_i64(res, i, 2);
		it->serial = res_str(res, i, 3);
		it->arn = res_str(res, i, 4);
		it->key_algorithm = res_str(res, i, 5);
		it->names = intent_names(res, i);
		(*n)++;
	}
	return 0;
}

int
store_intents_claim(PGconn *conn, const char *owner, int64_t lease_ms,
    int limit, struct store_intent **out, size_t *n, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	struct store_intent *v = NULL;
	bool own;
	int r;

	*out = NULL;
	*n = 0;
	if ((r = store_tx_enter(conn, &own, reterr_msg)) < 0)
		return r;
	/* A lease lost with an unflushed commit is harmless: the commit of
	 * a signed intent checks the lease under a row lock. */
	if (own)
		r = store_exec_simple(conn, "SET LOCAL synchronous_commit TO off",
		    reterr_msg);
	if (r < 0)
		return store_tx_leave(conn, own, r, reterr_msg);
	sp_text(&p, owner);
	sp_int(&p, lease_ms);
	sp_int(&p, limit);
	r = store_exec(conn, "intent_claim", &p, &res, reterr_msg);
	if (r == 0 && PQntuples(res) > 0) {
		v = xcalloc((size_t)PQntuples(res), sizeof(*v));
		r = claimed_rows(conn, res, v, n, reterr_msg);
	}
	r = store_tx_leave(conn, own, r, reterr_msg);
	if (r < 0) {
		store_intents_free(v, *n);
		*n = 0;
		return r;
	}
	*out = v;
	return 0;
}

static struct store_intent_lock *
find_lock(struct store_intent_lock *v, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].intent_id == id)
			return &v[i];
	return NULL;
}

/* One locked row: ours and pending (0), or -ESTALE (abandoned if its
 * request ended). */
static int
check_locked(PGconn *conn, const PGresult *res, int row, const char *owner,
    struct store_intent_lock *l, char **reterr_msg)
{
	const char *status = PQgetvalue(res, row, 3);
	_cleanup_free_ char *why = NULL;

	if (strcmp(PQgetvalue(res, row, 1), "PREPARED") != 0 ||
	    strcmp(PQgetvalue(res, row, 2), owner) != 0)
		return 0;	/* rc stays -ESTALE */
	if (!intent_open(PQgetvalue(res, row, 6), status)) {
		why = xasprintf("the certificate is %s", status);
		return abandon(conn, l->intent_id, why, reterr_msg);
	}
	l->certificate_id = res_i64(res, row, 4);
	l->version = (int)res_i64(res, row, 5);
	l->rc = 0;
	return 0;
}

int
store_intents_lock(PGconn *conn, const char *owner,
    struct store_intent_lock *v, size_t n, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	char **ids = xcalloc(n + 1, sizeof(*ids));
	int r;

	for (size_t i = 0; i < n; i++) {
		ids[i] = xasprintf("%lld", (long long)v[i].intent_id);
		v[i].rc = -ESTALE;
	}
	sp_array(&p, (const char *const *)ids, n);
	strv_free(ids);
	if ((r = store_exec(conn, "intent_lock", &p, &res, reterr_msg)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res); i++) {
		struct store_intent_lock *l = find_lock(v, n,
		    res_i64(res, i, 0));

		if (l != NULL &&
		    (r = check_locked(conn, res, i, owner, l, reterr_msg)) < 0)
			return r;
	}
	return 0;
}

/* A list column is NOT NULL in the schema: a missing list is empty. */
static void
sp_list(struct store_params *p, char *const *strv)
{
	sp_array(p, (const char *const *)strv, strv_len(strv));
}

int
store_intent_commit(PGconn *conn, const struct store_intent_lock *l,
    const struct store_cert_version *v, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };

	sp_int(&p, l->certificate_id);
	sp_text(&p, v->certificate_pem);
	sp_text(&p, v->chain_pem);
	sp_bytea(&p, v->sealed_key, v->sealed_key_len);
	sp_text(&p, v->serial);
	sp_text(&p, v->subject);
	sp_text(&p, v->issuer);
	sp_text(&p, v->domain_name);
	sp_list(&p, v->names);
	sp_int(&p, v->not_before);
	sp_int(&p, v->not_after);
	sp_text(&p, v->key_algorithm);
	sp_text(&p, v->signature_algorithm);
	sp_list(&p, v->key_usages);
	sp_list(&p, v->extended_key_usages);
	sp_text(&p, v->fingerprint_sha256);
	sp_int(&p, l->version);
	sp_int(&p, l->intent_id);
	return store_exec(conn, "intent_commit", &p, NULL, reterr_msg);
}

int
store_intent_abandon(PGconn *conn, const struct store_intent_lock *l,
    const char *detail, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	int r;

	if ((r = abandon(conn, l->intent_id, detail, reterr_msg)) < 0)
		return r;
	sp_int(&p, l->certificate_id);
	sp_text(&p, detail);
	return store_exec(conn, "intent_fail_cert", &p, NULL, reterr_msg);
}

int
store_intent_retry_later(PGconn *conn, int64_t intent_id, const char *owner,
    int64_t retry_ms, const char *error, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };

	sp_int(&p, intent_id);
	sp_text(&p, owner);
	sp_text(&p, error);
	sp_int(&p, retry_ms);
	return store_exec(conn, "intent_retry", &p, NULL, reterr_msg);
}

int
store_intents_release(PGconn *conn, const char *owner, const int64_t *ids,
    size_t n, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	char **v = xcalloc(n + 1, sizeof(*v));
	int r;

	for (size_t i = 0; i < n; i++)
		v[i] = xasprintf("%lld", (long long)ids[i]);
	sp_text(&p, owner);
	sp_array(&p, (const char *const *)v, n);
	r = store_exec(conn, "intent_release", &p, NULL, reterr_msg);
	strv_free(v);
	return r;
}

static json_t *
strv_json(char *const *v)
{
	json_t *a = json_array();

	for (; v != NULL && *v != NULL; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

/* The sealed key as hex, for decode(..., 'hex'). */
static json_t *
hex_json(const unsigned char *b, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *s = xmalloc(len * 2 + 1);
	json_t *j;

	for (size_t i = 0; i < len; i++) {
		s[2 * i] = digits[b[i] >> 4];
		s[2 * i + 1] = digits[b[i] & 15];
	}
	s[len * 2] = '\0';
	j = json_string(s);
	free(s);
	return j;
}

static json_t *
issued_row(const struct store_issued *it)
{
	const struct store_cert_version *v = it->version;

	return json_pack("{s:I, s:i, s:I, s:s, s:s, s:s?, s:o, s:s, s:s, s:s,"
	    " s:s, s:o, s:I, s:I, s:s, s:s, s:o, s:o, s:s}",
	    "certificate_id", (json_int_t)it->lock->certificate_id,
	    "version", it->lock->version,
	    "intent_id", (json_int_t)it->lock->intent_id,
	    "arn", it->arn,
	    "certificate_pem", v->certificate_pem,
	    "chain_pem", v->chain_pem,
	    "sealed_key", hex_json(v->sealed_key, v->sealed_key_len),
	    "serial", v->serial, "subject", v->subject, "issuer", v->issuer,
	    "domain_name", v->domain_name, "names", strv_json(v->names),
	    "not_before", (json_int_t)v->not_before,
	    "not_after", (json_int_t)v->not_after,
	    "key_algorithm", v->key_algorithm,
	    "signature_algorithm", v->signature_algorithm,
	    "key_usages", strv_json(v->key_usages),
	    "extended_key_usages", strv_json(v->extended_key_usages),
	    "fingerprint_sha256", v->fingerprint_sha256);
}

int
store_intents_commit_issued(PGconn *conn, const char *host_name,
    const struct store_issued *items, size_t n, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	json_t *rows = json_array();
	char *text;
	int r;

	for (size_t i = 0; i < n; i++) {
		json_t *row = issued_row(&items[i]);

		if (row == NULL) {
			json_decref(rows);
			store_set_msg(reterr_msg, "cannot encode certificate %s",
			    items[i].arn);
			return -EINVAL;
		}
		json_array_append_new(rows, row);
	}
	text = json_dumps(rows, JSON_COMPACT);
	json_decref(rows);
	if (text == NULL) {
		store_set_msg(reterr_msg, "cannot encode the certificates");
		return -ENOMEM;
	}
	sp_text(&p, text);
	sp_text(&p, host_name);
	r = store_exec(conn, "intent_commit_batch", &p, NULL, reterr_msg);
	/* jansson's free: wipes, once json_wipe_install() ran. */
	json_text_free(text);
	return r;
}
