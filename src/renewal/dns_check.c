/*
 * dns_check.c: the DNS check of managed renewal (see dns_check.h). Each
 * name is a job with two c-ares queries (A and AAAA) sent straight to the
 * configured resolvers with ares_query: no search list, no hosts file, so
 * the verdict is what the DNS says. A recursive resolver answers with the
 * whole CNAME chain, which ares_parse_a_reply/ares_parse_aaaa_reply
 * follow to the addresses.
 *
 * Jobs outlive a cancelled check while their queries are in the air
 * (c-ares cannot cancel one query): they are detached and freed by their
 * last callback. The caller's callback always runs from an event of its
 * own, so it may start or cancel checks, or free the checker.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <ares.h>
#include <arpa/nameser.h>
#include <event2/event.h>

#include "common/xmalloc.h"
#include "loop/ares_loop.h"
#include "renewal/cidr.h"
#include "renewal/dns_check.h"

#define DEFAULT_IN_FLIGHT	64
#define MAX_ADDRS_PER_TYPE	64

/* The networks, shared by the checker and the checks started under them. */
struct nets {
	unsigned refs;
	struct cidr_set *set;
};

struct name_job;

struct query {
	struct name_job *job;
	int type;		/* ns_t_a or ns_t_aaaa */
	int status;		/* ARES_* once answered */
};

struct name_job {
	TAILQ_ENTRY(name_job) wait_entry;
	struct dns_check *check;	/* NULL once detached */
	char *name;
	unsigned pending;	/* queries in the air */
	bool waiting;		/* in checker->waiting */
	bool done;
	struct query q[2];
	size_t n_addrs;
	char (*addrs)[INET6_ADDRSTRLEN];
	const char **addr_ptrs;
	enum dns_verdict verdict;
	char *reason;
	size_t n_outside;	/* addresses outside the networks */
	size_t first_outside;	/* index in addrs of the first one */
	const char *result;	/* dns_check_result_label() */
	struct timespec started;	/* CLOCK_MONOTONIC, queries sent */
};

struct dns_check {
	LIST_ENTRY(dns_check) entry;
	struct dns_checker *checker;
	struct nets *nets;
	struct event *finish_ev;
	dns_check_done_fn *done;
	void *arg;
	size_t n_jobs, n_done;
	struct name_job **jobs;
};

struct dns_checker {
	struct event_base *base;
	struct ares_loop *ares;
	struct nets *nets;
	void (*observe)(void *arg, const char *result, double seconds);
	void *observe_arg;
	unsigned max_in_flight, in_flight;
	TAILQ_HEAD(job_queue, name_job) waiting;
	LIST_HEAD(check_list, dns_check) checks;
};

static const char *const verdict_names[] = {
	[DNS_CHECK_PASS] = "PASS",
	[DNS_CHECK_FAIL] = "FAIL",
	[DNS_CHECK_UNDECIDED] = "UNDECIDED",
	[DNS_CHECK_SKIPPED] = "SKIPPED",
};

const char *
dns_verdict_name(enum dns_verdict v)
{
	if ((unsigned)v >= ELEMENTSOF(verdict_names))
		return "?";
	return verdict_names[v];
}

const char *
dns_check_result_label(enum dns_verdict verdict, bool outside, bool nxdomain,
    bool timed_out)
{
	switch (verdict) {
	case DNS_CHECK_PASS:
		return "ok";
	case DNS_CHECK_FAIL:
		return outside ? "outside" : nxdomain ? "nxdomain" : "nodata";
	case DNS_CHECK_UNDECIDED:
		return timed_out ? "timeout" : "error";
	case DNS_CHECK_SKIPPED:
		break;
	}
	return "error";
}

