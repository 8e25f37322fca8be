/*
 * issuer.c: the issuer (see issuer.h). Three stages, each its own kind of
 * job, all coordinated on the loop thread:
 *
 *   claim   (database thread)  lease up to N PREPARED intents
 *   sign    (CPU work queue)   key pair, leaf, facts, sealed key
 *   commit  (database thread)  every signed intent that is ready, in one
 *                              transaction: version, ISSUED, COMMITTED,
 *                              audit event
 *
 * At most two intents per CPU thread are on the work queue at once. Claims
 * run ahead of it by about CLAIM_AHEAD_MS of signing work (measured as it
 * goes): a handful of RSA intents, a few hundred EC ones, so that fast
 * keys are not held up by a claim round trip each. A commit takes
 * everything signed since the last one, so its fsync is shared by many
 * certificates. If a batch fails
 * for a reason other than a lost connection, each intent is committed on
 * its own, so one bad intent cannot hold the others back.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/rand.h>

#include "audit/audit.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "issuance/issuer.h"
#include "loop/dbpool.h"
#include "loop/workq.h"
#include "pki/ca.h"
#include "pki/certinfo.h"
#include "pki/keygen.h"
#include "pki/keyseal.h"
#include "pki/ossl.h"
#include "store/issuance.h"
#include "store/store.h"

/* How often the issuer looks for intents nobody kicked it for. */
#define SCAN_INTERVAL_MS 2000
/* Signed intents waiting for a commit before claims pause. */
#define MAX_WAITING 1024
/* Claim about this much signing work ahead of the work queue ... */
#define CLAIM_AHEAD_MS 100
/* ... but never more intents than this at once. */
#define CLAIM_MAX 256
/* Commits at once: one fills while the other waits for its fsync. */
#define MAX_COMMITS 2
/* After a temporary failure (key generation, OpenSSL), retry then. */
#define RETRY_MS 10000
#define SERIAL_MAX 20

enum outcome {
	OUT_SIGNED,	/* ready to commit */
	OUT_REFUSED,	/* the CA will never issue this: abandon */
	OUT_FAILED,	/* try again later */
};

struct issue_job {
	TAILQ_ENTRY(issue_job) entry;
	struct issuer *iss;
	struct store_intent in;
	/* Read by the worker; fixed when the job is made. */
	const struct ca *ca;
	const unsigned char *master_key;
	int64_t validity_s, backdate_s;
	/* Written by the worker, then by the commit. */
	enum outcome outcome;
	struct store_cert_version v;
	char *err;		/* why signing failed */
	int commit_rc;
	char *commit_err;	/* why recording failed */
	int64_t sign_us;	/* how long the worker took */
	struct store_intent_lock lock;	/* found by the commit */
};
TAILQ_HEAD(issue_list, issue_job);

struct issuer {
	struct daemon_ctx *ctx;
	char owner[128];		/* lease owner: host/pid/random */
	struct event *timer;
	int threads;			/* of the work queue */
	int max_signing;		/* threads * 2 */
	int signing;			/* on the work queue */
	int claimed;			/* leased, waiting in `claimed` */
	struct issue_list claimed_list;	/* leased, not yet on the queue */
	int64_t avg_sign_us;		/* moving average; 0: not known yet */
	int waiting;			/* signed, in ready or being committed */
	struct issue_list ready;	/* signed, not yet in a commit */
	bool claiming;			/* a claim job is out */
	int committing;			/* commit jobs out */
	bool more;			/* intents may be left to claim */
	bool stopping;
};

struct claim_job {
	struct issuer *iss;
	int64_t lease_ms;
	int limit;
	struct store_intent *v;
	size_t n;
	char *err;
};

struct commit_job {
	struct issuer *iss;
	struct issue_list items;
	size_t n;
	const char *host_name;
	char *err;
	int64_t queued_us, started_us, ended_us;	/* for debug logs */
};

static void scan(struct issuer *iss);
static void maybe_commit(struct issuer *iss);
static void feed(struct issuer *iss);

static void
issue_job_free(struct issue_job *j)
{
	free(j->in.serial);
	free(j->in.arn);
	free(j->in.key_algorithm);
	for (char **p = j->in.names; p != NULL && *p != NULL; p++)
		free(*p);
	free(j->in.names);
	store_cert_version_clear(&j->v);
	free(j->err);
	free(j->commit_err);
	free(j);
}

