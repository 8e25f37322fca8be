/*
 * router.c: the one path every control request takes.
 *
 * On the loop thread: check method, headers and body, find the action in
 * the table, decode the JSON, and queue the handler on the database pool.
 * On a database thread: run the handler, inside a transaction unless the
 * action is read-only. Back on the loop thread: encode the output or the
 * exception as AWS JSON 1.1 and reply, logging once per failed call.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "api/api.h"
#include "api/control.h"
#include "api/read_audit.h"
#include "api/router.h"
#include "audit/audit.h"
#include "common/json_wipe.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "loop/dbpool.h"
#include "metrics/metrics.h"
#include "store/store.h"

struct router {
	struct dbpool *pool;
	struct read_audit *read_audit;
	const struct api_env *env;
	struct api_limits limits;
	bool ready;
	struct metrics *metrics;
};

/* A call on its way through the pool; owns the control request. */
struct routed_call {
	struct control_request *req;
	struct api_call call;
	bool audit_only;	/* failed before its handler: record it only */
	bool audit_after;	/* its event is not in a change: the loop
				   thread hands it to the read audit */
	struct read_audit *read_audit;
	struct dbpool *pool;
	char *user_agent;	/* the call's copy once the request is gone */
	struct metrics *metrics;
	double started;		/* metrics_monotonic() on arrival */
};

int
api_fail(struct api_call *call, const char *type, const char *fmt, ...)
{
	va_list ap;

	free(call->error_message);
	va_start(ap, fmt);
	if (vasprintf(&call->error_message, fmt, ap) < 0)
		call->error_message = NULL;
	va_end(ap);
	call->error_type = type;
	call->http_status = 400;
	return -1;
}

int
api_fail_store(struct api_call *call, int rc, const char *msg)
{
	const char *m = msg ? msg : "";

	switch (rc) {
	case -ENOENT:
		return api_fail(call, "ResourceNotFoundException", "%s", m);
	case -EBUSY:
		return api_fail(call, "ResourceInUseException", "%s", m);
	case -ENOSPC:
		return api_fail(call, "LimitExceededException", "%s", m);
	case -E2BIG:
		return api_fail(call, "TooManyTagsException", "%s", m);
	case -EEXIST:
		return api_fail(call, "ConflictException", "%s", m);
	case -EINVAL:
		return api_fail(call, "ValidationException", "%s", m);
	case -ECONNRESET:
		api_fail(call, "ServiceUnavailableException",
		    "The database is unavailable; retry the request later");
		call->http_status = 503;
		return -1;
	default:
		api_fail(call, "InternalFailure",
		    "The request failed on the server (request id %s)",
		    call->request_id);
		log_kv(LOG_ERR, LOG_FIELDS("REQUEST_ID", call->request_id,
		    "ACTION", call->action->name), "%s failed: %s",
		    call->action->name, m);
		call->http_status = 500;
		return -1;
	}
}

int
api_ok(struct api_call *call, json_t *output)
{
	call->output = output ? output : json_object();
	call->http_status = 200;
	return 0;
}

/* ---- replies -------------------------------------------------------- */

/*
 * The answer's text, grown with realloc rather than by jansson's own
 * buffer: that one doubles through its allocator, which wipes every old
 * copy, and a page of 1,000 summaries is half a megabyte. Answers carry
 * no secret (no action returns a private key), so no wiping is needed.
 */
struct reply_text {
	char *data;
	size_t len;
	size_t cap;
};

static int
reply_text_add(const char *buf, size_t size, void *arg)
{
	struct reply_text *t = arg;

	if (t->len + size > t->cap) {
		t->cap = t->cap ? t->cap : 4096;
		while (t->len + size > t->cap)
			t->cap *= 2;
		t->data = xrealloc(t->data, t->cap);
	}
	memcpy(t->data + t->len, buf, size);
	t->len += size;
	return 0;
}

