/*
 * bench_issue.c: what certfleet's key generation and issuing cost against
 * OpenSSL itself, on one thread and on N threads (default: one per core).
 *
 * Four workloads, each measured two ways in alternating rounds:
 *
 *   keygen RSA-2048   raw: EVP_PKEY_Q_keygen      ours: keygen_generate
 *   keygen P-256      raw: EVP_PKEY_Q_keygen      ours: keygen_generate
 *   sign, RSA-2048 CA raw: a leaf built with X509 calls, X509_sign, DER
 *   sign, P-256 CA    ours: ca_issue (the same leaf, PEM)
 *
 * The raw leaf carries what ca_issue's does (three DNS SANs, CA:FALSE, key
 * usage, EKU, SKI, AKI, a 128-bit serial, SHA-256), built the plain way a
 * program would (X509_set_pubkey, X509V3_EXT_nconf_nid, X509_sign), so the
 * ratio is the price of our layer. It is above 100% for signing because
 * ca_issue skips X509_set_pubkey's encoder/decoder round trip for EC keys
 * and builds the constant extensions once. The signed leaves certify a
 * P-256 key made beforehand. "signature only" gives, as the upper bound,
 * EVP_DigestSign over a 600-byte message with the same CA key.
 *
 * Each round runs for --ms milliseconds (three times that for RSA key
 * generation, whose rate is noisy); the figure is the median of --rounds
 * rounds. Benchmarks print figures; they never judge them.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/xmalloc.h"
#include "pki/ca.h"
#include "pki/keygen.h"
#include "tests/bench/bench_util.h"

#define MAX_THREADS 256
#define MAX_ROUNDS 101

static const char *const names[] = {
	"www.example.com", "example.com", "*.example.com",
};

enum op {
	OP_KEYGEN_RSA,
	OP_KEYGEN_EC,
	OP_SIGN_RSA_CA,
	OP_SIGN_EC_CA,
};

struct env {
	struct ca *ca[2];		/* [0] RSA-2048 CA, [1] P-256 CA */
	X509 *inter[2];			/* the intermediates, for raw leaves */
	EVP_PKEY *ca_key[2];
	EVP_PKEY *leaf_key;		/* the key every signed leaf certifies */
};

struct job {
	const struct env *env;
	enum op op;
	bool raw;		/* the OpenSSL baseline, else ours */
	bool sign_only;		/* EVP_DigestSign alone (raw only) */
	atomic_bool *stop;
	double start;
	/* out */
	uint64_t done;
	uint64_t errors;
	double end;
};

struct opts {
	long threads, rounds, ms, max_seconds;
	const char *only;	/* one workload by its RESULT name, or NULL */
};

/* ---- one operation ------------------------------------------------ */

static bool
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;
	bool ok;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_nconf_nid(NULL, &v3, nid, value);
	ok = e != NULL && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

/* The plain OpenSSL way to make the leaf ca_issue makes. */
static bool
raw_issue(X509 *inter, EVP_PKEY *ca_key, EVP_PKEY *leaf_key)
{
	unsigned char serial[16], *der = NULL;
	X509 *x = X509_new();
	BIGNUM *bn = NULL;
	bool ok;

	ok = x != NULL && RAND_bytes(serial, sizeof(serial)) == 1 &&
	    (bn = BN_bin2bn(serial, sizeof(serial), NULL)) != NULL &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL &&
	    X509_set_version(x, X509_VERSION_3) &&
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
	    X509_gmtime_adj(X509_getm_notAfter(x), 395L * 86400) &&
	    X509_set_pubkey(x, leaf_key) &&
	    X509_NAME_add_entry_by_NID(X509_get_subject_name(x),
	    NID_commonName, MBSTRING_ASC, (const unsigned char *)names[0], -1,
	    -1, 0) &&
	    X509_set_issuer_name(x, X509_get_subject_name(inter)) &&
	    add_ext(x, inter, NID_basic_constraints, "critical,CA:FALSE") &&
	    add_ext(x, inter, NID_key_usage, "critical,digitalSignature") &&
	    add_ext(x, inter, NID_ext_key_usage, "serverAuth,clientAuth") &&
	    add_ext(x, inter, NID_subject_key_identifier, "hash") &&
	    add_ext(x, inter, NID_authority_key_identifier, "keyid:always") &&
	    add_ext(x, inter, NID_subject_alt_name, "DNS:www.example.com,"
	    "DNS:example.com,DNS:*.example.com") &&
	    X509_sign(x, ca_key, EVP_sha256()) > 0 && i2d_X509(x, &der) > 0;
	OPENSSL_free(der);
	BN_free(bn);
	X509_free(x);
	return ok;
}

