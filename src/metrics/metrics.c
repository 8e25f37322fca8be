/*
 * metrics.c: the registry's table, the update calls the rest of the daemon
 * makes, and the assembly of one exposition: the registry's families
 * (refreshed figures first: clock, process, database), then the certificate
 * snapshot, then "# EOF" for OpenMetrics. Either as one gzip member, or
 * as plain text produced a bounded piece at a time (metrics_text), so that
 * no scrape holds the whole text of 100,000 certificates in memory.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "loop/dbpool.h"
#include "metrics/gzpart.h"
#include "metrics/internal.h"
#include "metrics/registry.h"

/* Control calls take well under a millisecond to seconds (a 503 waits
 * for nothing; an import of a 4096-bit key takes longest). */
static const double api_buckets[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	2.5, 5, 10,
};

/* A name's A and AAAA queries: a cached answer in a millisecond, a
 * resolver that times out after [dns] timeout times tries (seconds). */
static const double dns_buckets[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
	10, 30,
};

/* Connect and handshake to one address: a millisecond on loopback, up
 * to [renewal] probe_timeout (10 s by default) for one that never
 * answers. */
static const double tls_buckets[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
	10, 30,
};

/* Bucket sets by name, for the table. */
#define BUCKETS_api api_buckets
#define N_BUCKETS_api ELEMENTSOF(api_buckets)
#define BUCKETS_dns dns_buckets
#define N_BUCKETS_dns ELEMENTSOF(dns_buckets)
#define BUCKETS_tls tls_buckets
#define N_BUCKETS_tls ELEMENTSOF(tls_buckets)
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

/*
 * The label values each labelled counter starts with, at zero: a series
 * that appears only with its first increment cannot be told from one
 * that was lost, and rate() misses that first increment.
 */
static const char *const dns_results[] = { "ok", "outside", "nxdomain",
	"nodata", "timeout", "error" };
static const char *const tls_results[] = { "ok", "mismatch",
	"connect_error", "timeout", "handshake_error", "resolve_error" };
static const char *const email_kinds[] = { "validation", "expiry",
	"renewal", "other" };
static const char *const email_results[] = { "queued", "sent", "retried",
	"failed" };

const char *
metrics_email_kind_label(const char *kind)
{
	for (size_t i = 0; kind != NULL && i < ELEMENTSOF(email_kinds); i++)
		if (strcasecmp(kind, email_kinds[i]) == 0)
			return email_kinds[i];
	return "other";
}

static void
counters_init(struct metric_registry *reg)
{
	const char *v[2];

	for (size_t i = 0; i < ELEMENTSOF(dns_results); i++) {
		v[0] = dns_results[i];
		metric_add(reg, M_DNS_CHECKS, v, 0);
	}
	for (size_t i = 0; i < ELEMENTSOF(tls_results); i++) {
		v[0] = tls_results[i];
		metric_add(reg, M_TLS_PROBES, v, 0);
	}
	for (size_t k = 0; k < ELEMENTSOF(email_kinds); k++)
		for (size_t i = 0; i < ELEMENTSOF(email_results); i++) {
			v[0] = email_kinds[k];
			v[1] = email_results[i];
			metric_add(reg, M_EMAILS, v, 0);
		}
	metric_add(reg, M_EXPIRY_EVENTS, NULL, 0);
	/* Histograms without labels: one child, no observation yet. */
	metric_add(reg, M_DNS_DURATION, NULL, 0);
	metric_add(reg, M_TLS_DURATION, NULL, 0);
}

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
	counters_init(m->reg);
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
metrics_deployment(struct metrics *m, bool ok)
{
	const char *labels[] = { ok ? "success" : "failure" };

	if (m != NULL)
		metric_add(m->reg, M_DEPLOYMENTS, labels, 1);
}

void
metrics_renewal(struct metrics *m, const char *result)
{
	const char *labels[] = { result };

	if (m != NULL)
		metric_add(m->reg, M_RENEWALS, labels, 1);
}

void
metrics_renewal_started(struct metrics *m, const char *reason)
{
	const char *labels[] = { reason };

	if (m != NULL)
		metric_add(m->reg, M_RENEWALS_STARTED, labels, 1);
}

void
metrics_stale_endpoint(struct metrics *m)
{
	if (m != NULL)
		metric_add(m->reg, M_STALE_ENDPOINTS, NULL, 1);
}

void
metrics_dns_check(struct metrics *m, const char *result, double seconds)
{
	const char *labels[] = { result };

	if (m == NULL)
		return;
	metric_add(m->reg, M_DNS_CHECKS, labels, 1);
	if (seconds >= 0)
		metric_observe(m->reg, M_DNS_DURATION, NULL, seconds);
}

void
metrics_tls_probe(struct metrics *m, const char *result, double seconds)
{
	const char *labels[] = { result };

	if (m == NULL)
		return;
	metric_add(m->reg, M_TLS_PROBES, labels, 1);
	if (seconds >= 0)
		metric_observe(m->reg, M_TLS_DURATION, NULL, seconds);
}

