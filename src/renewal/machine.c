/*
 * machine.c: one certificate's renewal, from the claim until it is done,
 * backs off, fails, waits for approval or is lost (see scheduler.h for the
 * states and machine.h for the struct). Everything it decides comes from
 * the database: each claimed certificate becomes a struct renewal that
 * walks the states below, writing each step before taking the next, so
 * that a daemon that takes over an expired lease resumes where this one
 * stopped.
 *
 *   CHECKING -> ISSUING -> DEPLOYING -> VERIFYING -> DONE
 *       \-> VALIDATING (waits for approval with no lease) -> ISSUING
 *   any state -> BACKOFF (temporary failure, state kept) or FAILED
 *
 * The loop thread owns every struct renewal; database jobs
 * (renewal_jobs.c) and checks find theirs again by sequence number
 * (database jobs) or through handles cancelled when the renewal ends
 * (checks, probes, timers).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/rand.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "loop/dbpool.h"
#include "metrics/metrics.h"
#include "renewal/deploy.h"
#include "renewal/dns_check.h"
#include "renewal/machine.h"
#include "renewal/renewal_jobs.h"
#include "renewal/tls_probe.h"
#include "store/db.h"
#include "store/renewal.h"
#include "store/store.h"

/* Re-check an issuance or the deployments this often. */
#define POLL_MS 500
/* Re-probe a stale endpoint this often. */
#define REPROBE_MS 1000

static const char *const rstate_names[] = {
	[RS_CHECKING] = "CHECKING",
	[RS_ISSUING] = "ISSUING",
	[RS_DEPLOYING] = "DEPLOYING",
	[RS_VERIFYING] = "VERIFYING",
	[RS_VALIDATING] = "VALIDATING",
	[RS_DONE] = "DONE",
	[RS_BACKOFF] = "BACKOFF",
	[RS_FAILED] = "FAILED",
	[RS_LOST] = "LOST",
};

static void renewal_enter(struct renewal *r, enum rstate next,
    const char *why);

static int64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
set_why(struct renewal *r, const char *why)
{
	if (r->why == NULL && why != NULL)
		r->why = xstrdup(why);
}

static void
probes_cancel(struct renewal *r)
{
	for (size_t i = 0; r->probes != NULL && i < r->nb; i++) {
		tls_probe_cancel(r->probes[i].h);
		r->probes[i].h = NULL;
	}
	free(r->probes);
	r->probes = NULL;
	dns_check_cancel(r->dns_h);
	r->dns_h = NULL;
}

static void
renewal_reset_checks(struct renewal *r)
{
	probes_cancel(r);
	store_renewal_bindings_free(r->b, r->nb);
	r->b = NULL;
	r->nb = 0;
	free(r->fingerprint);
	r->fingerprint = NULL;
	r->loaded = false;
	r->pending = 0;
	r->failed = r->undecided = false;
}

static void
renewal_free(struct renewal *r)
{
	if (r == NULL)
		return;
	renewal_reset_checks(r);
	if (r->timer != NULL)
		event_free(r->timer);
	strv_free(r->names);
	strv_free(r->failing);
	free(r->arn);
	free(r->why);
	free(r);
}

struct renewal *
renewal_find(struct scheduler *s, uint64_t seq)
{
	struct renewal *r;

	TAILQ_FOREACH(r, &s->live, entry)
		if (r->seq == seq)
			return r;
	return NULL;
}

void
renewal_end(struct renewal *r)
{
	struct scheduler *s = r->s;

	TAILQ_REMOVE(&s->live, r, entry);
	s->n_live--;
	renewal_free(r);
	scheduler_slot_freed(s);
}

/* ---- database jobs (renewal_jobs.c runs them) ------------------------- */

static void job_done(int rc, void *arg);

static struct job *
job_new(struct renewal *r, enum job_kind kind)
{
	struct job *j = xcalloc(1, sizeof(*j));

	j->s = r->s;
	j->seq = r->seq;
	j->kind = kind;
	j->id = r->id;
	j->owner = r->s->owner;
	return j;
}

static void
job_submit(struct renewal *r, struct job *j)
{
	r->busy = true;
	dbpool_submit(r->s->ctx->pool, job_work, job_done, j);
}

/* ---- the steps ---------------------------------------------------------- */

static void
timer_in(struct renewal *r, int64_t ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(r->timer, &tv);
}

