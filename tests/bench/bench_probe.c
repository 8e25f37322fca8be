/*
 * bench_probe.c: TLS probes per second and client CPU per probe
 * (src/renewal/tls_probe.c) side by side, in the same run and against the
 * same endpoints, with
 *   bare          a minimal OpenSSL client: blocking connect, SSL_connect
 *                 with SNI, close_notify, close; no trust store;
 *   bare+verify   the same with the probe's trust (certfleet's CA and the
 *                 system's roots), so OpenSSL verifies the chain as it
 *                 does for the probe;
 *   certfleet/1   tls_probe with one probe in flight;
 *   certfleet/K   tls_probe with --in-flight probes in flight;
 *   blackbox      Prometheus' blackbox_exporter, asked over HTTP
 *                 (/probe?target=...&module=tcp_tls), its CPU read from
 *                 /proc/<pid>/stat (--blackbox-pid).
 *
 *   bench_probe --targets ADDR:PORT[,ADDR:PORT...] --sni NAME --ca FILE
 *               --fingerprint HEX [--count 2000] [--in-flight 8]
 *               [--rounds 5] [--blackbox URL --blackbox-pid PID
 *               --blackbox-count 500] [--only MODE]
 *
 * CPU is user + system time of the client process (getrusage) or of
 * blackbox_exporter, divided by the probes completed. Within a round the
 * modes take turns in ten batches, so that load from elsewhere on the
 * machine falls on all of them alike. Medians over rounds.
 * tests/bench/run-probe-bench starts nginx and blackbox_exporter. Prints
 * figures; never judges them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/xmalloc.h"
#include "loop/ares_loop.h"
#include "renewal/tls_probe.h"
#include "tests/bench/bench_util.h"

#define MAX_ROUNDS	50
#define MAX_TARGETS	16
#define BATCHES		10	/* per round, modes in turn */

enum mode { BARE, BARE_VERIFY, CF_ONE, CF_MANY, BLACKBOX, N_MODES };

static const char *const mode_names[N_MODES] = { "bare", "bare+verify",
	"certfleet/1", "certfleet/K", "blackbox" };

struct target {
	char host[INET6_ADDRSTRLEN];
	uint16_t port;
	struct sockaddr_in sa;
};

struct opts {
	struct target targets[MAX_TARGETS];
	size_t n_targets;
	const char *sni, *ca_file, *fingerprint;
	char *ca_pem;
	long count, in_flight, rounds, bb_count;
	const char *bb_url;
	long bb_pid;
	const char *only;	/* one mode's name, for profiling */
};

/* What one mode did in one round, summed over its batches. */
struct acc {
	double seconds, cpu;
	long ok;
};

struct cf_run {
	struct event_base *base;
	struct tls_prober *prober;
	const struct opts *o;
	long started, done, failed, target_count;
	unsigned in_flight;
};

static double
cpu_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* utime + stime of another process, in seconds. */
static double
cpu_of(long pid)
{
	char path[64], buf[2048], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ---- bare OpenSSL ---- */

static SSL_CTX *
bare_ctx(const char *ca_file)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	/* the trust the probe has: certfleet's CA and the system's roots */
	if (ca_file != NULL) {
		SSL_CTX_load_verify_file(ctx, ca_file);
		SSL_CTX_set_default_verify_paths(ctx);
	}
	return ctx;
}

static bool
bare_handshake(SSL_CTX *ctx, const struct target *t, const char *sni)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = false;
	SSL *ssl;

	if (fd < 0)
		return false;
	if (connect(fd, (const struct sockaddr *)&t->sa, sizeof(t->sa)) < 0) {
		close(fd);
		return false;
	}
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, sni);
	if (SSL_connect(ssl) == 1 && SSL_get0_peer_certificate(ssl) != NULL) {
		ok = true;
		SSL_shutdown(ssl);
	}
	SSL_free(ssl);
	close(fd);
	ERR_clear_error();
	return ok;
}

static void
run_bare(const struct opts *o, bool verify, long n, struct acc *acc)
{
	SSL_CTX *ctx = bare_ctx(verify ? o->ca_file : NULL);
	double t0 = bench_now(), c0 = cpu_self();
	long i, ok = 0;

	for (i = 0; i < n; i++)
		ok += bare_handshake(ctx, &o->targets[i % (long)o->n_targets],
		    o->sni);
	acc->seconds += bench_now() - t0;
	acc->cpu += cpu_self() - c0;
	acc->ok += ok;
	if (ok != n)
		fprintf(stderr, "bare: %ld of %ld failed\n", n - ok, n);
	SSL_CTX_free(ctx);
}

/* ---- certfleet's probe ---- */

static void cf_start(struct cf_run *r);

static void
on_probe(const struct tls_probe_result *res, void *arg)
{
	struct cf_run *r = arg;

	r->in_flight--;
	if (res->verdict == TLS_PROBE_PASS)
		r->done++;
	else {
		r->failed++;
		if (r->failed < 5)
			fprintf(stderr, "probe failed: %s\n", res->n_addrs ?
			    res->addrs[0].error : res->error);
	}
	if (r->started < r->target_count)
		cf_start(r);
	else if (r->in_flight == 0)
		event_base_loopbreak(r->base);
}

