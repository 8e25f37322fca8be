/*
 * deploy.c: the deployer (see deploy.h). One job per binding being
 * deployed, driven through its states on the loop thread:
 *
 *   QUEUED     waiting for a slot (at most DEPLOY_MAX_RUNNING at once)
 *   WRITING    database thread: read the binding and the current version,
 *              unseal the key, write the files (renewal/deploy_files.c)
 *   RELOADING  the reload action: a command watched through a pidfd and a
 *              timer, or ReloadOrRestartUnit over the system bus on the
 *              CPU work queue (a short blocking call, kept off the loop)
 *   RECORDING  database thread: the binding's deployment state and the
 *              "DeployCertificate" audit event, in one transaction
 *   DONE       results handed to whoever asked, and to the observer
 *
 * Why the files are written on a database thread: the sealed key is read
 * there, so unsealing and writing right away keeps the plaintext key inside
 * one function on one thread; the writes are a few kilobytes and an fsync,
 * the cost of a commit, and the CPU queue stays free for key generation.
 *
 * Requests and jobs find each other through the job list by binding id;
 * callbacks from other threads carry the job, which lives until
 * deployer_free() at the latest (after the pool and the work queue have
 * answered everything they owe).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <systemd/sd-bus.h>

#include "audit/audit.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "loop/dbpool.h"
#include "loop/workq.h"
#include "metrics/metrics.h"
#include "pki/keyseal.h"
#include "renewal/deploy.h"
#include "renewal/deploy_files.h"
#include "store/bindings.h"
#include "store/store.h"

#define DEPLOY_MAX_RUNNING 16

extern char **environ;

enum job_state {
	JOB_QUEUED,
	JOB_WRITING,
	JOB_RELOADING,
	JOB_RECORDING,
	JOB_DONE,
};

static const char *const job_state_names[] = {
	[JOB_QUEUED] = "QUEUED",
	[JOB_WRITING] = "WRITING",
	[JOB_RELOADING] = "RELOADING",
	[JOB_RECORDING] = "RECORDING",
	[JOB_DONE] = "DONE",
};

struct deploy_request {
	struct deployer *d;
	struct deploy_request *next;
	deploy_done_fn done;
	void *arg;
	char *certificate_arn;		/* deployer_deploy_certificate() */
	size_t expected, finished;
	struct deploy_result *results;	/* strings owned */
	int rc;
};

/* A request waiting for one binding's job; slot indexes its results. */
struct waiter {
	struct deploy_request *req;
	size_t slot;
	struct waiter *next;
};

struct deploy_job {
	struct deployer *d;
	struct deploy_job *next;
	int64_t binding_id;
	enum job_state state;
	bool only_if_needed;		/* skip when the files are intact */
	bool again;			/* asked for while running: once more */
	bool again_only_if_needed;	/* ... and how */
	struct waiter *waiters, *next_waiters;

	/* WRITING's findings */
	struct store_binding *b;
	int version;
	char *fingerprint;
	bool skipped;			/* already deployed and intact */
	int rc;
	char *error;

	/* RELOADING */
	pid_t pid;
	int pidfd;
	struct event *child_ev, *timeout_ev;
	int timeout_s;
	bool timed_out;
	char *unit;
};

struct deployer {
	struct daemon_ctx *ctx;
	struct deploy_job *jobs;
	struct deploy_request *requests;
	unsigned running;
	struct event *sync_timer;
	bool started, stopping, sync_busy, first_sync_done;
	bool sync_again;		/* kicked while a sync was running */
	deploy_observer_fn observer;
	void *observer_arg;
};

static void job_pump(struct deployer *d);
static void job_record(struct deploy_job *job);

static void
job_enter(struct deploy_job *job, enum job_state next)
{
	log_debug("deploy binding #%lld: %s -> %s",
	    (long long)job->binding_id, job_state_names[job->state],
	    job_state_names[next]);
	job->state = next;
}

static void
job_set_error(struct deploy_job *job, int rc, const char *msg)
{
	job->rc = rc;
	free(job->error);
	job->error = xstrdup(msg ? msg : strerror(-rc));
}

/* ---- requests ----------------------------------------------------------- */

