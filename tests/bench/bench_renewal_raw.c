/*
 * bench_renewal_raw.c: the raw costs of a renewal that bench_issue does
 * not measure, for run-renewal-bench to set beside certfleetd's end-to-end
 * rate in the same run:
 *
 *   handshake  bare OpenSSL TLS handshakes (blocking connect, SNI, the
 *              peer's leaf and its SHA-256 fingerprint, as a probe needs),
 *              one thread per core, against the run's own endpoints, each
 *              handshake to the next name of --endpoints in turn. The
 *              rate on all cores includes the server's side of the
 *              handshake, which runs on the same machine. Also prints the
 *              client's CPU per handshake.
 *   db         the writes that record one renewal, as one transaction of
 *              one statement per round trip: the new version's row (a
 *              certificate, a chain and a sealed key, ~3.5 kB), the
 *              certificate's row, the binding's row and an audit event.
 *              One connection per core, in tables of its own (raw_*,
 *              created in the database given).
 *
 * Each figure is the median of --rounds rounds of --ms milliseconds.
 * Prints "RESULT name=... threads=N rate=R" lines; never judges them.
 *
 *   bench_renewal_raw handshake --endpoints FILE --port N [options]
 *   bench_renewal_raw db --dsn DSN [options]
 *   options: --threads N (cores) --rounds N (3) --ms N (1000)
 *            --max-seconds N (300)
 *
 * FILE has one "ADDRESS NAME" per line.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/xmalloc.h"
#include "tests/bench/bench_util.h"

#define MAX_THREADS 64
#define MAX_ROUNDS 21
#define DB_ROWS 10000

struct opts {
	const char *mode, *endpoints, *dsn;
	long port, threads, rounds, ms, max_seconds;
};

struct endpoint {
	struct sockaddr_in sa;
	char *name;
};

struct job {
	const struct opts *o;
	const struct endpoint *ep;
	size_t n_ep;
	SSL_CTX *ctx;
	PGconn *conn;
	long index;		/* of the thread */
	atomic_bool *stop;
	/* out */
	uint64_t done, errors;
	double start, end;
};

/* ---- handshakes ---------------------------------------------------- */

static bool
one_handshake(SSL_CTX *ctx, const struct endpoint *e)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len;
	X509 *leaf;
	SSL *ssl = NULL;
	bool ok = false;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)&e->sa,
	    sizeof(e->sa)) < 0 || (ssl = SSL_new(ctx)) == NULL)
		goto out;
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, e->name);
	if (SSL_connect(ssl) != 1)
		goto out;
	leaf = SSL_get0_peer_certificate(ssl);
	ok = leaf != NULL && X509_digest(leaf, EVP_sha256(), md, &md_len) == 1;
out:
	ERR_clear_error();
	SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	return ok;
}

static void *
handshake_worker(void *arg)
{
	struct job *j = arg;
	size_t i = (size_t)j->index * 7919;

	while (!atomic_load_explicit(j->stop, memory_order_relaxed)) {
		if (one_handshake(j->ctx, &j->ep[i++ % j->n_ep]))
			j->done++;
		else
			j->errors++;
	}
	j->end = bench_now();
	return NULL;
}

static int
read_endpoints(const struct opts *o, struct endpoint **out, size_t *n)
{
	char **lines = NULL;
	size_t nl = 0, k = 0;
	struct endpoint *v;
	int r;

	if ((r = bench_read_lines(o->endpoints, &lines, &nl)) < 0 || nl == 0)
		return r < 0 ? r : -EINVAL;
	v = xcalloc(nl, sizeof(*v));
	for (size_t i = 0; i < nl; i++) {
		char *sp = strchr(lines[i], ' ');

		if (sp == NULL)
			continue;
		*sp = '\0';
		v[k].sa.sin_family = AF_INET;
		v[k].sa.sin_port = htons((uint16_t)o->port);
		if (inet_pton(AF_INET, lines[i], &v[k].sa.sin_addr) != 1)
			continue;
		v[k++].name = xstrdup(sp + 1);
	}
	for (size_t i = 0; i < nl; i++)
		free(lines[i]);
	free(lines);
	*out = v;
	*n = k;
	return k > 0 ? 0 : -EINVAL;
}

/* ---- database writes ----------------------------------------------- */

