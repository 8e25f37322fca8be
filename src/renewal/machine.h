/*
 * machine.h: private to src/renewal. The scheduler's shared state and the
 * per-certificate renewal state machine (machine.c) that scheduler.c (the
 * timer and the scan) starts for each claimed certificate. Everything runs
 * on the loop thread.
 */
#ifndef CERTFLEET_RENEWAL_MACHINE_H
#define CERTFLEET_RENEWAL_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

struct clock_step;
struct daemon_ctx;
struct dns_check;
struct dns_checker;
struct event;
struct renewal;
struct store_renewal;
struct store_renewal_binding;
struct tls_probe;
struct tls_prober;

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

/* One probe of one binding's endpoint, cancelled with its renewal. */
struct probe_slot {
	struct renewal *r;
	size_t i;			/* binding index */
	struct tls_probe *h;
};

/* One claimed certificate, from its claim until it ends or waits. */
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

/* One per daemon (scheduler.h). */
struct scheduler {
	struct daemon_ctx *ctx;
	char owner[160];		/* lease owner: host/pid/random */
	struct event *tick_timer;
	struct clock_step *clock;	/* tells of wall-clock steps */
	struct dns_checker *dns;
	struct tls_prober *tls;
	struct renewal_list live;
	int n_live;
	uint64_t next_seq;
	bool ticking;			/* a tick job is out */
	bool backlog;			/* the last scan filled every slot */
	int64_t heartbeat_ms;		/* monotonic: leases last renewed */
	bool again;			/* tick once more when it returns */
	bool started, stopping;
};

/* A claimed certificate becomes a live renewal that resumes its state. */
void renewal_start(struct scheduler *s, struct store_renewal *c);

/* The live renewal with this sequence number, or NULL. */
struct renewal *renewal_find(struct scheduler *s, uint64_t seq);

/* The lease went to another daemon: stop without writing anything. */
void renewal_lost(struct renewal *r, const char *why);

/* Drops a live renewal (cancels its checks and timer) and frees it. */
void renewal_end(struct renewal *r);
/* A slot is free again: scan soon if the last scan filled them all
 * (scheduler.c). */
void scheduler_slot_freed(struct scheduler *s);
/* The issuer committed something: an ISSUING renewal polls now. */
void renewal_issue_committed(struct renewal *r);

/* A deployment finished: a renewal polling for it looks now. */
void renewal_deploy_finished(struct renewal *r);

#endif