static void
renewal_backoff(struct renewal *r, const char *why)
{
	const struct config *cfg = r->s->ctx->cfg;
	struct job *j = job_new(r, JOB_BACKOFF);

	set_why(r, why);
	log_kv(LOG_WARNING, LOG_FIELDS("CERTIFICATE_ARN", r->arn),
	    "renewal of %s: %s; backing off", r->arn,
	    r->why != NULL ? r->why : "failed");
	j->a_ms = cfg->renewal_backoff_min_ms;
	j->b_ms = cfg->renewal_backoff_max_ms;
	j->detail = xstrdup(r->why != NULL ? r->why : "failed");
	metrics_renewal(r->s->ctx->metrics, "backoff");
	renewal_enter(r, RS_BACKOFF, NULL);
	job_submit(r, j);
}

/* reason: RenewalStatusReason (ACM's FailureReason). */
static void
renewal_fail(struct renewal *r, const char *reason, const char *why)
{
	const struct config *cfg = r->s->ctx->cfg;
	struct job *j = job_new(r, JOB_FAIL);

	set_why(r, why);
	log_kv(LOG_WARNING, LOG_FIELDS("CERTIFICATE_ARN", r->arn),
	    "renewal of %s FAILED (%s): %s; the certificate stays ISSUED; "
	    "the operator is notified", r->arn, reason, r->why);
	j->reason = xstrdup(reason);
	j->detail = xstrdup(r->why);
	j->a_ms = cfg->renewal_backoff_min_ms;
	j->b_ms = cfg->renewal_backoff_max_ms;
	notice_settings_from(r->s->ctx->cfg, &j->ns);
	j->notice_subject = xasprintf("Renewal of the certificate for %s "
	    "failed", r->names[0]);
	j->notice_body = xasprintf("certfleet could not renew the certificate "
	    "%s (%s) in account %s, region %s.\n\nReason: %s\n\nThe current "
	    "certificate stays in place until it expires. Approve the "
	    "validation emails (or give the names contacts: an MX record or "
	    "an RDAP contact), fix the names' DNS or endpoints, then call "
	    "RenewCertificate.\n", r->arn, r->names[0], cfg->account,
	    cfg->region, r->why);
	metrics_renewal(r->s->ctx->metrics, "failed");
	renewal_enter(r, RS_FAILED, NULL);
	job_submit(r, j);
}

static void
load_bindings(struct renewal *r)
{
	renewal_reset_checks(r);
	job_submit(r, job_new(r, JOB_BINDINGS));
}

static void
dns_done(const struct dns_check_result *res, void *arg)
{
	struct renewal *r = arg;

	r->dns_h = NULL;
	for (size_t i = 0; i < res->n_names; i++) {
		const struct dns_name_result *n = &res->names[i];

		if (n->verdict == DNS_CHECK_FAIL) {
			r->failed = true;
			set_why(r, n->reason);
			if (!strv_contains(r->failing, n->name)) {
				size_t k = strv_len(r->failing);

				r->failing = xrealloc(r->failing,
				    (k + 2) * sizeof(char *));
				r->failing[k] = xstrdup(n->name);
				r->failing[k + 1] = NULL;
			}
		} else if (n->verdict == DNS_CHECK_UNDECIDED) {
			r->undecided = true;
			set_why(r, n->reason);
		}
	}
	if (--r->pending == 0)
		renewal_enter(r, r->state, NULL);
}

/* The name whose endpoint failed: its SNI name when it is one of ours. */
static void
add_failing_endpoint(struct renewal *r, const struct store_renewal_binding *b)
{
	const char *name = r->names[0];
	size_t k;

	if (b->server_name != NULL && strv_contains(r->names, b->server_name))
		name = b->server_name;
	if (strv_contains(r->failing, name))
		return;
	k = strv_len(r->failing);
	r->failing = xrealloc(r->failing, (k + 2) * sizeof(char *));
	r->failing[k] = xstrdup(name);
	r->failing[k + 1] = NULL;
}