static double
seconds_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	    (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static struct nets *
nets_ref(struct nets *n)
{
	n->refs++;
	return n;
}

static void
nets_unref(struct nets *n)
{
	if (n == NULL || --n->refs > 0)
		return;
	cidr_set_free(n->set);
	free(n);
}

static int
nets_new(const char *text, struct nets **out, char **reterr_msg)
{
	struct cidr_set *set;
	char *msg = NULL;
	int r;

	if ((r = cidr_set_parse(text ? text : "", &set, &msg)) < 0) {
		*reterr_msg = xasprintf("[renewal] managed_networks: %s",
		    msg);
		free(msg);
		return r;
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->refs = 1;
	(*out)->set = set;
	return 0;
}

static void
job_free(struct name_job *job)
{
	free(job->name);
	free(job->addrs);
	free(job->addr_ptrs);
	free(job->reason);
	free(job);
}

static bool
is_wildcard(const char *name)
{
	return name[0] == '*' && (name[1] == '.' || name[1] == '\0');
}

/* Either ARES_ENOTFOUND/ENODATA or an answer: the DNS has decided. */
static bool
status_definitive(int status)
{
	return status == ARES_SUCCESS || status == ARES_ENODATA ||
	    status == ARES_ENOTFOUND;
}

static const char *
type_name(int type)
{
	return type == ns_t_a ? "A" : "AAAA";
}

static void
decide(struct name_job *job)
{
	const struct query *undecided = NULL;
	bool nxdomain = false;
	size_t i;

	for (i = 0; i < 2; i++) {
		if (job->q[i].status == ARES_ENOTFOUND)
			nxdomain = true;
		else if (!status_definitive(job->q[i].status) &&
		    undecided == NULL)
			undecided = &job->q[i];
	}
	job->verdict = DNS_CHECK_FAIL;
	if (job->n_outside > 0)
		job->reason = xasprintf("%s resolves to %s%s, outside "
		    "managed_networks", job->name,
		    job->addrs[job->first_outside],
		    job->n_outside > 1 ? " (and more)" : "");
	else if (nxdomain)
		job->reason = xasprintf("%s does not exist (NXDOMAIN)",
		    job->name);
	else if (undecided != NULL) {
		job->verdict = DNS_CHECK_UNDECIDED;
		job->reason = xasprintf("%s: the %s lookup could not be "
		    "completed: %s", job->name, type_name(undecided->type),
		    ares_strerror(undecided->status));
	} else if (job->n_addrs == 0)
		job->reason = xasprintf("%s has no A or AAAA record",
		    job->name);
	else
		job->verdict = DNS_CHECK_PASS;
	job->result = dns_check_result_label(job->verdict, job->n_outside > 0,
	    nxdomain, undecided != NULL && undecided->status == ARES_ETIMEOUT);
}

static void
add_addr(struct name_job *job, int family, const void *addr,
    const struct cidr_set *set)
{
	char *text;

	job->addrs = xrealloc(job->addrs,
	    (job->n_addrs + 1) * sizeof(*job->addrs));
	text = job->addrs[job->n_addrs];
	inet_ntop(family, addr, text, INET6_ADDRSTRLEN);
	job->n_addrs++;
	if (!cidr_set_contains(set, family, addr) && job->n_outside++ == 0)
		job->first_outside = job->n_addrs - 1;
}

static int
parse_answer(struct query *q, const unsigned char *abuf, int alen,
    const struct cidr_set *set)
{
	struct ares_addrttl a[MAX_ADDRS_PER_TYPE];
	struct ares_addr6ttl a6[MAX_ADDRS_PER_TYPE];
	int n = MAX_ADDRS_PER_TYPE, r, i;

	if (q->type == ns_t_a)
		r = ares_parse_a_reply(abuf, alen, NULL, a, &n);
	else
		r = ares_parse_aaaa_reply(abuf, alen, NULL, a6, &n);
	if (r != ARES_SUCCESS)
		return r;
	if (n == 0)
		return ARES_ENODATA;	/* e.g. a CNAME and nothing else */
	for (i = 0; i < n; i++) {
		if (q->type == ns_t_a)
			add_addr(q->job, AF_INET, &a[i].ipaddr, set);
		else
			add_addr(q->job, AF_INET6, &a6[i].ip6addr, set);
	}
	return ARES_SUCCESS;
}

static void pump(struct dns_checker *c);

static void
job_finished(struct name_job *job)
{
	struct dns_check *check = job->check;
	struct dns_checker *c = check->checker;

	decide(job);
	job->done = true;
	if (c->observe != NULL)
		c->observe(c->observe_arg, job->result,
		    seconds_since(&job->started));
	c->in_flight--;
	if (++check->n_done == check->n_jobs)
		event_active(check->finish_ev, EV_TIMEOUT, 0);
	pump(c);
}

static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct query *q = arg;
	struct name_job *job = q->job;

	job->pending--;
	if (job->check == NULL) {	/* cancelled meanwhile */
		if (job->pending == 0)
			job_free(job);
		return;
	}
	if (status == ARES_SUCCESS)
		status = parse_answer(q, abuf, alen, job->check->nets->set);
	q->status = status;
	if (job->pending == 0)
		job_finished(job);
}

static void
job_start(struct dns_checker *c, struct name_job *job)
{
	ares_channel ch = ares_loop_channel(c->ares);

	c->in_flight++;
	job->pending = 2;
	clock_gettime(CLOCK_MONOTONIC, &job->started);
	/* ares_query may answer at once (a bad name): pending covers it. */
	ares_query(ch, job->name, ns_c_in, ns_t_a, on_answer, &job->q[0]);
	ares_query(ch, job->name, ns_c_in, ns_t_aaaa, on_answer, &job->q[1]);
}

static void
pump(struct dns_checker *c)
{
	struct name_job *job;
	bool started = false;

	while (c->in_flight < c->max_in_flight &&
	    (job = TAILQ_FIRST(&c->waiting)) != NULL) {
		TAILQ_REMOVE(&c->waiting, job, wait_entry);
		job->waiting = false;
		job_start(c, job);
		started = true;
	}
	if (started)
		ares_loop_kick(c->ares);
}

static void
check_free(struct dns_check *check)
{
	struct dns_checker *c = check->checker;
	size_t i;

	for (i = 0; i < check->n_jobs; i++) {
		struct name_job *job = check->jobs[i];

		if (job->waiting)
			TAILQ_REMOVE(&c->waiting, job, wait_entry);
		if (job->pending > 0) {
			job->check = NULL;	/* freed by its last answer */
			c->in_flight--;
		} else
			job_free(job);
	}
	free(check->jobs);
	event_free(check->finish_ev);
	nets_unref(check->nets);
	LIST_REMOVE(check, entry);
	free(check);
}

static void
on_finish(evutil_socket_t fd, short what, void *arg)
{
	struct dns_check *check = arg;
	struct dns_check_result res = { .verdict = DNS_CHECK_PASS };
	struct dns_name_result *names;
	struct name_job **jobs = check->jobs;
	dns_check_done_fn *done = check->done;
	void *done_arg = check->arg;
	size_t n = check->n_jobs, i, j;

	names = xcalloc(n ? n : 1, sizeof(*names));
	for (i = 0; i < n; i++) {
		struct name_job *job = jobs[i];

		job->addr_ptrs = xcalloc(job->n_addrs + 1, sizeof(char *));
		for (j = 0; j < job->n_addrs; j++)
			job->addr_ptrs[j] = job->addrs[j];
		names[i] = (struct dns_name_result){ .name = job->name,
		    .verdict = job->verdict, .reason = job->reason,
		    .n_addrs = job->n_addrs, .addrs = job->addr_ptrs };
		if (job->verdict == DNS_CHECK_FAIL)
			res.verdict = DNS_CHECK_FAIL;
		else if (job->verdict == DNS_CHECK_UNDECIDED &&
		    res.verdict != DNS_CHECK_FAIL)
			res.verdict = DNS_CHECK_UNDECIDED;
	}
	res.n_names = n;
	res.names = names;
	/* The check goes first: the callback may free the checker. */
	check->jobs = NULL;
	check->n_jobs = 0;
	check_free(check);
	done(&res, done_arg);
	for (i = 0; i < n; i++)
		job_free(jobs[i]);
	free(jobs);
	free(names);
}

int
dns_check_start(struct dns_checker *c, const char *const *names,
    size_t n_names, dns_check_done_fn *done, void *arg,
    struct dns_check **handle)
{
	struct dns_check *check = xcalloc(1, sizeof(*check));
	size_t i;

	check->checker = c;
	check->nets = nets_ref(c->nets);
	check->done = done;
	check->arg = arg;
	check->finish_ev = event_new(c->base, -1, 0, on_finish, check);
	check->jobs = xcalloc(n_names ? n_names : 1, sizeof(*check->jobs));
	LIST_INSERT_HEAD(&c->checks, check, entry);
	for (i = 0; i < n_names; i++) {
		struct name_job *job = xcalloc(1, sizeof(*job));

		job->check = check;
		job->name = xstrdup(names[i]);
		job->q[0] = (struct query){ job, ns_t_a, ARES_ENODATA };
		job->q[1] = (struct query){ job, ns_t_aaaa, ARES_ENODATA };
		check->jobs[check->n_jobs++] = job;
		if (is_wildcard(job->name)) {
			job->verdict = DNS_CHECK_SKIPPED;
			job->done = true;
			check->n_done++;
			continue;
		}
		job->waiting = true;
		TAILQ_INSERT_TAIL(&c->waiting, job, wait_entry);
	}
	if (check->n_done == check->n_jobs)
		event_active(check->finish_ev, EV_TIMEOUT, 0);
	if (handle != NULL)
		*handle = check;
	pump(c);
	return 0;
}

void
dns_check_cancel(struct dns_check *check)
{
	struct dns_checker *c;

	if (check == NULL)
		return;
	c = check->checker;
	check_free(check);
	pump(c);
}

int
dns_checker_new(struct event_base *base, struct ares_loop *ares,
    const struct dns_checker_settings *s, struct dns_checker **out,
    char **reterr_msg)
{
	struct dns_checker *c;
	struct nets *nets;
	int r;

	if ((r = nets_new(s->managed_networks, &nets, reterr_msg)) < 0)
		return r;
	c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->ares = ares;
	c->nets = nets;
	c->max_in_flight = s->max_in_flight ? s->max_in_flight :
	    DEFAULT_IN_FLIGHT;
	c->observe = s->observe;
	c->observe_arg = s->observe_arg;
	TAILQ_INIT(&c->waiting);
	LIST_INIT(&c->checks);
	*out = c;
	return 0;
}

int
dns_checker_set_networks(struct dns_checker *c, const char *networks,
    char **reterr_msg)
{
	struct nets *nets;
	int r;

	if ((r = nets_new(networks, &nets, reterr_msg)) < 0)
		return r;
	nets_unref(c->nets);
	c->nets = nets;
	return 0;
}

void
dns_checker_free(struct dns_checker *c)
{
	struct dns_check *check;

	if (c == NULL)
		return;
	while ((check = LIST_FIRST(&c->checks)) != NULL)
		check_free(check);
	nets_unref(c->nets);
	free(c);
}