/* ---- signing (worker threads) ----------------------------------------- */

/* "0a:1b:.." or "0a1b..": the intent's serial as octets; -EINVAL. */
static int
parse_serial(const char *s, unsigned char *out, size_t *len)
{
	size_t n = 0;

	while (*s != '\0') {
		unsigned v;

		if (*s == ':') {
			s++;
			continue;
		}
		if (n == SERIAL_MAX || sscanf(s, "%2x", &v) != 1 ||
		    s[1] == '\0' || s[1] == ':')
			return -EINVAL;
		out[n++] = (unsigned char)v;
		s += 2;
	}
	*len = n;
	return n > 0 ? 0 : -EINVAL;
}

/* What the store keeps of the leaf: the facts and the sealed key. */
static int
fill_version(struct issue_job *j, char *pem, struct cert_info *info,
    EVP_PKEY *key)
{
	struct store_cert_version *v = &j->v;
	unsigned char *der = NULL;
	size_t len = 0;
	int r;

	v->certificate_pem = pem;
	v->chain_pem = xstrdup(ca_chain_pem(j->ca));
	v->serial = TAKE_PTR(info->serial);
	v->subject = TAKE_PTR(info->subject);
	v->issuer = TAKE_PTR(info->issuer);
	v->domain_name = TAKE_PTR(info->domain_name);
	v->names = TAKE_PTR(info->names);
	v->not_before = info->not_before;
	v->not_after = info->not_after;
	v->key_algorithm = xstrdup(info->key_algorithm != KEY_ALG_UNKNOWN ?
	    key_algorithm_name(info->key_algorithm) : j->in.key_algorithm);
	v->signature_algorithm = TAKE_PTR(info->signature_algorithm);
	v->key_usages = TAKE_PTR(info->key_usages);
	v->extended_key_usages = TAKE_PTR(info->extended_key_usages);
	v->fingerprint_sha256 = xstrdup(info->fingerprint_sha256);
	cert_info_free(info);
	if ((r = pkey_to_pkcs8_der(key, &der, &len)) < 0) {
		j->err = xstrdup("cannot encode the new private key");
		return r;
	}
	/* The same AAD as every certificate key: the ARN. */
	r = key_seal(j->master_key, j->in.arn, der, len, &v->sealed_key,
	    &v->sealed_key_len, &j->err);
	secret_free(der, len);
	return r;
}

static int
sign(struct issue_job *j)
{
	_cleanup_evp_pkey_ EVP_PKEY *key = NULL;
	unsigned char serial[SERIAL_MAX];
	struct issue_params p;
	struct cert_info *info = NULL;
	enum key_algorithm alg;
	char *pem = NULL;
	int r;

	j->outcome = OUT_REFUSED;
	if (key_algorithm_from_name(j->in.key_algorithm, &alg) < 0) {
		j->err = xasprintf("unknown key algorithm %s",
		    j->in.key_algorithm);
		return -EINVAL;
	}
	issue_params_init(&p);
	p.names = (const char *const *)j->in.names;
	p.n_names = 0;
	while (j->in.names[p.n_names] != NULL)
		p.n_names++;
	p.backdate = j->backdate_s;
	p.validity = j->validity_s;
	p.serial = serial;
	if (parse_serial(j->in.serial, serial, &p.serial_len) < 0) {
		j->err = xasprintf("malformed serial %s", j->in.serial);
		return -EINVAL;
	}
	if ((r = keygen_generate(alg, &key, &j->err)) < 0) {
		j->outcome = r == -EINVAL ? OUT_REFUSED : OUT_FAILED;
		return r;
	}
	p.public_key = key;
	if ((r = ca_issue_with_info(j->ca, &p, &pem, &info, &j->err)) < 0) {
		j->outcome = r == -EIO ? OUT_FAILED : OUT_REFUSED;
		return r;
	}
	j->outcome = OUT_FAILED;
	if ((r = fill_version(j, pem, info, key)) < 0)
		return r;
	j->outcome = OUT_SIGNED;
	return 0;
}

static int64_t
monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
sign_work(void *arg)
{
	struct issue_job *j = arg;
	int64_t t0 = monotonic_us();
	int r = sign(j);

	j->sign_us = monotonic_us() - t0;
	return r;
}

