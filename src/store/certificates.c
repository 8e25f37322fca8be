/*
 * certificates.c: certificates and their versions: import, re-import, read,
 * delete, the sealed key of a version, and ListCertificates' pages.
 *
 * The certificate row carries copies of what DescribeCertificate and
 * ListCertificates show (names, key algorithm and usages, validity), so that
 * each of those is one prepared statement and one round trip.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/xmalloc.h"
#include "store/db.h"
#include "store/store.h"

/* The 15 version parameters, $2..$16, in the order version_params() adds
 * them. */
#define VERSION_COLUMNS                                                   \
	"certificate_pem, chain_pem, sealed_key, serial, subject, issuer, " \
	"domain_name, names, not_before, not_after, key_algorithm, "        \
	"signature_algorithm, key_usages, extended_key_usages, "            \
	"fingerprint_sha256"
#define VERSION_VALUES                                                  \
	"$2, $3, $4::bytea, $5, $6, $7, $8, $9::text[], "                 \
	"to_timestamp($10::bigint), to_timestamp($11::bigint), $12, $13, " \
	"$14::text[], $15::text[], $16"
#define IMPORT_STATUS                                                 \
	"CASE WHEN to_timestamp($11::bigint) <= now() THEN 'EXPIRED' "  \
	"ELSE 'ISSUED' END"

/* Locks the row: imports, deletes and tag changes serialise on it. */
#define SQL_LOCK                                                          \
	"SELECT c.id, c.type, coalesce(c.current_version, 0), "            \
	"EXISTS (SELECT 1 FROM bindings b WHERE b.certificate_id = c.id) " \
	"FROM certificates c WHERE c.arn = $1 FOR UPDATE"

#define SQL_IMPORT                                                           \
	"WITH c AS ("                                                         \
	" INSERT INTO certificates (arn, type, status, domain_name, names,"   \
	"  key_algorithm, key_usages, extended_key_usages, not_before,"       \
	"  not_after, current_version, imported_at)"                          \
	" VALUES ($1, 'IMPORTED', " IMPORT_STATUS ", $8, $9::text[], $12,"   \
	"  $14::text[], $15::text[], to_timestamp($10::bigint),"              \
	"  to_timestamp($11::bigint), 1, now())"                              \
	" RETURNING id),"                                                     \
	"v AS ("                                                              \
	" INSERT INTO certificate_versions (certificate_id, version, source, " \
	VERSION_COLUMNS ")"                                                   \
	" SELECT c.id, 1, 'IMPORT', " VERSION_VALUES " FROM c),"              \
	"n AS ("                                                              \
	" INSERT INTO certificate_names (certificate_id, position, name)"     \
	" SELECT c.id, o.ord, o.name FROM c,"                                 \
	"  unnest($9::text[]) WITH ORDINALITY AS o(name, ord)),"              \
	"t AS ("                                                              \
	" INSERT INTO certificate_tags (certificate_id, key, value)"          \
	" SELECT c.id, u.k, u.v FROM c,"                                      \
	"  unnest($17::text[], $18::text[]) AS u(k, v))"                      \
	"SELECT id FROM c"

#define SQL_REIMPORT                                                         \
	"WITH v AS ("                                                         \
	" INSERT INTO certificate_versions (certificate_id, version, source, " \
	VERSION_COLUMNS ")"                                                   \
	" VALUES ($1::bigint, $17::integer, 'IMPORT', " VERSION_VALUES ")),"  \
	"n AS (DELETE FROM certificate_names WHERE certificate_id = $1)"     \
	"UPDATE certificates SET current_version = $17, status = "           \
	IMPORT_STATUS ", failure_reason = NULL, domain_name = $8,"            \
	" names = $9::text[], key_algorithm = $12, key_usages = $14::text[]," \
	" extended_key_usages = $15::text[],"                                 \
	" not_before = to_timestamp($10::bigint),"                            \
	" not_after = to_timestamp($11::bigint), imported_at = now(),"        \
	" updated_at = now() WHERE id = $1"

