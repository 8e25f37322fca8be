/*
 * bench_control_api.c: load generator for certfleetd's control API.
 *
 * N client threads, each with its own keep-alive connection on the UNIX
 * socket, run one workload for a number of rounds and print requests per
 * second and latency percentiles per round and their medians:
 *
 *   import    imports --count distinct certificates per round; they are
 *             generated before the clock starts (self-signed P-256 leaves,
 *             unique CN), so the figure is the daemon's cost, not ours
 *   describe  DescribeCertificate of random ARNs from the inventory
 *   list      walks every page of ListCertificates (MaxItems 1000, every
 *             key type); one sample per page; a round ends after the walk
 *             that outlasts --duration, so it holds at least one whole walk
 *   wait      polls ListCertificates until it answers 200 (start-up)
 *
 * Requests are written by hand (one write per request); responses are read
 * with http-parser, the parser the daemon uses. Every run is bounded by
 * --duration (or --count) per round and by the --max-seconds watchdog.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <http_parser.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/xmalloc.h"
#include "tests/bench/bench_util.h"

#define IO_TIMEOUT_S 30
#define MAX_CLIENTS 256
#define MAX_ARNS 2000000

enum mode { MODE_IMPORT, MODE_DESCRIBE, MODE_LIST, MODE_WAIT };

struct opts {
	const char *socket;
	const char *label;
	const char *arns_in;	/* describe: ARNs to pick from */
	const char *arns_out;	/* import: append the new ARNs here */
	enum mode mode;
	long clients;
	long rounds;
	long duration;		/* seconds per round (describe, list, wait) */
	long count;		/* imports per round; describe: 0 = no cap */
	long max_seconds;	/* watchdog for the whole run */
};

/* One keep-alive connection to the daemon, owned by one thread. */
struct conn {
	const char *path;
	int fd;
	http_parser parser;
	char *body;		/* the last response's body, NUL-terminated */
	size_t body_len, body_cap;
	bool done;		/* the response is complete */
	int status;
	uint64_t reconnects;
};

/* What the threads of one run share. */
struct run {
	const struct opts *o;
	struct conn *conns;
	struct bench_samples *samples;
	char **bodies;		/* import: one request body per certificate */
	char **arns;		/* import: filled in; describe: picked from */
	size_t narns;
	atomic_size_t next;	/* import: next body to send */
	size_t end;		/* import: one past this round's last body */
	double deadline;
	pthread_mutex_t lock;	/* guards first_error and the walk figures */
	char *first_error;
	uint64_t walk_items, walk_pages, walks;
	double client_cores;	/* CPU this process used per wall second */
};

struct worker {
	struct run *run;
	size_t idx;
	uint64_t rng;
};

static const char list_keytypes[] =
    "\"Includes\":{\"keyTypes\":[\"RSA_1024\",\"RSA_2048\",\"RSA_3072\","
    "\"RSA_4096\",\"EC_prime256v1\",\"EC_secp384r1\",\"EC_secp521r1\"]}";

/* ---- HTTP over the UNIX socket --------------------------------------- */

static int
on_body(http_parser *p, const char *at, size_t len)
{
	struct conn *c = p->data;

	if (c->body_len + len + 1 > c->body_cap) {
		size_t cap = (c->body_len + len + 1) * 2;
		char *b = realloc(c->body, cap);

		if (b == NULL)
			return -1;
		c->body = b;
		c->body_cap = cap;
	}
	memcpy(c->body + c->body_len, at, len);
	c->body_len += len;
	c->body[c->body_len] = '\0';
	return 0;
}

static int
on_complete(http_parser *p)
{
	((struct conn *)p->data)->done = true;
	return 0;
}

