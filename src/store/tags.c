/*
 * tags.c: a certificate's tags. Keys are case-sensitive; a tag may have no
 * value (stored as NULL), which is different from an empty value. Changes
 * lock the certificate row first, so that two concurrent additions cannot
 * both pass the tag limit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/xmalloc.h"
#include "store/db.h"
#include "store/store.h"

/* NO KEY UPDATE: serialises tag changes without blocking tag inserts'
 * foreign key checks. */
#define SQL_LOCK "SELECT id FROM certificates WHERE arn = $1 FOR NO KEY UPDATE"

/* Tags that stay as they are: the ones whose keys the request does not
 * name. */
#define SQL_COUNT_OTHERS                                        \
	"SELECT count(*) FROM certificate_tags"                  \
	" WHERE certificate_id = $1 AND key <> ALL ($2::text[])"

#define SQL_UPSERT                                                   \
	"INSERT INTO certificate_tags (certificate_id, key, value)"   \
	" SELECT $1, u.k, u.v FROM unnest($2::text[], $3::text[])"    \
	"  AS u(k, v)"                                                \
	" ON CONFLICT (certificate_id, key)"                          \
	" DO UPDATE SET value = EXCLUDED.value"

/* A request without a value removes the key whatever its value; with one,
 * only when it matches (a stored NULL matches no given value). */
#define SQL_REMOVE                                                   \
	"DELETE FROM certificate_tags t"                              \
	" USING unnest($2::text[], $3::text[]) AS u(k, v)"            \
	" WHERE t.certificate_id = $1 AND t.key = u.k"                \
	" AND (u.v IS NULL OR t.value = u.v)"

/* One row with NULL key when the certificate has no tags; none when there
 * is no certificate. */
#define SQL_LIST                                                     \
	"SELECT t.key, t.value FROM certificates c"                   \
	" LEFT JOIN certificate_tags t ON t.certificate_id = c.id"    \
	" WHERE c.arn = $1 ORDER BY t.key"

const struct store_stmt store_tag_stmts[] = {
	{ "tag_lock", SQL_LOCK },
	{ "tag_count_others", SQL_COUNT_OTHERS },
	{ "tag_upsert", SQL_UPSERT },
	{ "tag_remove", SQL_REMOVE },
	{ "tag_list", SQL_LIST },
	{ NULL, NULL },
};

void
store_tags_free(struct store_tag *tags, size_t n)
{
	if (tags == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(tags[i].key);
		free(tags[i].value);
	}
	free(tags);
}

static int
lock_cert(PGconn *conn, const char *arn, int64_t *id, char **reterr_msg)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	if ((r = store_exec_arn(conn, "tag_lock", arn, &res, reterr_msg)) < 0)
		return r;
	*id = res_i64(res, 0, 0);
	return 0;
}

static int
add_locked(PGconn *conn, int64_t id, const struct store_tag *tags, size_t n,
    int max_tags, char **reterr_msg)
{
	_cleanup_params_ struct store_params pc = { 0 }, pu = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	_cleanup_free_ const char **keys = NULL, **values = NULL;
	size_t kept;
	int r;

	kept = store_tags_split(tags, n, &keys, &values);
	sp_int(&pc, id);
	sp_array(&pc, keys, kept);
	r = store_exec(conn, "tag_count_others", &pc, &res, reterr_msg);
	if (r < 0)
		return r;
	if (max_tags >= 0 && res_i64(res, 0, 0) + (int64_t)kept > max_tags) {
		store_set_msg(reterr_msg, "A certificate can have at most %d "
		    "tags.", max_tags);
		return -E2BIG;
	}
	sp_int(&pu, id);
	sp_array(&pu, keys, kept);
	sp_array(&pu, values, kept);
	return store_exec(conn, "tag_upsert", &pu, NULL, reterr_msg);
}

int
store_tags_add(PGconn *conn, const char *arn, const struct store_tag *tags,
    size_t n, int max_tags, char **reterr_msg)
{
	int64_t id;
	bool own;
	int r;

	r = store_tx_enter(conn, &own, reterr_msg);
	if (r < 0)
		return r;
	r = lock_cert(conn, arn, &id, reterr_msg);
	if (r == 0)
		r = add_locked(conn, id, tags, n, max_tags, reterr_msg);
	return store_tx_leave(conn, own, r, reterr_msg);
}

static int
remove_locked(PGconn *conn, int64_t id, const struct store_tag *tags,
    size_t n, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_free_ const char **keys = xcalloc(n + 1, sizeof(char *));
	_cleanup_free_ const char **values = xcalloc(n + 1, sizeof(char *));

	for (size_t i = 0; i < n; i++) {
		keys[i] = tags[i].key;
		values[i] = tags[i].value;
	}
	sp_int(&p, id);
	sp_array(&p, keys, n);
	sp_array(&p, values, n);
	return store_exec(conn, "tag_remove", &p, NULL, reterr_msg);
}

int
store_tags_remove(PGconn *conn, const char *arn,
    const struct store_tag *tags, size_t n, char **reterr_msg)
{
	int64_t id;
	bool own;
	int r;

	r = store_tx_enter(conn, &own, reterr_msg);
	if (r < 0)
		return r;
	r = lock_cert(conn, arn, &id, reterr_msg);
	if (r == 0)
		r = remove_locked(conn, id, tags, n, reterr_msg);
	return store_tx_leave(conn, own, r, reterr_msg);
}

int
store_tags_list(PGconn *conn, const char *arn, struct store_tag **out,
    size_t *n, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	struct store_tag *tags;
	size_t rows, k = 0;
	int r;

	*out = NULL;
	*n = 0;
	sp_text(&p, arn);
	if ((r = store_exec(conn, "tag_list", &p, &res, reterr_msg)) < 0 ||
	    (r = store_require_certificate(res, arn, reterr_msg)) < 0)
		return r;
	rows = (size_t)PQntuples(res);
	tags = xcalloc(rows, sizeof(*tags));
	for (size_t i = 0; i < rows; i++) {
		if (PQgetisnull(res, (int)i, 0))
			continue;
		tags[k].key = res_str(res, (int)i, 0);
		tags[k].value = res_str(res, (int)i, 1);
		k++;
	}
	*out = tags;
	*n = k;
	return 0;
}
