/*
 * scheduler.c: the renewal scheduler's clock (see scheduler.h): the
 * timer that scans the database for due work every scan_interval, the
 * watch that scans at once when the wall clock steps, the leases of the
 * renewals in flight (extended at each scan), and starting and stopping.
 * Each certificate a scan claims is handed to machine.c, which walks it
 * through its states; the scan itself is one database job
 * (renewal_jobs.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/rand.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "loop/dbpool.h"
#include "metrics/metrics.h"
#include "pki/ca.h"
#include "renewal/clock_step.h"
#include "renewal/deploy.h"
#include "renewal/dns_check.h"
#include "renewal/expiry.h"
#include "renewal/machine.h"
#include "renewal/renewal_jobs.h"
#include "renewal/scheduler.h"
#include "renewal/tls_probe.h"
#include "store/renewal.h"

/* ---- the tick ----------------------------------------------------------- */


static void
arm_tick(struct scheduler *s, int64_t ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(s->tick_timer, &tv);
}

static void
tick_applied(struct scheduler *s, struct tick_job *t)
{
	struct daemon_ctx *ctx = s->ctx;

	for (size_t i = 0; i < t->n_live; i++) {
		struct renewal *r = renewal_find(s, t->live_seq[i]);

		if (r != NULL && t->lost[i] && !r->busy)
			renewal_lost(r, "the lease was lost");
	}
	for (size_t i = 0; i < t->n_claimed; i++)
		renewal_start(s, &t->claimed[i]);
	for (size_t i = 0; i < t->n_deploys; i++)
		if (ctx->deployer != NULL)
			deploy_binding(ctx->deployer, t->deploys[i], NULL,
			    NULL);
	expiry_log(&t->expiry);
	if (t->expiry.n > 0 && t->ns.email[0] != '\0')
		request_flow_kick(API_KICK_OUTBOX, ctx);
	if (t->n_claimed == (size_t)t->limit && t->limit > 0)
		t->more = true;
	/* Every slot taken: more may be due, to be claimed as slots free. */
	s->backlog = t->n_claimed == (size_t)t->limit;
}

static void
tick_done(int rc, void *arg)
{
	struct tick_job *t = arg;
	struct scheduler *s = t->s;

	s->ticking = false;
	if (s->stopping) {
		tick_job_free(t);
		return;
	}
	if (rc < 0)
		log_warning("renewal scan: %s; trying again at the next tick",
		    t->err ? t->err : "database error");
	else
		tick_applied(s, t);
	if (rc == 0 && (t->more || s->again)) {
		s->again = false;
		arm_tick(s, 0);
	} else {
		arm_tick(s, s->ctx->cfg->renewal_scan_interval_ms);
	}
	tick_job_free(t);
}

static bool
heartbeat_due(struct scheduler *s, int64_t lease_ms)
{
	struct timespec ts;
	int64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (s->heartbeat_ms != 0 && now - s->heartbeat_ms < lease_ms / 3)
		return false;
	s->heartbeat_ms = now;
	return true;
}

static void
tick(struct scheduler *s)
{
	const struct config *cfg = s->ctx->cfg;
	struct tick_job *t;
	struct renewal *r;
	size_t i = 0;

	if (s->stopping || !s->started)
		return;
	if (s->ticking) {
		s->again = true;
		return;
	}
	t = xcalloc(1, sizeof(*t));
	t->s = s;
	t->owner = s->owner;
	t->host_name = xstrdup(cfg->host_name);
	t->renew_before_ms = cfg->renewal_renew_before_ms;
	t->lease_ms = cfg->renewal_lease_duration_ms;
	t->limit = cfg->renewal_max_in_flight - s->n_live;
	if (t->limit < 0)
		t->limit = 0;
	notice_settings_from(cfg, &t->ns);
	t->ns.metrics = s->ctx->metrics;
	t->live = xcalloc((size_t)s->n_live + 1, sizeof(*t->live));
	t->lost = xcalloc((size_t)s->n_live + 1, sizeof(*t->lost));
	t->live_seq = xcalloc((size_t)s->n_live + 1, sizeof(*t->live_seq));
	/*
	 * Leases are renewed a third of their duration apart, not at every
	 * scan: scans come often while a backlog drains (a slot freed), and
	 * a heartbeat writes every live renewal's row.
	 */
	if (heartbeat_due(s, t->lease_ms)) {
		TAILQ_FOREACH(r, &s->live, entry) {
			t->live[i] = r->id;
			t->live_seq[i++] = r->seq;
		}
	}
	t->n_live = i;
	s->ticking = true;
	evtimer_del(s->tick_timer);
	dbpool_submit(s->ctx->pool, tick_work, tick_done, t);
}

static void
tick_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	tick(arg);
}

/*
 * Due times are wall-clock values: when the wall clock is stepped (an NTP
 * step, a resume from suspend), what is due changed without any timer
 * noticing, so scan at once.
 */
static void
clock_stepped(void *arg)
{
	log_notice("the wall clock was stepped; scanning for due renewals "
	    "now");
	tick(arg);
}

/* ---- public ------------------------------------------------------------- */