static void
probe_done(const struct tls_probe_result *res, void *arg)
{
	struct probe_slot *ps = arg;
	struct renewal *r = ps->r;
	const struct store_renewal_binding *b = &r->b[ps->i];

	ps->h = NULL;
	for (size_t i = 0; i < res->n_addrs; i++) {
		const struct tls_addr_result *a = &res->addrs[i];

		if (a->status == TLS_ADDR_OK)
			continue;
		log_kv(r->state == RS_VERIFYING ? LOG_WARNING : LOG_INFO,
		    LOG_FIELDS("CERTIFICATE_ARN", r->arn),
		    "renewal of %s: endpoint %s:%d (%s) at %s: %s%s%s", r->arn,
		    b->address, b->port, b->server_name ? b->server_name : "",
		    a->address, tls_addr_status_name(a->status),
		    a->error ? ": " : "", a->error ? a->error : "");
	}
	if (res->verdict == TLS_PROBE_UNDECIDED) {
		r->undecided = true;
		set_why(r, res->error != NULL ? res->error :
		    "an endpoint could not be probed");
	} else if (res->verdict == TLS_PROBE_FAIL) {
		_cleanup_free_ char *why = xasprintf("endpoint %s:%d does not "
		    "serve the %s certificate on every address", b->address,
		    b->port, r->state == RS_VERIFYING ? "new" : "current");

		r->failed = true;
		set_why(r, why);
		add_failing_endpoint(r, b);
	}
	if (--r->pending == 0)
		renewal_enter(r, r->state, NULL);
}

/* Probes every binding's endpoint for the current fingerprint. */
static int
start_probes(struct renewal *r)
{
	_cleanup_free_ char *err = NULL;

	r->probes = xcalloc(r->nb + 1, sizeof(*r->probes));
	for (size_t i = 0; i < r->nb; i++) {
		const struct store_renewal_binding *b = &r->b[i];
		struct tls_endpoint ep = { b->address, (uint16_t)b->port,
		    b->server_name };

		r->probes[i] = (struct probe_slot){ r, i, NULL };
		if (b->address == NULL || b->port == 0)
			continue;
		r->pending++;
		if (tls_probe_start(r->s->tls, &ep, r->fingerprint, probe_done,
		    &r->probes[i], &r->probes[i].h, &err) < 0) {
			r->pending--;
			r->undecided = true;
			set_why(r, err);
		}
	}
	return r->pending;
}

static void
start_checks(struct renewal *r)
{
	size_t n = strv_len(r->names);

	strv_free(r->failing);
	r->failing = NULL;
	r->pending = 1;	/* held until everything is started */
	r->pending++;
	if (dns_check_start(r->s->dns, (const char *const *)r->names, n,
	    dns_done, r, &r->dns_h) < 0) {
		r->pending--;
		r->undecided = true;
		set_why(r, "the DNS check could not start");
	}
	start_probes(r);
	if (--r->pending == 0)
		renewal_enter(r, r->state, NULL);
}

/* All checks of CHECKING are in: issue, fall back, or back off. */
static void
checks_decided(struct renewal *r)
{
	struct job *j;

	if (!r->failed && r->undecided) {
		renewal_backoff(r, NULL);
		return;
	}
	j = job_new(r, JOB_NAMES);
	j->all_names = strv_copy(r->names);
	j->names = strv_copy(r->failing);
	j->detail = r->why != NULL ? xstrdup(r->why) : NULL;
	j->state = xstrdup(r->failed ? "VALIDATING" : "ISSUING");
	job_submit(r, j);
}

static void
issue(struct renewal *r)
{
	struct job *j = job_new(r, JOB_ISSUE);
	unsigned char b[16];
	char hex[33];

	if (RAND_bytes(b, sizeof(b)) != 1) {
		renewal_backoff(r, "no randomness for a serial");
		job_free(j);
		return;
	}
	b[0] &= 0x7f;	/* positive, as RFC 5280 wants */
	b[0] |= 0x01 << 6;
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	j->serial = xstrdup(hex);
	j->a_ms = r->s->ctx->cfg->renewal_lease_duration_ms;
	job_submit(r, j);
}

static void
poll_issued(struct renewal *r)
{
	struct job *j = job_new(r, JOB_ISSUED);

	j->version = r->version;
	job_submit(r, j);
}

/* Records a state, then enters it (job_done). */
static void
goto_state(struct renewal *r, enum rstate next)
{
	struct job *j = job_new(r, JOB_STATE);

	j->state = xstrdup(rstate_names[next]);
	j->a_ms = r->s->ctx->cfg->renewal_verify_timeout_ms;
	job_submit(r, j);
}

