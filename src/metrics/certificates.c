/*
 * certificates.c: every certificate's figures, from the database.
 *
 * A timer queues one refresh job at a time. On a database thread the job
 * streams all certificates (store_metrics_certificates, a row at a time)
 * and writes the sample lines of each family straight into a compressor
 * of its own (gzpart.h), so the plain text never exists whole: a snapshot
 * keeps each family's samples as one deflate part, some fifteen times
 * smaller than the text. The sample lines are the same in both exposition
 * formats; only the families' metadata differ, and those are written per
 * scrape. A scrape that takes gzip gets the parts by reference inside its
 * gzip member; one that does not gets them inflated a bounded piece at a
 * time (cert_reader). A snapshot is freed when the last reply that refers
 * to it has been sent. When a refresh fails (database down) the previous
 * snapshot stays: the figures must not vanish exactly when things break.
 *
 * The same job reads every binding endpoint's probe results (a second
 * streamed query) and the mail queue's depth, which are the fleet's, not
 * this daemon's: they live in the database, so they survive restarts and
 * every daemon shows the same.
 *
 * Every certificate has a renewal status sample set and a due time
 * whatever its state: renewal_status "NONE" is 1 for a certificate that
 * has never been through a managed renewal (imported, pending, or issued
 * and not yet due), and the due time is +Inf when no renewal is planned
 * (not certfleet-issued, not ISSUED, or bound nowhere), so that "due time
 * in the past" never fires for it and the series never disappears.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errno.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "loop/dbpool.h"
#include "metrics/gzpart.h"
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
	CF_CHECKS_PASSED,
	CF_ENDPOINT_MATCH,
	CF_ENDPOINT_SUCCESS,
	CF__COUNT
};

#define CERT_LABELS { "certificate_arn", "domain_name", "type", "status", NULL }
#define ENDPOINT_LABELS { "certificate_arn", "binding_arn", "address",	\
	"port", "server_name", NULL }

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
	    "Managed renewal status: 1 for the current one, 0 for the others; "
	    "NONE: never renewed by certfleet.",
	    { "certificate_arn", "renewal_status", NULL }, NULL, 0 },
	[CF_RENEWAL_DUE] = {
	    "certfleet_certificate_renewal_due_timestamp_seconds",
	    METRIC_GAUGE, "seconds",
	    "When the next renewal is planned; +Inf when none is.",
	    { "certificate_arn", NULL }, NULL, 0 },
	[CF_IN_USE] = { "certfleet_certificate_in_use", METRIC_GAUGE, NULL,
	    "Whether bindings deploy the certificate (1) or not (0).",
	    { "certificate_arn", NULL }, NULL, 0 },
	[CF_CHECKS_PASSED] = {
	    "certfleet_certificate_dns_check_last_success_timestamp_seconds",
	    METRIC_GAUGE, "seconds",
	    "The last renewal check in which every name passed its DNS check "
	    "(and the probe of an endpoint naming it).",
	    { "certificate_arn", NULL }, NULL, 0 },
	[CF_ENDPOINT_MATCH] = { "certfleet_endpoint_certificate_match",
	    METRIC_GAUGE, NULL,
	    "Whether a binding's endpoint served the current version of its "
	    "certificate at its last probe (1) or not (0).",
	    ENDPOINT_LABELS, NULL, 0 },
	[CF_ENDPOINT_SUCCESS] = {
	    "certfleet_endpoint_probe_last_success_timestamp_seconds",
	    METRIC_GAUGE, "seconds",
	    "The last probe that found a binding's endpoint serving its "
	    "certificate on every address.",
	    ENDPOINT_LABELS, NULL, 0 },
};

/* The enums of the schema (sql/001_initial.sql), for the inventory. */
static const char *const statuses[] = { "PENDING_VALIDATION", "ISSUED",
	"INACTIVE", "EXPIRED", "VALIDATION_TIMED_OUT", "REVOKED", "FAILED" };
static const char *const types[] = { "IMPORTED", "AMAZON_ISSUED", "PRIVATE" };
/* ACM's RenewalStatus values, and ours for "never renewed" (last). */
static const char *const renewal_statuses[] = { "PENDING_AUTO_RENEWAL",
	"PENDING_VALIDATION", "SUCCESS", "FAILED", "NONE" };