static struct deploy_request *
request_new(struct deployer *d, size_t n, deploy_done_fn done, void *arg)
{
	struct deploy_request *req = xcalloc(1, sizeof(*req));

	req->d = d;
	req->done = done;
	req->arg = arg;
	req->expected = n;
	req->results = xcalloc(n ? n : 1, sizeof(*req->results));
	req->next = d->requests;
	d->requests = req;
	return req;
}

static void
result_clear(struct deploy_result *r)
{
	free((char *)r->binding_arn);
	free((char *)r->certificate_arn);
	free((char *)r->fingerprint_sha256);
	free((char *)r->error);
	free((char *)r->endpoint_address);
	free((char *)r->server_name);
}

static void
request_free(struct deploy_request *req)
{
	struct deploy_request **pp;

	for (pp = &req->d->requests; *pp != NULL; pp = &(*pp)->next)
		if (*pp == req) {
			*pp = req->next;
			break;
		}
	for (size_t i = 0; i < req->expected; i++)
		result_clear(&req->results[i]);
	free(req->results);
	free(req->certificate_arn);
	free(req);
}

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void
request_deliver(struct deploy_request *req, size_t slot,
    const struct deploy_job *job)
{
	struct deploy_result *r = &req->results[slot];
	const struct store_binding *b = job->b;

	r->binding_id = job->binding_id;
	r->binding_arn = dup_or_null(b ? b->arn : NULL);
	r->certificate_arn = dup_or_null(b ? b->certificate_arn : NULL);
	r->version = job->version;
	r->fingerprint_sha256 = dup_or_null(job->fingerprint);
	r->rc = job->rc;
	r->error = dup_or_null(job->rc < 0 ? job->error : NULL);
	r->endpoint_address = dup_or_null(b ? b->endpoint_address : NULL);
	r->endpoint_port = b ? b->endpoint_port : 0;
	r->server_name = dup_or_null(b ? b->server_name : NULL);
	if (job->rc < 0 && req->rc == 0)
		req->rc = job->rc;
	if (++req->finished < req->expected)
		return;
	if (req->done != NULL && !req->d->stopping)
		req->done(req->rc, req->results, req->expected, req->arg);
	request_free(req);
}

/* ---- jobs --------------------------------------------------------------- */

static struct deploy_job *
job_find(struct deployer *d, int64_t binding_id)
{
	for (struct deploy_job *j = d->jobs; j != NULL; j = j->next)
		if (j->binding_id == binding_id)
			return j;
	return NULL;
}

static void
job_reset(struct deploy_job *job)
{
	store_binding_free(job->b);
	job->b = NULL;
	free(job->fingerprint);
	job->fingerprint = NULL;
	free(job->error);
	job->error = NULL;
	free(job->unit);
	job->unit = NULL;
	job->version = 0;
	job->skipped = false;
	job->timed_out = false;
	job->rc = 0;
	job->pid = 0;
	job->pidfd = -1;
}

static void
waiters_free(struct waiter *w)
{
	while (w != NULL) {
		struct waiter *next = w->next;

		free(w);
		w = next;
	}
}

static void
job_free(struct deploy_job *job)
{
	if (job->child_ev != NULL)
		event_free(job->child_ev);
	if (job->timeout_ev != NULL)
		event_free(job->timeout_ev);
	if (job->pidfd >= 0)
		close(job->pidfd);
	job_reset(job);
	waiters_free(job->waiters);
	waiters_free(job->next_waiters);
	free(job);
}

static void
job_unlink(struct deploy_job *job)
{
	struct deploy_job **pp;

	for (pp = &job->d->jobs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == job) {
			*pp = job->next;
			return;
		}
}

/*
 * Queues a deployment of one binding. A job already queued takes the
 * waiter; one already running runs once more afterwards when someone
 * waits for the result (a sync asks for nothing and is dropped).
 */
static void
job_enqueue(struct deployer *d, int64_t binding_id, bool only_if_needed,
    struct deploy_request *req, size_t slot)
{
	struct deploy_job *job = job_find(d, binding_id);
	struct waiter *w = NULL;

