/*
 * reaper.c: the validation timeout (see reaper.h). The reaper is IDLE or
 * SCANNING; a scan takes a batch of overdue requests at a time (SKIP
 * LOCKED, so daemons sharing the database do not collide) and scans again
 * at once while batches come back full.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "loop/dbpool.h"
#include "store/store.h"
#include "validation/reaper.h"

#define BATCH 200
#define INTERVAL_MAX_MS 30000
#define INTERVAL_MIN_MS 1000

/* A NULL-terminated list of strings; accepts NULL. */
static void
strings_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

enum reaper_state { REAPER_IDLE, REAPER_SCANNING, REAPER_STOPPED };

static const char *const reaper_state_names[] = {
	"idle", "scanning", "stopped",
};

struct reaper {
	struct dbpool *pool;
	struct event *timer;
	enum reaper_state state;
	int64_t timeout_ms;
};

struct reap_job {
	struct reaper *r;
	int64_t timeout_ms;
	char **arns;
	char *err;
};

static void
reaper_enter(struct reaper *r, enum reaper_state next)
{
	log_debug("validation timeout reaper: %s -> %s",
	    reaper_state_names[r->state], reaper_state_names[next]);
	r->state = next;
}

static void
arm(struct reaper *r)
{
	int64_t ms = r->timeout_ms / 4;
	struct timeval tv;

	if (ms > INTERVAL_MAX_MS)
		ms = INTERVAL_MAX_MS;
	if (ms < INTERVAL_MIN_MS)
		ms = INTERVAL_MIN_MS;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(r->timer, &tv);
}

static int
reap_work(PGconn *conn, void *arg)
{
	struct reap_job *job = arg;

	return store_requests_time_out(conn, job->timeout_ms, BATCH,
	    &job->arns, &job->err);
}

static void scan(evutil_socket_t fd, short what, void *arg);

static void
reap_done(int rc, void *arg)
{
	struct reap_job *job = arg;
	struct reaper *r = job->r;
	size_t n = 0;

	if (rc < 0 && rc != -ECONNRESET)
		log_warning("validation timeout: %s",
		    job->err ? job->err : strerror(-rc));
	for (; job->arns && job->arns[n]; n++)
		log_notice("certificate %s: VALIDATION_TIMED_OUT (not approved "
		    "within [validation] timeout)", job->arns[n]);
	strings_free(job->arns);
	free(job->err);
	free(job);
	if (r->state == REAPER_STOPPED)
		return;
	reaper_enter(r, REAPER_IDLE);
	if (n == BATCH)
		scan(-1, 0, r);
	else
		arm(r);
}

static void
scan(evutil_socket_t fd, short what, void *arg)
{
	struct reaper *r = arg;
	struct reap_job *job;

	if (r->state != REAPER_IDLE)
		return;
	job = xcalloc(1, sizeof(*job));
	job->r = r;
	job->timeout_ms = r->timeout_ms;
	reaper_enter(r, REAPER_SCANNING);
	dbpool_submit(r->pool, reap_work, reap_done, job);
}

struct reaper *
reaper_new(struct event_base *base, struct dbpool *pool, int64_t timeout_ms)
{
	struct reaper *r = xcalloc(1, sizeof(*r));

	r->pool = pool;
	r->timeout_ms = timeout_ms;
	r->timer = evtimer_new(base, scan, r);
	scan(-1, 0, r);
	return r;
}

void
reaper_set_timeout(struct reaper *r, int64_t timeout_ms)
{
	if (r != NULL)
		r->timeout_ms = timeout_ms;
}

void
reaper_stop(struct reaper *r)
{
	if (r == NULL)
		return;
	reaper_enter(r, REAPER_STOPPED);
	evtimer_del(r->timer);
}

void
reaper_free(struct reaper *r)
{
	if (r == NULL)
		return;
	event_free(r->timer);
	free(r);
}
