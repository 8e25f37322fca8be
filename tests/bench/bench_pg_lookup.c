/*
 * bench_pg_lookup.c: the baseline for the describe benchmark: what
 * PostgreSQL itself costs to look a certificate up by ARN, measured in the
 * same run, on the same machine, with the same number of clients.
 *
 * Each thread has its own connection and runs a prepared statement with a
 * random ARN from the inventory:
 *
 *   pk        SELECT * FROM certificates WHERE arn = $1   (the bare lookup)
 *   describe  the certificate joined with its current version and its
 *             bindings, roughly the work behind one DescribeCertificate
 *
 * The queries are the benchmark's own; the daemon's live in src/store.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <openssl/rand.h>

#include "common/xmalloc.h"
#include "tests/bench/bench_util.h"

#define MAX_CLIENTS 256
#define MAX_ARNS 2000000

static const char sql_pk[] = "SELECT * FROM certificates WHERE arn = $1";
static const char sql_describe[] =
    "SELECT c.*, v.certificate_pem, v.chain_pem, v.serial, v.subject,"
    " v.issuer, v.signature_algorithm, v.fingerprint_sha256,"
    " (SELECT json_agg(b.arn) FROM bindings b WHERE b.certificate_id = c.id)"
    " FROM certificates c LEFT JOIN certificate_versions v"
    " ON v.certificate_id = c.id AND v.version = c.current_version"
    " WHERE c.arn = $1";

struct opts {
	const char *dsn;
	const char *label;
	const char *query;	/* "pk" or "describe" */
	long clients;
	long rounds;
	long duration;
	long max_seconds;
};

struct run {
	const struct opts *o;
	const char *sql;
	PGconn **conns;
	struct bench_samples *samples;
	char **arns;
	size_t narns;
	double deadline;
	pthread_mutex_t lock;
	char *first_error;
};

struct worker {
	struct run *run;
	size_t idx;
	uint64_t rng;
};

static void
note_error(struct run *run, const char *msg)
{
	pthread_mutex_lock(&run->lock);
	if (run->first_error == NULL)
		run->first_error = xstrdup(msg);
	pthread_mutex_unlock(&run->lock);
}

static void *
lookup_thread(void *arg)
{
	struct worker *w = arg;
	struct run *run = w->run;
	PGconn *conn = run->conns[w->idx];

	while (bench_now() < run->deadline) {
		const char *arn = run->arns[bench_rand(&w->rng) % run->narns];
		double t0 = bench_now();
		PGresult *res = PQexecPrepared(conn, "lookup", 1, &arn, NULL,
		    NULL, 0);

		if (PQresultStatus(res) == PGRES_TUPLES_OK &&
		    PQntuples(res) == 1) {
			bench_samples_add(&run->samples[w->idx],
			    (bench_now() - t0) * 1e3);
		} else {
			run->samples[w->idx].errors++;
			note_error(run, PQresultStatus(res) == PGRES_TUPLES_OK ?
			    "no row for an ARN" : PQerrorMessage(conn));
		}
		PQclear(res);
	}
	return NULL;
}

static void
run_round(struct run *run, struct bench_round *out)
{
	const struct opts *o = run->o;
	pthread_t tid[MAX_CLIENTS];
	struct worker w[MAX_CLIENTS];
	double t0;
	long i;

	for (i = 0; i < o->clients; i++) {
		bench_samples_reset(&run->samples[i]);
		w[i] = (struct worker){ run, (size_t)i, 0 };
		RAND_bytes((unsigned char *)&w[i].rng, sizeof(w[i].rng));
	}
	t0 = bench_now();
	run->deadline = t0 + (double)o->duration;
	for (i = 0; i < o->clients; i++)
		pthread_create(&tid[i], NULL, lookup_thread, &w[i]);
	for (i = 0; i < o->clients; i++)
		pthread_join(tid[i], NULL);
	bench_round_compute(out, run->samples, (size_t)o->clients,
	    bench_now() - t0);
}

static int
load_arns(struct run *run)
{
	PGresult *res = PQexec(run->conns[0], "SELECT arn FROM certificates "
	    "ORDER BY id LIMIT 2000000");
	int i, n;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "loading ARNs: %s",
		    PQerrorMessage(run->conns[0]));
		PQclear(res);
		return -EIO;
	}
	n = PQntuples(res);
	run->arns = xcalloc(n ? (size_t)n : 1, sizeof(*run->arns));
	for (i = 0; i < n; i++)
		run->arns[i] = xstrdup(PQgetvalue(res, i, 0));
	run->narns = (size_t)n;
	PQclear(res);
	return n > 0 ? 0 : -ENOENT;
}

