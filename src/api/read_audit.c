/*
 * read_audit.c: group commit for the audit events of calls that change
 * nothing: reads, failures, refusals.
 *
 * An INSERT of its own per read would double a DescribeCertificate's round
 * trips to PostgreSQL. So such calls queue here, on the loop thread; one
 * database job writes all that are queued in one statement, then calls
 * each entry's done callback. While that write is in flight, new calls
 * queue for the next. A lone call waits one round trip, and under load the
 * groups grow by themselves: no timer, no tuning.
 *
 * The router answers a failure in its done callback, once its event is
 * stored; it answers a successful read before submitting it here (see
 * router.c), so the read costs no round trip of its own. A barrier entry
 * (read_audit_after) lets LookupEvents run only once every event queued
 * before it is stored, and a stopping daemon waits for read_audit_pending()
 * to drop to 0.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/queue.h>

#include "api/api.h"
#include "api/read_audit.h"
#include "audit/audit.h"
#include "common/cleanup.h"
#include "common/xmalloc.h"
#include "loop/dbpool.h"

/* One statement's worth. An event's parameters are bounded (audit.c), so
 * a group's text is too. */
#define GROUP_MAX 512

struct waiting_call {
	STAILQ_ENTRY(waiting_call) entry;
	struct api_call *call;		/* NULL: a barrier (read_audit_after) */
	read_audit_done_fn done;
	void *arg;
	int rc;				/* set by the group's job */
	char *err;
};
STAILQ_HEAD(waiting_list, waiting_call);

/* The group being written; owned by the job until its done callback. */
struct group {
	struct read_audit *ra;
	struct waiting_list calls;
	size_t n;		/* entries, barriers included */
	size_t n_events;
};

struct read_audit {
	struct dbpool *pool;
	struct waiting_list queue;
	size_t queued;
	size_t writing;		/* entries in the group being written */
	bool stopping;
};

struct read_audit *
read_audit_new(struct dbpool *pool)
{
	struct read_audit *ra = xcalloc(1, sizeof(*ra));

	ra->pool = pool;
	STAILQ_INIT(&ra->queue);
	return ra;
}

/* Calls the entry's callback, once, and frees the entry. */
static void
entry_finish(struct waiting_call *w, int rc, const char *err)
{
	w->done(rc, err ? err : "", w->arg);
	free(w->err);
	free(w);
}

void
read_audit_stop(struct read_audit *ra)
{
	struct waiting_call *w;

	if (ra == NULL || ra->stopping)
		return;
	ra->stopping = true;
	while ((w = STAILQ_FIRST(&ra->queue)) != NULL) {
		STAILQ_REMOVE_HEAD(&ra->queue, entry);
		ra->queued--;
		entry_finish(w, -ECONNRESET, "certfleetd is stopping");
	}
}

void
read_audit_free(struct read_audit *ra)
{
	if (ra == NULL)
		return;
	/* read_audit_stop() answered the queue; a group in flight was
	 * answered by the pool's last drain. */
	free(ra);
}

/*
 * Database thread: the group's events in one statement. Should that fail
 * for a reason other than a lost connection, each event is written on its
 * own, so that one bad event fails only its own call.
 */
static int
write_group(PGconn *conn, void *arg)
{
	struct group *g = arg;
	const struct api_call **calls;
	struct waiting_call *w;
	char *err = NULL;
	size_t i = 0;
	int r;

	calls = xcalloc(g->n_events ? g->n_events : 1, sizeof(*calls));
	STAILQ_FOREACH(w, &g->calls, entry)
		if (w->call != NULL)
			calls[i++] = w->call;
	r = g->n_events ? audit_record_calls(conn, calls, g->n_events, &err) :
	    0;
	free(calls);
	if (r == -ECONNRESET) {
		free(err);
		return r;
	}
	if (r == 0 || g->n_events == 1) {
		STAILQ_FOREACH(w, &g->calls, entry) {
			w->rc = w->call ? r : 0;
			if (r < 0 && w->call)
				w->err = xstrdup(err ? err : "");
		}
		free(err);
		return 0;
	}
	free(err);
	STAILQ_FOREACH(w, &g->calls, entry) {
		w->rc = w->call ? audit_record_call(conn, w->call, false,
		    &w->err) : 0;
		if (w->rc == -ECONNRESET)
			return w->rc;	/* the rest stay unwritten */
	}
	return 0;
}

static void start_group(struct read_audit *ra);

static void
group_written(int rc, void *arg)
{
	struct group *g = arg;
	struct read_audit *ra = g->ra;
	struct waiting_call *w;

	ra->writing = 0;
	while ((w = STAILQ_FIRST(&g->calls)) != NULL) {
		STAILQ_REMOVE_HEAD(&g->calls, entry);
		entry_finish(w, w->rc, w->err ? w->err :
		    w->rc == -ECONNRESET ? "the database is unavailable" : "");
	}
	free(g);
	start_group(ra);
}

static void
start_group(struct read_audit *ra)
{
	struct group *g;
	struct waiting_call *w;

	if (ra->writing || ra->stopping || STAILQ_EMPTY(&ra->queue))
		return;
	g = xcalloc(1, sizeof(*g));
	g->ra = ra;
	STAILQ_INIT(&g->calls);
	while (g->n < GROUP_MAX && (w = STAILQ_FIRST(&ra->queue)) != NULL) {
		STAILQ_REMOVE_HEAD(&ra->queue, entry);
		STAILQ_INSERT_TAIL(&g->calls, w, entry);
		w->rc = -ECONNRESET;	/* until the job says otherwise */
		g->n++;
		g->n_events += w->call != NULL;
	}
	ra->queued -= g->n;
	ra->writing = g->n;
	dbpool_submit(ra->pool, write_group, group_written, g);
}

void
read_audit_submit(struct read_audit *ra, struct api_call *call,
    read_audit_done_fn done, void *arg)
{
	struct waiting_call *w = xcalloc(1, sizeof(*w));

	w->call = call;
	w->done = done;
	w->arg = arg;
	if (ra->stopping) {
		entry_finish(w, -ECONNRESET, "certfleetd is stopping");
		return;
	}
	STAILQ_INSERT_TAIL(&ra->queue, w, entry);
	ra->queued++;
	start_group(ra);
}

void
read_audit_after(struct read_audit *ra, read_audit_done_fn done, void *arg)
{
	if (read_audit_pending(ra) == 0 && !ra->stopping) {
		done(0, "", arg);
		return;
	}
	read_audit_submit(ra, NULL, done, arg);
}

unsigned
read_audit_pending(const struct read_audit *ra)
{
	return (unsigned)(ra->queued + ra->writing);
}
