/*
 * migrate.c: brings a database up to the schema this binary was built with.
 *
 * The migrations are the sql/NNN_name.sql files, compiled in (see
 * sql/embed-migrations.sh). Several daemons may start at once against one
 * database, so the whole run holds a session advisory lock; each migration
 * and its schema_migrations row commit together, so a crash leaves either
 * all of a migration or none of it. A database that a newer certfleetd has
 * already migrated further is refused rather than used with a schema we do
 * not know.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/xmalloc.h"
#include "store/db.h"
#include "store/migrations.h"
#include "store/store.h"

#define LOCK_ARGS "(1667656820, 1)"

/* The lock class in SQL must be STORE_LOCK_CLASS, object STORE_LOCK_MIGRATE. */
_Static_assert(STORE_LOCK_CLASS == 1667656820, "lock class");
_Static_assert(STORE_LOCK_MIGRATE == 1, "migrate lock object");

static const char create_table_sql[] =
    "CREATE TABLE schema_migrations ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

int
store_schema_version(void)
{
	if (store_n_migrations == 0)
		return 0;
	return store_migrations[store_n_migrations - 1].version;
}

/* Runs a query that returns one row; the caller reads it. */
static int
query_row(PGconn *conn, const char *sql, PGresult **out, char **reterr_msg)
{
	PGresult *res;

	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		int r = store_result_error(conn, res, reterr_msg);

		PQclear(res);
		return r;
	}
	*out = res;
	return 0;
}

/* Creates schema_migrations on a new database; returns the newest version. */
static int
current_version(PGconn *conn, int *version, char **reterr_msg)
{
	_cleanup_pgresult_ PGresult *exists = NULL, *max = NULL;
	int r;

	r = query_row(conn, "SELECT to_regclass('schema_migrations') IS NOT NULL",
	    &exists, reterr_msg);
	if (r == 0 && !res_bool(exists, 0, 0))
		r = store_exec_simple(conn, create_table_sql, reterr_msg);
	if (r == 0)
		r = query_row(conn, "SELECT coalesce(max(version), 0) "
		    "FROM schema_migrations", &max, reterr_msg);
	if (r == 0)
		*version = (int)res_i64(max, 0, 0);
	return r;
}

static int
apply_one(PGconn *conn, const struct store_migration *m, char **reterr_msg)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	_cleanup_free_ char *msg = NULL;
	char version[16];
	const char *params[2] = { version, m->name };
	int r;

	snprintf(version, sizeof(version), "%d", m->version);
	r = store_begin(conn, &msg);
	/* Migrations may raise notices (IF EXISTS and the like); libpq would
	 * print them to stderr. */
	if (r == 0)
		r = store_exec_simple(conn,
		    "SET LOCAL client_min_messages = warning", &msg);
	if (r == 0)
		r = store_exec_simple(conn, m->sql, &msg);
	if (r == 0) {
		res = PQexecParams(conn, "INSERT INTO schema_migrations "
		    "(version, name) VALUES ($1, $2)", 2, NULL, params, NULL,
		    NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			r = store_result_error(conn, res, &msg);
	}
	if (r == 0)
		r = store_commit(conn, &msg);
	if (r < 0) {
		store_rollback(conn);
		store_set_msg(reterr_msg, "migration %03d_%s: %s", m->version,
		    m->name, msg ? msg : "failed");
	}
	return r;
}

static int
migrate_locked(PGconn *conn, int *applied, char **reterr_msg)
{
	int have = 0, r;

	r = current_version(conn, &have, reterr_msg);
	if (r < 0)
		return r;
	if (have > store_schema_version()) {
		store_set_msg(reterr_msg, "database schema is at version %d "
		    "but this certfleetd knows only up to %d; upgrade "
		    "certfleetd", have, store_schema_version());
		return -EPROTO;
	}
	for (size_t i = 0; i < store_n_migrations; i++) {
		if (store_migrations[i].version <= have)
			continue;
		r = apply_one(conn, &store_migrations[i], reterr_msg);
		if (r < 0)
			return r;
		(*applied)++;
	}
	return 0;
}

int
store_migrate(PGconn *conn, int *applied, char **reterr_msg)
{
	int n = 0, r;

	if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
		if (store_error_code(conn) == -ECONNRESET) {
			store_set_msg(reterr_msg, "database connection lost");
			return -ECONNRESET;
		}
		store_set_msg(reterr_msg, "migrations must run outside a "
		    "transaction");
		return -EINVAL;
	}
	r = store_exec_simple(conn, "SELECT pg_advisory_lock" LOCK_ARGS,
	    reterr_msg);
	if (r < 0)
		return r;
	r = migrate_locked(conn, &n, reterr_msg);
	if (PQstatus(conn) == CONNECTION_OK)
		PQclear(PQexec(conn, "SELECT pg_advisory_unlock" LOCK_ARGS));
	if (applied != NULL)
		*applied = n;
	return r;
}