static void
deployed_local(int rc, const struct deploy_result *results, size_t n,
    void *arg)
{
	for (size_t i = 0; i < n; i++)
		if (results[i].rc < 0)
			log_kv(LOG_WARNING, LOG_FIELDS("CERTIFICATE_ARN",
			    results[i].certificate_arn),
			    "renewal of %s: deploying binding %s failed: %s",
			    results[i].certificate_arn, results[i].binding_arn,
			    results[i].error ? results[i].error : "error");
}

/*
 * This host's bindings of the certificate, each deployed and reloaded
 * even when its files are already there: a retry after a stale endpoint
 * must run the reload action again. Other hosts deploy theirs (their
 * ticks see the bindings that lack the current version).
 */
static void
deploy_local(struct renewal *r)
{
	struct daemon_ctx *ctx = r->s->ctx;

	r->deploy_asked = true;
	if (ctx->deployer == NULL)
		return;
	for (size_t i = 0; i < r->nb; i++)
		if (strcmp(r->b[i].host_name, ctx->cfg->host_name) == 0)
			deploy_binding(ctx->deployer, r->b[i].id,
			    deployed_local, NULL);
}

/* Whether every binding has the current version. */
static bool
all_deployed(struct renewal *r, int version)
{
	for (size_t i = 0; i < r->nb; i++)
		if (r->b[i].deployed_version != version)
			return false;
	return true;
}

static void
record_probes(struct renewal *r)
{
	struct job *j = job_new(r, JOB_PROBED);

	j->n_probe = r->nb;
	j->probe_ids = xcalloc(r->nb + 1, sizeof(int64_t));
	j->probe_fp = xcalloc(r->nb + 1, sizeof(char *));
	j->probe_err = xcalloc(r->nb + 1, sizeof(char *));
	for (size_t i = 0; i < r->nb; i++)
		j->probe_ids[i] = r->b[i].id;
	/* Only the outcome is known here; the detail went to the journal. */
	for (size_t i = 0; i < r->nb; i++) {
		j->probe_fp[i] = xstrdup(r->failed ? "" : r->fingerprint);
		j->probe_err[i] = r->failed ? xstrdup(r->why) : NULL;
	}
	dbpool_submit(r->s->ctx->pool, job_work, job_done, j);
}

static bool
deadline_passed(const struct renewal *r)
{
	return clock_ms(CLOCK_MONOTONIC) >= r->deadline_ms;
}

static void
step_deploying(struct renewal *r)
{
	if (!r->loaded) {
		load_bindings(r);
	} else if (!r->deploy_asked) {
		deploy_local(r);
		renewal_reset_checks(r);
		timer_in(r, POLL_MS);
	} else if (all_deployed(r, r->version)) {
		renewal_reset_checks(r);
		goto_state(r, RS_VERIFYING);
	} else if (deadline_passed(r)) {
		renewal_backoff(r, "not every binding got the new certificate "
		    "in time");
	} else {
		renewal_reset_checks(r);
		timer_in(r, POLL_MS);
	}
}

static void
step_verifying(struct renewal *r)
{
	struct job *j;

	if (!r->loaded) {
		load_bindings(r);
		return;
	}
	if (r->probes == NULL) {
		r->failed = r->undecided = false;
		if (start_probes(r) > 0)
			return;
	}
	if (r->pending > 0)
		return;
	if (!r->failed && !r->undecided) {
		record_probes(r);
		j = job_new(r, JOB_DONE);
		j->a_ms = r->s->ctx->cfg->renewal_renew_before_ms;
		job_submit(r, j);
	} else if (deadline_passed(r)) {
		record_probes(r);
		renewal_backoff(r, NULL);
	} else {
		log_kv(LOG_WARNING, LOG_FIELDS("CERTIFICATE_ARN", r->arn),
		    "renewal of %s: stale endpoint: %s; probing again",
		    r->arn, r->why);
		metrics_stale_endpoint(r->s->ctx->metrics);
		free(r->why);
		r->why = NULL;
		probes_cancel(r);
		timer_in(r, REPROBE_MS);
	}
}

/*
 * What a state does next, from what the renewal has: called when the
 * state is entered and again when a step of it completes (a job, the
 * checks, a timer).
 */
static void
renewal_step(struct renewal *r)
{
	switch (r->state) {
	case RS_CHECKING:
		if (!r->loaded)
			load_bindings(r);
		else if (r->probes == NULL)
			start_checks(r);
		else if (r->pending == 0)
			checks_decided(r);
		break;
	case RS_ISSUING:
		if (!r->intent_written)
			issue(r);
		else
			poll_issued(r);
		break;
	case RS_DEPLOYING:
		step_deploying(r);
		break;
	case RS_VERIFYING:
		step_verifying(r);
		break;
	case RS_VALIDATING:
		job_submit(r, job_new(r, JOB_VALIDATION));
		break;
	default:
		break;
	}
}

