/*
 * internal.h: what the files of src/metrics share and nothing else sees:
 * the struct behind struct metrics, the ids of the registry's families,
 * the certificate snapshot and the /proc reader.
 */
#ifndef CERTFLEET_METRICS_INTERNAL_H
#define CERTFLEET_METRICS_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "metrics/expo.h"
#include "metrics/metrics.h"

struct evbuffer;
struct evhttp;
struct event;
struct gzip_member;
struct gzpart_writer;
struct metric_registry;

/*
 * The figures the daemon keeps in its registry, one line each:
 * X(ID, TYPE, name, unit, labels, buckets, help), where buckets names a
 * bucket set of metrics.c ("none" for all but histograms). A counter's name has no
 * "_total" (the formats add it); a name with a unit ends with it. Adding
 * a figure is a line here and a metric_add/metric_set/metric_observe call
 * where it happens. Certificate figures, which come from the database,
 * are in certificates.c.
 */
#define METRIC_LIST(X)							\
	X(API_REQUESTS, COUNTER, "certfleet_api_requests", NULL,		\
	    LABELS("action", "exception"), none,			\
	    "Control API requests answered, by action and ACM exception (empty on success).") \
	X(API_DURATION, HISTOGRAM, "certfleet_api_request_duration_seconds",	\
	    "seconds", LABELS("action"), api,		\
	    "Time from a control request's arrival to its reply, by action.") \
	X(DB_UP, GAUGE, "certfleet_database_up", NULL, NO_LABELS,		\
	    none,							\
	    "Whether the last use of the database succeeded (1) or not (0).") \
	X(DB_RECONNECTS, COUNTER, "certfleet_database_reconnects", NULL,	\
	    NO_LABELS, none,						\
	    "Times the database came back after it had been lost.")	\
	X(CERT_CACHE_UPDATED, GAUGE,					\
	    "certfleet_certificate_cache_updated_timestamp_seconds", "seconds", \
	    NO_LABELS, none,						\
	    "When the certificate figures served were read from the database.") \
	X(CERT_CACHE_REFRESH, GAUGE,					\
	    "certfleet_certificate_cache_refresh_duration_seconds", "seconds", \
	    NO_LABELS, none,						\
	    "How long the last read of the certificate figures took, formatting included.") \
	X(CLOCK, GAUGE, "certfleet_clock_time_seconds", "seconds", NO_LABELS, \
	    none,							\
	    "The daemon's wall clock at scrape time, to compare with the scraper's.") \
	X(BUILD_INFO, GAUGE, "certfleet_build_info", NULL, LABELS("version"), \
	    none, "Always 1; the version of certfleetd in a label.")	\
	X(PROCESS_CPU, COUNTER, "process_cpu_seconds", "seconds", NO_LABELS,	\
	    none, "Total user and system CPU time spent in seconds.")	\
	X(PROCESS_RSS, GAUGE, "process_resident_memory_bytes", "bytes",	\
	    NO_LABELS, none, "Resident memory size in bytes.")	\
	X(PROCESS_VSZ, GAUGE, "process_virtual_memory_bytes", "bytes",	\
	    NO_LABELS, none, "Virtual memory size in bytes.")	\
	X(PROCESS_OPEN_FDS, GAUGE, "process_open_fds", NULL, NO_LABELS,	\
	    none, "Number of open file descriptors.")		\
	X(PROCESS_MAX_FDS, GAUGE, "process_max_fds", NULL, NO_LABELS,	\
	    none, "Maximum number of open file descriptors.")	\
	X(PROCESS_START, GAUGE, "process_start_time_seconds", "seconds",	\
	    NO_LABELS, none,						\
	    "Start time of the process since unix epoch in seconds.")	\
	X(DEPLOYMENTS, COUNTER, "certfleet_deployments", NULL,		\
	    LABELS("result"), none,					\
	    "Bindings deployed by this daemon (files written, consumer reloaded), by result (success, failure).") \
	X(RENEWALS, COUNTER, "certfleet_renewals", NULL, LABELS("result"),	\
	    none,							\
	    "Managed renewals this daemon finished, by result (success, backoff, failed, validation).") \
	X(RENEWALS_STARTED, COUNTER, "certfleet_renewals_started", NULL,	\
	    LABELS("reason"), none,					\
	    "Managed renewals this daemon started, by reason (due, requested, retry).") \
	X(STALE_ENDPOINTS, COUNTER, "certfleet_renewal_stale_endpoints", NULL, \
	    NO_LABELS, none,						\
	    "Probes after a renewal's deployment that found an endpoint still serving another certificate.") \
	X(DNS_CHECKS, COUNTER, "certfleet_dns_checks", NULL, LABELS("result"), \
	    none,							\
	    "Names whose renewal DNS check this daemon finished, by result (ok, outside, nxdomain, nodata, timeout, error).") \
	X(DNS_DURATION, HISTOGRAM, "certfleet_dns_check_duration_seconds",	\
	    "seconds", NO_LABELS, dns,					\
	    "Time from a name's A and AAAA queries to its DNS check verdict.") \
	X(TLS_PROBES, COUNTER, "certfleet_tls_probes", NULL, LABELS("result"), \
	    none,							\
	    "Endpoint addresses this daemon probed, by result (ok, mismatch, connect_error, timeout, handshake_error, resolve_error).") \
	X(TLS_DURATION, HISTOGRAM, "certfleet_tls_probe_duration_seconds",	\
	    "seconds", NO_LABELS, tls,					\
	    "Time from the connect to an endpoint address to the probe's result (resolution failures not included).") \
	X(EMAILS, COUNTER, "certfleet_emails", NULL, LABELS("kind", "result"), \
	    none,							\
	    "Emails of the mail queue this daemon handled, by kind (validation, expiry, renewal, other) and result (queued: first attempt begun; sent; retried; failed).") \
	X(MAIL_QUEUE, GAUGE, "certfleet_mail_queue_messages", NULL, NO_LABELS, \
	    none,							\
	    "Emails waiting in the queue or being sent, from the database (every daemon's), as of the last certificate figures.") \
	X(MAIL_QUEUE_AGE, GAUGE, "certfleet_mail_queue_oldest_age_seconds",	\
	    "seconds", NO_LABELS, none,					\
	    "Age of the oldest email waiting in the queue or being sent; 0 when there is none.") \
	X(EXPIRY_EVENTS, COUNTER, "certfleet_expiry_events", NULL, NO_LABELS, \
	    none,							\
	    "Expiry events this daemon sent (approaching expiration, or expired).")

