/*
 * lifecycle.c: what the daemon does between main()'s set-up and tear-down,
 * all on the loop thread: apply migrations (retrying with backoff while the
 * database is away), announce readiness to systemd, keep the watchdog fed
 * while healthy, reload on SIGHUP and stop gracefully on SIGTERM.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "api/control.h"
#include "api/router.h"
#include "audit/retention.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "issuance/ca_bootstrap.h"
#include "issuance/issuer.h"
#include "loop/dbpool.h"
#include "metrics/metrics.h"
#include "pki/ca.h"
#include "renewal/deploy.h"
#include "renewal/scheduler.h"
#include "store/store.h"

#define MIGRATE_BACKOFF_MIN_MS 500

static int64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
ms_to_tv(int64_t ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

void
lifecycle_fatal(struct daemon_ctx *ctx, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	log_error("%s", msg ? msg : "fatal error");
	sd_notifyf(0, "STATUS=Failed: %s", msg ? msg : "fatal error");
	ctx->exit_code = 1;
	event_base_loopbreak(ctx->base);
}

/* ---- migrations and readiness ---------------------------------------- */

struct migrate_job {
	struct daemon_ctx *ctx;
	int applied;
	char *err;
};

static int
migrate_work(PGconn *conn, void *arg)
{
	struct migrate_job *job = arg;

	return store_migrate(conn, &job->applied, &job->err);
}

static void
become_ready(struct daemon_ctx *ctx, int applied)
{
	ctx->ready = true;
	router_set_ready(ctx->router, true);
	ctx->retention = audit_retention_new(ctx->base, ctx->pool,
	    ctx->cfg->audit_retention_ms);
	metrics_start(ctx->metrics);
	ctx->issuer = issuer_new(ctx);
	request_flow_start(ctx);
	ctx->deployer = deployer_new(ctx);
	deployer_start(ctx->deployer);
	ctx->scheduler = scheduler_new(ctx);
	scheduler_start(ctx->scheduler);
	log_notice("ready: schema at version %d (%d migration%s applied), "
	    "serving on %s", store_schema_version(), applied,
	    applied == 1 ? "" : "s", ctx->cfg->socket_path);
	sd_notifyf(0, "READY=1\nSTATUS=Ready: serving on %s",
	    ctx->cfg->socket_path);
}

static void
migrate_retry_later(struct daemon_ctx *ctx, const char *why)
{
	struct timeval tv;
	int64_t b = ctx->migrate_backoff_ms ? ctx->migrate_backoff_ms * 2 :
	    MIGRATE_BACKOFF_MIN_MS;

	if (b > ctx->cfg->reconnect_max_backoff_ms)
		b = ctx->cfg->reconnect_max_backoff_ms;
	ctx->migrate_backoff_ms = b;
	log_warning("database not ready (%s); retrying in %lld ms", why,
	    (long long)b);
	sd_notifyf(0, "STATUS=Waiting for the database: %s", why);
	ms_to_tv(b, &tv);
	evtimer_add(ctx->migrate_timer, &tv);
}

/* ---- certfleet's CA, between the migrations and READY=1 ------------- */

struct ca_start {
	struct daemon_ctx *ctx;
	int applied;
};

static void
ca_ready(int rc, struct ca *ca, const char *err, void *arg)
{
	struct ca_start *s = arg;
	struct daemon_ctx *ctx = s->ctx;
	int applied = s->applied;

	free(s);
	if (ctx->stopping)
		ca_free(ca);
	else if (rc == -ECONNRESET)
		migrate_retry_later(ctx, err);
	else if (rc < 0)
		lifecycle_fatal(ctx, "certificate authority: %s", err);
	else {
		ctx->ca = ca;
		become_ready(ctx, applied);
	}
}

static void
ca_start(struct daemon_ctx *ctx, int applied)
{
	struct ca_start *s = xcalloc(1, sizeof(*s));

	s->ctx = ctx;
	s->applied = applied;
	atomic_store(&ctx->schema_ready, true);
	/* Connections made before the schema existed prepared nothing. */
	dbpool_reconnect_all(ctx->pool);
	sd_notify(0, "STATUS=Starting: loading the certificate authority");
	ca_bootstrap_start(ctx, ca_ready, s);
}

static void
migrate_done(int rc, void *arg)
{
	struct migrate_job *job = arg;
	struct daemon_ctx *ctx = job->ctx;

	if (ctx->stopping) {
		/* nothing more to do */
	} else if (rc == 0) {
		ca_start(ctx, job->applied);
	} else if (rc == -EPROTO) {
		lifecycle_fatal(ctx, "%s", job->err);
	} else if (rc == -ECONNRESET) {
		migrate_retry_later(ctx, job->err ? job->err :
		    ctx->db_why ? ctx->db_why :
		    "cannot connect to the database");
	} else {
		migrate_retry_later(ctx, job->err ? job->err :
		    "migration failed");
	}
	free(job->err);
	free(job);
}

static void
migrate_start(evutil_socket_t fd, short what, void *arg)
{
	struct daemon_ctx *ctx = arg;
	struct migrate_job *job = xcalloc(1, sizeof(*job));

	job->ctx = ctx;
	dbpool_submit(ctx->pool, migrate_work, migrate_done, job);
}

