/*
 * metrics.h: what certfleetd tells Prometheus, and its health endpoints.
 *
 * One struct metrics hangs off the daemon context. It owns the registry of
 * figures the daemon counts itself (control API calls, database
 * reconnects, ...), a snapshot of every certificate's figures that a job on
 * a database thread rebuilds every [metrics] certificate_cache (a scrape
 * never waits for the database: it serves the last snapshot), and an HTTP
 * listener on [metrics] listen serving /metrics, /healthz and /readyz.
 *
 * Everything here runs on the loop thread except where noted; the update
 * calls (metrics_api_request, metrics_db_state, metrics_dns_check, ...)
 * are also safe from other threads.
 */
#ifndef CERTFLEET_METRICS_METRICS_H
#define CERTFLEET_METRICS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cleanup.h"

struct event_base;
struct dbpool;
struct metrics;

struct metrics_settings {
	struct event_base *base;
	struct dbpool *pool;
	const char *listen;		/* "ADDRESS:PORT", "[V6]:PORT"; "" = off */
	int64_t certificate_cache_ms;	/* how long certificate figures live */
	const char *version;		/* certfleet_build_info{version} */
	/* NULL when the daemon is ready, else a one-line reason. */
	const char *(*unready)(void *arg);
	void *unready_arg;
};

struct metrics *metrics_new(const struct metrics_settings *s);
/* Closes the listener, drops the snapshot. Call after the database pool
 * is gone (a refresh in flight owns a pointer to m). Accepts NULL. */
void metrics_free(struct metrics *m);

/* Binds [metrics] listen and starts the readiness ping; 0 when disabled. */
int metrics_listen(struct metrics *m, char **reterr_msg) _wur_;
/* The schema exists: start refreshing the certificate figures. */
void metrics_start(struct metrics *m);
/* [metrics] certificate_cache after a reload. */
void metrics_set_certificate_cache(struct metrics *m, int64_t ms);

/* Seconds on the monotonic clock, for durations. */
double metrics_monotonic(void);
/*
 * One control API call answered: action "" when the target named none,
 * exception NULL (or "") on success. m may be NULL.
 */
void metrics_api_request(struct metrics *m, const char *action,
    const char *exception, double seconds);
/* The database pool went up or down. m may be NULL. */
void metrics_db_state(struct metrics *m, bool up);
/* A binding's deployment finished (renewal/deploy.c). */
void metrics_deployment(struct metrics *m, bool ok);
/* A renewal ended ("success", "backoff", "failed", "validation"), and a
 * stale endpoint was seen after deployment (renewal/scheduler.c). */
void metrics_renewal(struct metrics *m, const char *result);
void metrics_stale_endpoint(struct metrics *m);
/* A renewal began: reason "due" (the scan found it), "requested"
 * (RenewCertificate) or "retry" (after a backoff). m may be NULL. */
void metrics_renewal_started(struct metrics *m, const char *reason);

/*
 * One name's DNS check, and one endpoint address's TLS probe, finished
 * with a result label (renewal/dns_check.h, renewal/tls_probe.h) after
 * seconds; seconds < 0: no duration (a probe whose endpoint did not
 * resolve). m may be NULL.
 */
void metrics_dns_check(struct metrics *m, const char *result,
    double seconds);
void metrics_tls_probe(struct metrics *m, const char *result,
    double seconds);
/* The same, as the observers of struct dns_checker_settings and struct
 * tls_prober_settings: arg is the struct metrics (or NULL). */
void metrics_dns_check_observer(void *arg, const char *result,
    double seconds);
void metrics_tls_probe_observer(void *arg, const char *result,
    double seconds);
/*
 * An email of the queue: kind as mail_outbox.kind (VALIDATION, EXPIRY,
 * RENEWAL, OTHER; any case), result "queued" (its first attempt begins),
 * "sent", "retried" or "failed" (mail/outbox.c). m may be NULL.
 */
void metrics_email(struct metrics *m, const char *kind, const char *result);
/* n expiry events were sent (renewal/expiry.c); safe from any thread. */
void metrics_expiry_events(struct metrics *m, size_t n);

#endif