static int
connect_all(struct run *run)
{
	long i;

	for (i = 0; i < run->o->clients; i++) {
		PGconn *c = PQconnectdb(run->o->dsn);
		PGresult *res;

		run->conns[i] = c;
		if (PQstatus(c) != CONNECTION_OK) {
			fprintf(stderr, "connecting: %s", PQerrorMessage(c));
			return -EIO;
		}
		res = PQprepare(c, "lookup", run->sql, 1, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			fprintf(stderr, "preparing: %s", PQerrorMessage(c));
			PQclear(res);
			return -EIO;
		}
		PQclear(res);
	}
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: bench_pg_lookup --dsn CONNINFO [--query pk|describe]"
	    "\n  [--clients N (8)] [--rounds N (5)] [--duration SECONDS (5)]"
	    " [--label NAME] [--max-seconds N (600)]\n");
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "dsn", required_argument, NULL, 'D' },
		{ "query", required_argument, NULL, 'q' },
		{ "clients", required_argument, NULL, 'c' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "label", required_argument, NULL, 'l' },
		{ "max-seconds", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, r = 0;

	*o = (struct opts){ .query = "pk", .clients = 8, .rounds = 5,
		.duration = 5, .max_seconds = 600 };
	while (r == 0 && (c = getopt_long(argc, argv, "D:q:c:r:d:l:x:h",
	    longopts, NULL)) != -1) {
		switch (c) {
		case 'D': o->dsn = optarg; break;
		case 'q': o->query = optarg; break;
		case 'c': r = bench_parse_long(optarg, 1, MAX_CLIENTS,
			    &o->clients); break;
		case 'r': r = bench_parse_long(optarg, 1, 1000, &o->rounds);
			break;
		case 'd': r = bench_parse_long(optarg, 1, 3600, &o->duration);
			break;
		case 'l': o->label = optarg; break;
		case 'x': r = bench_parse_long(optarg, 0, 86400,
			    &o->max_seconds); break;
		case 'h': usage(stdout); exit(0);
		default: r = -EINVAL;
		}
	}
	if (r < 0 || optind != argc || o->dsn == NULL ||
	    (strcmp(o->query, "pk") != 0 && strcmp(o->query, "describe") != 0))
		return -EINVAL;
	if (o->label == NULL)
		o->label = strcmp(o->query, "pk") == 0 ? "pg_pk" :
		    "pg_describe";
	return 0;
}

static void
run_all(struct run *run)
{
	const struct opts *o = run->o;
	struct bench_round *rounds = xcalloc((size_t)o->rounds,
	    sizeof(*rounds));
	struct bench_round med;
	long i;

	printf("%s: %ld clients, picking from %zu ARNs\n", o->label,
	    o->clients, run->narns);
	for (i = 0; i < o->rounds; i++) {
		run_round(run, &rounds[i]);
		bench_round_print(stdout, o->label, (size_t)i + 1,
		    (size_t)o->rounds, &rounds[i], NULL);
	}
	bench_round_median(&med, rounds, (size_t)o->rounds);
	bench_round_print(stdout, o->label, 0, (size_t)o->rounds, &med, NULL);
	if (run->first_error != NULL)
		printf("first error: %s\n", run->first_error);
	free(rounds);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct run run;
	size_t i;
	long k;
	int r;

	if (parse_opts(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	bench_watchdog((unsigned int)o.max_seconds);
	memset(&run, 0, sizeof(run));
	run.o = &o;
	run.sql = strcmp(o.query, "pk") == 0 ? sql_pk : sql_describe;
	pthread_mutex_init(&run.lock, NULL);
	run.conns = xcalloc((size_t)o.clients, sizeof(*run.conns));
	run.samples = xcalloc((size_t)o.clients, sizeof(*run.samples));
	r = connect_all(&run);
	if (r == 0)
		r = load_arns(&run);
	if (r == 0)
		run_all(&run);
	for (k = 0; k < o.clients; k++) {
		PQfinish(run.conns[k]);
		bench_samples_done(&run.samples[k]);
	}
	for (i = 0; i < run.narns; i++)
		free(run.arns[i]);
	free(run.arns);
	free(run.conns);
	free(run.samples);
	free(run.first_error);
	pthread_mutex_destroy(&run.lock);
	return r < 0 ? 1 : 0;
}