static void
reply_json(struct control_request *req, int status, json_t *body)
{
	struct reply_text t = { 0 };

	if (json_dump_callback(body, reply_text_add, &t, JSON_COMPACT) < 0)
		t.len = 0;
	control_reply(req, status, t.data ? t.data : "", t.len);
	free(t.data);
}

static void
reply_error(struct control_request *req, int status, const char *type,
    const char *message)
{
	json_t *body = json_pack("{s:s, s:s}", "__type", type,
	    strcmp(type, "AccessDeniedException") == 0 ? "Message" : "message",
	    message);

	reply_json(req, status, body);
	json_decref(body);
}

static void
routed_call_free(struct routed_call *rc)
{
	json_decref(rc->call.input);
	json_decref(rc->call.output);
	free(rc->call.error_message);
	free(rc->user_agent);
	free(rc);
}

/* ---- the database side ------------------------------------------------ */

/* A failed event write fails the call it records. */
static void
fail_unrecorded(struct api_call *call, int rc, const char *err)
{
	json_decref(call->output);
	call->output = NULL;
	api_fail_store(call, rc, err);
}

/*
 * The handler and its audit event commit together. A call that changes
 * nothing (a read, a failure, a refusal) has its event written after, by
 * the read audit's group commit (read_audit.c; call_done decides whether
 * before or after the answer).
 */
static int
run_call(PGconn *conn, void *arg)
{
	struct routed_call *routed = arg;
	struct api_call *call = &routed->call;
	_cleanup_free_ char *err = NULL;
	bool tx = !call->action->read_only;
	int r;

	routed->audit_after = true;
	if (routed->audit_only)
		return 0;
	if (tx && (r = store_begin(conn, &err)) < 0)
		return api_fail_store(call, r, err), r;
	r = call->action->handler(call, conn);
	if (call->http_status == 503) {
		if (tx)
			store_rollback(conn);
		return -ECONNRESET;
	}
	if (!tx || r < 0) {
		if (tx)
			store_rollback(conn);
		return 0;
	}
	routed->audit_after = false;
	if ((r = audit_record_call(conn, call, true, &err)) < 0 ||
	    (r = store_commit(conn, &err)) < 0) {
		store_rollback(conn);
		fail_unrecorded(call, r, err);
		return r == -ECONNRESET ? r : 0;
	}
	return 0;
}

static void
log_failure(const struct api_call *call)
{
	char uid[16];

	snprintf(uid, sizeof(uid), "%u", (unsigned)call->uid);
	log_kv(call->http_status >= 500 ? LOG_WARNING : LOG_INFO,
	    LOG_FIELDS("REQUEST_ID", call->request_id, "ACTION",
	    call->action->name, "CALLER_UID", uid, "ERROR_CODE",
	    call->error_type),
	    "%s by uid %s failed: %s: %s", call->action->name, uid,
	    call->error_type, call->error_message ? call->error_message : "");
}

/* The journal's copy of the audit trail: one structured line per call. */
static void
log_event(const struct api_call *call)
{
	char uid[16], pid[16];

	snprintf(uid, sizeof(uid), "%u", (unsigned)call->uid);
	snprintf(pid, sizeof(pid), "%d", (int)call->pid);
	log_kv(LOG_INFO, LOG_FIELDS("AUDIT_EVENT", call->action->name,
	    "REQUEST_ID", call->request_id, "CALLER_UID", uid, "CALLER_PID",
	    pid, "ERROR_CODE", call->error_type),
	    "audit: %s by uid %s (pid %s)%s%s", call->action->name, uid, pid,
	    call->error_type ? ": " : "",
	    call->error_type ? call->error_type : "");
}