static void
sign_done(int rc, void *arg)
{
	struct issue_job *j = arg;
	struct issuer *iss = j->iss;

	iss->signing--;
	iss->waiting++;
	/* An average over the last dozen or so, for claiming ahead. */
	iss->avg_sign_us = iss->avg_sign_us == 0 ? j->sign_us :
	    (iss->avg_sign_us * 7 + j->sign_us) / 8;
	TAILQ_INSERT_TAIL(&iss->ready, j, entry);
	feed(iss);
	maybe_commit(iss);
	scan(iss);
}

/* ---- committing (database thread) ------------------------------------- */

static json_t *
audit_details(const struct issue_job *j)
{
	if (j->outcome == OUT_SIGNED)
		return json_pack("{s:s, s:i, s:s, s:I}", "serial",
		    j->v.serial, "version", j->in.version, "keyAlgorithm",
		    j->v.key_algorithm, "notAfter", (json_int_t)j->v.not_after);
	return json_pack("{s:s, s:s}", "serial", j->in.serial, "error",
	    j->err ? j->err : "unknown error");
}

/* One locked intent's part of the transaction; -ESTALE skips it. */
static int
commit_one(PGconn *conn, const struct commit_job *c, struct issue_job *j,
    char **reterr_msg)
{
	json_t *details;
	int r;

	if (j->lock.rc < 0) {
		free(*reterr_msg);
		*reterr_msg = xstrdup("the intent was taken over, finished "
		    "or abandoned meanwhile");
		return j->lock.rc;
	}
	switch (j->outcome) {
	case OUT_SIGNED:
		r = store_intent_commit(conn, &j->lock, &j->v, reterr_msg);
		break;
	case OUT_REFUSED:
		r = store_intent_abandon(conn, &j->lock,
		    j->err ? j->err : "refused", reterr_msg);
		break;
	default:
		return store_intent_retry_later(conn, j->in.id, c->iss->owner,
		    RETRY_MS, j->err ? j->err : "failed", reterr_msg);
	}
	if (r < 0)
		return r;
	details = audit_details(j);
	r = audit_record_work(conn, c->host_name, "IssueCertificate",
	    j->in.arn, details, NULL, reterr_msg);
	json_decref(details);
	return r;
}

/* Locks the intents of a list in one round trip. */
static int
lock_items(PGconn *conn, const struct commit_job *c, struct issue_job *only,
    char **reterr_msg)
{
	struct store_intent_lock *v;
	struct issue_job *j;
	size_t n = 0;
	int r;

	v = xcalloc(only ? 1 : c->n, sizeof(*v));
	for (j = TAILQ_FIRST(&c->items); j != NULL; j = TAILQ_NEXT(j, entry))
		if (only == NULL || only == j)
			v[n++].intent_id = j->in.id;
	r = store_intents_lock(conn, c->iss->owner, v, n, reterr_msg);
	n = 0;
	for (j = TAILQ_FIRST(&c->items); j != NULL; j = TAILQ_NEXT(j, entry))
		if (only == NULL || only == j)
			j->lock = v[n++];
	free(v);
	return r;
}

/* The signed intents still ours, all in one statement. */
static int
commit_signed(PGconn *conn, struct commit_job *c, char **reterr_msg)
{
	struct store_issued *v = xcalloc(c->n, sizeof(*v));
	struct issue_job *j;
	size_t n = 0;
	int r = 0;

	for (j = TAILQ_FIRST(&c->items); j != NULL; j = TAILQ_NEXT(j, entry))
		if (j->outcome == OUT_SIGNED && j->lock.rc == 0)
			v[n++] = (struct store_issued){ &j->lock, j->in.arn,
			    &j->v };
	if (n > 0)
		r = store_intents_commit_issued(conn, c->host_name, v, n,
		    reterr_msg);
	free(v);
	return r;
}

/* Every item in one transaction; an error other than -ESTALE undoes all. */
static int
commit_batch(PGconn *conn, struct commit_job *c, char **reterr_msg)
{
	struct issue_job *j;
	int r;

	if ((r = store_begin(conn, reterr_msg)) < 0)
		return r;
	if ((r = lock_items(conn, c, NULL, reterr_msg)) < 0 ||
	    (r = commit_signed(conn, c, reterr_msg)) < 0) {
		store_rollback(conn);
		return r;
	}
	for (j = TAILQ_FIRST(&c->items); j != NULL; j = TAILQ_NEXT(j, entry)) {
		free(j->commit_err);
		j->commit_err = NULL;
		if (j->outcome == OUT_SIGNED && j->lock.rc == 0)
			continue;	/* in commit_signed */
		j->commit_rc = commit_one(conn, c, j, &j->commit_err);
		if (j->commit_rc < 0 && j->commit_rc != -ESTALE) {
			store_rollback(conn);
			return j->commit_rc;
		}
	}
	return store_commit(conn, reterr_msg);
}

