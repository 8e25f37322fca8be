/*
 * db.c: what every store file needs around libpq: preparing the named
 * statements on a fresh connection, transactions, turning failures into our
 * error codes, building parameters (arrays as quoted literals, bytea in
 * binary) and reading text results back into C values.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "common/xmalloc.h"
#include "store/db.h"
#include "store/describe.h"
#include "store/store.h"

static const struct store_stmt *const all_stmts[] = {
	store_cert_stmts,
	store_tag_stmts,
	store_account_stmts,
	store_audit_stmts,
	store_ca_stmts,
	store_intent_stmts,
	store_describe_stmts,
};

void
store_set_msg(char **reterr_msg, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (reterr_msg == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL)
		s = xstrdup(fmt);
	free(*reterr_msg);
	*reterr_msg = s;
}

/* ---- errors -------------------------------------------------------------- */

const char *
store_sqlstate(const PGresult *res)
{
	const char *s;

	if (res == NULL)
		return "";
	s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	return s != NULL ? s : "";
}

/* The server went away or is going away: the session is lost either way. */
static bool
sqlstate_is_disconnect(const char *s)
{
	return strncmp(s, "08", 2) == 0 || strcmp(s, "57P01") == 0 ||
	    strcmp(s, "57P02") == 0 || strcmp(s, "57P03") == 0;
}

int
store_error_code(PGconn *conn)
{
	if (conn == NULL || PQstatus(conn) == CONNECTION_BAD)
		return -ECONNRESET;
	return -EIO;
}

int
store_exec_arn(PGconn *conn, const char *stmt, const char *arn,
    PGresult **out, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	int r;

	*out = NULL;
	sp_text(&p, arn);
	if ((r = store_exec(conn, stmt, &p, out, reterr_msg)) < 0)
		return r;
	if ((r = store_require_certificate(*out, arn, reterr_msg)) < 0) {
		PQclear(*out);
		*out = NULL;
	}
	return r;
}

int
store_require_certificate(const PGresult *res, const char *arn,
    char **reterr_msg)
{
	if (PQntuples(res) > 0)
		return 0;
	store_set_msg(reterr_msg, "Could not find certificate %s.", arn);
	return -ENOENT;
}

int
store_result_error(PGconn *conn, const PGresult *res, char **reterr_msg)
{
	const char *state = store_sqlstate(res);
	const char *msg;
	size_t len;
	int r;

	msg = res != NULL ? PQresultErrorMessage(res) : "";
	if (*msg == '\0' && conn != NULL)
		msg = PQerrorMessage(conn);
	len = strlen(msg);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		len--;

	if (store_error_code(conn) == -ECONNRESET ||
	    sqlstate_is_disconnect(state))
		r = -ECONNRESET;
	else if (strcmp(state, "23505") == 0)
		r = -EEXIST;
	else if (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0)
		r = -EINVAL;
	else
		r = -EIO;

	if (r == -ECONNRESET)
		store_set_msg(reterr_msg, "database connection lost: %.*s",
		    (int)len, len > 0 ? msg : "no detail");
	else
		store_set_msg(reterr_msg, "database error: %.*s", (int)len,
		    len > 0 ? msg : "no detail");
	return r;
}

/* ---- preparing and running ----------------------------------------------- */

/* Names the statement: a failure here means schema and code disagree. */
static int
prepare_error(PGconn *conn, const PGresult *res, const char *name,
    char **reterr_msg)
{
	_cleanup_free_ char *msg = NULL;
	int r;

	r = store_result_error(conn, res, &msg);
	store_set_msg(reterr_msg, "preparing statement %s: %s", name, msg);
	return r;
}

