/*
 * bench_dns.c: DNS checks per second (src/renewal/dns_check.c) against
 * bare c-ares in the same run, both on the same c-ares channel adapter
 * (src/loop/ares_loop.c) and the same server.
 *
 *   bench_dns --server ADDR:PORT --prefix h --domain bench.example
 *             --names 1000 [--in-flight 100] [--seconds 2] [--rounds 5]
 *             [--managed CIDRS]
 *
 * Names are PREFIX<i>.DOMAIN for i < --names, each with an A and an AAAA
 * record inside --managed (tests/bench/run-dns-bench makes them). Each
 * round runs, for --seconds each:
 *   bare      ares_query(A) with --in-flight queries in the air;
 *   dns_check one-name checks with --in-flight names in the air (each an
 *             A and an AAAA query, the CIDR match and the result).
 * A lookup is one name: bare counts a query, dns_check a checked name (two
 * queries). Rates count what completed within the --seconds window;
 * also client CPU per lookup (getrusage). Medians over rounds.
 * Prints figures; never judges them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <ares.h>
#include <arpa/nameser.h>
#include <event2/event.h>

#include "common/xmalloc.h"
#include "loop/ares_loop.h"
#include "renewal/dns_check.h"
#include "tests/bench/bench_util.h"

#define MAX_ROUNDS 50

struct run {
	struct event_base *base;
	struct ares_loop *dns;
	struct dns_checker *checker;
	char **names;
	size_t n_names, next;
	unsigned in_flight_target, in_flight;
	double end;		/* stop starting new lookups */
	double last;		/* time of the last completion */
	uint64_t done, errors;
	uint64_t in_window;	/* completed before end */
};

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static const char *
next_name(struct run *r)
{
	const char *n = r->names[r->next];

	r->next = (r->next + 1) % r->n_names;
	return n;
}

static void start_bare(struct run *r);

static void
on_bare(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct run *r = arg;
	struct ares_addrttl a[8];
	int n = 8;

	r->in_flight--;
	if (status == ARES_SUCCESS &&
	    ares_parse_a_reply(abuf, alen, NULL, a, &n) == ARES_SUCCESS &&
	    n > 0)
		r->done++;
	else if (status != ARES_EDESTRUCTION)
		r->errors++;
	r->last = bench_now();
	if (r->last < r->end)
		r->in_window++;
	if (r->last < r->end)
		start_bare(r);
	else if (r->in_flight == 0)
		event_base_loopbreak(r->base);
}

static void
start_bare(struct run *r)
{
	while (r->in_flight < r->in_flight_target) {
		r->in_flight++;
		ares_query(ares_loop_channel(r->dns), next_name(r), ns_c_in,
		    ns_t_a, on_bare, r);
	}
	ares_loop_kick(r->dns);
}

static void start_pairs(struct run *r);

/* Bare c-ares doing what a check does: A and AAAA for each name. */
struct pair {
	struct run *r;
	int left;
	bool ok;
};

static void
on_pair(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct pair *p = arg;
	struct run *r = p->r;

	if (status != ARES_SUCCESS)
		p->ok = false;
	if (--p->left > 0)
		return;
	r->in_flight--;
	if (p->ok)
		r->done++;
	else
		r->errors++;
	free(p);
	r->last = bench_now();
	if (r->last < r->end)
		r->in_window++;
	if (r->last < r->end)
		start_pairs(r);
	else if (r->in_flight == 0)
		event_base_loopbreak(r->base);
}

static void
start_pairs(struct run *r)
{
	while (r->in_flight < r->in_flight_target) {
		struct pair *p = xcalloc(1, sizeof(*p));
		const char *name = next_name(r);

		*p = (struct pair){ r, 2, true };
		r->in_flight++;
		ares_query(ares_loop_channel(r->dns), name, ns_c_in, ns_t_a,
		    on_pair, p);
		ares_query(ares_loop_channel(r->dns), name, ns_c_in,
		    ns_t_aaaa, on_pair, p);
	}
	ares_loop_kick(r->dns);
}

static void start_checks(struct run *r);

static void
on_check(const struct dns_check_result *res, void *arg)
{
	struct run *r = arg;

	r->in_flight--;
	if (res->verdict == DNS_CHECK_PASS)
		r->done++;
	else
		r->errors++;
	r->last = bench_now();
	if (r->last < r->end)
		r->in_window++;
	if (r->last < r->end)
		start_checks(r);
	else if (r->in_flight == 0)
		event_base_loopbreak(r->base);
}

static void
start_checks(struct run *r)
{
	while (r->in_flight < r->in_flight_target) {
		const char *name = next_name(r);

		r->in_flight++;
		if (dns_check_start(r->checker, &name, 1, on_check, r,
		    NULL) < 0)
			abort();
	}
}

/* One timed phase: returns lookups/s; *cpu gets CPU seconds/lookup. */
enum phase { BARE, BARE_PAIRS, CHECKS };

