/*
 * bench_renewal_scan: the cost of the renewal scheduler's tick against a
 * database holding many certificates (tests/bench/run-renewal-scan-bench
 * fills it). It runs the tick's own store calls (store/renewal.h) as the
 * daemon runs them, one tick at a time, and prints the time each took;
 * the server's auto_explain writes each statement's plan with the rows
 * it read, which the script summarises.
 *
 *   bench_renewal_scan DSN PHASE [ROUNDS]
 *
 * PHASE "due": ticks claiming max_in_flight (32) rows each while 1% of
 * the rows are due; "all": one claim of every due row; "none": ticks with
 * nothing due (run after "all" claimed everything).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "store/renewal.h"

#define OWNER "bench/1/0"
#define LEASE_MS (3600 * 1000)
#define RENEW_BEFORE_MS ((int64_t)60 * 86400 * 1000)

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One tick as the scheduler runs it: due times, claims, this host's
 * deployments, expiry (the lease heartbeat is left out: no work is in
 * flight here). */
static int
tick(PGconn *conn, int limit, size_t *claimed, double *ms)
{
	struct store_renewal *v = NULL;
	struct store_expiry *e = NULL;
	int64_t *ids = NULL;
	size_t n = 0, ne = 0, dirty = 0, nd = 0;
	char *err = NULL;
	double t0 = now_ms();
	int r;

	if ((r = store_renewal_refresh_due(conn, RENEW_BEFORE_MS, 1000,
	    &dirty, &err)) == 0 &&
	    (r = store_renewal_claim(conn, OWNER, LEASE_MS, limit, &v, &n,
	    &err)) == 0 &&
	    (r = store_renewal_local_deploys(conn, "bench", &ids, &nd,
	    &err)) == 0)
		r = store_expiry_claim(conn, 86400 * 1000, 500, &e, &ne, &err);
	*ms = now_ms() - t0;
	if (r < 0)
		fprintf(stderr, "tick: %s\n", err ? err : "error");
	store_renewals_free(v, n);
	store_expiries_free(e, ne);
	free(ids);
	free(err);
	*claimed = n;
	return r;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	PGconn *conn;
	const char *phase;
	int rounds, limit;
	double *t, sum = 0;
	size_t claimed = 0, n;

	if (argc < 3) {
		fprintf(stderr, "usage: %s DSN due|all|none [ROUNDS]\n",
		    argv[0]);
		return 2;
	}
	phase = argv[2];
	rounds = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 20;
	if (strcmp(phase, "all") == 0)
		rounds = 1;
	limit = strcmp(phase, "all") == 0 ? 1000000 : 32;
	conn = PQconnectdb(argv[1]);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "connect: %s", PQerrorMessage(conn));
		return 1;
	}
	t = calloc((size_t)rounds, sizeof(*t));
	for (int i = 0; i < rounds; i++) {
		if (tick(conn, limit, &n, &t[i]) < 0)
			return 1;
		claimed += n;
		sum += t[i];
	}
	qsort(t, (size_t)rounds, sizeof(*t), cmp_double);
	printf("%s: %d tick(s), %zu row(s) claimed, per tick: median %.3f ms, "
	    "min %.3f ms, max %.3f ms, mean %.3f ms (client round trips "
	    "included)\n", phase, rounds, claimed, t[rounds / 2], t[0],
	    t[rounds - 1], sum / rounds);
	free(t);
	PQfinish(conn);
	return 0;
}
