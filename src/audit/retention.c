/*
 * retention.c: the audit trail's clean-up. A timer queues one job at a time;
 * the job deletes old events a batch at a time until none are left, so no
 * statement holds locks for long even after a long outage.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include <event2/event.h>

#include "audit/retention.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "loop/dbpool.h"
#include "store/store.h"

#define RETENTION_PERIOD_S 3600
#define RETENTION_BATCH 1000
#define RETENTION_MAX_BATCHES 100	/* per job; the next hour goes on */

struct audit_retention {
	struct dbpool *pool;
	struct event *timer;
	int64_t retention_ms;
	bool running;
};

struct retention_job {
	struct audit_retention *r;
	int64_t before;
	int deleted;
	char *err;
};

static int
retention_work(PGconn *conn, void *arg)
{
	struct retention_job *job = arg;
	int n, rc;

	for (int i = 0; i < RETENTION_MAX_BATCHES; i++) {
		rc = store_audit_expire(conn, job->before, RETENTION_BATCH, &n,
		    &job->err);
		if (rc < 0)
			return rc;
		job->deleted += n;
		if (n < RETENTION_BATCH)
			break;
	}
	return 0;
}

static void
retention_done(int rc, void *arg)
{
	struct retention_job *job = arg;

	job->r->running = false;
	if (rc < 0)
		log_warning("audit retention: %s; trying again in an hour",
		    job->err ? job->err : "database unavailable");
	else if (job->deleted > 0)
		log_info("audit retention: deleted %d event%s older than the "
		    "retention period", job->deleted,
		    job->deleted == 1 ? "" : "s");
	free(job->err);
	free(job);
}

static void
retention_tick(evutil_socket_t fd, short what, void *arg)
{
	struct audit_retention *r = arg;
	struct retention_job *job;

	if (r->running)
		return;
	job = xcalloc(1, sizeof(*job));
	job->r = r;
	job->before = (int64_t)time(NULL) - r->retention_ms / 1000;
	r->running = true;
	dbpool_submit(r->pool, retention_work, retention_done, job);
}

struct audit_retention *
audit_retention_new(struct event_base *base, struct dbpool *pool,
    int64_t retention_ms)
{
	struct audit_retention *r = xcalloc(1, sizeof(*r));
	struct timeval period = { RETENTION_PERIOD_S, 0 };

	r->pool = pool;
	r->retention_ms = retention_ms;
	r->timer = event_new(base, -1, EV_PERSIST, retention_tick, r);
	event_add(r->timer, &period);
	event_active(r->timer, EV_TIMEOUT, 0);	/* once at start, too */
	return r;
}

void
audit_retention_set(struct audit_retention *r, int64_t retention_ms)
{
	r->retention_ms = retention_ms;
}

void
audit_retention_free(struct audit_retention *r)
{
	if (r == NULL)
		return;
	event_free(r->timer);
	free(r);
}
