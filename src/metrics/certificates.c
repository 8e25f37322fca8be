/*
 * certificates.c: every certificate's figures, from the database.
 *
 * A timer queues one refresh job at a time. On a database thread the job
 * streams all certificates (store_metrics_certificates) and writes the
 * sample lines of each family into its own buffer, so the loop thread
 * never formats 100,000 rows: it swaps the finished snapshot in, and a
 * scrape adds the buffers to its reply by reference. A snapshot is freed
 * when the last reply that refers to it has been sent. When a refresh
 * fails (database down) the previous snapshot stays: the figures must not
 * vanish exactly when things break.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "loop/dbpool.h"
#include "metrics/internal.h"
#include "metrics/registry.h"
#include "store/store.h"

enum cert_family {
	CF_INVENTORY,
	CF_NOT_AFTER,
	CF_NOT_BEFORE,
	CF_RENEWAL_STATUS,
	CF_RENEWAL_DUE,
	CF_IN_USE,
	CF__COUNT
};

#define CERT_LABELS { "certificate_arn", "domain_name", "type", "status", NULL }

static const struct metric_desc cert_families[CF__COUNT] = {
	[CF_INVENTORY] = { "certfleet_certificates", METRIC_GAUGE, NULL,
	    "Certificates stored, by status and type.",
	    { "status", "type", NULL }, NULL, 0 },
	[CF_NOT_AFTER] = { "certfleet_certificate_not_after_timestamp_seconds",
	    METRIC_GAUGE, "seconds",
	    "End of the current version's validity (NotAfter).",
	    CERT_LABELS, NULL, 0 },
	[CF_NOT_BEFORE] = {
	    "certfleet_certificate_not_before_timestamp_seconds", METRIC_GAUGE,
	    "seconds", "Start of the current version's validity (NotBefore).",
	    CERT_LABELS, NULL, 0 },
	[CF_RENEWAL_STATUS] = { "certfleet_certificate_renewal_status",
	    METRIC_GAUGE, NULL,
	    "Managed renewal status: 1 for the current one, 0 for the others.",
	    { "certificate_arn", "renewal_status", NULL }, NULL, 0 },
	[CF_RENEWAL_DUE] = {
	    "certfleet_certificate_renewal_due_timestamp_seconds",
	    METRIC_GAUGE, "seconds", "When the next renewal is planned.",
	    { "certificate_arn", NULL }, NULL, 0 },
	[CF_IN_USE] = { "certfleet_certificate_in_use", METRIC_GAUGE, NULL,
	    "Whether bindings deploy the certificate (1) or not (0).",
	    { "certificate_arn", NULL }, NULL, 0 },
};

/* The enums of the schema (sql/001_initial.sql), for the inventory. */
static const char *const statuses[] = { "PENDING_VALIDATION", "ISSUED",
	"INACTIVE", "EXPIRED", "VALIDATION_TIMED_OUT", "REVOKED", "FAILED" };
static const char *const types[] = { "IMPORTED", "AMAZON_ISSUED", "PRIVATE" };
static const char *const renewal_statuses[] = { "PENDING_AUTO_RENEWAL",
	"PENDING_VALIDATION", "SUCCESS", "FAILED" };

struct cert_snapshot {
	atomic_int refs;
	int64_t built_at;		/* epoch seconds */
	struct expo_buf samples[CF__COUNT];
};

struct refresh_job {
	struct metrics *m;
	struct cert_snapshot *snap;
	double started;			/* metrics_monotonic() when queued */
	double took;			/* seconds on the database thread */
	size_t inventory[ELEMENTSOF(statuses)][ELEMENTSOF(types)];
	char *err;
};

static void
snapshot_free(struct cert_snapshot *s)
{
	for (int i = 0; i < CF__COUNT; i++)
		expo_buf_clear(&s->samples[i]);
	free(s);
}

void
cert_snapshot_unref(struct cert_snapshot *s)
{
	if (s != NULL && atomic_fetch_sub(&s->refs, 1) == 1)
		snapshot_free(s);
}

int64_t
cert_snapshot_built_at(const struct cert_snapshot *s)
{
	return s->built_at;
}

/* ---- on the database thread ------------------------------------------- */

static void
sample(struct expo_buf *b, enum cert_family f, const char *const *values,
    int64_t v)
{
	expo_sample_start(b, cert_families[f].name, NULL,
	    cert_families[f].labels, values, NULL, NULL);
	expo_int(b, v);
	expo_buf_add(b, "\n", 1);
}

static int
find(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return (int)i;
	return -1;
}