static void
cf_start(struct cf_run *r)
{
	const struct opts *o = r->o;
	char *msg = NULL;

	while (r->in_flight < (unsigned)o->in_flight &&
	    r->started < r->target_count) {
		const struct target *t = &o->targets[r->started %
		    (long)o->n_targets];
		struct tls_endpoint ep = { t->host, t->port, o->sni };

		r->started++;
		r->in_flight++;
		if (tls_probe_start(r->prober, &ep, o->fingerprint, on_probe,
		    r, NULL, &msg) < 0) {
			fprintf(stderr, "tls_probe_start: %s\n", msg);
			exit(1);
		}
	}
}

static void
run_certfleet(struct event_base *base, struct ares_loop *dns,
    const struct opts *o, unsigned in_flight, long n, struct acc *acc)
{
	struct tls_prober_settings ts = { .timeout_ms = 5000,
		.max_in_flight = in_flight, .max_per_host = in_flight,
		.ca_pem = o->ca_pem };
	struct opts local = *o;
	struct cf_run r = { .base = base, .o = &local, .target_count = n };
	double t0, c0;
	char *msg = NULL;

	local.in_flight = in_flight;
	if (tls_prober_new(base, dns, &ts, &r.prober, &msg) < 0) {
		fprintf(stderr, "tls_prober_new: %s\n", msg);
		exit(1);
	}
	t0 = bench_now();
	c0 = cpu_self();
	cf_start(&r);
	event_base_dispatch(base);
	acc->seconds += bench_now() - t0;
	acc->cpu += cpu_self() - c0;
	acc->ok += r.done;
	tls_prober_free(r.prober);
}

/* ---- blackbox_exporter ---- */

struct body {
	char buf[16384];
	size_t n;
};

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb, room = sizeof(b->buf) - 1 - b->n;

	memcpy(b->buf + b->n, data, n < room ? n : room);
	b->n += n < room ? n : room;
	b->buf[b->n] = '\0';
	return n;
}

static void
run_blackbox(const struct opts *o, long n, struct acc *acc)
{
	CURL *h = curl_easy_init();
	double t0 = bench_now(), c0 = cpu_of(o->bb_pid);
	long i, ok = 0;
	struct body b;

	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	for (i = 0; i < n; i++) {
		const struct target *t = &o->targets[i % (long)o->n_targets];
		char *url = xasprintf("%s/probe?module=tcp_tls&target=%s:%u",
		    o->bb_url, t->host, t->port);

		b.n = 0;
		b.buf[0] = '\0';
		curl_easy_setopt(h, CURLOPT_URL, url);
		if (curl_easy_perform(h) == CURLE_OK &&
		    strstr(b.buf, "\nprobe_success 1") != NULL)
			ok++;
		else if (i - ok < 3)
			fprintf(stderr, "blackbox probe failed: %.300s\n",
			    b.buf);
		free(url);
	}
	acc->seconds += bench_now() - t0;
	acc->cpu += cpu_of(o->bb_pid) - c0;
	acc->ok += ok;
	curl_easy_cleanup(h);
}

/* ---- main ---- */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(const double *in, size_t n)
{
	double v[MAX_ROUNDS];

	memcpy(v, in, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static bool
wanted(const struct opts *o, int mode)
{
	return o->only == NULL || strcmp(o->only, mode_names[mode]) == 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_probe --targets ADDR:PORT[,...] --sni "
	    "NAME --ca FILE --fingerprint HEX [--count N] [--in-flight K] "
	    "[--rounds R] [--blackbox URL --blackbox-pid PID "
	    "--blackbox-count M] [--only MODE]\n");
	exit(2);
}

static void
parse_targets(struct opts *o, const char *list)
{
	char *copy = xstrdup(list), *save = NULL, *tok;

	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		struct target *t = &o->targets[o->n_targets];
		char *colon = strrchr(tok, ':');
		long port;

		if (o->n_targets == MAX_TARGETS || colon == NULL)
			usage();
		*colon = '\0';
		if (bench_parse_long(colon + 1, 1, 65535, &port) < 0 ||
		    strlen(tok) >= sizeof(t->host) ||
		    inet_pton(AF_INET, tok, &t->sa.sin_addr) != 1)
			usage();
		memcpy(t->host, tok, strlen(tok) + 1);
		t->port = (uint16_t)port;
		t->sa.sin_family = AF_INET;
		t->sa.sin_port = htons(t->port);
		o->n_targets++;
	}
	free(copy);
}