static void
log_transition(const struct renewal *r, enum rstate next, const char *why)
{
	log_kv(LOG_INFO, LOG_FIELDS("CERTIFICATE_ARN", r->arn),
	    "renewal of %s: %s -> %s%s%s", r->arn, rstate_names[r->state],
	    rstate_names[next], why ? ": " : "", why ? why : "");
}

/* The one place a renewal changes state; logs old -> new. */
static void
renewal_enter(struct renewal *r, enum rstate next, const char *why)
{
	const struct config *cfg = r->s->ctx->cfg;
	bool entered = next != r->state;

	if (entered)
		log_transition(r, next, why);
	r->state = next;
	if (!entered) {
		renewal_step(r);
		return;
	}
	switch (next) {
	case RS_DEPLOYING:
		r->deadline_ms = clock_ms(CLOCK_MONOTONIC) +
		    cfg->renewal_verify_timeout_ms;
		r->deploy_asked = false;
		break;
	case RS_VERIFYING:
		r->deadline_ms = clock_ms(CLOCK_MONOTONIC) +
		    cfg->renewal_verify_timeout_ms;
		break;
	case RS_DONE:
	case RS_LOST:
		renewal_end(r);
		return;
	case RS_BACKOFF:
	case RS_FAILED:
		return;	/* ends when its job is written */
	default:
		break;
	}
	renewal_step(r);
}

static enum rstate
state_from_name(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(rstate_names); i++)
		if (name != NULL && strcmp(name, rstate_names[i]) == 0)
			return (enum rstate)i;
	return RS_CHECKING;
}

/* A name nobody can approve ends the renewal before anything else. */
static void
validation_decided(struct renewal *r, const struct job *j)
{
	_cleanup_free_ char *why = NULL;

	if (j->failed > 0) {
		why = xasprintf("no validation email could be sent for %d "
		    "name%s (%s)", j->failed, j->failed == 1 ? "" : "s",
		    j->failed_detail != NULL ? j->failed_detail : "");
		renewal_fail(r, "NO_AVAILABLE_CONTACTS", why);
	} else if (j->pending == 0) {
		renewal_enter(r, RS_ISSUING, "every name approved");
	} else if (r->overdue) {
		/* ACM has no reason for "nobody approved in time"; the
		 * detail says it. */
		renewal_fail(r, "OTHER", "the validation emails were not "
		    "approved in time");
	} else {
		job_submit(r, job_new(r, JOB_WAIT));	/* then ends */
	}
}

static void
job_applied(struct renewal *r, struct job *j)
{
	switch (j->kind) {
	case JOB_BINDINGS:
		r->b = TAKE_PTR(j->b);
		r->nb = j->nb;
		r->fingerprint = TAKE_PTR(j->fingerprint);
		r->loaded = true;
		if (r->nb == 0)
			renewal_backoff(r, "the certificate is no longer in use");
		else
			renewal_step(r);
		break;
	case JOB_NAMES:
		if (strcmp(j->state, "VALIDATING") == 0) {
			struct job *v = job_new(r, JOB_VALIDATE);

			v->a_ms = r->s->ctx->cfg->validation_timeout_ms;
			log_kv(LOG_WARNING, LOG_FIELDS("CERTIFICATE_ARN",
			    r->arn), "renewal of %s: %s; falling back to "
			    "email validation", r->arn, r->why);
			job_submit(r, v);
		} else {
			renewal_enter(r, RS_ISSUING, NULL);
		}
		break;
	case JOB_ISSUE:
		r->version = j->version;
		r->intent_written = true;
		request_flow_kick(API_KICK_ISSUER, r->s->ctx);
		timer_in(r, POLL_MS);
		break;
	case JOB_ISSUED:
		if (j->done)
			goto_state(r, RS_DEPLOYING);
		else
			timer_in(r, POLL_MS);
		break;
	case JOB_STATE:
		renewal_enter(r, state_from_name(j->state), NULL);
		break;
	case JOB_DONE:
		log_kv(LOG_NOTICE, LOG_FIELDS("CERTIFICATE_ARN", r->arn),
		    "renewed %s: version %d deployed and served by every "
		    "endpoint", r->arn, r->version);
		metrics_renewal(r->s->ctx->metrics, "success");
		renewal_enter(r, RS_DONE, NULL);
		break;
	case JOB_VALIDATE:
		/* The lease is released: whoever claims it next (after an
		 * approval or at the deadline) resumes VALIDATING. */
		log_transition(r, RS_VALIDATING, "waiting for approval");
		metrics_renewal(r->s->ctx->metrics, "validation");
		renewal_end(r);
		break;
	case JOB_VALIDATION:
		validation_decided(r, j);
		break;
	case JOB_FAIL:
		request_flow_kick(API_KICK_OUTBOX, r->s->ctx);
		renewal_end(r);
		break;
	case JOB_BACKOFF:
	case JOB_WAIT:
		renewal_end(r);
		break;
	case JOB_PROBED:
		break;
	}
}