static bool
raw_sign_only(EVP_PKEY *ca_key)
{
	unsigned char msg[600] = { 0 }, sig[1024];
	size_t sig_len = sizeof(sig);
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	bool ok;

	ok = mctx != NULL && EVP_DigestSignInit(mctx, NULL, EVP_sha256(),
	    NULL, ca_key) == 1 && EVP_DigestSign(mctx, sig, &sig_len, msg,
	    sizeof(msg)) == 1;
	EVP_MD_CTX_free(mctx);
	return ok;
}

static bool
our_issue(const struct ca *ca, EVP_PKEY *leaf_key)
{
	struct issue_params p;
	char *pem = NULL, *msg = NULL;
	bool ok;

	issue_params_init(&p);
	p.public_key = leaf_key;
	p.names = names;
	p.n_names = ELEMENTSOF(names);
	ok = ca_issue(ca, &p, &pem, &msg) == 0;
	free(pem);
	free(msg);
	return ok;
}

static bool
keygen(enum key_algorithm alg, bool raw)
{
	EVP_PKEY *k = NULL;
	char *msg = NULL;
	bool ok;

	if (raw)
		k = alg == KEY_ALG_RSA_2048 ?
		    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048) :
		    EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ok = raw ? k != NULL : keygen_generate(alg, &k, &msg) == 0;
	EVP_PKEY_free(k);
	free(msg);
	return ok;
}

static bool
run_op(const struct job *j)
{
	const struct env *e = j->env;
	int c = j->op == OP_SIGN_RSA_CA ? 0 : 1;

	switch (j->op) {
	case OP_KEYGEN_RSA:
		return keygen(KEY_ALG_RSA_2048, j->raw);
	case OP_KEYGEN_EC:
		return keygen(KEY_ALG_EC_P256, j->raw);
	default:
		if (j->sign_only)
			return raw_sign_only(e->ca_key[c]);
		return j->raw ? raw_issue(e->inter[c], e->ca_key[c],
		    e->leaf_key) : our_issue(e->ca[c], e->leaf_key);
	}
}

/* ---- rounds ------------------------------------------------------- */

static void *
worker(void *arg)
{
	struct job *j = arg;

	while (!atomic_load_explicit(j->stop, memory_order_relaxed)) {
		if (run_op(j))
			j->done++;
		else
			j->errors++;
	}
	j->end = bench_now();
	return NULL;
}