static void
add_cert(const struct store_metrics_cert *c, void *arg)
{
	struct refresh_job *job = arg;
	struct expo_buf *s = job->snap->samples;
	const char *cert[] = { c->arn, c->domain_name, c->type, c->status };
	const char *arn[] = { c->arn, NULL };
	int st = find(statuses, ELEMENTSOF(statuses), c->status);
	int ty = find(types, ELEMENTSOF(types), c->type);

	if (st >= 0 && ty >= 0)
		job->inventory[st][ty]++;
	if (c->has_not_after)
		sample(&s[CF_NOT_AFTER], CF_NOT_AFTER, cert, c->not_after);
	if (c->has_not_before)
		sample(&s[CF_NOT_BEFORE], CF_NOT_BEFORE, cert, c->not_before);
	for (size_t i = 0; c->renewal_status != NULL &&
	    i < ELEMENTSOF(renewal_statuses); i++) {
		arn[1] = renewal_statuses[i];
		sample(&s[CF_RENEWAL_STATUS], CF_RENEWAL_STATUS, arn,
		    strcmp(c->renewal_status, renewal_statuses[i]) == 0);
	}
	if (c->has_next_due)
		sample(&s[CF_RENEWAL_DUE], CF_RENEWAL_DUE, arn, c->next_due);
	sample(&s[CF_IN_USE], CF_IN_USE, arn, c->in_use);
}

static int
refresh_work(PGconn *conn, void *arg)
{
	struct refresh_job *job = arg;
	double t0 = metrics_monotonic();
	int r;

	job->snap = xcalloc(1, sizeof(*job->snap));
	atomic_init(&job->snap->refs, 1);
	job->snap->built_at = (int64_t)time(NULL);
	r = store_metrics_certificates(conn, add_cert, job, &job->err);
	if (r < 0)
		return r;
	/* Every combination, zeros included, so that none vanishes. */
	for (size_t i = 0; i < ELEMENTSOF(statuses); i++)
		for (size_t t = 0; t < ELEMENTSOF(types); t++) {
			const char *v[] = { statuses[i], types[t] };

			sample(&job->snap->samples[CF_INVENTORY], CF_INVENTORY,
			    v, (int64_t)job->inventory[i][t]);
		}
	job->took = metrics_monotonic() - t0;
	return 0;
}

/* ---- on the loop thread ----------------------------------------------- */

static void
refresh_done(int rc, void *arg)
{
	struct refresh_job *job = arg;
	struct metrics *m = job->m;

	m->refreshing = false;
	if (rc == 0) {
		cert_snapshot_unref(m->snapshot);
		m->snapshot = TAKE_PTR(job->snap);
		metric_set(m->reg, M_CERT_CACHE_REFRESH, NULL, job->took);
		log_debug("metrics: certificate figures read in %.3f s "
		    "(%.3f s after queueing)", job->took,
		    metrics_monotonic() - job->started);
	} else {
		log_debug("metrics: certificate figures not refreshed: %s; "
		    "serving the previous ones",
		    job->err ? job->err : "database unavailable");
	}
	if (job->snap != NULL)
		snapshot_free(job->snap);
	free(job->err);
	free(job);
}

static void
refresh_tick(evutil_socket_t fd, short what, void *arg)
{
	struct metrics *m = arg;
	struct refresh_job *job;

	if (m->refreshing)
		return;
	job = xcalloc(1, sizeof(*job));
	job->m = m;
	job->started = metrics_monotonic();
	m->refreshing = true;
	dbpool_submit(m->s.pool, refresh_work, refresh_done, job);
}

static void
refresh_schedule(struct metrics *m)
{
	struct timeval tv = { (time_t)(m->cache_ms / 1000),
		(suseconds_t)(m->cache_ms % 1000 * 1000) };

	event_add(m->refresh_timer, &tv);
}

void
cert_refresh_start(struct metrics *m)
{
	m->refresh_timer = event_new(m->s.base, -1, EV_PERSIST, refresh_tick,
	    m);
	refresh_schedule(m);
	refresh_tick(-1, 0, m);
}

void
cert_refresh_stop(struct metrics *m)
{
	if (m->refresh_timer != NULL)
		event_free(m->refresh_timer);
	m->refresh_timer = NULL;
}

void
metrics_set_certificate_cache(struct metrics *m, int64_t ms)
{
	if (m == NULL || m->cache_ms == ms)
		return;
	m->cache_ms = ms;
	if (m->refresh_timer != NULL)
		refresh_schedule(m);
}

static void
release_ref(const void *data, size_t len, void *arg)
{
	cert_snapshot_unref(arg);
}

void
cert_snapshot_append(struct cert_snapshot *s, enum expo_format fmt,
    struct evbuffer *out)
{
	struct expo_buf head = { 0 };

	for (int i = 0; i < CF__COUNT; i++) {
		if (s->samples[i].len == 0)
			continue;
		head.len = 0;
		expo_header(&head, &cert_families[i], fmt);
		evbuffer_add(out, head.data, head.len);
		atomic_fetch_add(&s->refs, 1);
		if (evbuffer_add_reference(out, s->samples[i].data,
		    s->samples[i].len, release_ref, s) < 0)
			cert_snapshot_unref(s);
	}
	expo_buf_clear(&head);
}
