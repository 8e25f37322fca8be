/*
 * metrics.c: what the metrics endpoint reads from the database: every
 * certificate's figures in one query and every binding endpoint's in
 * another, each streamed a row at a time (single-row mode) so that
 * 100,000 certificates never sit in one PGresult, the mail queue's depth,
 * and a trivial round trip for the readiness check.
 */
#include <errno.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "store/db.h"
#include "store/store.h"

/*
 * Unordered on purpose: the exposition does not need an order, and a
 * sequential scan streams rows sooner than an index walk. Bindings are
 * looked up through a hashed subplan, once for the whole scan; the names'
 * last passed checks are aggregated once (hashed) for the certificates
 * that were ever checked: the last time every name passed is the oldest
 * of the names' last passes, since a check covers all of them.
 */
static const char certificates_sql[] =
    "SELECT c.arn, c.domain_name, c.type,"
    " effective_status(c.status, c.not_after), c.renewal_status,"
    " epoch_s(c.not_before), epoch_s(c.not_after), epoch_s(c.next_due_at),"
    " c.id IN (SELECT b.certificate_id FROM bindings b),"
    " epoch_s(d.passed)"
    " FROM certificates c LEFT JOIN (SELECT certificate_id,"
    "  CASE WHEN bool_and(renewal_passed_at IS NOT NULL)"
    "  THEN min(renewal_passed_at) END AS passed"
    "  FROM domain_validations WHERE renewal_checked_at IS NOT NULL"
    "  GROUP BY certificate_id) d ON d.certificate_id = c.id";

/* Whether the endpoint serves the current version: the fingerprint its
 * last probe saw against the current version's (a probe that failed
 * stored none). */
static const char endpoints_sql[] =
    "SELECT c.arn, b.arn, b.endpoint_address, b.endpoint_port,"
    " coalesce(b.server_name, ''), b.probed_at IS NOT NULL,"
    " coalesce(lower(b.probe_fingerprint_sha256) ="
    "  lower(v.fingerprint_sha256), false),"
    " epoch_s(b.probe_succeeded_at)"
    " FROM bindings b JOIN certificates c ON c.id = b.certificate_id"
    " LEFT JOIN certificate_versions v ON v.certificate_id = c.id"
    "  AND v.version = c.current_version"
    " WHERE b.endpoint_address IS NOT NULL AND b.endpoint_port IS NOT NULL";

/* What is still to go out; the partial index of the senders' scan holds
 * exactly these rows. */
static const char mail_queue_sql[] =
    "SELECT count(*), coalesce(epoch_s(min(created_at)), 0)"
    " FROM mail_outbox WHERE state IN ('PENDING', 'SENDING')";

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
	c->checks_passed = col_i64(res, 9, &c->has_checks_passed);
}

/* A callback and its argument, for stream(). */
struct cert_cb {
	store_metrics_cert_fn fn;
	void *arg;
};

struct endpoint_cb {
	store_metrics_endpoint_fn fn;
	void *arg;
};

static void
cert_row(const PGresult *res, void *arg)
{
	const struct cert_cb *cb = arg;
	struct store_metrics_cert c;

	row_to_cert(res, &c);
	cb->fn(&c, cb->arg);
}

static void
endpoint_row(const PGresult *res, void *arg)
{
	const struct endpoint_cb *cb = arg;
	struct store_metrics_endpoint e = {
		.certificate_arn = PQgetvalue(res, 0, 0),
		.binding_arn = PQgetvalue(res, 0, 1),
		.address = PQgetvalue(res, 0, 2),
		.port = PQgetvalue(res, 0, 3),
		.server_name = PQgetvalue(res, 0, 4),
		.probed = PQgetvalue(res, 0, 5)[0] == 't',
		.match = PQgetvalue(res, 0, 6)[0] == 't',
	};

	e.succeeded = col_i64(res, 7, &e.has_succeeded);
	cb->fn(&e, cb->arg);
}

/* Runs sql in single-row mode, calling row() with each row's result. */
static int
stream(PGconn *conn, const char *sql, void (*row)(const PGresult *, void *),
    void *arg, char **reterr_msg)
{
	PGresult *res;
	int r = 0;

	if (!PQsendQueryParams(conn, sql, 0, NULL, NULL, NULL,
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
			if (r == 0)
				row(res, arg);
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
store_metrics_certificates(PGconn *conn, store_metrics_cert_fn fn, void *arg,
    char **reterr_msg)
{
	struct cert_cb cb = { fn, arg };

	return stream(conn, certificates_sql, cert_row, &cb, reterr_msg);
}

int
store_metrics_endpoints(PGconn *conn, store_metrics_endpoint_fn fn,
    void *arg, char **reterr_msg)
{
	struct endpoint_cb cb = { fn, arg };

	return stream(conn, endpoints_sql, endpoint_row, &cb, reterr_msg);
}

int
store_metrics_mail_queue(PGconn *conn, int64_t *messages, int64_t *oldest,
    char **reterr_msg)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	if ((r = store_exec_sql(conn, mail_queue_sql, NULL, &res,
	    reterr_msg)) < 0)
		return r;
	*messages = res_i64(res, 0, 0);
	*oldest = res_i64(res, 0, 1);
	return 0;
}

int
store_ping(PGconn *conn, char **reterr_msg)
{
	return store_exec_simple(conn, "SELECT 1", reterr_msg);
}