static void
job_done(int rc, void *arg)
{
	struct job *j = arg;
	struct scheduler *s = j->s;
	struct renewal *r = NULL;

	if (j->kind != JOB_PROBED && !s->stopping)
		r = renewal_find(s, j->seq);
	if (r != NULL)
		r->busy = false;
	if (rc < 0 && (j->kind == JOB_PROBED || r == NULL))
		log_debug("renewal job %d: %s", (int)j->kind, j->err);
	if (r == NULL || j->kind == JOB_PROBED) {
		job_free(j);
		return;
	}
	if (rc == -ESTALE) {
		renewal_enter(r, RS_LOST, "another daemon took the lease over");
	} else if (rc == -EPIPE) {
		r->intent_written = false;
		renewal_backoff(r, j->err);
	} else if (rc < 0) {
		log_kv(LOG_WARNING, LOG_FIELDS("CERTIFICATE_ARN", r->arn),
		    "renewal of %s: %s; left to its lease, ignoring", r->arn,
		    j->err ? j->err : "database error");
		renewal_end(r);
	} else {
		job_applied(r, j);
	}
	job_free(j);
}

static void
renewal_timer(evutil_socket_t fd, short what, void *arg)
{
	renewal_step(arg);
}

void
renewal_start(struct scheduler *s, struct store_renewal *c)
{
	struct renewal *r = xcalloc(1, sizeof(*r));
	enum rstate st = state_from_name(c->state);

	r->s = s;
	r->seq = ++s->next_seq;
	r->id = c->id;
	r->arn = TAKE_PTR(c->arn);
	r->names = TAKE_PTR(c->names);
	r->version = c->renewal_version;
	r->overdue = c->overdue;
	r->timer = evtimer_new(s->ctx->base, renewal_timer, r);
	/* The state before this claim: a takeover resumes it, except that
	 * an unverified deployment is deployed again, then verified. */
	r->state = RS_CHECKING;
	if (st == RS_VERIFYING)
		st = RS_DEPLOYING;
	if (c->overdue && st != RS_VALIDATING)
		log_kv(LOG_WARNING, LOG_FIELDS("CERTIFICATE_ARN", r->arn),
		    "renewal of %s: %s past its deadline; resuming", r->arn,
		    rstate_names[st]);
	TAILQ_INSERT_TAIL(&s->live, r, entry);
	s->n_live++;
	if (c->started != NULL) {
		log_kv(LOG_INFO, LOG_FIELDS("CERTIFICATE_ARN", r->arn),
		    "renewal of %s starts (%s)", r->arn, c->started);
		metrics_renewal_started(s->ctx->metrics, c->started);
	}
	if (st == RS_CHECKING)
		renewal_step(r);
	else
		renewal_enter(r, st, "resumed");
}

void
renewal_lost(struct renewal *r, const char *why)
{
	renewal_enter(r, RS_LOST, why);
}

/* Only a renewal that waits for the poll timer, not one with a job out. */
void
renewal_issue_committed(struct renewal *r)
{
	if (r->state == RS_ISSUING && r->intent_written && !r->busy &&
	    evtimer_pending(r->timer, NULL)) {
		evtimer_del(r->timer);
		renewal_step(r);
	}
}

void
renewal_deploy_finished(struct renewal *r)
{
	if (r->state == RS_DEPLOYING && !r->busy &&
	    evtimer_pending(r->timer, NULL)) {
		evtimer_del(r->timer);
		renewal_step(r);
	}
}
