/*
 * scheduler.c: the renewal scheduler (see scheduler.h). Everything it
 * decides comes from the database: a tick claims what is due, and each
 * claimed certificate becomes a struct renewal that walks the states
 * below, writing each step before taking the next, so that a daemon that
 * takes over an expired lease resumes where this one stopped.
 *
 *   CHECKING -> ISSUING -> DEPLOYING -> VERIFYING -> DONE
 *       \-> VALIDATING (waits for approval with no lease) -> ISSUING
 *   any state -> BACKOFF (temporary failure, state kept) or FAILED
 *
 * The loop thread owns every struct renewal; database jobs and checks
 * find theirs again by sequence number (database jobs) or through handles
 * cancelled when the renewal ends (checks, probes, timers).
 */
#include <errno.h>
#include <inttypes.h>
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
#include "renewal/deploy.h"
#include "renewal/dns_check.h"
#include "renewal/expiry.h"
#include "renewal/scheduler.h"
#include "renewal/tls_probe.h"
#include "store/db.h"
#include "store/renewal.h"
#include "store/store.h"

/* The wall clock compared with the monotonic one this often ... */
#define CLOCK_WATCH_MS 1000
/* ... and a difference beyond this is a step: re-scan at once. */
#define CLOCK_STEP_MS 2000
/* Rows per batch of due-time computation and of expiry work. */
#define REFRESH_BATCH 1000
#define EXPIRY_BATCH 500
/* Re-check an issuance or the deployments this often. */
#define POLL_MS 500
/* Re-probe a stale endpoint this often. */
#define REPROBE_MS 1000

enum rstate {
	RS_CHECKING,
	RS_ISSUING,
	RS_DEPLOYING,
	RS_VERIFYING,
	RS_VALIDATING,
	RS_DONE,
	RS_BACKOFF,
	RS_FAILED,
	RS_LOST,
};

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

struct renewal;

/* One probe of one binding's endpoint, cancelled with its renewal. */
struct probe_slot {
	struct renewal *r;
	size_t i;			/* binding index */
	struct tls_probe *h;
};

struct renewal {
	TAILQ_ENTRY(renewal) entry;
	struct scheduler *s;
	uint64_t seq;			/* how database jobs find it again */
	int64_t id;			/* certificates.id */
	char *arn;
	char **names;
	enum rstate state;
	int version;			/* the version being produced */
	bool overdue;			/* claimed past its state's deadline */
	int64_t deadline_ms;		/* monotonic, for VERIFYING */
	/* The checks and probes of the current state. */
	int pending;
	bool failed, undecided;
	char *why;			/* first failure, for the record */
	char **failing;			/* names for the fallback */
	struct store_renewal_binding *b;
	size_t nb;
	char *fingerprint;		/* of the current version */
	struct dns_check *dns_h;
	struct probe_slot *probes;
	struct event *timer;		/* polls and re-probes */
	bool loaded;			/* b, nb, fingerprint are read */
	bool intent_written;		/* ISSUING: the intent exists */
	bool deploy_asked;		/* DEPLOYING: this host's bindings
					   were asked to deploy */
	bool busy;			/* a database job is out */
};
TAILQ_HEAD(renewal_list, renewal);

struct scheduler {
	struct daemon_ctx *ctx;
	char owner[160];		/* lease owner: host/pid/random */
	struct event *tick_timer, *clock_timer;
	struct dns_checker *dns;
	struct tls_prober *tls;
	struct renewal_list live;
	int n_live;
	uint64_t next_seq;
	int64_t last_wall_ms, last_mono_ms;
	bool ticking;			/* a tick job is out */
	bool again;			/* tick once more when it returns */
	bool started, stopping;
};

static void renewal_enter(struct renewal *r, enum rstate next,
    const char *why);
static void tick(struct scheduler *s);

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

static struct renewal *
renewal_find(struct scheduler *s, uint64_t seq)
{
	struct renewal *r;

	TAILQ_FOREACH(r, &s->live, entry)
		if (r->seq == seq)
			return r;
	return NULL;
}

static void
renewal_end(struct renewal *r)
{
	struct scheduler *s = r->s;

	TAILQ_REMOVE(&s->live, r, entry);
	s->n_live--;
	renewal_free(r);
}