#define SQL_NAMES                                                    \
	"INSERT INTO certificate_names (certificate_id, position, name)" \
	" SELECT $1, o.ord, o.name"                                      \
	" FROM unnest($2::text[]) WITH ORDINALITY AS o(name, ord)"

#define SQL_GET                                                               \
	"SELECT " STORE_CERT_COLUMNS("v.certificate_pem, v.chain_pem")          \
	" FROM certificates c LEFT JOIN certificate_versions v"                \
	"  ON v.certificate_id = c.id AND v.version = c.current_version"       \
	" WHERE c.arn = $1"

#define SQL_KEY                                                       \
	"SELECT v.sealed_key FROM certificates c"                      \
	" JOIN certificate_versions v ON v.certificate_id = c.id"      \
	" AND v.version = CASE WHEN $2::integer = 0"                   \
	"  THEN c.current_version ELSE $2::integer END"                \
	" WHERE c.arn = $1"

/*
 * $1 keyset position, $2..$5 filters (NULL: none), $6 limit. Not prepared:
 * planned with the actual parameters, the filters that are off fold away
 * and the primary key's order serves ORDER BY and LIMIT; a generic plan
 * would filter and sort every row after the position.
 */
#define SQL_LIST(cmp, order)                                                  \
	"SELECT c.id, c.arn, c.domain_name, array_to_json(c.names),"           \
	" effective_status(c.status, c.not_after), c.type, c.key_algorithm,"   \
	" array_to_json(c.key_usages), array_to_json(c.extended_key_usages),"  \
	" EXISTS (SELECT 1 FROM bindings b WHERE b.certificate_id = c.id),"    \
	" c.renewal_eligibility, epoch_s(c.not_before), epoch_s(c.not_after)," \
	" epoch_s(c.created_at), epoch_s(c.imported_at), epoch_s(c.issued_at)" \
	" FROM certificates c"                                                 \
	" WHERE c.id " cmp " $1::bigint"                                       \
	" AND ($2::text[] IS NULL"                                             \
	"  OR effective_status(c.status, c.not_after) = ANY ($2::text[]))"     \
	" AND ($3::text[] IS NULL OR c.key_algorithm = ANY ($3::text[]))"      \
	" AND ($4::text[] IS NULL OR c.key_usages && $4::text[])"              \
	" AND ($5::text[] IS NULL OR c.extended_key_usages && $5::text[])"     \
	" ORDER BY c.id " order " LIMIT $6::integer"

const struct store_stmt store_cert_stmts[] = {
	{ "cert_lock", SQL_LOCK },
	{ "cert_import_lock", "SELECT pg_advisory_xact_lock($1::integer, "
	    "$2::integer)" },
	{ "cert_count_imported", "SELECT count(*) FROM certificates "
	    "WHERE type = 'IMPORTED'" },
	{ "cert_import", SQL_IMPORT },
	{ "cert_reimport", SQL_REIMPORT },
	{ "cert_names", SQL_NAMES },
	{ "cert_get", SQL_GET },
	{ "cert_key", SQL_KEY },
	{ "cert_delete", "DELETE FROM certificates WHERE id = $1" },
	{ NULL, NULL },
};

/* ---- freeing ------------------------------------------------------------- */

void
store_cert_version_clear(struct store_cert_version *v)
{
	if (v == NULL)
		return;
	free(v->certificate_pem);
	free(v->chain_pem);
	secret_free(v->sealed_key, v->sealed_key_len);
	free(v->serial);
	free(v->subject);
	free(v->issuer);
	free(v->domain_name);
	strv_free(v->names);
	free(v->key_algorithm);
	free(v->signature_algorithm);
	strv_free(v->key_usages);
	strv_free(v->extended_key_usages);
	free(v->fingerprint_sha256);
	memset(v, 0, sizeof(*v));
}

void
store_cert_free(struct store_cert *c)
{
	if (c == NULL)
		return;
	free(c->arn);
	free(c->type);
	free(c->status);
	free(c->failure_reason);
	free(c->renewal_eligibility);
	store_cert_version_clear(&c->cur);
	strv_free(c->in_use_by);
	free(c);
}