/* After a failed batch: each intent alone, so the good ones get in. */
static int
commit_singly(PGconn *conn, struct commit_job *c)
{
	struct issue_job *j;
	int r;

	for (j = TAILQ_FIRST(&c->items); j != NULL; j = TAILQ_NEXT(j, entry)) {
		_cleanup_free_ char *err = NULL;

		if ((r = store_begin(conn, &err)) < 0)
			return r;
		r = lock_items(conn, c, j, &err);
		if (r == 0)
			r = commit_one(conn, c, j, &err);
		if (r == 0 || r == -ESTALE) {
			/* An abandoned intent (-ESTALE) is a change too. */
			int rc = store_commit(conn, &err);

			if (rc < 0)
				r = rc;
		} else {
			store_rollback(conn);
		}
		j->commit_rc = r;
		if (r == -ECONNRESET)
			return -ECONNRESET;
		free(j->commit_err);
		j->commit_err = TAKE_PTR(err);
	}
	return 0;
}

static int
commit_work(PGconn *conn, void *arg)
{
	struct commit_job *c = arg;
	int r;

	c->started_us = monotonic_us();
	r = commit_batch(conn, c, &c->err);
	if (r != 0 && r != -ECONNRESET)
		r = commit_singly(conn, c);
	c->ended_us = monotonic_us();
	return r;
}

static void
log_result(const struct issuer *iss, const struct issue_job *j)
{
	const char *const *f = LOG_FIELDS("CERTIFICATE_ARN", j->in.arn);

	if (j->commit_rc == -ESTALE)
		log_kv(LOG_INFO, f, "issuance of %s: %s; dropping this "
		    "signature", j->in.arn, j->commit_err);
	else if (j->commit_rc < 0)
		log_kv(LOG_WARNING, f, "issuance of %s: cannot record it: %s; "
		    "retrying after the lease", j->in.arn, j->commit_err ?
		    j->commit_err : "database connection lost");
	else if (j->outcome == OUT_SIGNED)
		log_kv(LOG_INFO, f, "issued %s (serial %s, %s)", j->in.arn,
		    j->v.serial, j->v.key_algorithm);
	else if (j->outcome == OUT_REFUSED)
		log_kv(LOG_WARNING, f, "issuance of %s refused: %s; the "
		    "certificate is FAILED", j->in.arn, j->err);
	else
		log_kv(LOG_WARNING, f, "issuance of %s failed: %s; retrying "
		    "in %d s", j->in.arn, j->err, RETRY_MS / 1000);
}

static void
commit_done(int rc, void *arg)
{
	struct commit_job *c = arg;
	struct issuer *iss = c->iss;
	struct issue_job *j;

	iss->committing--;
	log_debug("issuer: commit of %zu took %lld us after waiting %lld us",
	    c->n, (long long)(c->ended_us - c->started_us),
	    (long long)(c->started_us - c->queued_us));
	if (rc == -ECONNRESET && !iss->stopping) {
		/* Signed and still ours: commit when the database is back. */
		log_warning("issuer: database unavailable (%s); %d signed "
		    "certificate%s wait for it", c->err ? c->err : "no "
		    "connection", iss->waiting, iss->waiting == 1 ? "" : "s");
		TAILQ_CONCAT(&c->items, &iss->ready, entry);
		TAILQ_CONCAT(&iss->ready, &c->items, entry);
		free(c->err);
		free(c);
		return;	/* the timer retries */
	}
	while ((j = TAILQ_FIRST(&c->items)) != NULL) {
		TAILQ_REMOVE(&c->items, j, entry);
		if (rc < 0 && j->commit_rc == 0)
			j->commit_rc = rc;
		log_result(iss, j);
		iss->waiting--;
		issue_job_free(j);
	}
	free(c->err);
	free(c);
	/* Stopping: the pool is draining and takes no more work. */
	if (!iss->stopping) {
		/* Renewals waiting for these versions go on now, not at
		 * their next poll. */
		if (rc == 0)
			request_flow_kick(API_KICK_ISSUED, iss->ctx);
		maybe_commit(iss);
		scan(iss);
	}
}