/* ---- database jobs ----------------------------------------------------- */

enum job_kind {
	JOB_BINDINGS,		/* load bindings (+ current fingerprint) */
	JOB_NAMES,		/* record per-name DNS results, then a state */
	JOB_ISSUE,		/* write the RENEWAL intent */
	JOB_ISSUED,		/* is the new version committed? */
	JOB_STATE,		/* record a state (DEPLOYING, VERIFYING) */
	JOB_DONE,
	JOB_BACKOFF,
	JOB_VALIDATE,		/* enter the fallback */
	JOB_VALIDATION,		/* where a fallback stands */
	JOB_FAIL,
	JOB_PROBED,		/* record what endpoints served */
	JOB_WAIT,		/* a fallback goes on waiting */
};

struct job {
	struct scheduler *s;
	uint64_t seq;
	enum job_kind kind;
	int64_t id;
	const char *owner;	/* the scheduler's, fixed */
	/* in */
	char *state, *detail, *serial, *reason;
	int64_t a_ms, b_ms;	/* deadline, backoff bounds, renew_before */
	char **names;		/* JOB_NAMES: failing names */
	char **all_names;
	char **probe_fp, **probe_err;	/* JOB_PROBED, per binding */
	int64_t *probe_ids;
	size_t n_probe;
	char *notice_subject, *notice_body;
	struct notice_settings ns;
	/* out */
	int rc;
	char *err;
	struct store_renewal_binding *b;
	size_t nb;
	char *fingerprint;
	int version;
	bool done;
	int pending;
};

static void
job_free(struct job *j)
{
	free(j->state);
	free(j->detail);
	free(j->serial);
	free(j->reason);
	strv_free(j->names);
	strv_free(j->all_names);
	strv_free(j->probe_fp);
	strv_free(j->probe_err);
	free(j->probe_ids);
	free(j->notice_subject);
	free(j->notice_body);
	notice_settings_clear(&j->ns);
	free(j->err);
	store_renewal_bindings_free(j->b, j->nb);
	free(j->fingerprint);
	free(j);
}

static void
notice_settings_from(struct scheduler *s, struct notice_settings *ns)
{
	const struct config *cfg = s->ctx->cfg;

	ns->email = xstrdup(cfg->email);
	ns->sender = cfg->mail_from[0] != '\0' ? xstrdup(cfg->mail_from) :
	    xasprintf("certfleet@%s", cfg->host_name);
	ns->host_name = xstrdup(cfg->host_name);
	ns->account = xstrdup(cfg->account);
	ns->region = xstrdup(cfg->region);
	ns->interval_ms = cfg->notify_expiry_interval_ms;
}

static int
work_names(PGconn *conn, struct job *j)
{
	int r = 0;

	for (char **n = j->all_names; r == 0 && n && *n; n++)
		r = store_renewal_name_result(conn, j->id, *n,
		    !strv_contains(j->names, *n), strv_contains(j->names, *n) ?
		    j->detail : NULL, &j->err);
	return r;
}

static int
work_probed(PGconn *conn, struct job *j)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < j->n_probe; i++)
		r = store_renewal_probed(conn, j->probe_ids[i], j->probe_fp[i],
		    j->probe_err[i], &j->err);
	return r;
}

static int
work_fail(PGconn *conn, struct job *j)
{
	_cleanup_free_ char *msg = NULL, *id = NULL;
	struct store_notice n = { 0 };
	int r;

	if (j->ns.email != NULL && j->ns.email[0] != '\0') {
		if ((r = notice_build(&j->ns, j->notice_subject,
		    j->notice_body, &msg, &id, &j->err)) < 0)
			return r;
		n = (struct store_notice){ .message_id = id,
		    .sender = j->ns.sender, .recipient = j->ns.email,
		    .body = msg, .kind = "RENEWAL" };
	}
	return store_renewal_fail(conn, j->owner, j->id, j->reason, j->detail,
	    j->a_ms, j->b_ms, msg != NULL ? &n : NULL, &j->err);
}