static const http_parser_settings parser_settings = {
	.on_body = on_body,
	.on_message_complete = on_complete,
};

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int
conn_open(struct conn *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	int fd;

	if (strlen(c->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	c->fd = fd;
	return 0;
}

static int
send_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)n };
		ssize_t w = sendmsg(fd, &m, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* Reads one response; -ECONNRESET if the peer closed before answering. */
static int
read_response(struct conn *c)
{
	char buf[16384];
	size_t got = 0;

	http_parser_init(&c->parser, HTTP_RESPONSE);
	c->parser.data = c;
	c->done = false;
	c->body_len = 0;
	while (!c->done) {
		ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
		size_t used;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		used = http_parser_execute(&c->parser, &parser_settings, buf,
		    (size_t)r);
		if (r == 0 && !c->done)
			return got ? -EPROTO : -ECONNRESET;
		if (HTTP_PARSER_ERRNO(&c->parser) != HPE_OK ||
		    used != (size_t)r)
			return -EPROTO;
		got += (size_t)r;
	}
	c->status = c->parser.status_code;
	if (!http_should_keep_alive(&c->parser))
		conn_close(c);
	return 0;
}

static int
conn_try(struct conn *c, const char *action, const char *body, size_t len)
{
	char head[256];
	struct iovec iov[2];
	int n, r;

	n = snprintf(head, sizeof(head), "POST / HTTP/1.1\r\n"
	    "Host: localhost\r\n"
	    "X-Amz-Target: CertificateManager.%s\r\n"
	    "Content-Type: application/x-amz-json-1.1\r\n"
	    "Content-Length: %zu\r\n\r\n", action, len);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -EINVAL;
	iov[0] = (struct iovec){ head, (size_t)n };
	iov[1] = (struct iovec){ (void *)body, len };
	r = send_all(c->fd, iov, 2);
	if (r < 0)
		return r;
	return read_response(c);
}

/*
 * One request and its response (status in c->status, body in c->body). A
 * kept-alive connection the daemon has closed meanwhile is reopened once.
 */
static int
conn_call(struct conn *c, const char *action, const char *body, size_t len)
{
	bool fresh = c->fd < 0;
	int r;

	if (fresh && (r = conn_open(c)) < 0)
		return r;
	r = conn_try(c, action, body, len);
	if (r == -EPIPE || r == -ECONNRESET) {
		conn_close(c);
		if (fresh)
			return r;
		c->reconnects++;
		if ((r = conn_open(c)) < 0)
			return r;
		r = conn_try(c, action, body, len);
	}
	if (r < 0)
		conn_close(c);
	return r;
}

/* ---- errors ----------------------------------------------------------- */

static void
note_error(struct run *run, struct conn *c, const char *action, int r)
{
	pthread_mutex_lock(&run->lock);
	if (run->first_error == NULL) {
		if (r < 0)
			run->first_error = xasprintf("%s: %s", action,
			    strerror(-r));
		else
			run->first_error = xasprintf("%s: HTTP %d: %.300s",
			    action, c->status, c->body ? c->body : "");
	}
	pthread_mutex_unlock(&run->lock);
}

/* Calls and records a sample (200) or an error; returns true on 200. */
static bool
timed_call(struct worker *w, const char *action, const char *body,
    size_t len)
{
	struct run *run = w->run;
	struct conn *c = &run->conns[w->idx];
	double t0 = bench_now();
	int r = conn_call(c, action, body, len);

	if (r == 0 && c->status == 200) {
		bench_samples_add(&run->samples[w->idx],
		    (bench_now() - t0) * 1e3);
		return true;
	}
	run->samples[w->idx].errors++;
	note_error(run, c, action, r);
	return false;
}

/* ---- certificates to import ------------------------------------------ */

static int
add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -EINVAL;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -EINVAL;
}

/* PEM text of a BIO, base64-encoded as the JSON protocol wants blobs. */
static char *
bio_base64(BIO *b)
{
	char *data;
	long len = BIO_get_mem_data(b, &data);
	char *out = xmalloc(((size_t)len + 2) / 3 * 4 + 1);

	EVP_EncodeBlock((unsigned char *)out, (unsigned char *)data, (int)len);
	return out;
}