void
lifecycle_db_state(bool up, const char *why, void *arg)
{
	struct daemon_ctx *ctx = arg;

	ctx->db_up = up;
	metrics_db_state(ctx->metrics, up);
	free(ctx->db_why);
	ctx->db_why = xstrdup(why);
	if (!ctx->ready)
		return;	/* start-up reports its own progress */
	if (up) {
		log_notice("database connection restored");
		sd_notifyf(0, "STATUS=Ready: serving on %s",
		    ctx->cfg->socket_path);
	} else {
		log_warning("database unavailable: %s; answering "
		    "ServiceUnavailableException until it returns", why);
		sd_notifyf(0, "STATUS=Database unavailable: %s", why);
	}
}

const char *
lifecycle_unready_reason(void *arg)
{
	struct daemon_ctx *ctx = arg;

	if (ctx->stopping)
		return "stopping";
	if (!ctx->ready)
		return "starting: the database migrations have not run yet";
	return NULL;
}

/* ---- watchdog --------------------------------------------------------- */

static void
watchdog_tick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon_ctx *ctx = arg;

	/* The loop is alive since we run; hold back while the database is
	 * away so that systemd's restart policy can act on a wedged daemon. */
	if (!ctx->ready || ctx->db_up)
		sd_notify(0, "WATCHDOG=1");
}

/* ---- start, reload, stop ---------------------------------------------- */

void
lifecycle_start(struct daemon_ctx *ctx)
{
	struct timeval tv;

	ctx->migrate_timer = evtimer_new(ctx->base, migrate_start, ctx);
	sd_notify(0, "STATUS=Starting: applying database migrations");
	migrate_start(-1, 0, ctx);
	if (sd_watchdog_enabled(0, &ctx->watchdog_usec) > 0 &&
	    ctx->watchdog_usec > 0) {
		ctx->watchdog_timer = event_new(ctx->base, -1, EV_PERSIST,
		    watchdog_tick, ctx);
		tv.tv_sec = (time_t)(ctx->watchdog_usec / 2 / 1000000);
		tv.tv_usec = (suseconds_t)(ctx->watchdog_usec / 2 % 1000000);
		event_add(ctx->watchdog_timer, &tv);
	}
}

void
lifecycle_reload(struct daemon_ctx *ctx)
{
	struct config *next = NULL;
	_cleanup_free_ char *err = NULL;
	_cleanup_free_ char *restart = NULL;
	struct api_limits limits;

	sd_notify(0, "RELOADING=1");
	if (config_load(ctx->config_path, &next, &err) < 0) {
		log_warning("reload: %s; keeping the running configuration",
		    err);
		sd_notify(0, "READY=1");
		return;
	}
	config_apply_reload(ctx->cfg, next, &restart);
	config_free(next);
	log_set_level(ctx->cfg->log_level);
	limits = (struct api_limits){
		.imported_certificates = ctx->cfg->imported_certificates,
		.issued_certificates = ctx->cfg->issued_certificates,
		.domains_per_certificate = ctx->cfg->domains_per_certificate,
		.tags_per_certificate = ctx->cfg->tags_per_certificate,
	};
	router_set_limits(ctx->router, &limits);
	if (ctx->retention != NULL)
		audit_retention_set(ctx->retention,
		    ctx->cfg->audit_retention_ms);
	request_flow_reload(ctx);
	metrics_set_certificate_cache(ctx->metrics,
	    ctx->cfg->metrics_certificate_cache_ms);
	control_server_set_limits(ctx->control,
	    ctx->cfg->max_connections_per_uid, ctx->cfg->request_timeout_ms,
	    ctx->cfg->max_body_size);
	log_notice("configuration reloaded from %s", ctx->config_path);
	if (restart != NULL)
		log_warning("reload: changed settings that take effect only "
		    "after a restart: %s", restart);
	sd_notify(0, "READY=1");
}

static void
shutdown_poll(evutil_socket_t fd, short what, void *arg)
{
	struct daemon_ctx *ctx = arg;
	unsigned busy = control_server_busy(ctx->control) +
	    router_pending_audit(ctx->router);
	struct timeval tv = { 0, 50 * 1000 };

	if (busy == 0) {
		event_base_loopexit(ctx->base, NULL);
		return;
	}
	if (monotonic_ms() >= ctx->stop_deadline_ms) {
		log_warning("shutdown: %u request%s still in flight after the "
		    "grace period; stopping anyway", busy, busy == 1 ? "" : "s");
		event_base_loopexit(ctx->base, NULL);
		return;
	}
	evtimer_add(ctx->shutdown_timer, &tv);
}

void
lifecycle_stop(struct daemon_ctx *ctx, const char *why)
{
	if (ctx->stopping)
		return;
	ctx->stopping = true;
	log_notice("%s: stopping (grace period %lld ms)", why,
	    (long long)ctx->cfg->shutdown_grace_ms);
	sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
	control_server_stop_accepting(ctx->control);
	ctx->stop_deadline_ms = monotonic_ms() + ctx->cfg->shutdown_grace_ms;
	ctx->shutdown_timer = evtimer_new(ctx->base, shutdown_poll, ctx);
	shutdown_poll(-1, 0, ctx);
}