static void
summary_clear(struct store_cert_summary *s)
{
	free(s->arn);
	free(s->domain_name);
	strv_free(s->names);
	free(s->status);
	free(s->type);
	free(s->key_algorithm);
	strv_free(s->key_usages);
	strv_free(s->extended_key_usages);
	free(s->renewal_eligibility);
}

void
store_cert_page_free(struct store_cert_page *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n_items; i++)
		summary_clear(&p->items[i]);
	free(p->items);
	free(p);
}

/* ---- helpers ------------------------------------------------------------- */

/* A list column is NOT NULL in the schema: a missing list is empty. */
static void
sp_list(struct store_params *p, char *const *strv)
{
	sp_array(p, (const char *const *)strv, strv_len(strv));
}

/* Appends $2..$16 in VERSION_COLUMNS order. */
static void
version_params(struct store_params *p, const struct store_cert_version *v)
{
	sp_text(p, v->certificate_pem);
	sp_text(p, v->chain_pem);
	sp_bytea(p, v->sealed_key, v->sealed_key_len);
	sp_text(p, v->serial);
	sp_text(p, v->subject);
	sp_text(p, v->issuer);
	sp_text(p, v->domain_name);
	sp_list(p, v->names);
	sp_int(p, v->not_before);
	sp_int(p, v->not_after);
	sp_text(p, v->key_algorithm);
	sp_text(p, v->signature_algorithm);
	sp_list(p, v->key_usages);
	sp_list(p, v->extended_key_usages);
	sp_text(p, v->fingerprint_sha256);
}

/*
 * Tag keys and values as two arrays, a repeated key keeping its last value
 * (an upsert may not touch one row twice). Returns the number kept.
 */
size_t
store_tags_split(const struct store_tag *tags, size_t n, const char ***keys,
    const char ***values)
{
	size_t kept = 0;

	*keys = xcalloc(n + 1, sizeof(char *));
	*values = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < kept; j++)
			if (strcmp((*keys)[j], tags[i].key) == 0)
				break;
		(*keys)[j] = tags[i].key;
		(*values)[j] = tags[i].value;
		if (j == kept)
			kept++;
	}
	return kept;
}

struct locked_cert {
	int64_t id;
	bool imported;
	int version;
	bool in_use;
};

/* Finds and locks a certificate; -ENOENT if there is none. */
static int
lock_cert(PGconn *conn, const char *arn, struct locked_cert *out,
    char **reterr_msg)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	if ((r = store_exec_arn(conn, "cert_lock", arn, &res, reterr_msg)) < 0)
		return r;
	out->id = res_i64(res, 0, 0);
	out->imported = strcmp(PQgetvalue(res, 0, 1), "IMPORTED") == 0;
	out->version = (int)res_i64(res, 0, 2);
	out->in_use = res_bool(res, 0, 3);
	return 0;
}

/* ---- import -------------------------------------------------------------- */

/*
 * The count runs in its own statement after the lock is held: a statement
 * that took the lock itself would count with a snapshot from before it.
 */
static int
check_import_limit(PGconn *conn, int limit, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	if (limit < 0)
		return 0;
	sp_int(&p, STORE_LOCK_CLASS);
	sp_int(&p, STORE_LOCK_IMPORT);
	r = store_exec(conn, "cert_import_lock", &p, NULL, reterr_msg);
	if (r < 0)
		return r;
	r = store_exec(conn, "cert_count_imported", NULL, &res, reterr_msg);
	if (r < 0)
		return r;
	if (res_i64(res, 0, 0) >= limit) {
		store_set_msg(reterr_msg, "The limit of %d imported "
		    "certificates has been reached.", limit);
		return -ENOSPC;
	}
	return 0;
}

static int
insert_imported(PGconn *conn, const char *arn,
    const struct store_cert_version *v, const struct store_tag *tags,
    size_t n_tags, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_free_ const char **keys = NULL, **values = NULL;
	size_t n;

	n = store_tags_split(tags, n_tags, &keys, &values);
	sp_text(&p, arn);
	version_params(&p, v);
	sp_array(&p, keys, n);
	sp_array(&p, values, n);
	return store_exec(conn, "cert_import", &p, NULL, reterr_msg);
}