static double
phase(struct run *r, enum phase what, double seconds, double *cpu)
{
	static const char *const names[] = { "bare", "bare pairs",
		"dns_check" };
	double t0 = bench_now(), c0 = cpu_seconds(), c1;

	r->done = r->errors = r->in_window = 0;
	r->end = t0 + seconds;
	if (what == CHECKS)
		start_checks(r);
	else if (what == BARE_PAIRS)
		start_pairs(r);
	else
		start_bare(r);
	event_base_dispatch(r->base);
	c1 = cpu_seconds();
	if (r->errors > 0)
		fprintf(stderr, "%s: %llu lookups failed\n", names[what],
		    (unsigned long long)r->errors);
	*cpu = r->done ? (c1 - c0) / (double)r->done : 0;
	/*
	 * Lookups completed within the window: the ones still in the air
	 * at its end may wait for a retry (the server dropped them) and
	 * would otherwise stretch the round by a time-out.
	 */
	return r->in_window / seconds;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_dns --server ADDR:PORT --names N "
	    "[--prefix h] [--domain bench.example] [--in-flight 100] "
	    "[--seconds 2] [--rounds 5] [--managed CIDRS]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct ares_loop_settings as = { .timeout_ms = 2000, .tries = 2 };
	struct dns_checker_settings ds = { .managed_networks =
		"127.0.0.0/8, fd00::/8" };
	const char *prefix = "h", *domain = "bench.example";
	long names = 0, in_flight = 100, rounds = 5, seconds = 2;
	double bare_rate[MAX_ROUNDS], check_rate[MAX_ROUNDS];
	double bare_cpu[MAX_ROUNDS], check_cpu[MAX_ROUNDS];
	double pair_rate[MAX_ROUNDS], pair_cpu[MAX_ROUNDS];
	struct run r = { 0 };
	char *msg = NULL;
	long i;
	int a;

	for (a = 1; a + 1 < argc; a += 2) {
		const char *k = argv[a], *v = argv[a + 1];

		if (strcmp(k, "--server") == 0)
			as.servers = v;
		else if (strcmp(k, "--prefix") == 0)
			prefix = v;
		else if (strcmp(k, "--domain") == 0)
			domain = v;
		else if (strcmp(k, "--managed") == 0)
			ds.managed_networks = v;
		else if ((strcmp(k, "--names") == 0 &&
		    bench_parse_long(v, 1, 10000000, &names) == 0) ||
		    (strcmp(k, "--in-flight") == 0 &&
		    bench_parse_long(v, 1, 100000, &in_flight) == 0) ||
		    (strcmp(k, "--rounds") == 0 &&
		    bench_parse_long(v, 1, MAX_ROUNDS, &rounds) == 0) ||
		    (strcmp(k, "--seconds") == 0 &&
		    bench_parse_long(v, 1, 600, &seconds) == 0))
			continue;
		else
			usage();
	}
	if (a != argc || as.servers == NULL || names == 0)
		usage();
	bench_watchdog((unsigned)(rounds * seconds * 4 + 60));
	ds.max_in_flight = (unsigned)in_flight;
	r.base = event_base_new();
	if (ares_loop_new(r.base, &as, &r.dns, &msg) < 0 ||
	    dns_checker_new(r.base, r.dns, &ds, &r.checker, &msg) < 0) {
		fprintf(stderr, "bench_dns: %s\n", msg);
		return 1;
	}
	r.in_flight_target = (unsigned)in_flight;
	r.n_names = (size_t)names;
	r.names = xcalloc(r.n_names, sizeof(char *));
	for (i = 0; i < names; i++)
		r.names[i] = xasprintf("%s%ld.%s", prefix, i, domain);
	printf("bench_dns: %ld names, %ld in flight, %lds per phase, "
	    "%ld rounds\n", names, in_flight, seconds, rounds);
	for (i = 0; i < rounds; i++) {
		bare_rate[i] = phase(&r, BARE, (double)seconds, &bare_cpu[i]);
		pair_rate[i] = phase(&r, BARE_PAIRS, (double)seconds,
		    &pair_cpu[i]);
		check_rate[i] = phase(&r, CHECKS, (double)seconds,
		    &check_cpu[i]);
		printf("round %ld: bare c-ares %.0f queries/s (%.1f us CPU "
		    "each); bare c-ares A+AAAA %.0f names/s (%.1f us); "
		    "dns_check %.0f names/s = %.0f queries/s (%.1f us CPU "
		    "each)\n", i + 1, bare_rate[i], bare_cpu[i] * 1e6,
		    pair_rate[i], pair_cpu[i] * 1e6, check_rate[i],
		    2 * check_rate[i], check_cpu[i] * 1e6);
		fflush(stdout);
	}
	printf("median of %ld rounds: bare c-ares %.0f queries/s, "
	    "%.1f us CPU each; bare c-ares A+AAAA %.0f names/s, %.1f us; "
	    "dns_check %.0f names/s (%.0f queries/s), %.1f us CPU per "
	    "name\n", rounds, median(bare_rate, (size_t)rounds),
	    median(bare_cpu, (size_t)rounds) * 1e6,
	    median(pair_rate, (size_t)rounds),
	    median(pair_cpu, (size_t)rounds) * 1e6,
	    median(check_rate, (size_t)rounds),
	    2 * median(check_rate, (size_t)rounds),
	    median(check_cpu, (size_t)rounds) * 1e6);
	printf("RESULT name=bench_dns bare_queries_per_s=%.0f "
	    "bare_pair_names_per_s=%.0f check_names_per_s=%.0f bare_cpu_us=%.1f check_cpu_us=%.1f "
	    "target_names_per_s=50000\n", median(bare_rate, (size_t)rounds),
	    median(pair_rate, (size_t)rounds), median(check_rate, (size_t)rounds),
	    median(bare_cpu, (size_t)rounds) * 1e6,
	    median(check_cpu, (size_t)rounds) * 1e6);
	dns_checker_free(r.checker);
	ares_loop_free(r.dns);
	event_base_free(r.base);
	for (i = 0; i < names; i++)
		free(r.names[i]);
	free(r.names);
	return 0;
}
