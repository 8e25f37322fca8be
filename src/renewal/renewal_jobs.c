/*
 * renewal_jobs.c: the renewal scheduler's database jobs (see
 * renewal_jobs.h). Each function here runs on a dbpool thread with a
 * connection of its own and only translates a job struct into calls of
 * store/renewal.h; what a result means for a renewal is decided on the
 * loop thread (machine.c, scheduler.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "daemon/config.h"
#include "renewal/expiry.h"
#include "renewal/renewal_jobs.h"
#include "store/db.h"
#include "store/renewal.h"
#include "store/store.h"

/* Rows per batch of due-time computation and of expiry work. */
#define REFRESH_BATCH 1000
#define EXPIRY_BATCH 500

/* ---- one renewal's steps ------------------------------------------------ */

void
job_free(struct job *j)
{
	if (j == NULL)
		return;
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
	free(j->failed_detail);
	free(j);
}

void
notice_settings_from(const struct config *cfg, struct notice_settings *ns)
{
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

int
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
		    &j->failed, &j->failed_detail, &j->err);
	case JOB_FAIL:
		return work_fail(conn, j);
	case JOB_PROBED:
		return work_probed(conn, j);
	case JOB_WAIT:
		return store_renewal_wait(conn, j->owner, j->id, &j->err);
	}
	return -EINVAL;
}

/* ---- the scan ----------------------------------------------------------- */

void
tick_job_free(struct tick_job *t)
{
	if (t == NULL)
		return;
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

int
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

int
release_work(PGconn *conn, void *arg)
{
	struct tick_job *t = arg;

	return store_renewal_release(conn, t->owner, t->live, t->n_live,
	    &t->err);
}