static void
parse_args(struct opts *o, int argc, char **argv)
{
	int a;

	for (a = 1; a + 1 < argc; a += 2) {
		const char *k = argv[a], *v = argv[a + 1];

		if (strcmp(k, "--targets") == 0)
			parse_targets(o, v);
		else if (strcmp(k, "--sni") == 0)
			o->sni = v;
		else if (strcmp(k, "--ca") == 0)
			o->ca_file = v;
		else if (strcmp(k, "--fingerprint") == 0)
			o->fingerprint = v;
		else if (strcmp(k, "--blackbox") == 0)
			o->bb_url = v;
		else if (strcmp(k, "--only") == 0)
			o->only = v;
		else if ((strcmp(k, "--count") == 0 &&
		    bench_parse_long(v, 1, 10000000, &o->count) == 0) ||
		    (strcmp(k, "--in-flight") == 0 &&
		    bench_parse_long(v, 1, 10000, &o->in_flight) == 0) ||
		    (strcmp(k, "--rounds") == 0 &&
		    bench_parse_long(v, 1, MAX_ROUNDS, &o->rounds) == 0) ||
		    (strcmp(k, "--blackbox-pid") == 0 &&
		    bench_parse_long(v, 1, 1L << 30, &o->bb_pid) == 0) ||
		    (strcmp(k, "--blackbox-count") == 0 &&
		    bench_parse_long(v, 1, 1000000, &o->bb_count) == 0))
			continue;
		else
			usage();
	}
	if (a != argc || o->n_targets == 0 || !o->sni || !o->ca_file ||
	    !o->fingerprint || (o->bb_url != NULL && o->bb_pid == 0))
		usage();
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = xmalloc(1 << 16);
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(1);
	}
	n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

int
main(int argc, char **argv)
{
	struct opts o = { .count = 2000, .in_flight = 8, .rounds = 5,
		.bb_count = 500 };
	double rate[N_MODES][MAX_ROUNDS], cpu[N_MODES][MAX_ROUNDS];
	struct ares_loop_settings as = { .timeout_ms = 2000, .tries = 2 };
	struct event_base *base;
	struct ares_loop *dns;
	char *msg = NULL;
	long i;
	int m, last_mode;

	parse_args(&o, argc, argv);
	o.ca_pem = slurp(o.ca_file);
	bench_watchdog(3600);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	base = event_base_new();
	if (ares_loop_new(base, &as, &dns, &msg) < 0) {
		fprintf(stderr, "ares_loop_new: %s\n", msg);
		return 1;
	}
	last_mode = o.bb_url ? BLACKBOX : CF_MANY;
	printf("bench_probe: %zu endpoint address(es), %ld probes per mode "
	    "(blackbox %ld), certfleet/K with K=%ld, %ld rounds\n",
	    o.n_targets, o.count, o.bb_count, o.in_flight, o.rounds);
	memset(rate, 0, sizeof(rate));
	memset(cpu, 0, sizeof(cpu));
	for (i = 0; i < o.rounds; i++) {
		struct acc acc[N_MODES];
		long b;

		memset(acc, 0, sizeof(acc));
		/* Modes take turns in batches: a busy machine slows all. */
		for (b = 0; b < BATCHES; b++) {
			if (wanted(&o, BARE))
				run_bare(&o, false, o.count / BATCHES,
				    &acc[BARE]);
			if (wanted(&o, BARE_VERIFY))
				run_bare(&o, true, o.count / BATCHES,
				    &acc[BARE_VERIFY]);
			if (wanted(&o, CF_ONE))
				run_certfleet(base, dns, &o, 1,
				    o.count / BATCHES, &acc[CF_ONE]);
			if (wanted(&o, CF_MANY))
				run_certfleet(base, dns, &o,
				    (unsigned)o.in_flight, o.count / BATCHES,
				    &acc[CF_MANY]);
			if (o.bb_url && wanted(&o, BLACKBOX))
				run_blackbox(&o, o.bb_count / BATCHES,
				    &acc[BLACKBOX]);
		}
		for (m = 0; m < N_MODES; m++) {
			rate[m][i] = acc[m].ok ? acc[m].ok /
			    acc[m].seconds : 0;
			cpu[m][i] = acc[m].ok ? acc[m].cpu / acc[m].ok : 0;
		}
		printf("round %ld:", i + 1);
		for (m = 0; m <= last_mode; m++)
			printf(" %s %.0f/s %.0f us;", mode_names[m], rate[m][i],
			    cpu[m][i] * 1e6);
		printf("\n");
		fflush(stdout);
	}
	printf("median of %ld rounds (probes/s, client CPU per probe):\n",
	    o.rounds);
	for (m = 0; m <= last_mode; m++)
		printf("  %-12s %8.0f/s  %7.0f us  (%.2fx bare)\n",
		    mode_names[m], median(rate[m], (size_t)o.rounds),
		    median(cpu[m], (size_t)o.rounds) * 1e6,
		    median(cpu[m], (size_t)o.rounds) /
		    median(cpu[BARE], (size_t)o.rounds));
	printf("RESULT name=bench_probe");
	for (m = 0; m <= last_mode; m++)
		printf(" %s_per_s=%.0f %s_cpu_us=%.0f", mode_names[m],
		    median(rate[m], (size_t)o.rounds), mode_names[m],
		    median(cpu[m], (size_t)o.rounds) * 1e6);
	printf(" target_ratio=1.2\n");
	ares_loop_free(dns);
	event_base_free(base);
	curl_global_cleanup();
	free(o.ca_pem);
	return 0;
}