/* Answers the call; the request is gone after, the call is not. */
static void
answer_call(struct routed_call *routed)
{
	struct api_call *call = &routed->call;

	log_event(call);
	if (call->error_type != NULL) {
		if (call->http_status >= 500)
			log_failure(call);
		reply_error(routed->req, call->http_status, call->error_type,
		    call->error_message ? call->error_message : "");
	} else {
		log_kv(LOG_DEBUG, LOG_FIELDS("REQUEST_ID", call->request_id,
		    "ACTION", call->action->name), "%s succeeded",
		    call->action->name);
		reply_json(routed->req, 200, call->output);
		if (call->kicks != 0 && call->env->kick != NULL)
			call->env->kick(call->kicks, call->env->kick_arg);
	}
	metrics_api_request(routed->metrics, call->action->name,
	    call->error_type, metrics_monotonic() - routed->started);
}

static void
finish_call(struct routed_call *routed)
{
	answer_call(routed);
	routed_call_free(routed);
}

/* A successful read's event, written after its answer. */
static void
read_recorded(int rc, const char *err, void *arg)
{
	struct routed_call *routed = arg;

	if (rc < 0)
		log_kv(LOG_WARNING, LOG_FIELDS("REQUEST_ID",
		    routed->call.request_id, "ACTION",
		    routed->call.action->name),
		    "audit: the event of %s (request %s) could not be "
		    "stored: %s", routed->call.action->name,
		    routed->call.request_id, err);
	routed_call_free(routed);
}

static void
call_recorded(int rc, const char *err, void *arg)
{
	struct routed_call *routed = arg;

	if (rc < 0)
		fail_unrecorded(&routed->call, rc, err);
	finish_call(routed);
}

static void
call_done(int rc, void *arg)
{
	struct routed_call *routed = arg;
	struct api_call *call = &routed->call;

	if (rc == -ECONNRESET) {
		/* Nothing can be recorded while the database is away. */
		if (call->error_type == NULL) {
			api_fail(call, "ServiceUnavailableException",
			    "The database is unavailable; retry the request "
			    "later");
			call->http_status = 503;
		}
		finish_call(routed);
		return;
	}
	if (!routed->audit_after) {
		finish_call(routed);
		return;
	}
	if (call->error_type != NULL || !call->action->read_only) {
		/* A failure is answered once its event is stored. */
		read_audit_submit(routed->read_audit, call, call_recorded,
		    routed);
		return;
	}
	if (!call->env->audit_reads) {
		finish_call(routed);
		return;
	}
	/*
	 * A successful read is answered first and its event queued at once
	 * for the next group write: the journal has its line already, and
	 * LookupEvents waits for the queued events (router_handle).
	 */
	routed->user_agent = call->user_agent ? xstrdup(call->user_agent) :
	    NULL;
	call->user_agent = routed->user_agent;
	read_audit_submit(routed->read_audit, call, read_recorded, routed);
	answer_call(routed);
}

/* LookupEvents runs once the events answered before it are stored. */
static void
submit_after_audit(int rc, const char *err, void *arg)
{
	struct routed_call *routed = arg;

	if (rc < 0)
		call_done(-ECONNRESET, routed);	/* stopping: 503 */
	else
		dbpool_submit(routed->pool, run_call, call_done, routed);
}

/* ---- the loop side --------------------------------------------------- */

static bool
content_type_ok(const char *ct)
{
	return ct == NULL || ct[0] == '\0' ||
	    strncmp(ct, "application/x-amz-json-1.", 25) == 0 ||
	    strncmp(ct, "application/json", 16) == 0;
}

/* A request refused before it reached a handler: counted, then answered. */
static void
refuse(struct router *r, struct control_request *req,
    const struct api_action *action, int status, const char *type,
    const char *message)
{
	metrics_api_request(r->metrics, action ? action->name : "", type, 0);
	reply_error(req, status, type, message);
}