int
store_cert_import(PGconn *conn, const char *arn,
    const struct store_cert_version *v, const struct store_tag *tags,
    size_t n_tags, int limit, char **reterr_msg)
{
	bool own;
	int r;

	r = store_tx_enter(conn, &own, reterr_msg);
	if (r < 0)
		return r;
	r = check_import_limit(conn, limit, reterr_msg);
	if (r == 0)
		r = insert_imported(conn, arn, v, tags, n_tags, reterr_msg);
	return store_tx_leave(conn, own, r, reterr_msg);
}

static int
write_version(PGconn *conn, const struct locked_cert *lc,
    const struct store_cert_version *v, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 }, pn = { 0 };
	int r;

	sp_int(&p, lc->id);
	version_params(&p, v);
	sp_int(&p, lc->version + 1);
	r = store_exec(conn, "cert_reimport", &p, NULL, reterr_msg);
	if (r < 0)
		return r;
	sp_int(&pn, lc->id);
	sp_list(&pn, v->names);
	return store_exec(conn, "cert_names", &pn, NULL, reterr_msg);
}

int
store_cert_reimport(PGconn *conn, const char *arn,
    const struct store_cert_version *v, char **reterr_msg)
{
	struct locked_cert lc;
	bool own;
	int r;

	r = store_tx_enter(conn, &own, reterr_msg);
	if (r < 0)
		return r;
	r = lock_cert(conn, arn, &lc, reterr_msg);
	if (r == 0 && !lc.imported) {
		store_set_msg(reterr_msg, "Certificate %s was not imported; "
		    "only imported certificates can be re-imported.", arn);
		r = -EINVAL;
	}
	if (r == 0)
		r = write_version(conn, &lc, v, reterr_msg);
	return store_tx_leave(conn, own, r, reterr_msg);
}

/* ---- reading ------------------------------------------------------------- */

struct store_cert *
store_cert_from_row(const PGresult *res)
{
	struct store_cert *c = xcalloc(1, sizeof(*c));
	struct store_cert_version *v = &c->cur;

	c->arn = res_str(res, 0, 0);
	c->type = res_str(res, 0, 1);
	c->status = res_str(res, 0, 2);
	c->failure_reason = res_str(res, 0, 3);
	c->renewal_eligibility = res_str(res, 0, 4);
	c->created_at = res_i64(res, 0, 5);
	c->imported_at = res_i64(res, 0, 6);
	c->issued_at = res_i64(res, 0, 7);
	c->version = (int)res_i64(res, 0, 8);
	v->certificate_pem = res_str(res, 0, 9);
	v->chain_pem = res_str(res, 0, 10);
	v->serial = res_str(res, 0, 11);
	v->subject = res_str(res, 0, 12);
	v->issuer = res_str(res, 0, 13);
	v->domain_name = res_str(res, 0, 14);
	v->names = res_strv(res, 0, 15);
	v->not_before = res_i64(res, 0, 16);
	v->not_after = res_i64(res, 0, 17);
	v->key_algorithm = res_str(res, 0, 18);
	v->signature_algorithm = res_str(res, 0, 19);
	v->key_usages = res_strv(res, 0, 20);
	v->extended_key_usages = res_strv(res, 0, 21);
	v->fingerprint_sha256 = res_str(res, 0, 22);
	c->in_use_by = res_strv(res, 0, 23);
	return c;
}

int
store_cert_get(PGconn *conn, const char *arn, struct store_cert **out,
    char **reterr_msg)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	*out = NULL;
	if ((r = store_exec_arn(conn, "cert_get", arn, &res, reterr_msg)) < 0)
		return r;
	*out = store_cert_from_row(res);
	return 0;
}