	if (req != NULL) {
		w = xcalloc(1, sizeof(*w));
		w->req = req;
		w->slot = slot;
	}
	if (job != NULL && job->state != JOB_QUEUED && w == NULL)
		return;
	if (job == NULL) {
		job = xcalloc(1, sizeof(*job));
		job->d = d;
		job->binding_id = binding_id;
		job->pidfd = -1;
		job->only_if_needed = only_if_needed;
		job->next = d->jobs;
		d->jobs = job;
	} else if (job->state == JOB_QUEUED) {
		job->only_if_needed = job->only_if_needed && only_if_needed;
	}
	if (w != NULL && job->state == JOB_QUEUED) {
		w->next = job->waiters;
		job->waiters = w;
	} else if (w != NULL) {
		w->next = job->next_waiters;
		job->next_waiters = w;
		job->again_only_if_needed = only_if_needed &&
		    (!job->again || job->again_only_if_needed);
		job->again = true;
	}
}

/* Hands the outcome out and forgets the job, or runs it once more. */
static void
job_finish(struct deploy_job *job)
{
	struct deployer *d = job->d;
	struct waiter *w = job->waiters;

	job_enter(job, JOB_DONE);
	d->running--;
	job->waiters = NULL;
	if (!job->skipped && d->observer != NULL && !d->stopping &&
	    job->rc != -EREMOTE)
		d->observer(job->binding_id, job->rc, d->observer_arg);
	while (w != NULL) {
		struct waiter *next = w->next;

		request_deliver(w->req, w->slot, job);
		free(w);
		w = next;
	}
	if (job->again && !d->stopping) {
		job->again = false;
		job->waiters = job->next_waiters;
		job->next_waiters = NULL;
		job->only_if_needed = job->again_only_if_needed;
		job_reset(job);
		job_enter(job, JOB_QUEUED);
	} else if (!d->stopping) {
		job_unlink(job);
		job_free(job);
	}
	job_pump(d);
}

/* ---- WRITING (database thread) ------------------------------------------ */

static int
unseal_and_write(struct deploy_job *job,
    const struct store_deploy_material *m, struct deploy_content *c)
{
	struct daemon_ctx *ctx = job->d->ctx;
	_cleanup_free_ char *err = NULL;
	unsigned char *plain = NULL;
	size_t plain_len = 0;
	int r;

	if (deploy_targets_need_key(job->b->file_targets)) {
		r = key_unseal(ctx->master_key, job->b->certificate_arn,
		    m->sealed_key, m->sealed_key_len, &plain, &plain_len,
		    &err);
		if (r < 0) {
			job_set_error(job, r, err);
			return r;
		}
		c->key_der = plain;
		c->key_der_len = plain_len;
	}
	r = deploy_write_targets(job->b->file_targets, c, &err);
	if (plain != NULL)
		secret_free(plain, plain_len);
	c->key_der = NULL;
	if (r < 0)
		job_set_error(job, r, err);
	return r;
}

static int
job_write_work(PGconn *conn, void *arg)
{
	struct deploy_job *job = arg;
	const char *host = job->d->ctx->cfg->host_name;
	struct store_deploy_material m = { 0 };
	_cleanup_free_ char *err = NULL;
	struct deploy_content c;
	int r;

	r = store_binding_get_id(conn, job->binding_id, &job->b, &err);
	if (r == 0 && strcmp(job->b->host_name, host) != 0) {
		err = xasprintf("binding %s is deployed by host %s, not %s",
		    job->b->arn, job->b->host_name, host);
		r = -EREMOTE;
	}
	if (r == 0)
		r = store_binding_material(conn, job->binding_id, &m, &err);
	if (r < 0) {
		job_set_error(job, r, err);
		return r == -ECONNRESET ? r : 0;
	}
	job->version = m.version;
	job->fingerprint = xstrdup(m.fingerprint_sha256);
	c = (struct deploy_content){ .certificate_pem = m.certificate_pem,
	    .chain_pem = m.chain_pem };
	if (job->only_if_needed &&
	    strcmp(job->b->deploy_status, "DEPLOYED") == 0 &&
	    job->b->deployed_version == m.version &&
	    deploy_targets_intact(job->b->file_targets, &c))
		job->skipped = true;
	else
		(void)unseal_and_write(job, &m, &c);
	store_deploy_material_clear(&m);
	return 0;
}

/* ---- RELOADING ---------------------------------------------------------- */