/* The request body that imports a fresh self-signed P-256 certificate. */
static char *
make_import_body(const char *nonce, size_t i)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
	unsigned char serial[8];
	_cleanup_free_ char *cn = NULL, *san = NULL;
	char *cert64, *key64, *body;
	BIGNUM *bn;
	json_t *j;

	if (k == NULL || x == NULL || name == NULL || cb == NULL || kb == NULL)
		abort();
	cn = xasprintf("bench-%s-%zu.bench.example", nonce, i);
	san = xasprintf("DNS:%s", cn);
	RAND_bytes(serial, sizeof(serial));
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, k);
	if (add_ext(x, NID_subject_alt_name, san) < 0 ||
	    add_ext(x, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(x, NID_key_usage, "critical,digitalSignature") < 0 ||
	    add_ext(x, NID_ext_key_usage, "serverAuth") < 0 ||
	    X509_sign(x, k, EVP_sha256()) == 0 ||
	    !PEM_write_bio_X509(cb, x) ||
	    !PEM_write_bio_PrivateKey(kb, k, NULL, NULL, 0, NULL, NULL))
		abort();
	cert64 = bio_base64(cb);
	key64 = bio_base64(kb);
	j = json_pack("{s:s, s:s}", "Certificate", cert64, "PrivateKey",
	    key64);
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	free(cert64);
	free(key64);
	BIO_free(cb);
	BIO_free(kb);
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(k);
	if (body == NULL)
		abort();
	return body;
}

struct gen_job {
	char **bodies;
	size_t from, to;
	const char *nonce;
};

static void *
gen_thread(void *arg)
{
	struct gen_job *g = arg;
	size_t i;

	for (i = g->from; i < g->to; i++)
		g->bodies[i] = make_import_body(g->nonce, i);
	return NULL;
}

