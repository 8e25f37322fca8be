/*
 * metrics.c: what the metrics endpoint reads from the database: every
 * certificate's figures in one query, streamed a row at a time (single-row
 * mode) so that 100,000 certificates never sit in one PGresult, and a
 * trivial round trip for the readiness check.
 */
#include <errno.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "store/db.h"
#include "store/store.h"

/*
 * Unordered on purpose: the exposition does not need an order, and a
 * sequential scan streams rows sooner than an index walk. Bindings are
 * looked up through a hashed subplan, once for the whole scan.
 */
static const char certificates_sql[] =
    "SELECT c.arn, c.domain_name, c.type,"
    " effective_status(c.status, c.not_after), c.renewal_status,"
    " epoch_s(c.not_before), epoch_s(c.not_after), epoch_s(c.next_due_at),"
    " c.id IN (SELECT b.certificate_id FROM bindings b)"
    " FROM certificates c";

static int64_t
col_i64(const PGresult *res, int col, bool *present)
{
	*present = !PQgetisnull(res, 0, col);
	return *present ? strtoll(PQgetvalue(res, 0, col), NULL, 10) : 0;
}

static void
row_to_cert(const PGresult *res, struct store_metrics_cert *c)
{
	c->arn = PQgetvalue(res, 0, 0);
	c->domain_name = PQgetvalue(res, 0, 1);
	c->type = PQgetvalue(res, 0, 2);
	c->status = PQgetvalue(res, 0, 3);
	c->renewal_status = PQgetisnull(res, 0, 4) ? NULL :
	    PQgetvalue(res, 0, 4);
	c->not_before = col_i64(res, 5, &c->has_not_before);
	c->not_after = col_i64(res, 6, &c->has_not_after);
	c->next_due = col_i64(res, 7, &c->has_next_due);
	c->in_use = PQgetvalue(res, 0, 8)[0] == 't';
}

int
store_metrics_certificates(PGconn *conn, store_metrics_cert_fn fn, void *arg,
    char **reterr_msg)
{
	struct store_metrics_cert c;
	PGresult *res;
	int r = 0;

	if (!PQsendQueryParams(conn, certificates_sql, 0, NULL, NULL, NULL,
	    NULL, 0) || !PQsetSingleRowMode(conn)) {
		store_set_msg(reterr_msg, "database error: %s",
		    PQerrorMessage(conn));
		return store_error_code(conn);
	}
	/* Read every result, even after a failure, to leave the
	 * connection idle for the next piece of work. */
	while ((res = PQgetResult(conn)) != NULL) {
		switch (PQresultStatus(res)) {
		case PGRES_SINGLE_TUPLE:
			if (r == 0) {
				row_to_cert(res, &c);
				fn(&c, arg);
			}
			break;
		case PGRES_TUPLES_OK:
			break;
		default:
			if (r == 0)
				r = store_result_error(conn, res, reterr_msg);
			break;
		}
		PQclear(res);
	}
	if (r == 0 && PQstatus(conn) != CONNECTION_OK) {
		store_set_msg(reterr_msg, "connection to the database lost");
		r = -ECONNRESET;
	}
	return r;
}

int
store_ping(PGconn *conn, char **reterr_msg)
{
	return store_exec_simple(conn, "SELECT 1", reterr_msg);
}