static int
job_work(PGconn *conn, void *arg)
{
	struct job *j = arg;

	switch (j->kind) {
	case JOB_BINDINGS:
		return store_renewal_bindings(conn, j->id, &j->b, &j->nb,
		    &j->fingerprint, &j->err);
	case JOB_NAMES:
		return work_names(conn, j);
	case JOB_ISSUE:
		return store_renewal_issue(conn, j->owner, j->id, j->serial,
		    j->a_ms, &j->version, &j->err);
	case JOB_ISSUED:
		return store_renewal_issued(conn, j->id, j->version, &j->done,
		    &j->err);
	case JOB_STATE:
		return store_renewal_set_state(conn, j->owner, j->id, j->state,
		    j->a_ms, j->detail, &j->err);
	case JOB_DONE:
		return store_renewal_done(conn, j->owner, j->id, j->a_ms,
		    &j->err);
	case JOB_BACKOFF:
		return store_renewal_backoff(conn, j->owner, j->id, j->a_ms,
		    j->b_ms, j->detail, &j->err);
	case JOB_VALIDATE:
		return store_renewal_validate(conn, j->owner, j->id, j->a_ms,
		    &j->err);
	case JOB_VALIDATION:
		return store_renewal_pending_names(conn, j->id, &j->pending,
		    &j->err);
	case JOB_FAIL:
		return work_fail(conn, j);
	case JOB_PROBED:
		return work_probed(conn, j);
	case JOB_WAIT:
		return store_renewal_wait(conn, j->owner, j->id, &j->err);
	}
	return -EINVAL;
}

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