/* Generates n import bodies on nthreads threads. */
static char **
generate_bodies(size_t n, size_t nthreads)
{
	char **bodies = xcalloc(n ? n : 1, sizeof(*bodies));
	pthread_t tid[MAX_CLIENTS];
	struct gen_job jobs[MAX_CLIENTS];
	unsigned char rnd[6];
	char nonce[13];
	size_t i;

	RAND_bytes(rnd, sizeof(rnd));
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(nonce + 2 * i, 3, "%02x", rnd[i]);
	for (i = 0; i < nthreads; i++) {
		jobs[i] = (struct gen_job){ bodies, n * i / nthreads,
			n * (i + 1) / nthreads, nonce };
		pthread_create(&tid[i], NULL, gen_thread, &jobs[i]);
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(tid[i], NULL);
	return bodies;
}

/* ---- workloads -------------------------------------------------------- */

static void *
import_thread(void *arg)
{
	struct worker *w = arg;
	struct run *run = w->run;
	struct conn *c = &run->conns[w->idx];
	size_t i;

	while ((i = atomic_fetch_add(&run->next, 1)) < run->end &&
	    bench_now() < run->deadline) {
		json_t *j, *arn;

		if (!timed_call(w, "ImportCertificate", run->bodies[i],
		    strlen(run->bodies[i])))
			continue;
		j = json_loads(c->body, 0, NULL);
		arn = json_object_get(j, "CertificateArn");
		if (json_is_string(arn))
			run->arns[i] = xstrdup(json_string_value(arn));
		json_decref(j);
	}
	return NULL;
}

static void *
describe_thread(void *arg)
{
	struct worker *w = arg;
	struct run *run = w->run;
	long cap = run->o->count;
	long done = 0;
	char body[2200];

	while (bench_now() < run->deadline && (cap == 0 || done < cap)) {
		const char *arn = run->arns[bench_rand(&w->rng) % run->narns];
		int n = snprintf(body, sizeof(body),
		    "{\"CertificateArn\":\"%s\"}", arn);

		if (n < 0 || (size_t)n >= sizeof(body))
			continue;
		timed_call(w, "DescribeCertificate", body, (size_t)n);
		done++;
	}
	return NULL;
}

/* The body of a ListCertificates page request (malloc'd). */
static char *
list_body(const char *token, long max_items)
{
	if (token == NULL)
		return xasprintf("{\"MaxItems\":%ld,%s}", max_items,
		    list_keytypes);
	return xasprintf("{\"MaxItems\":%ld,\"NextToken\":\"%s\",%s}",
	    max_items, token, list_keytypes);
}

/*
 * One page: returns the next token (malloc'd, NULL at the end) and adds
 * the page's items to *items. *ok is false when the call failed.
 */
static char *
list_page(struct worker *w, const char *token, uint64_t *items, bool *ok)
{
	struct conn *c = &w->run->conns[w->idx];
	_cleanup_free_ char *body = list_body(token, 1000);
	json_t *j, *next;
	char *out = NULL;

	*ok = timed_call(w, "ListCertificates", body, strlen(body));
	if (!*ok)
		return NULL;
	j = json_loads(c->body, 0, NULL);
	*items += json_array_size(json_object_get(j, "CertificateSummaryList"));
	next = json_object_get(j, "NextToken");
	if (json_is_string(next))
		out = xstrdup(json_string_value(next));
	json_decref(j);
	return out;
}

static void *
list_thread(void *arg)
{
	struct worker *w = arg;
	struct run *run = w->run;

	while (bench_now() < run->deadline) {
		uint64_t items = 0, pages = 0;
		char *token = NULL;
		bool ok = true;

		do {
			char *next = list_page(w, token, &items, &ok);

			free(token);
			token = next;
			pages++;
		} while (ok && token != NULL);
		if (ok && token == NULL) {
			pthread_mutex_lock(&run->lock);
			run->walk_items = items;
			run->walk_pages = pages;
			run->walks++;
			pthread_mutex_unlock(&run->lock);
		}
		free(token);
		if (!ok)
			break;
	}
	return NULL;
}

/* ---- rounds ----------------------------------------------------------- */

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* The client shares the machine with the daemon: say how much it took. */
static void
run_round(struct run *run, void *(*fn)(void *), struct bench_round *out)
{
	const struct opts *o = run->o;
	pthread_t tid[MAX_CLIENTS];
	struct worker w[MAX_CLIENTS];
	double t0, cpu0 = cpu_seconds();
	long i;

	for (i = 0; i < o->clients; i++) {
		bench_samples_reset(&run->samples[i]);
		w[i] = (struct worker){ run, (size_t)i, 0 };
		RAND_bytes((unsigned char *)&w[i].rng, sizeof(w[i].rng));
	}
	t0 = bench_now();
	run->deadline = t0 + (double)o->duration;
	for (i = 0; i < o->clients; i++)
		pthread_create(&tid[i], NULL, fn, &w[i]);
	for (i = 0; i < o->clients; i++)
		pthread_join(tid[i], NULL);
	bench_round_compute(out, run->samples, (size_t)o->clients,
	    bench_now() - t0);
	run->client_cores = out->seconds > 0 ?
	    (cpu_seconds() - cpu0) / out->seconds : 0;
}

/* Collects every ARN with ListCertificates on the first connection. */
static int
collect_arns(struct run *run)
{
	struct conn *c = &run->conns[0];
	char *token = NULL;
	size_t cap = 0;

	do {
		_cleanup_free_ char *body = list_body(token, 1000);
		json_t *j, *list, *v, *next;
		size_t i;
		int r = conn_call(c, "ListCertificates", body, strlen(body));

		free(token);
		token = NULL;
		if (r < 0 || c->status != 200) {
			fprintf(stderr, "listing ARNs failed: %s\n",
			    r < 0 ? strerror(-r) : c->body);
			return -EIO;
		}
		j = json_loads(c->body, 0, NULL);
		list = json_object_get(j, "CertificateSummaryList");
		json_array_foreach(list, i, v) {
			json_t *arn = json_object_get(v, "CertificateArn");

			if (!json_is_string(arn) || run->narns >= MAX_ARNS)
				continue;
			if (run->narns == cap) {
				cap = cap ? cap * 2 : 4096;
				run->arns = realloc(run->arns,
				    cap * sizeof(*run->arns));
				if (run->arns == NULL)
					abort();
			}
			run->arns[run->narns++] = xstrdup(json_string_value(arn));
		}
		next = json_object_get(j, "NextToken");
		if (json_is_string(next))
			token = xstrdup(json_string_value(next));
		json_decref(j);
	} while (token != NULL);
	return 0;
}

/* Opens every connection and sends one unmeasured request on each. */
static int
warm_up(struct run *run)
{
	static const char body[] = "{\"MaxItems\":1}";
	long i;

	for (i = 0; i < run->o->clients; i++) {
		struct conn *c = &run->conns[i];
		int r = conn_call(c, "ListCertificates", body,
		    sizeof(body) - 1);

		if (r < 0 || c->status != 200) {
			fprintf(stderr, "warm-up request failed: %s\n",
			    r < 0 ? strerror(-r) : c->body);
			return -EIO;
		}
	}
	return 0;
}

static void
write_arns(const struct run *run, size_t from, size_t to)
{
	FILE *f;
	size_t i;

	if (run->o->arns_out == NULL)
		return;
	f = fopen(run->o->arns_out, "a");
	if (f == NULL) {
		perror(run->o->arns_out);
		return;
	}
	for (i = from; i < to; i++)
		if (run->arns[i] != NULL)
			fprintf(f, "%s\n", run->arns[i]);
	fclose(f);
}

static void
print_round(struct run *run, size_t i, const struct bench_round *r)
{
	_cleanup_free_ char *extra = NULL;
	uint64_t reconnects = 0;
	long k;

	for (k = 0; k < run->o->clients; k++)
		reconnects += run->conns[k].reconnects;
	if (i == 0)
		extra = xasprintf("%llu reconnects in all",
		    (unsigned long long)reconnects);
	else if (run->o->mode == MODE_LIST)
		extra = xasprintf("last walk: %llu items in %llu pages, %llu "
		    "walks; client CPU %.2f cores",
		    (unsigned long long)run->walk_items,
		    (unsigned long long)run->walk_pages,
		    (unsigned long long)run->walks, run->client_cores);
	else
		extra = xasprintf("client CPU %.2f cores", run->client_cores);
	bench_round_print(stdout, run->o->label, i, (size_t)run->o->rounds, r,
	    extra);
}

static int
run_rounds(struct run *run)
{
	const struct opts *o = run->o;
	void *(*fn)(void *) = o->mode == MODE_IMPORT ? import_thread :
	    o->mode == MODE_DESCRIBE ? describe_thread : list_thread;
	struct bench_round *rounds = xcalloc((size_t)o->rounds,
	    sizeof(*rounds));
	struct bench_round med;
	long i;

	for (i = 0; i < o->rounds; i++) {
		if (o->mode == MODE_IMPORT) {
			atomic_store(&run->next, (size_t)(i * o->count));
			run->end = (size_t)((i + 1) * o->count);
		}
		run->walks = 0;
		run_round(run, fn, &rounds[i]);
		if (o->mode == MODE_IMPORT)
			write_arns(run, (size_t)(i * o->count), run->end);
		print_round(run, (size_t)i + 1, &rounds[i]);
	}
	bench_round_median(&med, rounds, (size_t)o->rounds);
	print_round(run, 0, &med);
	if (o->mode == MODE_LIST)
		printf("RESULT name=%s_walk items=%llu pages=%llu\n", o->label,
		    (unsigned long long)run->walk_items,
		    (unsigned long long)run->walk_pages);
	if (run->first_error != NULL)
		printf("first error: %s\n", run->first_error);
	free(rounds);
	return 0;
}

/* ---- main ------------------------------------------------------------- */

static int
wait_ready(const struct opts *o)
{
	static const char body[] = "{\"MaxItems\":1}";
	struct conn c = { .path = o->socket, .fd = -1 };
	double end = bench_now() + (double)o->duration;
	int r = -ETIMEDOUT;

	while (bench_now() < end) {
		r = conn_call(&c, "ListCertificates", body, sizeof(body) - 1);
		if (r == 0 && c.status == 200)
			break;
		conn_close(&c);
		usleep(100 * 1000);
	}
	conn_close(&c);
	free(c.body);
	if (r == 0 && c.status == 200) {
		printf("daemon answers on %s\n", o->socket);
		return 0;
	}
	fprintf(stderr, "daemon did not answer on %s within %ld s (%s, "
	    "HTTP %d)\n", o->socket, o->duration,
	    r < 0 ? strerror(-r) : "answered", c.status);
	return -ETIMEDOUT;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: bench_control_api --socket PATH --mode "
	    "import|describe|list|wait\n"
	    "  [--clients N (8)] [--rounds N (5)] [--duration SECONDS (5)]\n"
	    "  [--count N (import: per round, 2000; describe: cap per "
	    "thread and round)]\n"
	    "  [--arns-in FILE] [--arns-out FILE] [--label NAME] "
	    "[--max-seconds N (600)]\n");
}