int
store_prepare(PGconn *conn, char **reterr_msg)
{
	for (size_t i = 0; i < ELEMENTSOF(all_stmts); i++) {
		for (const struct store_stmt *s = all_stmts[i]; s->name; s++) {
			_cleanup_pgresult_ PGresult *res = NULL;

			res = PQprepare(conn, s->name, s->sql, 0, NULL);
			if (PQresultStatus(res) != PGRES_COMMAND_OK)
				return prepare_error(conn, res, s->name,
				    reterr_msg);
		}
	}
	return 0;
}

/* Hands a successful result to *out, or maps the failure. */
static int
exec_result(PGconn *conn, PGresult *res, PGresult **out, char **reterr_msg)
{
	ExecStatusType st = PQresultStatus(res);
	int r;

	if (res == NULL || (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)) {
		r = store_result_error(conn, res, reterr_msg);
		PQclear(res);
		return r;
	}
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return 0;
}

static int
exec_prepared(PGconn *conn, const char *stmt, const struct store_params *p,
    int result_format, PGresult **out, char **reterr_msg)
{
	PGresult *res;

	res = PQexecPrepared(conn, stmt, p ? p->n : 0, p ? p->values : NULL,
	    p ? p->lengths : NULL, p ? p->formats : NULL, result_format);
	return exec_result(conn, res, out, reterr_msg);
}

int
store_exec_sql(PGconn *conn, const char *sql, const struct store_params *p,
    PGresult **out, char **reterr_msg)
{
	PGresult *res;

	res = PQexecParams(conn, sql, p ? p->n : 0, NULL, p ? p->values : NULL,
	    p ? p->lengths : NULL, p ? p->formats : NULL, 0);
	return exec_result(conn, res, out, reterr_msg);
}

int
store_exec(PGconn *conn, const char *stmt, const struct store_params *p,
    PGresult **out, char **reterr_msg)
{
	return exec_prepared(conn, stmt, p, 0, out, reterr_msg);
}

int
store_exec_binary(PGconn *conn, const char *stmt,
    const struct store_params *p, PGresult **out, char **reterr_msg)
{
	return exec_prepared(conn, stmt, p, 1, out, reterr_msg);
}

int
store_exec_simple(PGconn *conn, const char *sql, char **reterr_msg)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	ExecStatusType st;

	res = PQexec(conn, sql);
	st = PQresultStatus(res);
	if (res == NULL || (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK))
		return store_result_error(conn, res, reterr_msg);
	return 0;
}

/* ---- transactions -------------------------------------------------------- */

int
store_begin(PGconn *conn, char **reterr_msg)
{
	return store_exec_simple(conn, "BEGIN", reterr_msg);
}

int
store_commit(PGconn *conn, char **reterr_msg)
{
	_cleanup_pgresult_ PGresult *res = NULL;

	res = PQexec(conn, "COMMIT");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return store_result_error(conn, res, reterr_msg);
	/* COMMIT of an aborted transaction "succeeds" by rolling back. */
	if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		store_set_msg(reterr_msg, "database error: the transaction "
		    "was rolled back after an earlier error");
		return -EIO;
	}
	return 0;
}

void
store_rollback(PGconn *conn)
{
	PGTransactionStatusType ts;

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
		return;
	ts = PQtransactionStatus(conn);
	if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
		PQclear(PQexec(conn, "ROLLBACK"));
}

int
store_tx_enter(PGconn *conn, bool *own, char **reterr_msg)
{
	*own = false;
	switch (PQtransactionStatus(conn)) {
	case PQTRANS_IDLE:
		*own = true;
		return store_begin(conn, reterr_msg);
	case PQTRANS_INTRANS:
		return 0;
	case PQTRANS_INERROR:
		store_set_msg(reterr_msg, "database error: the transaction "
		    "is aborted; roll it back first");
		return -EIO;
	default:
		if (store_error_code(conn) == -ECONNRESET) {
			store_set_msg(reterr_msg, "database connection lost");
			return -ECONNRESET;
		}
		store_set_msg(reterr_msg, "database error: connection busy");
		return -EIO;
	}
}