static void
child_reap(struct deploy_job *job)
{
	int status = 0;
	pid_t r;

	do
		r = waitpid(job->pid, &status, 0);
	while (r < 0 && errno == EINTR);
	event_free(job->child_ev);
	event_free(job->timeout_ev);
	job->child_ev = job->timeout_ev = NULL;
	close(job->pidfd);
	job->pidfd = -1;
	if (job->timed_out) {
		_cleanup_free_ char *m = xasprintf("reload command timed out "
		    "after %d s and was killed", job->timeout_s);

		job_set_error(job, -ETIMEDOUT, m);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		_cleanup_free_ char *m = xasprintf("reload command exited "
		    "with status %d", WEXITSTATUS(status));

		job_set_error(job, -ECHILD, m);
	} else if (WIFSIGNALED(status)) {
		_cleanup_free_ char *m = xasprintf("reload command killed by "
		    "signal %d", WTERMSIG(status));

		job_set_error(job, -ECHILD, m);
	}
}

static void
child_exited(evutil_socket_t fd, short what, void *arg)
{
	struct deploy_job *job = arg;

	child_reap(job);
	job_record(job);
}

static void
child_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct deploy_job *job = arg;

	/* The whole process group: a script's children go too. */
	job->timed_out = true;
	kill(-job->pid, SIGKILL);
}

