/*
 * audit.c: builds audit events from API calls and from the daemon's own
 * work, and hands them to the store (src/store/audit.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "audit/audit.h"
#include "common/arn.h"
#include "common/json_wipe.h"
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

/* The process name from /proc; empty if the caller already left. */
static void
caller_process(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
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

int
audit_record_call(PGconn *conn, const struct api_call *call, bool in_change,
    char **reterr_msg)
{
	_cleanup_free_ char *params = NULL;
	_cleanup_free_ char *response = NULL;
	json_t *scrubbed = audit_scrub_request(call->input);
	char user[256], process[64], id[37];
	struct store_audit_event e;
	const char *arn = call_arn(call);

	params = dump(scrubbed);
	json_decref(scrubbed);
	/* Like CloudTrail: only calls that create something have response
	 * elements worth keeping. */
	if (call->error_type == NULL && call->output != NULL &&
	    json_object_get(call->output, "CertificateArn") != NULL)
		response = dump(call->output);
	caller_user(call->env->users, call->uid, user, sizeof(user));
	caller_process(call->pid, process, sizeof(process));
	uuid_v4(id);
	e = (struct store_audit_event){
		.event_id = id,
		.event_name = call->action->name,
		.read_only = call->action->read_only,
		.caller_uid = call->uid,
		.caller_gid = call->gid,
		.caller_pid = call->pid,
		.caller_user = user,
		.caller_process = process[0] ? process : NULL,
		.source = "unix",
		.user_agent = call->user_agent,
		.request_params = params,
		.response_elements = response,
		.error_code = call->error_type,
		.error_message = call->error_type ? call->error_message : NULL,
		.request_id = call->request_id,
		.certificate_arn = arn && strncmp(arn, "arn:", 4) == 0 ? arn :
		    NULL,
		.host_name = call->env->host_name,
		.outside_change = !in_change,
	};
	return store_audit_insert(conn, &e, reterr_msg);
}

int
audit_record_work(PGconn *conn, const char *host_name, const char *event_name,
    const char *certificate_arn, const json_t *details, const char *source,
    char **reterr_msg)
{
	_cleanup_free_ char *params = dump(details);
	char id[37];
	struct store_audit_event e;

	uuid_v4(id);
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
	return store_audit_insert(conn, &e, reterr_msg);
}
