/*
 * renewal_jobs.h: private to src/renewal. The database side of the
 * renewal scheduler: the jobs that scheduler.c (the scan) and machine.c
 * (one renewal's states) hand to the dbpool, each a struct carrying what
 * its SQL needs in and what it read out, and the functions that run them
 * on a database thread. Nothing here touches the event loop or a struct
 * renewal: a job finds its renewal again by sequence number when it
 * returns to the loop thread (machine.c).
 */
#ifndef CERTFLEET_RENEWAL_RENEWAL_JOBS_H
#define CERTFLEET_RENEWAL_RENEWAL_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "renewal/expiry.h"

typedef struct pg_conn PGconn;
struct config;
struct scheduler;
struct store_renewal;
struct store_renewal_binding;

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

/* One database step of one renewal. */
struct job {
	struct scheduler *s;
	uint64_t seq;		/* the renewal's, to find it again */
	enum job_kind kind;
	int64_t id;		/* certificates.id */
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
	int pending;		/* JOB_VALIDATION: names still waiting */
	int failed;		/* JOB_VALIDATION: names nobody can approve */
	char *failed_detail;	/* JOB_VALIDATION: the first of them, why */
};

/* Runs j on a database thread (a dbpool work function). */
int job_work(PGconn *conn, void *arg);
void job_free(struct job *j);

/* One scan: what the tick reads and writes in one database job. */
struct tick_job {
	struct scheduler *s;
	const char *owner;
	char *host_name;
	int64_t renew_before_ms, lease_ms;
	int limit;			/* most rows to claim */
	struct notice_settings ns;
	int64_t *live;			/* leases to extend */
	bool *lost;			/* out: per live, taken over */
	size_t n_live;
	uint64_t *live_seq;
	struct store_renewal *claimed;
	size_t n_claimed;
	int64_t *deploys;		/* this host's bindings to deploy */
	size_t n_deploys;
	struct expiry_report expiry;
	bool more;			/* work was left: scan again now */
	char *err;
};

/* The scan (a dbpool work function). */
int tick_work(PGconn *conn, void *arg);
/* Gives up the leases in t->live (a dbpool work function). */
int release_work(PGconn *conn, void *arg);
void tick_job_free(struct tick_job *t);

/* The operator-notice settings from the configuration, copied. */
void notice_settings_from(const struct config *cfg,
    struct notice_settings *ns);

#endif