static int
spawn_command(struct deploy_job *job, const json_t *cmd)
{
	size_t n = json_array_size(cmd);
	_cleanup_free_ char **argv = xcalloc(n + 1, sizeof(*argv));
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t all, none;
	int r;

	for (size_t i = 0; i < n; i++)
		argv[i] = (char *)json_string_value(json_array_get(cmd, i));
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setsigmask(&attr, &none);
	r = posix_spawn(&job->pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return -r;
}

static int
reload_command(struct deploy_job *job, const json_t *cmd)
{
	struct event_base *base = job->d->ctx->base;
	struct timeval tv = { job->timeout_s, 0 };
	int r;

	if (!json_is_array(cmd) || json_array_size(cmd) == 0)
		return -EINVAL;
	if ((r = spawn_command(job, cmd)) < 0) {
		_cleanup_free_ char *m = xasprintf("cannot run %s: %s",
		    json_string_value(json_array_get(cmd, 0)), strerror(-r));

		job_set_error(job, r, m);
		return r;
	}
	job->pidfd = pidfd_open(job->pid, 0);
	if (job->pidfd < 0) {
		r = -errno;
		kill(-job->pid, SIGKILL);
		waitpid(job->pid, NULL, 0);
		job_set_error(job, r, "cannot watch the reload command");
		return r;
	}
	job->child_ev = event_new(base, job->pidfd, EV_READ, child_exited,
	    job);
	job->timeout_ev = evtimer_new(base, child_timeout, job);
	event_add(job->child_ev, NULL);
	evtimer_add(job->timeout_ev, &tv);
	return 0;
}

/* CPU work queue: a short blocking call to systemd's manager. */
static int
systemd_reload_work(void *arg)
{
	struct deploy_job *job = arg;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	sd_bus *bus = NULL;
	int r;

	r = sd_bus_open_system(&bus);
	if (r >= 0) {
		(void)sd_bus_set_method_call_timeout(bus,
		    (uint64_t)job->timeout_s * 1000000);
		r = sd_bus_call_method(bus, "org.freedesktop.systemd1",
		    "/org/freedesktop/systemd1",
		    "org.freedesktop.systemd1.Manager", "ReloadOrRestartUnit",
		    &e, &reply, "ss", job->unit, "replace");
	}
	if (r < 0) {
		_cleanup_free_ char *m = xasprintf("cannot reload %s: %s",
		    job->unit, e.message ? e.message : strerror(-r));

		job_set_error(job, r, m);
	}
	sd_bus_error_free(&e);
	sd_bus_message_unref(reply);
	sd_bus_flush_close_unref(bus);
	return 0;
}

static void
systemd_reload_done(int rc, void *arg)
{
	struct deploy_job *job = arg;

	if (job->d->stopping)
		return;
	job_record(job);
}

/* Starts the reload action; false when there is none to wait for. */
static bool
job_reload(struct deploy_job *job)
{
	json_t *reload = job->b->reload ? json_loads(job->b->reload, 0, NULL) :
	    NULL;
	const char *unit = json_string_value(json_object_get(reload,
	    "systemd_unit"));
	json_int_t t = json_integer_value(json_object_get(reload,
	    "timeout_seconds"));
	bool waiting = false;

	job->timeout_s = t > 0 ? (int)t : 30;
	if (unit != NULL) {
		job->unit = xstrdup(unit);
		workq_submit(job->d->ctx->workq, systemd_reload_work,
		    systemd_reload_done, job);
		waiting = true;
	} else if (json_object_get(reload, "command") != NULL) {
		waiting = reload_command(job, json_object_get(reload,
		    "command")) == 0;
	}
	json_decref(reload);
	return waiting;
}

/* ---- RECORDING (database thread) ---------------------------------------- */

static int
job_record_work(PGconn *conn, void *arg)
{
	struct deploy_job *job = arg;
	struct daemon_ctx *ctx = job->d->ctx;
	_cleanup_free_ char *err = NULL;
	json_t *details;
	int r;

	details = json_pack("{s:s,s:s,s:i,s:s?,s:s?}", "bindingArn",
	    job->b->arn, "hostName", job->b->host_name, "version",
	    job->version, "fingerprintSha256", job->fingerprint, "error",
	    job->rc < 0 ? job->error : NULL);
	r = store_begin(conn, &err);
	if (r == 0)
		r = store_binding_deployed(conn, job->binding_id, job->version,
		    job->rc < 0 ? job->error : NULL, &err);
	if (r == 0)
		r = audit_record_work(conn, ctx->cfg->host_name,
		    "DeployCertificate", job->b->certificate_arn, details,
		    "certfleetd", &err);
	if (r == 0)
		r = store_commit(conn, &err);
	else
		store_rollback(conn);
	json_decref(details);
	if (r < 0 && r != -ENOENT)
		log_warning("deploy %s: cannot record the outcome: %s, "
		    "ignoring", job->b->arn, err);
	return r == -ECONNRESET ? r : 0;
}

static void
job_recorded(int rc, void *arg)
{
	struct deploy_job *job = arg;

	if (job->d->stopping)
		return;
	metrics_deployment(job->d->ctx->metrics, job->rc == 0);
	if (job->rc < 0)
		log_warning("deploy %s (certificate %s version %d) failed: %s",
		    job->b->arn, job->b->certificate_arn, job->version,
		    job->error);
	else
		log_info("deployed %s version %d for binding %s",
		    job->b->certificate_arn, job->version, job->b->arn);
	job_finish(job);
}

static void
job_record(struct deploy_job *job)
{
	job_enter(job, JOB_RECORDING);
	dbpool_submit(job->d->ctx->pool, job_record_work, job_recorded, job);
}

/* ---- WRITING's outcome on the loop -------------------------------------- */

static void
job_written(int rc, void *arg)
{
	struct deploy_job *job = arg;

	if (job->d->stopping)
		return;
	if (rc == -ECONNRESET && job->rc == 0)
		job_set_error(job, rc, "the database is unavailable");
	if (job->b == NULL || job->rc == -ENOENT || job->rc == -EREMOTE ||
	    job->rc == -ECONNRESET || job->skipped) {
		job_finish(job);
		return;
	}
	if (job->rc < 0) {
		job_record(job);
		return;
	}
	job_enter(job, JOB_RELOADING);
	if (!job_reload(job))
		job_record(job);
}

static void
job_pump(struct deployer *d)
{
	for (struct deploy_job *j = d->jobs; j != NULL && !d->stopping &&
	    d->running < DEPLOY_MAX_RUNNING; j = j->next) {
		if (j->state != JOB_QUEUED)
			continue;
		d->running++;
		job_enter(j, JOB_WRITING);
		dbpool_submit(d->ctx->pool, job_write_work, job_written, j);
	}
}

/* ---- listing this host's bindings --------------------------------------- */

struct listing {
	struct deployer *d;
	char *certificate_arn;		/* NULL: every certificate */
	bool stale_only;
	struct store_binding *v;
	size_t n;
	deploy_done_fn done;		/* deployer_deploy_certificate() */
	void *arg;
	bool sync;
};

static int
listing_work(PGconn *conn, void *arg)
{
	struct listing *l = arg;
	_cleanup_free_ char *err = NULL;
	int r;

	r = store_bindings_of_host(conn, l->d->ctx->cfg->host_name,
	    l->certificate_arn, l->stale_only, &l->v, &l->n, &err);
	if (r < 0)
		log_debug("deploy: cannot list bindings: %s", err);
	return r == -ECONNRESET ? r : 0;
}

static void
listing_free(struct listing *l)
{
	store_bindings_free(l->v, l->n);
	free(l->certificate_arn);
	free(l);
}

static void
listing_done(int rc, void *arg)
{
	struct listing *l = arg;
	struct deployer *d = l->d;
	struct deploy_request *req = NULL;

	if (l->sync)
		d->sync_busy = false;
	if (d->stopping) {
		listing_free(l);
		return;
	}
	if (l->sync && rc == 0)
		d->first_sync_done = true;
	if (!l->sync)
		req = request_new(d, l->n, l->done, l->arg);
	for (size_t i = 0; i < l->n; i++)
		job_enqueue(d, l->v[i].id, l->sync ? !l->stale_only : true,
		    req, i);
	if (req != NULL && l->n == 0) {
		if (req->done != NULL)
			req->done(rc == 0 ? 0 : rc, NULL, 0, req->arg);
		request_free(req);
	}
	listing_free(l);
	job_pump(d);
	if (d->sync_again) {
		d->sync_again = false;
		deployer_sync(d);
	}
}

static void
sync_tick(evutil_socket_t fd, short what, void *arg)
{
	deployer_sync(arg);
}

/* ---- interface ---------------------------------------------------------- */

struct deployer *
deployer_new(struct daemon_ctx *ctx)
{
	struct deployer *d = xcalloc(1, sizeof(*d));

	d->ctx = ctx;
	return d;
}

void
deployer_set_observer(struct deployer *d, deploy_observer_fn fn, void *arg)
{
	d->observer = fn;
	d->observer_arg = arg;
}

void
deployer_start(struct deployer *d)
{
	struct timeval tv = { DEPLOY_SYNC_INTERVAL_MS / 1000,
	    DEPLOY_SYNC_INTERVAL_MS % 1000 * 1000 };

	if (d == NULL || d->started)
		return;
	d->started = true;
	d->sync_timer = event_new(d->ctx->base, -1, EV_PERSIST, sync_tick, d);
	event_add(d->sync_timer, &tv);
	deployer_sync(d);
}

void
deployer_sync(struct deployer *d)
{
	struct listing *l;

	if (d == NULL || !d->started || d->stopping)
		return;
	if (d->sync_busy) {
		d->sync_again = true;
		return;
	}
	d->sync_busy = true;
	l = xcalloc(1, sizeof(*l));
	l->d = d;
	l->sync = true;
	/* The first pass looks at every binding: files may have gone. */
	l->stale_only = d->first_sync_done;
	dbpool_submit(d->ctx->pool, listing_work, listing_done, l);
}

void
deploy_binding(struct deployer *d, int64_t binding_id, deploy_done_fn done,
    void *arg)
{
	struct deploy_request *req = request_new(d, 1, done, arg);

	job_enqueue(d, binding_id, false, req, 0);
	job_pump(d);
}

void
deployer_deploy_certificate(struct deployer *d, const char *certificate_arn,
    deploy_done_fn done, void *arg)
{
	struct listing *l = xcalloc(1, sizeof(*l));

	l->d = d;
	l->certificate_arn = xstrdup(certificate_arn);
	l->done = done;
	l->arg = arg;
	dbpool_submit(d->ctx->pool, listing_work, listing_done, l);
}

void
deployer_stop(struct deployer *d)
{
	if (d == NULL)
		return;
	d->stopping = true;
	if (d->sync_timer != NULL) {
		event_free(d->sync_timer);
		d->sync_timer = NULL;
	}
	for (struct deploy_job *j = d->jobs; j != NULL; j = j->next)
		if (j->state == JOB_RELOADING && j->pidfd >= 0) {
			kill(-j->pid, SIGKILL);
			child_reap(j);
		}
}

void
deployer_free(struct deployer *d)
{
	if (d == NULL)
		return;
	while (d->jobs != NULL) {
		struct deploy_job *j = d->jobs;

		d->jobs = j->next;
		job_free(j);
	}
	while (d->requests != NULL)
		request_free(d->requests);
	if (d->sync_timer != NULL)
		event_free(d->sync_timer);
	free(d);
}