static const char *const db_setup =
	"SET client_min_messages = warning;"
	"DROP TABLE IF EXISTS raw_versions, raw_certificates, raw_bindings,"
	" raw_audit;"
	"CREATE TABLE raw_certificates (id bigint PRIMARY KEY, arn text,"
	" current_version int NOT NULL DEFAULT 1, renewal_status text,"
	" renewal_state text, next_due_at timestamptz,"
	" updated_at timestamptz);"
	"CREATE INDEX ON raw_certificates (next_due_at);"
	"CREATE TABLE raw_versions (certificate_id bigint, version int,"
	" certificate_pem text, chain_pem text, sealed_key bytea,"
	" fingerprint text, created_at timestamptz DEFAULT now(),"
	" PRIMARY KEY (certificate_id, version));"
	"CREATE TABLE raw_bindings (id bigint PRIMARY KEY,"
	" certificate_id bigint, deployed_version int, deployed_at timestamptz,"
	" probe_fingerprint text);"
	"CREATE TABLE raw_audit (id bigint GENERATED ALWAYS AS IDENTITY"
	" PRIMARY KEY, event_name text, arn text, details jsonb,"
	" at timestamptz DEFAULT now());"
	"INSERT INTO raw_certificates (id, arn) SELECT g, 'arn:raw:' || g"
	" FROM generate_series(1, 10000) g;"
	"INSERT INTO raw_bindings (id, certificate_id) SELECT g, g"
	" FROM generate_series(1, 10000) g;";

static bool
exec_ok(PGconn *conn, const char *sql, int n, const char *const *v)
{
	PGresult *res = PQexecParams(conn, sql, n, NULL, v, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);
	bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

	if (!ok) {
		fprintf(stderr, "bench_renewal_raw: %s", PQerrorMessage(conn));
		PQclear(PQexec(conn, "ROLLBACK"));
	}
	PQclear(res);
	return ok;
}

/* One renewal's record: six round trips, one commit. */
static bool
one_write(PGconn *conn, long id, long version, const char *pem,
    const char *key)
{
	char sid[32], sver[32];
	const char *v[4] = { sid, sver, pem, key };

	snprintf(sid, sizeof(sid), "%ld", id);
	snprintf(sver, sizeof(sver), "%ld", version);
	return exec_ok(conn, "BEGIN", 0, NULL) &&
	    exec_ok(conn, "INSERT INTO raw_versions (certificate_id, version,"
	    " certificate_pem, chain_pem, sealed_key, fingerprint) VALUES"
	    " ($1, $2, $3, $3, decode($4, 'hex'), md5($3))", 4, v) &&
	    exec_ok(conn, "UPDATE raw_certificates SET current_version = $2,"
	    " renewal_status = 'SUCCESS', renewal_state = NULL,"
	    " next_due_at = now() + interval '300 days', updated_at = now()"
	    " WHERE id = $1", 2, v) &&
	    exec_ok(conn, "UPDATE raw_bindings SET deployed_version = $2,"
	    " deployed_at = now(), probe_fingerprint = md5(now()::text)"
	    " WHERE certificate_id = $1", 2, v) &&
	    exec_ok(conn, "INSERT INTO raw_audit (event_name, arn, details)"
	    " VALUES ('RenewCertificate', 'arn:raw:' || $1,"
	    " jsonb_build_object('version', $2::int))", 2, v) &&
	    exec_ok(conn, "COMMIT", 0, NULL);
}

static void *
db_worker(void *arg)
{
	struct job *j = arg;
	char pem[1601], key[1801];
	long id = j->index + 1, version = 1 + (long)(bench_now() * 1000) %
	    1000000 * 100;

	memset(pem, 'A', sizeof(pem) - 1);
	pem[sizeof(pem) - 1] = '\0';
	memset(key, 'b', sizeof(key) - 1);	/* hex: 900 octets */
	key[sizeof(key) - 1] = '\0';
	while (!atomic_load_explicit(j->stop, memory_order_relaxed)) {
		if (one_write(j->conn, id, ++version, pem, key))
			j->done++;
		else
			j->errors++;
		id += j->o->threads;
		if (id > DB_ROWS)
			id = j->index + 1;
	}
	j->end = bench_now();
	return NULL;
}

/* ---- rounds -------------------------------------------------------- */

