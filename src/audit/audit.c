/*
 * audit.c: builds audit events from API calls and from the daemon's own
 * work, and hands them to the store (src/store/audit.c).
 */
#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "audit/audit.h"
#include "common/arn.h"
#include "common/json_wipe.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "store/store.h"

/* Members never recorded, whatever the action. */
static const char *const omitted[] = { "Certificate", "PrivateKey",
	"CertificateChain", "Passphrase", NULL };

json_t *
audit_scrub_request(const json_t *input)
{
	json_t *copy = json_deep_copy(input ? input : json_object());

	for (size_t i = 0; omitted[i]; i++)
		json_object_del(copy, omitted[i]);
	return copy;
}

/*
 * User names by uid, remembered for a minute: a name service lookup per
 * call (a read of /etc/passwd, or worse, a directory server) would cost
 * more than the call itself. Shared by the database threads.
 */
#define USER_CACHE_SIZE 16
#define USER_CACHE_TTL 60

struct user_cache_entry {
	uid_t uid;
	time_t at;		/* 0: empty slot */
	char name[64];
};

struct audit_user_cache {
	pthread_mutex_t lock;
	struct user_cache_entry slots[USER_CACHE_SIZE];
};

struct audit_user_cache *
audit_user_cache_new(void)
{
	struct audit_user_cache *c = xcalloc(1, sizeof(*c));

	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void
audit_user_cache_free(struct audit_user_cache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static bool
user_cache_get(struct audit_user_cache *c, uid_t uid, time_t now, char *buf,
    size_t len)
{
	bool hit = false;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < USER_CACHE_SIZE && !hit; i++)
		if (c->slots[i].at != 0 && c->slots[i].uid == uid &&
		    now - c->slots[i].at < USER_CACHE_TTL) {
			snprintf(buf, len, "%s", c->slots[i].name);
			hit = true;
		}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

/* Replaces the entry for uid, or else the oldest. */
static void
user_cache_put(struct audit_user_cache *c, uid_t uid, time_t now,
    const char *name)
{
	size_t slot = 0;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 1; i < USER_CACHE_SIZE; i++)
		if (c->slots[i].uid == uid || c->slots[i].at < c->slots[slot].at)
			slot = i;
	c->slots[slot].uid = uid;
	c->slots[slot].at = now;
	snprintf(c->slots[slot].name, sizeof(c->slots[slot].name), "%.63s",
	    name);
	pthread_mutex_unlock(&c->lock);
}

static void
caller_user(struct audit_user_cache *c, uid_t uid, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[2048];
	time_t now = time(NULL);

	if (c != NULL && user_cache_get(c, uid, now, buf, len))
		return;
	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res != NULL)
		snprintf(buf, len, "%s", pw.pw_name);
	else
		snprintf(buf, len, "%u", (unsigned)uid);
	if (c != NULL)
		user_cache_put(c, uid, now, buf);
}

static char *
dump(const json_t *j)
{
	char *text, *copy;

	if (j == NULL)
		return NULL;
	text = json_dumps(j, JSON_COMPACT);
	copy = text ? xstrdup(text) : NULL;
	json_text_free(text);
	return copy;
}

/* The certificate an event is about: the request's, or the new one. */
static const char *
call_arn(const struct api_call *call)
{
	const char *arn = json_string_value(json_object_get(call->input,
	    "CertificateArn"));

	if (arn == NULL && call->output != NULL)
		arn = json_string_value(json_object_get(call->output,
		    "CertificateArn"));
	return arn;
}

/* Request parameters longer than this are recorded as their size only
 * (CloudTrail, too, leaves out what is too large to keep). */
#define PARAMS_MAX (64 * 1024)

/* One call's event and the text it points to. */
struct call_event {
	struct store_audit_event e;
	char *params;
	char *response;
	char user[256];
	char process[64];
	char id[37];
};