/*
 * Up to MAX_COMMITS commits at a time while running, each taking all that
 * is ready; when stopping, each signed intent at once (the pool is about
 * to drain).
 */
static void
maybe_commit(struct issuer *iss)
{
	struct commit_job *c;
	struct issue_job *j;

	if (TAILQ_EMPTY(&iss->ready) ||
	    (iss->committing >= MAX_COMMITS && !iss->stopping))
		return;
	c = xcalloc(1, sizeof(*c));
	c->iss = iss;
	c->host_name = iss->ctx->cfg->host_name;
	TAILQ_INIT(&c->items);
	TAILQ_CONCAT(&c->items, &iss->ready, entry);
	for (j = TAILQ_FIRST(&c->items); j != NULL; j = TAILQ_NEXT(j, entry))
		c->n++;
	c->queued_us = monotonic_us();
	iss->committing++;
	dbpool_submit(iss->ctx->pool, commit_work, commit_done, c);
}

/* ---- claiming -------------------------------------------------------- */

static int
claim_work(PGconn *conn, void *arg)
{
	struct claim_job *c = arg;

	return store_intents_claim(conn, c->iss->owner, c->lease_ms, c->limit,
	    &c->v, &c->n, &c->err);
}

/* A claimed intent becomes a job, waiting for room on the work queue. */
static void
add_claimed(struct issuer *iss, struct store_intent *in)
{
	const struct config *cfg = iss->ctx->cfg;
	struct issue_job *j = xcalloc(1, sizeof(*j));

	j->iss = iss;
	j->in = *in;
	memset(in, 0, sizeof(*in));
	j->ca = iss->ctx->ca;
	j->master_key = iss->ctx->master_key;
	j->validity_s = cfg->ca_certificate_validity_ms / 1000;
	if (j->validity_s < 1)
		j->validity_s = 1;
	j->backdate_s = cfg->ca_backdate_ms / 1000;
	TAILQ_INSERT_TAIL(&iss->claimed_list, j, entry);
	iss->claimed++;
}

/* Moves claimed intents onto the work queue, two per thread at most. */
static void
feed(struct issuer *iss)
{
	struct issue_job *j;

	/* Stopping: the work queue is being drained and takes no more. */
	while (!iss->stopping && iss->signing < iss->max_signing &&
	    (j = TAILQ_FIRST(&iss->claimed_list)) != NULL) {
		TAILQ_REMOVE(&iss->claimed_list, j, entry);
		iss->claimed--;
		iss->signing++;
		workq_submit(iss->ctx->workq, sign_work, sign_done, j);
	}
}

static void
claim_done(int rc, void *arg)
{
	struct claim_job *c = arg;
	struct issuer *iss = c->iss;

	iss->claiming = false;
	if (rc < 0 && rc != -ECONNRESET)
		log_warning("issuer: cannot claim issuance intents: %s; "
		    "retrying in %d s", c->err ? c->err : "unknown error",
		    SCAN_INTERVAL_MS / 1000);
	/* A full claim suggests more are waiting. */
	iss->more = rc == 0 && c->n == (size_t)c->limit;
	if (!iss->stopping)
		for (size_t i = 0; i < c->n; i++)
			add_claimed(iss, &c->v[i]);
	else if (c->n > 0)
		log_info("issuer: stopping; %zu claimed intent%s left to "
		    "their lease", c->n, c->n == 1 ? "" : "s");
	store_intents_free(c->v, c->n);
	free(c->err);
	free(c);
	if (!iss->stopping) {
		feed(iss);
		scan(iss);
	}
}

/*
 * How many intents to hold leased: CLAIM_AHEAD_MS of signing work on all
 * threads, at least enough to fill the work queue. Until a first
 * signature is timed, only that.
 */
static int
claim_target(const struct issuer *iss)
{
	int64_t n;

	if (iss->avg_sign_us <= 0)
		return iss->max_signing;
	n = (int64_t)iss->threads * CLAIM_AHEAD_MS * 1000 / iss->avg_sign_us;
	if (n < iss->max_signing)
		n = iss->max_signing;
	return n > CLAIM_MAX ? CLAIM_MAX : (int)n;
}