static double
round_rate(struct job *jobs, const struct opts *o, bool db,
    uint64_t *errors)
{
	pthread_t t[MAX_THREADS];
	atomic_bool stop = false;
	double start = bench_now(), rate = 0;

	for (long i = 0; i < o->threads; i++) {
		jobs[i].stop = &stop;
		jobs[i].start = start;
		jobs[i].done = jobs[i].errors = 0;
		if (pthread_create(&t[i], NULL, db ? db_worker :
		    handshake_worker, &jobs[i]) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			exit(1);
		}
	}
	usleep((useconds_t)o->ms * 1000);
	atomic_store(&stop, true);
	for (long i = 0; i < o->threads; i++) {
		pthread_join(t[i], NULL);
		rate += (double)jobs[i].done / (jobs[i].end - jobs[i].start);
		*errors += jobs[i].errors;
	}
	return rate;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void
measure(struct job *jobs, const struct opts *o, bool db)
{
	double rates[MAX_ROUNDS], cpu0 = cpu_seconds(), cpu;
	uint64_t errors = 0, total = 0;
	double med;

	for (long i = 0; i < o->rounds; i++) {
		rates[i] = round_rate(jobs, o, db, &errors);
		for (long k = 0; k < o->threads; k++)
			total += jobs[k].done;
	}
	cpu = cpu_seconds() - cpu0;
	qsort(rates, (size_t)o->rounds, sizeof(double), cmp_double);
	med = o->rounds % 2 ? rates[o->rounds / 2] :
	    (rates[o->rounds / 2 - 1] + rates[o->rounds / 2]) / 2;
	printf("%-10s %3ld thr  %10.1f/s  (client CPU %.3f ms each)%s\n",
	    o->mode, o->threads, med, total ? 1000 * cpu / (double)total : 0,
	    errors ? "  ERRORS" : "");
	printf("RESULT name=%s threads=%ld rate=%.1f client_cpu_ms=%.4f "
	    "errors=%llu\n", o->mode, o->threads, med,
	    total ? 1000 * cpu / (double)total : 0,
	    (unsigned long long)errors);
	fflush(stdout);
}

static int
run_handshakes(const struct opts *o)
{
	struct job jobs[MAX_THREADS];
	struct endpoint *ep = NULL;
	size_t n = 0;
	SSL_CTX *ctx;

	if (read_endpoints(o, &ep, &n) < 0) {
		fprintf(stderr, "bench_renewal_raw: no endpoints in %s\n",
		    o->endpoints);
		return 1;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	for (long i = 0; i < o->threads; i++)
		jobs[i] = (struct job){ .o = o, .ep = ep, .n_ep = n,
			.ctx = ctx, .index = i };
	measure(jobs, o, false);
	SSL_CTX_free(ctx);
	for (size_t i = 0; i < n; i++)
		free(ep[i].name);
	free(ep);
	return 0;
}

static int
run_db(const struct opts *o)
{
	struct job jobs[MAX_THREADS];
	PGconn *setup = PQconnectdb(o->dsn);
	PGresult *res;
	int rc = 0;

	res = PQexec(setup, db_setup);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "bench_renewal_raw: %s",
		    PQerrorMessage(setup));
		rc = 1;
	}
	PQclear(res);
	if (rc == 0) {
		res = PQexec(setup, "VACUUM ANALYZE");
		PQclear(res);
	}
	for (long i = 0; rc == 0 && i < o->threads; i++) {
		jobs[i] = (struct job){ .o = o, .index = i,
			.conn = PQconnectdb(o->dsn) };
		if (PQstatus(jobs[i].conn) != CONNECTION_OK) {
			fprintf(stderr, "bench_renewal_raw: %s",
			    PQerrorMessage(jobs[i].conn));
			return 1;
		}
	}
	if (rc == 0) {
		measure(jobs, o, true);
		for (long i = 0; i < o->threads; i++)
			PQfinish(jobs[i].conn);
		res = PQexec(setup, "DROP TABLE raw_versions, raw_certificates,"
		    " raw_bindings, raw_audit");
		PQclear(res);
	}
	PQfinish(setup);
	return rc;
}

/* ---- main ---------------------------------------------------------- */

static void
usage(FILE *f)
{
	fprintf(f, "usage: bench_renewal_raw handshake --endpoints FILE "
	    "--port N [options]\n"
	    "       bench_renewal_raw db --dsn DSN [options]\n"
	    "options: --threads N (cores) --rounds N (3) --ms N (1000) "
	    "--max-seconds N (300)\n");
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "endpoints", required_argument, NULL, 'e' },
		{ "port", required_argument, NULL, 'p' },
		{ "dsn", required_argument, NULL, 'd' },
		{ "threads", required_argument, NULL, 't' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "ms", required_argument, NULL, 'm' },
		{ "max-seconds", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int c, r = 0;

	*o = (struct opts){ .threads = cores > 0 ? cores : 1, .rounds = 3,
		.ms = 1000, .max_seconds = 300 };
	if (o->threads > MAX_THREADS)
		o->threads = MAX_THREADS;
	if (argc < 2)
		return -EINVAL;
	o->mode = argv[1];
	optind = 2;
	while (r == 0 && (c = getopt_long(argc, argv, "", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'e': o->endpoints = optarg; break;
		case 'd': o->dsn = optarg; break;
		case 'p': r = bench_parse_long(optarg, 1, 65535, &o->port);
			break;
		case 't': r = bench_parse_long(optarg, 1, MAX_THREADS,
			    &o->threads); break;
		case 'r': r = bench_parse_long(optarg, 1, MAX_ROUNDS,
			    &o->rounds); break;
		case 'm': r = bench_parse_long(optarg, 10, 600000, &o->ms);
			break;
		case 'x': r = bench_parse_long(optarg, 0, 86400,
			    &o->max_seconds); break;
		default: r = -EINVAL;
		}
	}
	if (r == 0 && strcmp(o->mode, "handshake") == 0)
		return o->endpoints != NULL && o->port > 0 ? 0 : -EINVAL;
	if (r == 0 && strcmp(o->mode, "db") == 0)
		return o->dsn != NULL ? 0 : -EINVAL;
	return -EINVAL;
}

int
main(int argc, char **argv)
{
	struct opts o;

	if (parse_opts(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	bench_watchdog((unsigned int)o.max_seconds);
	return strcmp(o.mode, "db") == 0 ? run_db(&o) : run_handshakes(&o);
}
