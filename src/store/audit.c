/*
 * audit.c: the audit trail. One row per event, written by the caller inside
 * the transaction of the change it records; read back newest first with
 * keyset paging on (event_time, event_id); expired in small batches so that
 * retention never holds long locks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "common/json_wipe.h"
#include "common/xmalloc.h"
#include "store/db.h"
#include "store/store.h"

const struct store_stmt store_audit_stmts[] = {
	{ "audit_insert",
	  "INSERT INTO audit_events (event_id, event_name, read_only, "
	  "caller_uid, caller_gid, caller_pid, caller_user, caller_process, "
	  "source, user_agent, request_params, response_elements, error_code, "
	  "error_message, request_id, certificate_arn, host_name, event_time) "
	  "VALUES ($1::uuid, $2, $3::boolean, NULLIF($4::bigint, -1), "
	  "NULLIF($5::bigint, -1), NULLIF($6::bigint, -1), $7, $8, $9, $10, "
	  "$11::jsonb, $12::jsonb, $13, $14, $15, $16, $17, "
	  "coalesce(to_timestamp(NULLIF($18::bigint, 0) / 1e6), now()))" },
	/*
	 * The same insert for events written outside any change's transaction
	 * (reads, refused calls): set_config(..., true) makes this statement's
	 * own transaction commit without waiting for the WAL flush, so auditing
	 * a read costs no fsync. A crash of PostgreSQL itself may lose the last
	 * fraction of a second of such events; a crash of certfleetd loses none.
	 */
	{ "audit_insert_async",
	  "WITH async AS (SELECT set_config('synchronous_commit', 'off', true)) "
	  "INSERT INTO audit_events (event_id, event_name, read_only, "
	  "caller_uid, caller_gid, caller_pid, caller_user, caller_process, "
	  "source, user_agent, request_params, response_elements, error_code, "
	  "error_message, request_id, certificate_arn, host_name, event_time) "
	  "SELECT $1::uuid, $2, $3::boolean, NULLIF($4::bigint, -1), "
	  "NULLIF($5::bigint, -1), NULLIF($6::bigint, -1), $7, $8, $9, $10, "
	  "$11::jsonb, $12::jsonb, $13, $14, $15, $16, $17, "
	  "coalesce(to_timestamp(NULLIF($18::bigint, 0) / 1e6), now()) "
	  "FROM async" },
	/*
	 * Many such events in one statement: $1 is a JSON array of objects
	 * keyed by column (store_audit_insert_many).
	 */
	{ "audit_insert_many",
	  "WITH async AS (SELECT set_config('synchronous_commit', 'off', true)) "
	  "INSERT INTO audit_events (event_id, event_name, read_only, "
	  "caller_uid, caller_gid, caller_pid, caller_user, caller_process, "
	  "source, user_agent, request_params, response_elements, error_code, "
	  "error_message, request_id, certificate_arn, host_name, event_time) "
	  "SELECT e.event_id, e.event_name, e.read_only, e.caller_uid, "
	  "e.caller_gid, e.caller_pid, e.caller_user, e.caller_process, "
	  "e.source, e.user_agent, e.request_params::jsonb, "
	  "e.response_elements::jsonb, e.error_code, e.error_message, "
	  "e.request_id, e.certificate_arn, e.host_name, "
	  "coalesce(to_timestamp(NULLIF(e.time_us, 0) / 1e6), now()) "
	  "FROM async, json_to_recordset($1::json) AS e(event_id uuid, "
	  "event_name text, read_only boolean, caller_uid bigint, "
	  "caller_gid bigint, caller_pid bigint, caller_user text, "
	  "caller_process text, source text, user_agent text, "
	  "request_params text, response_elements text, error_code text, "
	  "error_message text, request_id text, certificate_arn text, "
	  "host_name text, time_us bigint)" },
	{ "audit_expire",
	  "DELETE FROM audit_events WHERE event_id IN (SELECT event_id FROM "
	  "audit_events WHERE event_time < to_timestamp($1) LIMIT $2)" },
	{ NULL, NULL },
};

int
store_audit_insert(PGconn *conn, const struct store_audit_event *e,
    char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;

	sp_text(&p, e->event_id);
	sp_text(&p, e->event_name);
	sp_text(&p, e->read_only ? "true" : "false");
	sp_int(&p, e->caller_uid);
	sp_int(&p, e->caller_gid);
	sp_int(&p, e->caller_pid);
	sp_text(&p, e->caller_user);
	sp_text(&p, e->caller_process);
	sp_text(&p, e->source);
	sp_text(&p, e->user_agent);
	sp_text(&p, e->request_params);
	sp_text(&p, e->response_elements);
	sp_text(&p, e->error_code);
	sp_text(&p, e->error_message);
	sp_text(&p, e->request_id);
	sp_text(&p, e->certificate_arn);
	sp_text(&p, e->host_name);
	sp_int(&p, e->time_us);
	return store_exec(conn, e->outside_change ? "audit_insert_async" :
	    "audit_insert", &p, &res, reterr_msg);
}

static void
set_text(json_t *o, const char *key, const char *value)
{
	if (value != NULL)
		json_object_set_new(o, key, json_string(value));
}

static void
set_id(json_t *o, const char *key, int64_t value)
{
	if (value >= 0)
		json_object_set_new(o, key, json_integer(value));
}