/* Operations per second summed over threads (each over its own span). */
static double
round_rate(const struct env *env, enum op op, bool raw, bool sign_only,
    long threads, long ms, uint64_t *errors)
{
	struct job jobs[MAX_THREADS];
	pthread_t t[MAX_THREADS];
	atomic_bool stop = false;
	double start = bench_now(), rate = 0;

	for (long i = 0; i < threads; i++) {
		jobs[i] = (struct job){ .env = env, .op = op, .raw = raw,
			.sign_only = sign_only, .stop = &stop, .start = start };
		if (pthread_create(&t[i], NULL, worker, &jobs[i]) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			exit(1);
		}
	}
	usleep((useconds_t)ms * 1000);
	atomic_store(&stop, true);
	for (long i = 0; i < threads; i++) {
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
median(double *v, size_t n)
{
	qsort(v, n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static const char *const op_labels[] = {
	[OP_KEYGEN_RSA] = "keygen RSA-2048",
	[OP_KEYGEN_EC] = "keygen P-256",
	[OP_SIGN_RSA_CA] = "sign, RSA-2048 CA",
	[OP_SIGN_EC_CA] = "sign, P-256 CA",
};

static const char *const op_keys[] = {
	[OP_KEYGEN_RSA] = "keygen_rsa2048",
	[OP_KEYGEN_EC] = "keygen_p256",
	[OP_SIGN_RSA_CA] = "sign_rsa2048_ca",
	[OP_SIGN_EC_CA] = "sign_p256_ca",
};

/* Raw and ours in alternating rounds, so drift touches both alike. */
static void
measure(const struct env *env, enum op op, long threads,
    const struct opts *o)
{
	double raw[MAX_ROUNDS], ours[MAX_ROUNDS], sig[MAX_ROUNDS];
	long ms = op == OP_KEYGEN_RSA ? o->ms * 3 : o->ms;
	bool signing = op == OP_SIGN_RSA_CA || op == OP_SIGN_EC_CA;
	uint64_t errors = 0;
	double r, u;

	for (long i = 0; i < o->rounds; i++) {
		raw[i] = round_rate(env, op, true, false, threads, ms, &errors);
		ours[i] = round_rate(env, op, false, false, threads, ms,
		    &errors);
		if (signing)
			sig[i] = round_rate(env, op, true, true, threads,
			    o->ms / 2, &errors);
	}
	r = median(raw, (size_t)o->rounds);
	u = median(ours, (size_t)o->rounds);
	printf("%-18s %3ld thr  raw %10.1f/s (%9.1f/core)  certfleet "
	    "%10.1f/s (%9.1f/core)  ratio %5.1f%%", op_labels[op], threads,
	    r, r / (double)threads, u, u / (double)threads, 100.0 * u / r);
	if (signing)
		printf("  [signature only %.0f/s]", median(sig,
		    (size_t)o->rounds));
	printf("%s\n", errors ? "  ERRORS" : "");
	printf("RESULT name=%s threads=%ld raw=%.1f certfleet=%.1f "
	    "ratio=%.3f errors=%llu\n", op_keys[op], threads, r, u, u / r,
	    (unsigned long long)errors);
	fflush(stdout);
}

/* ---- set-up ------------------------------------------------------- */

static void
die(const char *what, char *msg)
{
	fprintf(stderr, "bench_issue: %s: %s\n", what, msg ? msg : "failed");
	exit(1);
}

static void
env_ca(struct env *e, int i, enum key_algorithm alg)
{
	struct ca_create_params p = { .name = "bench", .key_algorithm = alg };
	struct ca_material *m = NULL;
	const unsigned char *d;
	BIO *bio;
	char *msg = NULL;

	if (ca_create(&p, &m, &msg) != 0)
		die("ca_create", msg);
	if (ca_load(m->root_pem, m->intermediate_pem, m->intermediate_key_der,
	    m->intermediate_key_len, &e->ca[i], &msg) != 0)
		die("ca_load", msg);
	bio = BIO_new_mem_buf(m->intermediate_pem, -1);
	e->inter[i] = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	d = m->intermediate_key_der;
	if (pkey_from_pkcs8_der(d, m->intermediate_key_len,
	    &e->ca_key[i]) != 0 || e->inter[i] == NULL)
		die("reading the CA back", NULL);
	ca_material_free(m);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: bench_issue [--threads N] [--rounds N] [--ms N] "
	    "[--max-seconds N] [--only NAME]\n"
	    "  --threads      threads for the parallel runs (default: cores)\n"
	    "  --rounds       rounds per figure, median reported (default 5)\n"
	    "  --ms           milliseconds per round (default 1000; RSA key\n"
	    "                 generation rounds last three times longer)\n"
	    "  --max-seconds  end the run after this long (default 900)\n"
	    "  --only         one workload: keygen_rsa2048, keygen_p256,\n"
	    "                 sign_rsa2048_ca or sign_p256_ca\n");
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "ms", required_argument, NULL, 'm' },
		{ "max-seconds", required_argument, NULL, 'x' },
		{ "only", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int c, r = 0;

	*o = (struct opts){ .threads = cores > 0 ? cores : 1, .rounds = 5,
		.ms = 1000, .max_seconds = 900 };
	if (o->threads > MAX_THREADS)
		o->threads = MAX_THREADS;
	while (r == 0 && (c = getopt_long(argc, argv, "t:r:m:x:o:h", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 't': r = bench_parse_long(optarg, 1, MAX_THREADS,
			    &o->threads); break;
		case 'r': r = bench_parse_long(optarg, 1, MAX_ROUNDS,
			    &o->rounds); break;
		case 'm': r = bench_parse_long(optarg, 10, 600000, &o->ms);
			break;
		case 'x': r = bench_parse_long(optarg, 0, 86400,
			    &o->max_seconds); break;
		case 'o': o->only = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: r = -EINVAL;
		}
	}
	if (r == 0 && optind != argc)
		r = -EINVAL;
	return r;
}

int
main(int argc, char **argv)
{
	struct env env = { 0 };
	struct opts o;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	char *msg = NULL;

	if (parse_opts(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	bench_watchdog((unsigned int)o.max_seconds);
	env_ca(&env, 0, KEY_ALG_RSA_2048);
	env_ca(&env, 1, KEY_ALG_EC_P256);
	if (keygen_generate(KEY_ALG_EC_P256, &env.leaf_key, &msg) != 0)
		die("keygen_generate", msg);
	printf("bench_issue: %ld cores, %s, median of %ld rounds of %ld ms\n",
	    cores, OpenSSL_version(OPENSSL_VERSION), o.rounds, o.ms);
	for (enum op op = OP_KEYGEN_RSA; op <= OP_SIGN_EC_CA; op++) {
		if (o.only != NULL && strcmp(o.only, op_keys[op]) != 0)
			continue;
		measure(&env, op, 1, &o);
		if (o.threads > 1)
			measure(&env, op, o.threads, &o);
	}
	for (int i = 0; i < 2; i++) {
		ca_free(env.ca[i]);
		X509_free(env.inter[i]);
		EVP_PKEY_free(env.ca_key[i]);
	}
	EVP_PKEY_free(env.leaf_key);
	return 0;
}