/*
 * zlib's level for the cached figures, measured at 100,000 certificates
 * (see tests/bench/bench_scrape): level 1 already shrinks them some 12
 * times at a fraction of the CPU of level 6, which gains little more on
 * text this repetitive.
 */
#define CERT_GZIP_LEVEL 1

struct cert_snapshot {
	atomic_int refs;
	int64_t built_at;		/* epoch seconds */
	struct gzpart samples[CF__COUNT];	/* each family's sample lines */
};

struct refresh_job {
	struct metrics *m;
	struct cert_snapshot *snap;
	struct gzpart_writer *w[CF__COUNT];	/* one per family */
	struct expo_buf line;		/* the sample line being written */
	double started;			/* metrics_monotonic() when queued */
	double took;			/* seconds on the database thread */
	size_t inventory[ELEMENTSOF(statuses)][ELEMENTSOF(types)];
	int64_t mail_messages, mail_oldest;	/* the mail queue */
	char *err;
};

static void
snapshot_free(struct cert_snapshot *s)
{
	for (int i = 0; i < CF__COUNT; i++)
		gzpart_clear(&s->samples[i]);
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

/* One sample line: the value v, or +Inf when infinite. */
static void
sample_line(struct refresh_job *job, enum cert_family f,
    const char *const *values, int64_t v, bool infinite)
{
	struct expo_buf *b = &job->line;

	b->len = 0;
	expo_sample_start(b, cert_families[f].name, NULL,
	    cert_families[f].labels, values, NULL, NULL);
	if (infinite)
		expo_buf_puts(b, "+Inf");
	else
		expo_int(b, v);
	expo_buf_add(b, "\n", 1);
	gzpart_writer_add(job->w[f], b->data, b->len);
}

static void
sample(struct refresh_job *job, enum cert_family f,
    const char *const *values, int64_t v)
{
	sample_line(job, f, values, v, false);
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
	const char *cert[] = { c->arn, c->domain_name, c->type, c->status };
	const char *arn[] = { c->arn, NULL };
	int st = find(statuses, ELEMENTSOF(statuses), c->status);
	int ty = find(types, ELEMENTSOF(types), c->type);

	if (st >= 0 && ty >= 0)
		job->inventory[st][ty]++;
	if (c->has_not_after)
		sample(job, CF_NOT_AFTER, cert, c->not_after);
	if (c->has_not_before)
		sample(job, CF_NOT_BEFORE, cert, c->not_before);
	for (size_t i = 0; i < ELEMENTSOF(renewal_statuses); i++) {
		arn[1] = renewal_statuses[i];
		sample(job, CF_RENEWAL_STATUS, arn, strcmp(c->renewal_status ?
		    c->renewal_status : "NONE", renewal_statuses[i]) == 0);
	}
	arn[1] = NULL;
	sample_line(job, CF_RENEWAL_DUE, arn, c->next_due, !c->has_next_due);
	sample(job, CF_IN_USE, arn, c->in_use);
	if (c->has_checks_passed)
		sample(job, CF_CHECKS_PASSED, arn, c->checks_passed);
}

static void
add_endpoint(const struct store_metrics_endpoint *e, void *arg)
{
	struct refresh_job *job = arg;
	const char *v[] = { e->certificate_arn, e->binding_arn, e->address,
		e->port, e->server_name };

	/* Never probed: nothing is known, and no sample claims otherwise. */
	if (e->probed)
		sample(job, CF_ENDPOINT_MATCH, v, e->match);
	if (e->has_succeeded)
		sample(job, CF_ENDPOINT_SUCCESS, v, e->succeeded);
}

static void
job_writers_free(struct refresh_job *job)
{
	for (int i = 0; i < CF__COUNT; i++) {
		gzpart_writer_free(job->w[i]);
		job->w[i] = NULL;
	}
	expo_buf_clear(&job->line);
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
	for (int i = 0; i < CF__COUNT; i++)
		job->w[i] = gzpart_writer_new(CERT_GZIP_LEVEL);
	r = store_metrics_certificates(conn, add_cert, job, &job->err);
	if (r == 0)
		r = store_metrics_endpoints(conn, add_endpoint, job,
		    &job->err);
	if (r == 0)
		r = store_metrics_mail_queue(conn, &job->mail_messages,
		    &job->mail_oldest, &job->err);
	if (r < 0) {
		job_writers_free(job);
		return r;
	}
	/* Every combination, zeros included, so that none vanishes. */
	for (size_t i = 0; i < ELEMENTSOF(statuses); i++)
		for (size_t t = 0; t < ELEMENTSOF(types); t++) {
			const char *v[] = { statuses[i], types[t] };

			sample(job, CF_INVENTORY, v,
			    (int64_t)job->inventory[i][t]);
		}
	for (int i = 0; i < CF__COUNT; i++)
		gzpart_writer_end(job->w[i], &job->snap->samples[i]);
	job_writers_free(job);
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
		m->mail_known = true;
		m->mail_messages = job->mail_messages;
		m->mail_oldest = job->mail_oldest;
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

static void
family_header(enum cert_family f, enum expo_format fmt, struct expo_buf *b)
{
	b->len = 0;
	expo_header(b, &cert_families[f], fmt);
}

void
cert_snapshot_append_gzip(struct cert_snapshot *s, enum expo_format fmt,
    struct gzpart_writer *live, struct gzip_member *g, struct evbuffer *out)
{
	struct expo_buf head = { 0 };
	struct gzpart p;

	for (int i = 0; i < CF__COUNT; i++) {
		if (s->samples[i].plain == 0)
			continue;
		/* What live holds, this family's metadata last, ... */
		family_header(i, fmt, &head);
		gzpart_writer_add(live, head.data, head.len);
		gzpart_writer_end(live, &p);
		evbuffer_add(out, p.data, p.size);
		gzip_member_add(g, &p);
		gzpart_clear(&p);
		/* ... then its samples, compressed already. */
		atomic_fetch_add(&s->refs, 1);
		if (evbuffer_add_reference(out, s->samples[i].data,
		    s->samples[i].size, release_ref, s) < 0)
			cert_snapshot_unref(s);
		gzip_member_add(g, &s->samples[i]);
	}
	expo_buf_clear(&head);
}

/* ---- the plain text, a piece at a time -------------------------------- */

struct cert_reader {
	struct cert_snapshot *s;	/* a reference */
	enum expo_format fmt;
	int family;			/* the one being read */
	bool in_samples;		/* its metadata are out */
	struct gzpart_reader *z;
	struct expo_buf head;
};

struct cert_reader *
cert_reader_new(struct cert_snapshot *s, enum expo_format fmt)
{
	struct cert_reader *r = xcalloc(1, sizeof(*r));

	atomic_fetch_add(&s->refs, 1);
	r->s = s;
	r->fmt = fmt;
	r->z = gzpart_reader_new();
	return r;
}

void
cert_reader_free(struct cert_reader *r)
{
	if (r == NULL)
		return;
	gzpart_reader_free(r->z);
	expo_buf_clear(&r->head);
	cert_snapshot_unref(r->s);
	free(r);
}

/* Inflates up to max bytes of the current family into out. */
static int
inflate_some(struct cert_reader *r, struct evbuffer *out, size_t max,
    size_t *got)
{
	struct evbuffer_iovec v;
	int rc;

	*got = 0;
	if (evbuffer_reserve_space(out, (ev_ssize_t)max, &v, 1) < 1)
		return -ENOMEM;
	rc = gzpart_reader_read(r->z, v.iov_base, max, got);
	v.iov_len = *got;
	if (*got > 0)
		evbuffer_commit_space(out, &v, 1);
	return rc;
}

int
cert_reader_read(struct cert_reader *r, struct evbuffer *out, size_t max)
{
	size_t added = 0, got;

	while (added < max && r->family < CF__COUNT) {
		const struct gzpart *p = &r->s->samples[r->family];

		if (p->plain == 0) {
			r->family++;
		} else if (!r->in_samples) {
			family_header(r->family, r->fmt, &r->head);
			evbuffer_add(out, r->head.data, r->head.len);
			added += r->head.len;
			gzpart_reader_start(r->z, p);
			r->in_samples = true;
		} else {
			int rc = inflate_some(r, out, max - added, &got);

			if (rc < 0)
				return rc;
			added += got;
			if (got == 0) {
				r->family++;
				r->in_samples = false;
			}
		}
	}
	return r->family < CF__COUNT ? 1 : 0;
}