static void
renewal_fail(struct renewal *r, const char *why)
{
	const struct config *cfg = r->s->ctx->cfg;
	struct job *j = job_new(r, JOB_FAIL);

	set_why(r, why);
	log_kv(LOG_WARNING, LOG_FIELDS("CERTIFICATE_ARN", r->arn),
	    "renewal of %s FAILED: %s; the operator is notified", r->arn,
	    r->why);
	/* ACM has no reason for "nobody approved in time"; the detail says it. */
	j->reason = xstrdup("OTHER");
	j->detail = xstrdup(r->why);
	j->a_ms = cfg->renewal_backoff_min_ms;
	j->b_ms = cfg->renewal_backoff_max_ms;
	notice_settings_from(r->s, &j->ns);
	j->notice_subject = xasprintf("Renewal of the certificate for %s "
	    "failed", r->names[0]);
	j->notice_body = xasprintf("certfleet could not renew the certificate "
	    "%s (%s) in account %s, region %s.\n\nReason: %s\n\nThe current "
	    "certificate stays in place until it expires. Approve the "
	    "validation emails, fix the names' DNS or endpoints, then call "
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

static void
validation_decided(struct renewal *r, int pending)
{
	if (pending == 0) {
		renewal_enter(r, RS_ISSUING, "every name approved");
	} else if (r->overdue) {
		renewal_fail(r, "the validation emails were not approved in "
		    "time");
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
		validation_decided(r, j->pending);
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

static void
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
	if (st == RS_CHECKING)
		renewal_step(r);
	else
		renewal_enter(r, st, "resumed");
}

/* ---- the tick ----------------------------------------------------------- */

struct tick_job {
	struct scheduler *s;
	const char *owner;
	char *host_name;
	int64_t renew_before_ms, lease_ms;
	int limit;
	struct notice_settings ns;
	int64_t *live;			/* leases to extend */
	bool *lost;
	size_t n_live;
	uint64_t *live_seq;
	struct store_renewal *claimed;
	size_t n_claimed;
	int64_t *deploys;		/* this host's bindings to deploy */
	size_t n_deploys;
	struct expiry_report expiry;
	bool more;
	char *err;
};

static void
tick_job_free(struct tick_job *t)
{
	free(t->host_name);
	notice_settings_clear(&t->ns);
	free(t->live);
	free(t->lost);
	free(t->live_seq);
	store_renewals_free(t->claimed, t->n_claimed);
	free(t->deploys);
	expiry_report_clear(&t->expiry);
	free(t->err);
	free(t);
}

static int
tick_work(PGconn *conn, void *arg)
{
	struct tick_job *t = arg;
	size_t n = REFRESH_BATCH;
	int r = 0;

	for (int i = 0; r == 0 && i < 10 && n == REFRESH_BATCH; i++)
		r = store_renewal_refresh_due(conn, t->renew_before_ms,
		    REFRESH_BATCH, &n, &t->err);
	if (r == 0 && n == REFRESH_BATCH)
		t->more = true;
	if (r == 0 && t->n_live > 0)
		r = store_renewal_heartbeat(conn, t->owner, t->lease_ms,
		    t->live, t->n_live, t->lost, &t->err);
	if (r == 0 && t->limit > 0)
		r = store_renewal_claim(conn, t->owner, t->lease_ms, t->limit,
		    &t->claimed, &t->n_claimed, &t->err);
	if (r == 0)
		r = store_renewal_local_deploys(conn, t->host_name,
		    &t->deploys, &t->n_deploys, &t->err);
	if (r == 0)
		r = expiry_run(conn, &t->ns, EXPIRY_BATCH, &t->expiry,
		    &t->err);
	if (r == 0 && t->expiry.more)
		t->more = true;
	return r;
}

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
			renewal_enter(r, RS_LOST, "the lease was lost");
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
	notice_settings_from(s, &t->ns);
	t->live = xcalloc((size_t)s->n_live + 1, sizeof(*t->live));
	t->lost = xcalloc((size_t)s->n_live + 1, sizeof(*t->lost));
	t->live_seq = xcalloc((size_t)s->n_live + 1, sizeof(*t->live_seq));
	TAILQ_FOREACH(r, &s->live, entry) {
		t->live[i] = r->id;
		t->live_seq[i++] = r->seq;
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
 * Due times are wall-clock values: when the wall clock moves against the
 * monotonic one (an NTP step, a resume from suspend), what is due changed
 * without any timer noticing, so scan at once.
 */
static void
clock_watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct scheduler *s = arg;
	int64_t wall = clock_ms(CLOCK_REALTIME);
	int64_t mono = clock_ms(CLOCK_MONOTONIC);
	int64_t step = (wall - s->last_wall_ms) - (mono - s->last_mono_ms);

	s->last_wall_ms = wall;
	s->last_mono_ms = mono;
	if (step > CLOCK_STEP_MS || step < -CLOCK_STEP_MS) {
		log_notice("the wall clock stepped by %+" PRId64 " ms; "
		    "scanning for due renewals now", step);
		tick(s);
	}
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
	};
	struct tls_prober_settings ts = {
		.timeout_ms = (int)cfg->renewal_probe_timeout_ms,
		.max_in_flight = (unsigned)cfg->renewal_probe_max_in_flight,
		.max_per_host = (unsigned)cfg->renewal_probe_max_per_host,
		.ca_pem = ctx->ca != NULL ? ca_root_pem(ctx->ca) : NULL,
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
	s->clock_timer = event_new(ctx->base, -1, EV_PERSIST, clock_watch_cb,
	    s);
	return s;
}

void
scheduler_start(struct scheduler *s)
{
	_cleanup_free_ char *err = NULL;
	struct timeval tv = { CLOCK_WATCH_MS / 1000,
	    (CLOCK_WATCH_MS % 1000) * 1000 };

	if (s == NULL || s->started)
		return;
	if (make_checkers(s, &err) < 0) {
		log_error("renewal checks cannot start: %s; no certificate "
		    "will be renewed by this daemon", err);
		return;
	}
	s->started = true;
	s->last_wall_ms = clock_ms(CLOCK_REALTIME);
	s->last_mono_ms = clock_ms(CLOCK_MONOTONIC);
	event_add(s->clock_timer, &tv);
	tick(s);
}

void
scheduler_kick(struct scheduler *s)
{
	if (s != NULL)
		tick(s);
}

void
scheduler_deployed(struct scheduler *s, int64_t binding_id, int rc)
{
	struct renewal *r;

	if (s == NULL || s->stopping)
		return;
	TAILQ_FOREACH(r, &s->live, entry)
		if (r->state == RS_DEPLOYING && !r->busy &&
		    evtimer_pending(r->timer, NULL)) {
			evtimer_del(r->timer);
			renewal_step(r);
		}
}

static int
release_work(PGconn *conn, void *arg)
{
	struct tick_job *t = arg;

	return store_renewal_release(conn, t->owner, t->live, t->n_live,
	    &t->err);
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
	event_del(s->clock_timer);
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
	if (s->clock_timer != NULL)
		event_free(s->clock_timer);
	free(s);
}