int
store_cert_sealed_key(PGconn *conn, const char *arn, int version,
    unsigned char **key, size_t *key_len, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	size_t len;
	int r;

	*key = NULL;
	*key_len = 0;
	sp_text(&p, arn);
	sp_int(&p, version);
	r = store_exec_binary(conn, "cert_key", &p, &res, reterr_msg);
	if (r < 0)
		return r;
	if (PQntuples(res) != 1) {
		store_set_msg(reterr_msg, "Could not find the key of "
		    "certificate %s.", arn);
		return -ENOENT;
	}
	len = (size_t)PQgetlength(res, 0, 0);
	*key = xmalloc(len > 0 ? len : 1);
	memcpy(*key, PQgetvalue(res, 0, 0), len);
	*key_len = len;
	return 0;
}

/* ---- delete -------------------------------------------------------------- */

int
store_cert_delete(PGconn *conn, const char *arn, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	struct locked_cert lc;
	bool own;
	int r;

	r = store_tx_enter(conn, &own, reterr_msg);
	if (r < 0)
		return r;
	r = lock_cert(conn, arn, &lc, reterr_msg);
	if (r == 0 && lc.in_use) {
		store_set_msg(reterr_msg, "Certificate %s is in use.", arn);
		r = -EBUSY;
	}
	if (r == 0) {
		sp_int(&p, lc.id);
		r = store_exec(conn, "cert_delete", &p, NULL, reterr_msg);
	}
	return store_tx_leave(conn, own, r, reterr_msg);
}

/* ---- listing ------------------------------------------------------------- */

/* NULL (no filter) for a missing list or one that contains "ANY". */
static void
sp_filter(struct store_params *p, char *const *v, bool any_matches_all)
{
	if (v == NULL || (any_matches_all && strv_contains(v, "ANY")))
		sp_text(p, NULL);
	else
		sp_list(p, v);
}

static void
summary_from_row(const PGresult *res, int i, struct store_cert_summary *s)
{
	s->seq = res_i64(res, i, 0);
	s->arn = res_str(res, i, 1);
	s->domain_name = res_str(res, i, 2);
	s->names = res_strv(res, i, 3);
	s->status = res_str(res, i, 4);
	s->type = res_str(res, i, 5);
	s->key_algorithm = res_str(res, i, 6);
	s->key_usages = res_strv(res, i, 7);
	s->extended_key_usages = res_strv(res, i, 8);
	s->in_use = res_bool(res, i, 9);
	s->renewal_eligibility = res_str(res, i, 10);
	s->not_before = res_i64(res, i, 11);
	s->not_after = res_i64(res, i, 12);
	s->created_at = res_i64(res, i, 13);
	s->imported_at = res_i64(res, i, 14);
	s->issued_at = res_i64(res, i, 15);
}

int
store_cert_list(PGconn *conn, const struct store_list_query *q,
    struct store_cert_page **out, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	struct store_cert_page *page;
	int64_t after = q->after_seq;
	size_t n;
	int r;

	*out = NULL;
	if (q->max_items < 1) {
		store_set_msg(reterr_msg, "max_items must be positive");
		return -EINVAL;
	}
	if (q->descending && after <= 0)
		after = INT64_MAX;
	sp_int(&p, after);
	sp_filter(&p, q->statuses, false);
	sp_filter(&p, q->key_types, false);
	sp_filter(&p, q->key_usages, true);
	sp_filter(&p, q->extended_key_usages, true);
	/* One more than asked tells whether another page exists. */
	sp_int(&p, (int64_t)q->max_items + 1);
	r = store_exec_sql(conn, q->descending ? SQL_LIST("<", "DESC") :
	    SQL_LIST(">", "ASC"), &p, &res, reterr_msg);
	if (r < 0)
		return r;

	page = xcalloc(1, sizeof(*page));
	n = (size_t)PQntuples(res);
	page->more = n > (size_t)q->max_items;
	if (page->more)
		n = (size_t)q->max_items;
	page->items = xcalloc(n > 0 ? n : 1, sizeof(*page->items));
	for (size_t i = 0; i < n; i++)
		summary_from_row(res, (int)i, &page->items[i]);
	page->n_items = n;
	*out = page;
	return 0;
}