static int
parse_mode(const char *s, enum mode *m)
{
	static const char *const names[] = { "import", "describe", "list",
		"wait" };
	size_t i;

	for (i = 0; i < ELEMENTSOF(names); i++)
		if (strcmp(s, names[i]) == 0) {
			*m = (enum mode)i;
			return 0;
		}
	return -EINVAL;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		{ "clients", required_argument, NULL, 'c' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "arns-in", required_argument, NULL, 'i' },
		{ "arns-out", required_argument, NULL, 'o' },
		{ "label", required_argument, NULL, 'l' },
		{ "max-seconds", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_mode = false, have_count = false;
	int c, r = 0;

	*o = (struct opts){ .clients = 8, .rounds = 5, .duration = 5,
		.max_seconds = 600 };
	while (r == 0 && (c = getopt_long(argc, argv, "s:m:c:r:d:n:i:o:l:x:h",
	    longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->socket = optarg; break;
		case 'm': r = parse_mode(optarg, &o->mode); have_mode = true;
			break;
		case 'c': r = bench_parse_long(optarg, 1, MAX_CLIENTS,
			    &o->clients); break;
		case 'r': r = bench_parse_long(optarg, 1, 1000, &o->rounds);
			break;
		case 'd': r = bench_parse_long(optarg, 1, 3600, &o->duration);
			break;
		case 'n': r = bench_parse_long(optarg, 0, 1000000, &o->count);
			have_count = true; break;
		case 'i': o->arns_in = optarg; break;
		case 'o': o->arns_out = optarg; break;
		case 'l': o->label = optarg; break;
		case 'x': r = bench_parse_long(optarg, 0, 86400,
			    &o->max_seconds); break;
		case 'h': usage(stdout); exit(0);
		default: r = -EINVAL;
		}
	}
	if (r < 0 || optind != argc || o->socket == NULL || !have_mode)
		return -EINVAL;
	if (o->mode == MODE_IMPORT && !have_count)
		o->count = 2000;
	if (o->mode == MODE_IMPORT) /* imports stop by count, not time */
		o->duration = o->max_seconds ? o->max_seconds : 3600;
	if (o->label == NULL) {
		static const char *const labels[] = { "import", "describe",
			"list", "wait" };
		o->label = labels[o->mode];
	}
	return 0;
}

static int
prepare(struct run *run)
{
	const struct opts *o = run->o;
	size_t total = (size_t)(o->count * o->rounds);
	double t0 = bench_now();
	int r;

	if (o->mode == MODE_IMPORT) {
		run->bodies = generate_bodies(total, (size_t)o->clients);
		run->arns = xcalloc(total ? total : 1, sizeof(*run->arns));
		run->narns = total;
		printf("%s: generated %zu certificates in %.2f s\n", o->label,
		    total, bench_now() - t0);
		return 0;
	}
	if (o->mode != MODE_DESCRIBE)
		return 0;
	if (o->arns_in != NULL)
		r = bench_read_lines(o->arns_in, &run->arns, &run->narns);
	else
		r = collect_arns(run);
	if (r < 0 || run->narns == 0) {
		fprintf(stderr, "no ARNs to describe\n");
		return -ENOENT;
	}
	printf("%s: picking from %zu ARNs\n", o->label, run->narns);
	return 0;
}

static void
run_free(struct run *run)
{
	size_t i;
	long k;

	for (k = 0; k < run->o->clients; k++) {
		conn_close(&run->conns[k]);
		free(run->conns[k].body);
		bench_samples_done(&run->samples[k]);
	}
	for (i = 0; i < run->narns; i++) {
		free(run->arns[i]);
		if (run->bodies != NULL)
			free(run->bodies[i]);
	}
	free(run->arns);
	free(run->bodies);
	free(run->conns);
	free(run->samples);
	free(run->first_error);
	pthread_mutex_destroy(&run->lock);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct run run;
	long k;
	int r;

	if (parse_opts(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	bench_watchdog((unsigned int)o.max_seconds);
	if (o.mode == MODE_WAIT)
		return wait_ready(&o) < 0 ? 1 : 0;
	memset(&run, 0, sizeof(run));
	run.o = &o;
	pthread_mutex_init(&run.lock, NULL);
	run.conns = xcalloc((size_t)o.clients, sizeof(*run.conns));
	run.samples = xcalloc((size_t)o.clients, sizeof(*run.samples));
	for (k = 0; k < o.clients; k++)
		run.conns[k] = (struct conn){ .path = o.socket, .fd = -1 };
	r = warm_up(&run);
	if (r == 0)
		r = prepare(&run);
	if (r == 0)
		r = run_rounds(&run);
	run_free(&run);
	return r < 0 ? 1 : 0;
}