/* Claims when the leased intents run low and something may be waiting. */
static void
scan(struct issuer *iss)
{
	struct claim_job *c;
	int target = claim_target(iss);
	int held = iss->claimed + iss->signing;

	if (iss->stopping || iss->claiming || !iss->more ||
	    iss->waiting >= MAX_WAITING)
		return;
	/* Claim again once half of what is held is done: the next batch
	 * arrives while the rest is signed. */
	if (held > target / 2)
		return;
	c = xcalloc(1, sizeof(*c));
	c->iss = iss;
	c->lease_ms = iss->ctx->cfg->ca_lease_duration_ms;
	c->limit = target - held;
	iss->claiming = true;
	iss->more = false;
	dbpool_submit(iss->ctx->pool, claim_work, claim_done, c);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct issuer *iss = arg;

	maybe_commit(iss);	/* signed ones left by a lost connection */
	iss->more = true;
	scan(iss);
}

/* ---- life cycle -------------------------------------------------------- */

struct issuer *
issuer_new(struct daemon_ctx *ctx)
{
	struct issuer *iss = xcalloc(1, sizeof(*iss));
	struct timeval tv = { SCAN_INTERVAL_MS / 1000,
		(SCAN_INTERVAL_MS % 1000) * 1000 };
	unsigned char rnd[4] = { 0 };

	iss->ctx = ctx;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	/* Unique per run: a restarted daemon must not take its own dead
	 * leases for live ones. */
	snprintf(iss->owner, sizeof(iss->owner), "%.80s/%ld/%02x%02x%02x%02x",
	    ctx->cfg->host_name, (long)getpid(), rnd[0], rnd[1], rnd[2],
	    rnd[3]);
	iss->threads = workq_threads(ctx->workq);
	iss->max_signing = iss->threads * 2;
	TAILQ_INIT(&iss->ready);
	TAILQ_INIT(&iss->claimed_list);
	iss->timer = event_new(ctx->base, -1, EV_PERSIST, on_timer, iss);
	event_add(iss->timer, &tv);
	iss->more = true;
	scan(iss);
	return iss;
}

void
issuer_kick(struct issuer *iss)
{
	if (iss == NULL)
		return;
	iss->more = true;
	scan(iss);
}

struct release_job {
	char owner[128];
	int64_t *ids;
	size_t n;
};

static int
release_work(PGconn *conn, void *arg)
{
	struct release_job *r = arg;
	_cleanup_free_ char *err = NULL;

	return store_intents_release(conn, r->owner, r->ids, r->n, &err);
}

static void
release_done(int rc, void *arg)
{
	struct release_job *r = arg;

	if (rc == 0)
		log_info("issuer: released %zu claimed intent%s for another "
		    "daemon or the next start", r->n, r->n == 1 ? "" : "s");
	free(r->ids);
	free(r);
}

/* The claimed intents not yet signing go back to the table. */
static void
release_claimed(struct issuer *iss)
{
	struct release_job *r;
	struct issue_job *j;

	if (iss->claimed == 0)
		return;
	r = xcalloc(1, sizeof(*r));
	memcpy(r->owner, iss->owner, sizeof(r->owner));
	r->ids = xcalloc((size_t)iss->claimed, sizeof(*r->ids));
	while ((j = TAILQ_FIRST(&iss->claimed_list)) != NULL) {
		TAILQ_REMOVE(&iss->claimed_list, j, entry);
		r->ids[r->n++] = j->in.id;
		issue_job_free(j);
	}
	iss->claimed = 0;
	dbpool_submit(iss->ctx->pool, release_work, release_done, r);
}

void
issuer_stop(struct issuer *iss)
{
	if (iss == NULL)
		return;
	iss->stopping = true;
	event_del(iss->timer);
	release_claimed(iss);
	maybe_commit(iss);
}

void
issuer_free(struct issuer *iss)
{
	struct issue_job *j;

	if (iss == NULL)
		return;
	/* Left here when the database never came back, or claimed while
	 * stopping: their leases run out. */
	while ((j = TAILQ_FIRST(&iss->ready)) != NULL) {
		TAILQ_REMOVE(&iss->ready, j, entry);
		issue_job_free(j);
	}
	while ((j = TAILQ_FIRST(&iss->claimed_list)) != NULL) {
		TAILQ_REMOVE(&iss->claimed_list, j, entry);
		issue_job_free(j);
	}
	event_free(iss->timer);
	free(iss);
}