void
metrics_dns_check_observer(void *arg, const char *result, double seconds)
{
	metrics_dns_check(arg, result, seconds);
}

void
metrics_tls_probe_observer(void *arg, const char *result, double seconds)
{
	metrics_tls_probe(arg, result, seconds);
}

void
metrics_email(struct metrics *m, const char *kind, const char *result)
{
	const char *labels[] = { metrics_email_kind_label(kind), result };

	if (m != NULL)
		metric_add(m->reg, M_EMAILS, labels, 1);
}

void
metrics_expiry_events(struct metrics *m, size_t n)
{
	if (m != NULL && n > 0)
		metric_add(m->reg, M_EXPIRY_EVENTS, NULL, (double)n);
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

/* The mail queue as last read; the age counts on until the next read. */
static void
mail_queue_update(struct metrics *m, double now)
{
	double age = 0;

	if (!m->mail_known)
		return;
	if (m->mail_messages > 0 && m->mail_oldest > 0 &&
	    now > (double)m->mail_oldest)
		age = now - (double)m->mail_oldest;
	metric_set(m->reg, M_MAIL_QUEUE, NULL, (double)m->mail_messages);
	metric_set(m->reg, M_MAIL_QUEUE_AGE, NULL, age);
}

/* The registry's families, their figures refreshed, into b. */
static void
render_registry(struct metrics *m, enum expo_format fmt, struct expo_buf *b)
{
	double now = wall_clock();

	metric_set(m->reg, M_CLOCK, NULL, now);
	metric_set(m->reg, M_DB_UP, NULL,
	    m->s.pool != NULL && dbpool_is_up(m->s.pool) ? 1 : 0);
	mail_queue_update(m, now);
	if (m->start_time > 0)
		metric_set(m->reg, M_PROCESS_START, NULL, m->start_time);
	if (m->snapshot != NULL)
		metric_set(m->reg, M_CERT_CACHE_UPDATED, NULL,
		    (double)cert_snapshot_built_at(m->snapshot));
	process_update(m->reg);
	metric_registry_render(m->reg, fmt, b);
}

/* The live text is small: the fastest level is plenty. */
#define LIVE_GZIP_LEVEL 1

void
metrics_render_gzip(struct metrics *m, enum expo_format fmt,
    struct evbuffer *out)
{
	struct expo_buf b = { 0 };
	struct gzpart_writer *live = gzpart_writer_new(LIVE_GZIP_LEVEL);
	struct gzip_member g;
	struct gzpart p;
	unsigned char header[GZIP_HEADER_SIZE], end[GZIP_END_SIZE];

	gzip_member_begin(&g, header);
	evbuffer_add(out, header, sizeof(header));
	render_registry(m, fmt, &b);
	gzpart_writer_add(live, b.data, b.len);
	expo_buf_clear(&b);
	if (m->snapshot != NULL)
		cert_snapshot_append_gzip(m->snapshot, fmt, live, &g, out);
	if (fmt == EXPO_OPENMETRICS)
		gzpart_writer_add(live, "# EOF\n", 6);
	gzpart_writer_end(live, &p);
	evbuffer_add(out, p.data, p.size);
	gzip_member_add(&g, &p);
	gzpart_clear(&p);
	gzip_member_end(&g, end);
	evbuffer_add(out, end, sizeof(end));
	gzpart_writer_free(live);
}

struct metrics_text {
	struct evbuffer *registry;	/* its text not yet read */
	struct cert_reader *certs;	/* NULL when done or none */
	bool eof;			/* "# EOF" still to come */
};

struct metrics_text *
metrics_text_new(struct metrics *m, enum expo_format fmt)
{
	struct metrics_text *t = xcalloc(1, sizeof(*t));
	struct expo_buf b = { 0 };

	render_registry(m, fmt, &b);
	t->registry = evbuffer_new();
	evbuffer_add(t->registry, b.data, b.len);
	expo_buf_clear(&b);
	if (m->snapshot != NULL)
		t->certs = cert_reader_new(m->snapshot, fmt);
	t->eof = fmt == EXPO_OPENMETRICS;
	return t;
}

void
metrics_text_free(struct metrics_text *t)
{
	if (t == NULL)
		return;
	evbuffer_free(t->registry);
	cert_reader_free(t->certs);
	free(t);
}

void
metrics_text_read(struct metrics_text *t, struct evbuffer *out, size_t max)
{
	size_t start = evbuffer_get_length(out);
	size_t added = 0;
	int r;

	while (added < max) {
		if (evbuffer_get_length(t->registry) > 0) {
			evbuffer_remove_buffer(t->registry, out, max - added);
		} else if (t->certs != NULL) {
			r = cert_reader_read(t->certs, out, max - added);
			if (r < 0)
				log_error("metrics: certificate figures "
				    "damaged in memory (%s), cut short",
				    strerror(-r));
			if (r <= 0) {
				cert_reader_free(t->certs);
				t->certs = NULL;
			}
		} else if (t->eof) {
			evbuffer_add(out, "# EOF\n", 6);
			t->eof = false;
		} else {
			break;
		}
		added = evbuffer_get_length(out) - start;
	}
}