static void
call_event_init(struct call_event *ce, const struct api_call *call,
    bool in_change)
{
	json_t *scrubbed = audit_scrub_request(call->input);
	const char *arn = call_arn(call);

	ce->params = dump(scrubbed);
	json_decref(scrubbed);
	if (ce->params != NULL && strlen(ce->params) > PARAMS_MAX) {
		/* Kept small so that a group of events stays small too. */
		size_t len = strlen(ce->params);

		free(ce->params);
		ce->params = xasprintf("{\"omitted\": \"request parameters "
		    "of %zu bytes\"}", len);
	}
	/* Like CloudTrail: only calls that create something have response
	 * elements worth keeping. */
	ce->response = NULL;
	if (call->error_type == NULL && call->output != NULL &&
	    json_object_get(call->output, "CertificateArn") != NULL)
		ce->response = dump(call->output);
	caller_user(call->env->users, call->uid, ce->user, sizeof(ce->user));
	snprintf(ce->process, sizeof(ce->process), "%s", call->process);
	uuid_v7(ce->id);
	ce->e = (struct store_audit_event){
		.event_id = ce->id,
		.event_name = call->action->name,
		.read_only = call->action->read_only,
		.caller_uid = call->uid,
		.caller_gid = call->gid,
		.caller_pid = call->pid,
		.caller_user = ce->user,
		.caller_process = ce->process[0] ? ce->process : NULL,
		.source = "unix",
		.user_agent = call->user_agent,
		.request_params = ce->params,
		.response_elements = ce->response,
		.error_code = call->error_type,
		.error_message = call->error_type ? call->error_message : NULL,
		.request_id = call->request_id,
		.certificate_arn = arn && strncmp(arn, "arn:", 4) == 0 ? arn :
		    NULL,
		.host_name = call->env->host_name,
		.time_us = call->time_us,
		.outside_change = !in_change,
	};
}

static void
call_event_clear(struct call_event *ce)
{
	free(ce->params);
	free(ce->response);
}

int
audit_record_call(PGconn *conn, const struct api_call *call, bool in_change,
    char **reterr_msg)
{
	struct call_event ce;
	int r;

	call_event_init(&ce, call, in_change);
	r = store_audit_insert(conn, &ce.e, reterr_msg);
	call_event_clear(&ce);
	return r;
}

int
audit_record_calls(PGconn *conn, const struct api_call *const *calls,
    size_t n, char **reterr_msg)
{
	struct call_event *ce = xcalloc(n ? n : 1, sizeof(*ce));
	struct store_audit_event *events = xcalloc(n ? n : 1,
	    sizeof(*events));
	int r;

	for (size_t i = 0; i < n; i++) {
		call_event_init(&ce[i], calls[i], false);
		events[i] = ce[i].e;
	}
	r = store_audit_insert_many(conn, events, n, reterr_msg);
	for (size_t i = 0; i < n; i++)
		call_event_clear(&ce[i]);
	free(events);
	free(ce);
	return r;
}

/*
 * The journal's copy of a daemon event, as the router writes one for each
 * control call: one line with the event's name and certificate as fields.
 * The details stay out of it (they are in the database, and the journal
 * needs no recipients' addresses); secrets never reach an event anyway.
 * Written once the event is stored in its transaction: a rollback after
 * that (the commit failing) is rare, and logged by the caller.
 */
static void
log_work(const char *event_name, const char *certificate_arn,
    const char *source, const char *event_id)
{
	log_kv(LOG_INFO, LOG_FIELDS("AUDIT_EVENT", event_name,
	    "AUDIT_EVENT_ID", event_id, "AUDIT_SOURCE", source,
	    "CERTIFICATE_ARN", certificate_arn),
	    "audit: %s by certfleetd%s%s", event_name,
	    certificate_arn ? " for " : "",
	    certificate_arn ? certificate_arn : "");
}

int
audit_record_work(PGconn *conn, const char *host_name, const char *event_name,
    const char *certificate_arn, const json_t *details, const char *source,
    char **reterr_msg)
{
	_cleanup_free_ char *params = dump(details);
	char id[37];
	struct store_audit_event e;
	int r;

	uuid_v7(id);
	e = (struct store_audit_event){
		.event_id = id,
		.event_name = event_name,
		.read_only = false,
		.caller_uid = -1,
		.caller_gid = -1,
		.caller_pid = -1,
		.caller_user = "certfleetd",
		.source = source ? source : "certfleetd",
		.request_params = params,
		.certificate_arn = certificate_arn,
		.host_name = host_name,
	};
	if ((r = store_audit_insert(conn, &e, reterr_msg)) == 0)
		log_work(event_name, certificate_arn, e.source, id);
	return r;
}