static json_t *
event_json(const struct store_audit_event *e)
{
	json_t *o = json_object();

	set_text(o, "event_id", e->event_id);
	set_text(o, "event_name", e->event_name);
	json_object_set_new(o, "read_only", json_boolean(e->read_only));
	set_id(o, "caller_uid", e->caller_uid);
	set_id(o, "caller_gid", e->caller_gid);
	set_id(o, "caller_pid", e->caller_pid);
	set_text(o, "caller_user", e->caller_user);
	set_text(o, "caller_process", e->caller_process);
	set_text(o, "source", e->source);
	set_text(o, "user_agent", e->user_agent);
	set_text(o, "request_params", e->request_params);
	set_text(o, "response_elements", e->response_elements);
	set_text(o, "error_code", e->error_code);
	set_text(o, "error_message", e->error_message);
	set_text(o, "request_id", e->request_id);
	set_text(o, "certificate_arn", e->certificate_arn);
	set_text(o, "host_name", e->host_name);
	if (e->time_us > 0)
		json_object_set_new(o, "time_us", json_integer(e->time_us));
	return o;
}

int
store_audit_insert_many(PGconn *conn, const struct store_audit_event *events,
    size_t n, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	json_t *all = json_array();
	char *text;
	int r;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(all, event_json(&events[i]));
	text = json_dumps(all, JSON_COMPACT);
	json_decref(all);
	if (text == NULL) {
		store_set_msg(reterr_msg, "out of memory");
		return -ENOMEM;
	}
	sp_text(&p, text);
	r = store_exec(conn, "audit_insert_many", &p, NULL, reterr_msg);
	json_text_free(text);
	return r;
}

/* The record as LookupEvents shows it, built by PostgreSQL in one pass. */
#define AUDIT_JSON \
	"json_build_object(" \
	"'eventVersion', '1.0', 'eventID', event_id, " \
	"'eventTime', epoch_s(event_time), 'eventSource', 'acm.certfleet', " \
	"'eventName', event_name, 'readOnly', read_only, " \
	"'userIdentity', json_build_object('type', 'UnixUser', " \
	"'uid', caller_uid, 'userName', caller_user, 'gid', caller_gid, " \
	"'pid', caller_pid, 'processName', caller_process), " \
	"'sourceIPAddress', source, 'userAgent', user_agent, " \
	"'requestParameters', request_params, " \
	"'responseElements', response_elements, " \
	"'errorCode', error_code, 'errorMessage', error_message, " \
	"'requestID', request_id, 'hostName', host_name, " \
	"'resources', CASE WHEN certificate_arn IS NULL THEN '[]'::json " \
	"ELSE json_build_array(json_build_object('ResourceType', " \
	"'AWS::ACM::Certificate', 'ResourceName', certificate_arn)) END)"

static const char *
attribute_clause(const char *attribute)
{
	if (attribute == NULL)
		return "TRUE";
	if (strcmp(attribute, "EventName") == 0)
		return "event_name = $3";
	if (strcmp(attribute, "ResourceName") == 0)
		return "certificate_arn = $3";
	if (strcmp(attribute, "Username") == 0)
		return "(caller_user = $3 OR caller_uid::text = $3)";
	if (strcmp(attribute, "EventId") == 0)
		return "event_id::text = $3";
	if (strcmp(attribute, "ReadOnly") == 0)
		return "read_only::text = lower($3)";
	return NULL;
}

static void
audit_rows(const PGresult *res, struct store_audit_page *page, int max)
{
	int n = PQntuples(res);

	page->more = n > max;
	page->n_rows = (size_t)(n > max ? max : n);
	page->rows = xcalloc(page->n_rows + 1, sizeof(*page->rows));
	for (size_t i = 0; i < page->n_rows; i++) {
		page->rows[i].time_us = res_i64(res, (int)i, 0);
		page->rows[i].event_id = res_str(res, (int)i, 1);
		page->rows[i].json = res_str(res, (int)i, 2);
	}
}

int
store_audit_lookup(PGconn *conn, const struct store_audit_query *q,
    struct store_audit_page **out, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	_cleanup_free_ char *sql = NULL;
	const char *attr = attribute_clause(q->attribute);
	int r;

	if (attr == NULL) {
		store_set_msg(reterr_msg, "unknown lookup attribute %s",
		    q->attribute);
		return -EINVAL;
	}
	sql = xasprintf("SELECT (extract(epoch FROM event_time) * 1000000)::"
	    "bigint, event_id::text, " AUDIT_JSON "::text FROM audit_events "
	    "WHERE ($1::bigint < 0 OR event_time >= "
	    "to_timestamp($1::double precision / 1000000)) "
	    "AND ($2::bigint < 0 OR event_time <= "
	    "to_timestamp($2::double precision / 1000000)) "
	    "AND %s "
	    "AND ($4::bigint = 0 OR (event_time, event_id) < "
	    "(to_timestamp($4::double precision / 1000000), $5::uuid)) "
	    "ORDER BY event_time DESC, event_id DESC LIMIT $6",
	    q->attribute ? attr : "($3::text IS NULL OR TRUE)");
	sp_int(&p, q->start_us);
	sp_int(&p, q->end_us);
	sp_text(&p, q->value);
	sp_int(&p, q->before_us);
	sp_text(&p, q->before_id ? q->before_id :
	    "00000000-0000-0000-0000-000000000000");
	sp_int(&p, q->max_results + 1);
	if ((r = store_exec_sql(conn, sql, &p, &res, reterr_msg)) < 0)
		return r;
	*out = xcalloc(1, sizeof(**out));
	audit_rows(res, *out, q->max_results);
	return 0;
}

void
store_audit_page_free(struct store_audit_page *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n_rows; i++) {
		free(p->rows[i].event_id);
		free(p->rows[i].json);
	}
	free(p->rows);
	free(p);
}

int
store_audit_expire(PGconn *conn, int64_t before, int batch, int *deleted,
    char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	sp_int(&p, before);
	sp_int(&p, batch);
	if ((r = store_exec(conn, "audit_expire", &p, &res, reterr_msg)) < 0)
		return r;
	*deleted = (int)strtol(PQcmdTuples(res), NULL, 10);
	return 0;
}
