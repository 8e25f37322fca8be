/*
 * metrics.c: the registry's table, the update calls the rest of the daemon
 * makes, and the assembly of one exposition: the registry's families
 * (refreshed figures first: clock, process, database), then the certificate
 * snapshot, then "# EOF" for OpenMetrics.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "common/xmalloc.h"
#include "loop/dbpool.h"
#include "metrics/internal.h"
#include "metrics/registry.h"

/* Control calls take well under a millisecond to seconds (a 503 waits
 * for nothing; an import of a 4096-bit key takes longest). */
static const double api_buckets[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	2.5, 5, 10,
};

/* Bucket sets by name, for the table. */
#define BUCKETS_api api_buckets
#define N_BUCKETS_api ELEMENTSOF(api_buckets)
#define BUCKETS_none NULL
#define N_BUCKETS_none 0

#define LABELS(...) { __VA_ARGS__, NULL }
#define NO_LABELS { NULL }
#define METRIC_DESC(id, type_, name_, unit_, labels_, buckets_, help_) \
	[M_##id] = { name_, METRIC_##type_, unit_, help_, labels_,	\
	    BUCKETS_##buckets_, N_BUCKETS_##buckets_ },

static const struct metric_desc metric_table[] = {
	METRIC_LIST(METRIC_DESC)
};

double
metrics_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
wall_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct metrics *
metrics_new(const struct metrics_settings *s)
{
	struct metrics *m = xcalloc(1, sizeof(*m));
	const char *version[] = { s->version };

	m->s = *s;
	m->listen = xstrdup(s->listen ? s->listen : "");
	m->version = xstrdup(s->version ? s->version : "");
	m->s.listen = m->listen;
	m->s.version = m->version;
	m->cache_ms = s->certificate_cache_ms;
	m->reg = metric_registry_new(metric_table, ELEMENTSOF(metric_table));
	m->start_time = process_start_time();
	version[0] = m->version;
	metric_set(m->reg, M_BUILD_INFO, version, 1);
	metric_set(m->reg, M_DB_UP, NULL, 0);
	metric_add(m->reg, M_DB_RECONNECTS, NULL, 0);
	return m;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	metrics_http_stop(m);
	cert_refresh_stop(m);
	cert_snapshot_unref(m->snapshot);
	metric_registry_free(m->reg);
	free(m->ping_why);
	free(m->listen);
	free(m->version);
	free(m);
}

int
metrics_listen(struct metrics *m, char **reterr_msg)
{
	if (m->listen[0] == '\0')
		return 0;
	return metrics_http_start(m, reterr_msg);
}

void
metrics_start(struct metrics *m)
{
	if (m->started)
		return;
	m->started = true;
	cert_refresh_start(m);
}

void
metrics_api_request(struct metrics *m, const char *action,
    const char *exception, double seconds)
{
	const char *req[] = { action ? action : "", exception ? exception : "" };
	const char *dur[] = { action ? action : "" };

	if (m == NULL)
		return;
	metric_add(m->reg, M_API_REQUESTS, req, 1);
	metric_observe(m->reg, M_API_DURATION, dur, seconds < 0 ? 0 : seconds);
}

void
metrics_db_state(struct metrics *m, bool up)
{
	if (m == NULL)
		return;
	if (!up) {
		if (atomic_load(&m->db_was_up))
			atomic_store(&m->db_down, true);
		return;
	}
	atomic_store(&m->db_was_up, true);
	if (atomic_exchange(&m->db_down, false))
		metric_add(m->reg, M_DB_RECONNECTS, NULL, 1);
}

void
metrics_render(struct metrics *m, enum expo_format fmt, struct evbuffer *out)
{
	struct expo_buf b = { 0 };

	metric_set(m->reg, M_CLOCK, NULL, wall_clock());
	metric_set(m->reg, M_DB_UP, NULL, dbpool_is_up(m->s.pool) ? 1 : 0);
	if (m->start_time > 0)
		metric_set(m->reg, M_PROCESS_START, NULL, m->start_time);
	if (m->snapshot != NULL)
		metric_set(m->reg, M_CERT_CACHE_UPDATED, NULL,
		    (double)cert_snapshot_built_at(m->snapshot));
	process_update(m->reg);
	metric_registry_render(m->reg, fmt, &b);
	evbuffer_add(out, b.data, b.len);
	expo_buf_clear(&b);
	if (m->snapshot != NULL)
		cert_snapshot_append(m->snapshot, fmt, out);
	if (fmt == EXPO_OPENMETRICS)
		evbuffer_add(out, "# EOF\n", 6);
}