/* Checks everything that needs no action; replies and returns false. */
static bool
precheck(struct router *r, struct control_request *req,
    const struct api_action **action)
{
	if (strcmp(req->method, "POST") != 0 || req->url == NULL ||
	    (strcmp(req->url, "/") != 0 && strncmp(req->url, "/?", 2) != 0)) {
		refuse(r, req, *action, 400, "UnknownOperationException",
		    "Requests are POST / with an X-Amz-Target header");
		return false;
	}
	if (req->body_too_large) {
		refuse(r, req, *action, 413, "ValidationException",
		    "The request body is larger than [control] max_body_size "
		    "allows");
		return false;
	}
	if (req->target == NULL) {
		refuse(r, req, *action, 400, "UnknownOperationException",
		    "Missing X-Amz-Target header (for example "
		    "CertificateManager.ListCertificates)");
		return false;
	}
	if ((*action = api_action_find(req->target)) == NULL) {
		refuse(r, req, *action, 400, "UnknownOperationException",
		    "Unknown operation; X-Amz-Target names no action "
		    "this service has");
		return false;
	}
	if (!content_type_ok(req->content_type)) {
		refuse(r, req, *action, 400, "SerializationException",
		    "Content-Type must be application/x-amz-json-1.1");
		return false;
	}
	if (!r->ready) {
		refuse(r, req, *action, 503, "ServiceUnavailableException",
		    "certfleetd is starting and the database is not ready yet; "
		    "retry the request later");
		return false;
	}
	return true;
}

static json_t *
decode_body(struct control_request *req)
{
	json_error_t jerr;
	json_t *in;

	if (req->body_len == 0)
		return json_object();
	in = json_loadb(req->body, req->body_len,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (in == NULL || !json_is_object(in)) {
		json_decref(in);
		return NULL;
	}
	return in;
}

void
router_handle(struct control_request *req, void *arg)
{
	struct router *r = arg;
	const struct api_action *action = NULL;
	struct routed_call *routed;
	struct timespec ts;
	json_t *input;

	if (!precheck(r, req, &action))
		return;
	routed = xcalloc(1, sizeof(*routed));
	if ((input = decode_body(req)) == NULL) {
		/* A failed call of a known action: answered after it is
		 * recorded, like every other call. */
		routed->audit_only = true;
		input = json_object();
		api_fail(&routed->call, "SerializationException",
		    "The request body is not a JSON object");
	}
	routed->req = req;
	routed->read_audit = r->read_audit;
	routed->pool = r->pool;
	routed->metrics = r->metrics;
	routed->started = metrics_monotonic();
	routed->call.action = action;
	routed->call.env = r->env;
	routed->call.limits = r->limits;
	routed->call.uid = req->caller.uid;
	routed->call.gid = req->caller.gid;
	routed->call.pid = req->caller.pid;
	memcpy(routed->call.process, req->caller.process,
	    sizeof(routed->call.process));
	memcpy(routed->call.request_id, req->request_id,
	    sizeof(routed->call.request_id));
	clock_gettime(CLOCK_REALTIME, &ts);
	routed->call.now = ts.tv_sec;
	routed->call.time_us = (int64_t)ts.tv_sec * 1000000 +
	    ts.tv_nsec / 1000;
	routed->call.user_agent = req->user_agent;
	routed->call.input = input;
	if (action->reads_audit && !routed->audit_only)
		read_audit_after(r->read_audit, submit_after_audit, routed);
	else
		dbpool_submit(r->pool, run_call, call_done, routed);
}

struct router *
router_new(struct dbpool *pool, const struct api_env *env,
    const struct api_limits *limits)
{
	struct router *r = xcalloc(1, sizeof(*r));

	r->pool = pool;
	r->read_audit = read_audit_new(pool);
	r->env = env;
	r->limits = *limits;
	return r;
}

void
router_free(struct router *r)
{
	if (r == NULL)
		return;
	read_audit_free(r->read_audit);
	free(r);
}

void
router_set_ready(struct router *r, bool ready)
{
	r->ready = ready;
}

void
router_set_limits(struct router *r, const struct api_limits *limits)
{
	r->limits = *limits;
}

void
router_set_metrics(struct router *r, struct metrics *m)
{
	r->metrics = m;
}

void
router_stop(struct router *r)
{
	if (r != NULL)
		read_audit_stop(r->read_audit);
}

unsigned
router_pending_audit(const struct router *r)
{
	return read_audit_pending(r->read_audit);
}