int
store_tx_leave(PGconn *conn, bool own, int r, char **reterr_msg)
{
	if (!own)
		return r;
	if (r < 0) {
		store_rollback(conn);
		return r;
	}
	return store_commit(conn, reterr_msg);
}

/* ---- parameters ---------------------------------------------------------- */

void
store_params_clear(struct store_params *p)
{
	for (int i = 0; i < p->n; i++)
		free(p->owned[i]);
	p->n = 0;
}

/* The next slot; running out is a programming error, not a runtime one. */
static int
sp_slot(struct store_params *p)
{
	if (p->n >= STORE_MAX_PARAMS)
		abort();
	p->values[p->n] = NULL;
	p->lengths[p->n] = 0;
	p->formats[p->n] = 0;
	p->owned[p->n] = NULL;
	return p->n++;
}

void
sp_text(struct store_params *p, const char *s)
{
	p->values[sp_slot(p)] = s;
}

void
sp_int(struct store_params *p, int64_t v)
{
	int i = sp_slot(p);

	p->owned[i] = xasprintf("%" PRId64, v);
	p->values[i] = p->owned[i];
}

void
sp_bytea(struct store_params *p, const unsigned char *b, size_t len)
{
	int i = sp_slot(p);

	if (b == NULL)
		return;
	p->values[i] = (const char *)b;
	p->lengths[i] = (int)len;
	p->formats[i] = 1;
}

void
sp_array(struct store_params *p, const char *const *items, size_t n)
{
	int i = sp_slot(p);

	p->owned[i] = store_array_literal(items, n);
	p->values[i] = p->owned[i];
}

void
sp_strv(struct store_params *p, char *const *strv)
{
	if (strv == NULL) {
		sp_text(p, NULL);
		return;
	}
	sp_array(p, (const char *const *)strv, strv_len(strv));
}

char *
store_array_literal(const char *const *items, size_t n)
{
	size_t len = 3;
	char *out, *o;

	for (size_t i = 0; i < n; i++)
		len += items[i] ? 2 * strlen(items[i]) + 3 : 5;
	o = out = xmalloc(len);
	*o++ = '{';
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			*o++ = ',';
		if (items[i] == NULL) {
			memcpy(o, "NULL", 4);
			o += 4;
			continue;
		}
		*o++ = '"';
		for (const char *s = items[i]; *s; s++) {
			if (*s == '"' || *s == '\\')
				*o++ = '\\';
			*o++ = *s;
		}
		*o++ = '"';
	}
	*o++ = '}';
	*o = '\0';
	return out;
}

/* ---- results ------------------------------------------------------------- */

char *
res_str(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return NULL;
	return xstrdup(PQgetvalue(r, row, col));
}

int64_t
res_i64(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return 0;
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

bool
res_bool(const PGresult *r, int row, int col)
{
	return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

char **
res_strv(const PGresult *r, int row, int col)
{
	json_t *a, *e;
	char **v;
	size_t i, n = 0;

	if (PQgetisnull(r, row, col))
		return xcalloc(1, sizeof(char *));
	a = json_loads(PQgetvalue(r, row, col), JSON_DECODE_ANY, NULL);
	if (!json_is_array(a)) {
		json_decref(a);
		return xcalloc(1, sizeof(char *));
	}
	v = xcalloc(json_array_size(a) + 1, sizeof(char *));
	json_array_foreach(a, i, e) {
		if (json_is_string(e))
			v[n++] = xstrdup(json_string_value(e));
	}
	json_decref(a);
	return v;
}

/* ---- string lists -------------------------------------------------------- */

void
strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

size_t
strv_len(char *const *v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

char **
strv_copy(char *const *v)
{
	size_t n = strv_len(v);
	char **c = xcalloc(n + 1, sizeof(char *));

	for (size_t i = 0; i < n; i++)
		c[i] = xstrdup(v[i]);
	return c;
}

bool
strv_contains(char *const *v, const char *s)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}
