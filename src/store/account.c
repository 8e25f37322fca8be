/*
 * account.c: the account's configuration (DaysBeforeExpiry), one row in
 * account_config, and PutAccountConfiguration's idempotency: a token is
 * remembered for an hour with the value it set, so a retry is answered
 * as the first call was and a reuse with another value is a conflict.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/xmalloc.h"
#include "store/db.h"
#include "store/store.h"

#define DEFAULT_DAYS_BEFORE_EXPIRY 45
#define PUT_ACTION "PutAccountConfiguration"

#define SQL_TOKEN_GET                                                     \
	"SELECT request_hash FROM request_tokens"                          \
	" WHERE action = $1 AND token = $2 AND expires_at > now()"

/* Replaces an expired token of the same name. */
#define SQL_TOKEN_PUT                                                      \
	"INSERT INTO request_tokens (action, token, request_hash, expires_at)" \
	" VALUES ($1, $2, $3, now() + interval '1 hour')"                   \
	" ON CONFLICT (action, token) DO UPDATE"                            \
	" SET request_hash = EXCLUDED.request_hash, arn = NULL,"           \
	" created_at = now(), expires_at = EXCLUDED.expires_at"

const struct store_stmt store_account_stmts[] = {
	{ "account_get", "SELECT days_before_expiry FROM account_config" },
	{ "account_lock", "SELECT days_before_expiry FROM account_config "
	    "FOR UPDATE" },
	{ "account_set", "UPDATE account_config SET days_before_expiry = "
	    "$1::integer, updated_at = now()" },
	{ "token_get", SQL_TOKEN_GET },
	{ "token_put", SQL_TOKEN_PUT },
	{ NULL, NULL },
};

int
store_account_get(PGconn *conn, int *days_before_expiry, char **reterr_msg)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	*days_before_expiry = DEFAULT_DAYS_BEFORE_EXPIRY;
	r = store_exec(conn, "account_get", NULL, &res, reterr_msg);
	if (r < 0)
		return r;
	if (PQntuples(res) == 1)
		*days_before_expiry = (int)res_i64(res, 0, 0);
	return 0;
}

/*
 * 1 if the token was used within the hour with the same value (nothing to
 * do), 0 if it is new, -EEXIST if it was used with another value.
 */
static int
check_token(PGconn *conn, const char *token, const char *hash,
    char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	sp_text(&p, PUT_ACTION);
	sp_text(&p, token);
	r = store_exec(conn, "token_get", &p, &res, reterr_msg);
	if (r < 0)
		return r;
	if (PQntuples(res) == 0)
		return 0;
	if (strcmp(PQgetvalue(res, 0, 0), hash) == 0)
		return 1;
	store_set_msg(reterr_msg, "The idempotency token %s was already used "
	    "with a different configuration.", token);
	return -EEXIST;
}

static int
put_locked(PGconn *conn, int days, const char *token, char **reterr_msg)
{
	_cleanup_params_ struct store_params ps = { 0 }, pt = { 0 };
	char hash[32];
	int r;

	/* The only parameter that matters is the value itself. */
	snprintf(hash, sizeof(hash), "days=%d", days);
	r = store_exec(conn, "account_lock", NULL, NULL, reterr_msg);
	if (r == 0 && token != NULL)
		r = check_token(conn, token, hash, reterr_msg);
	if (r != 0)
		return r > 0 ? 0 : r;
	sp_int(&ps, days);
	r = store_exec(conn, "account_set", &ps, NULL, reterr_msg);
	if (r < 0 || token == NULL)
		return r;
	sp_text(&pt, PUT_ACTION);
	sp_text(&pt, token);
	sp_text(&pt, hash);
	return store_exec(conn, "token_put", &pt, NULL, reterr_msg);
}

int
store_account_put(PGconn *conn, int days_before_expiry,
    const char *idempotency_token, char **reterr_msg)
{
	bool own;
	int r;

	r = store_tx_enter(conn, &own, reterr_msg);
	if (r < 0)
		return r;
	r = put_locked(conn, days_before_expiry, idempotency_token,
	    reterr_msg);
	return store_tx_leave(conn, own, r, reterr_msg);
}