#define METRIC_ENUM(id, type, name, unit, labels, buckets, help) M_##id,
enum metric_id {
	METRIC_LIST(METRIC_ENUM)
	M__COUNT
};
#undef METRIC_ENUM

struct cert_snapshot;

struct metrics {
	struct metrics_settings s;
	char *listen;
	char *version;
	struct metric_registry *reg;

	/* HTTP */
	struct evhttp *http;

	/* certificate figures (certificates.c), loop thread only */
	struct cert_snapshot *snapshot;	/* last one built; NULL before */
	struct event *refresh_timer;
	int64_t cache_ms;
	bool refreshing;
	bool started;

	/* readiness ping (http.c), loop thread only */
	struct event *ping_timer;
	bool pinging;
	bool ping_ok;			/* the last ping's result */
	double ping_ok_at;		/* monotonic seconds of the last success */
	char *ping_why;			/* why the last ping failed */

	/* the mail queue, from the database (certificates.c) */
	bool mail_known;		/* read at least once */
	int64_t mail_messages;
	int64_t mail_oldest;		/* epoch seconds; 0: none */

	/* database reconnects */
	atomic_bool db_was_up;		/* up at least once */
	atomic_bool db_down;		/* lost since */

	double start_time;		/* process start, epoch seconds */
};

/* certificates.c */
void cert_refresh_start(struct metrics *m);
void cert_refresh_stop(struct metrics *m);
void cert_snapshot_unref(struct cert_snapshot *s);
int64_t cert_snapshot_built_at(const struct cert_snapshot *s);
/*
 * Appends the certificate families to a gzip member being written to out:
 * each family's metadata compressed through live (after whatever text
 * live holds), its samples by reference to the snapshot, so nothing large
 * is copied or compressed on the loop.
 */
void cert_snapshot_append_gzip(struct cert_snapshot *s, enum expo_format fmt,
    struct gzpart_writer *live, struct gzip_member *g, struct evbuffer *out);

/* The certificate families as plain text, a bounded piece at a time; the
 * reader holds a reference to the snapshot. */
struct cert_reader;
struct cert_reader *cert_reader_new(struct cert_snapshot *s,
    enum expo_format fmt);
/* About max bytes more into out: 1 while more follows, 0 at the end,
 * negative when a part is damaged. */
int cert_reader_read(struct cert_reader *r, struct evbuffer *out, size_t max);
void cert_reader_free(struct cert_reader *r);

/* process.c: process_* figures into the registry. */
double process_start_time(void);
void process_update(struct metric_registry *reg);

/* metrics.c: the kind label of an email for mail_outbox.kind (any case):
 * "validation", "expiry", "renewal", else "other". */
const char *metrics_email_kind_label(const char *kind);

/* metrics.c: the whole exposition, as one gzip member into out. */
void metrics_render_gzip(struct metrics *m, enum expo_format fmt,
    struct evbuffer *out);
/* The whole exposition as plain text, a bounded piece at a time. */
struct metrics_text;
struct metrics_text *metrics_text_new(struct metrics *m,
    enum expo_format fmt);
/* Up to about max bytes more into out; nothing added means the end. */
void metrics_text_read(struct metrics_text *t, struct evbuffer *out,
    size_t max);
void metrics_text_free(struct metrics_text *t);

/* http.c */
int metrics_http_start(struct metrics *m, char **reterr_msg) _wur_;
void metrics_http_stop(struct metrics *m);

#endif