static int
make_checkers(struct scheduler *s, char **err)
{
	struct daemon_ctx *ctx = s->ctx;
	const struct config *cfg = ctx->cfg;
	struct dns_checker_settings ds = {
		.managed_networks = cfg->renewal_managed_networks,
		.max_in_flight = (unsigned)cfg->renewal_dns_max_in_flight,
		.observe = metrics_dns_check_observer,
		.observe_arg = ctx->metrics,
	};
	struct tls_prober_settings ts = {
		.timeout_ms = (int)cfg->renewal_probe_timeout_ms,
		.max_in_flight = (unsigned)cfg->renewal_probe_max_in_flight,
		.max_per_host = (unsigned)cfg->renewal_probe_max_per_host,
		.ca_pem = ctx->ca != NULL ? ca_root_pem(ctx->ca) : NULL,
		.observe = metrics_tls_probe_observer,
		.observe_arg = ctx->metrics,
	};
	int r;

	if ((r = dns_checker_new(ctx->base, ctx->dns, &ds, &s->dns, err)) < 0)
		return r;
	return tls_prober_new(ctx->base, ctx->dns, &ts, &s->tls, err);
}

struct scheduler *
scheduler_new(struct daemon_ctx *ctx)
{
	struct scheduler *s = xcalloc(1, sizeof(*s));
	unsigned char rnd[6];

	s->ctx = ctx;
	TAILQ_INIT(&s->live);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	snprintf(s->owner, sizeof(s->owner),
	    "%s/%ld/%02x%02x%02x%02x%02x%02x", ctx->cfg->host_name,
	    (long)getpid(), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
	s->tick_timer = evtimer_new(ctx->base, tick_timer_cb, s);
	return s;
}

void
scheduler_start(struct scheduler *s)
{
	_cleanup_free_ char *err = NULL;

	if (s == NULL || s->started)
		return;
	if (make_checkers(s, &err) < 0) {
		log_error("renewal checks cannot start: %s; no certificate "
		    "will be renewed by this daemon", err);
		return;
	}
	s->started = true;
	free(err);
	err = NULL;
	if (clock_step_new(s->ctx->base, clock_stepped, s, &s->clock,
	    &err) < 0)
		log_warning("%s: a step of the wall clock is seen only at "
		    "the next scan, ignoring", err);
	tick(s);
}

void
scheduler_kick(struct scheduler *s)
{
	if (s != NULL)
		tick(s);
}

/* How soon a freed slot is refilled: one scan for a burst of renewals
 * ending together, not one each. */
#define REFILL_MS 100

void
scheduler_slot_freed(struct scheduler *s)
{
	struct timeval tv;

	if (s->stopping || !s->backlog)
		return;
	if (s->ticking) {
		s->again = true;
		return;
	}
	if (evtimer_pending(s->tick_timer, &tv)) {
		struct timeval now;
		int64_t left_ms;

		event_base_gettimeofday_cached(s->ctx->base, &now);
		left_ms = ((int64_t)tv.tv_sec - now.tv_sec) * 1000 +
		    ((int64_t)tv.tv_usec - now.tv_usec) / 1000;
		if (left_ms <= REFILL_MS)
			return;	/* a scan comes soon enough */
	}
	arm_tick(s, REFILL_MS);
}

void
scheduler_issued(struct scheduler *s)
{
	struct renewal *r;

	if (s == NULL || s->stopping)
		return;
	/* An ISSUING step never ends its renewal at once (it submits a job),
	 * so the list stays intact. */
	TAILQ_FOREACH(r, &s->live, entry)
		renewal_issue_committed(r);
}

void
scheduler_deployed(struct scheduler *s, int64_t binding_id, int rc)
{
	struct renewal *r;

	if (s == NULL || s->stopping)
		return;
	/* A DEPLOYING step never ends its renewal at once (it submits a
	 * job or arms the timer), so the list stays intact. */
	for (r = TAILQ_FIRST(&s->live); r != NULL; r = TAILQ_NEXT(r, entry))
		renewal_deploy_finished(r);
}

static void
release_done(int rc, void *arg)
{
	tick_job_free(arg);
}

void
scheduler_stop(struct scheduler *s)
{
	struct tick_job *t;
	struct renewal *r;
	size_t i = 0;

	if (s == NULL || s->stopping)
		return;
	s->stopping = true;
	evtimer_del(s->tick_timer);
	clock_step_free(s->clock);
	s->clock = NULL;
	t = xcalloc(1, sizeof(*t));
	t->s = s;
	t->owner = s->owner;
	t->live = xcalloc((size_t)s->n_live + 1, sizeof(*t->live));
	while ((r = TAILQ_FIRST(&s->live)) != NULL) {
		t->live[i++] = r->id;
		renewal_end(r);
	}
	t->n_live = i;
	if (i > 0 && s->ctx->pool != NULL)
		dbpool_submit(s->ctx->pool, release_work, release_done, t);
	else
		tick_job_free(t);
	dns_checker_free(s->dns);
	s->dns = NULL;
	tls_prober_free(s->tls);
	s->tls = NULL;
}

void
scheduler_free(struct scheduler *s)
{
	if (s == NULL)
		return;
	scheduler_stop(s);
	if (s->tick_timer != NULL)
		event_free(s->tick_timer);
	free(s);
}
