/*
 * outbox.c: the mail queue's sender (see outbox.h). Each claimed row is a
 * struct send that goes CLAIMED -> DELIVERING -> RECORDING -> DONE; at
 * most max_parallel are in flight. The queue is polled every second and
 * kicked when a commit queues mail.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "audit/audit.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "loop/dbpool.h"
#include "mail/delivery.h"
#include "mail/message.h"
#include "mail/outbox.h"
#include "metrics/metrics.h"
#include "store/store.h"
#include "validation/token.h"

#define SCAN_INTERVAL_MS 1000

struct outbox {
	struct outbox_settings s;
	struct event *timer;
	unsigned in_flight;
	bool claiming, again, stopping;
};

enum send_state { SEND_CLAIMED, SEND_DELIVERING, SEND_RECORDING, SEND_DONE };

static const char *const send_state_names[] = {
	"claimed", "delivering", "recording", "done",
};

enum send_outcome { OUT_SENT, OUT_RETRY, OUT_FAILED };

/* The result labels of certfleet_emails_total. */
static const char *const outcome_labels[] = {
	[OUT_SENT] = "sent", [OUT_RETRY] = "retried", [OUT_FAILED] = "failed",
};

struct send {
	struct outbox *o;
	enum send_state state;
	struct store_outbox_item m;
	enum send_outcome outcome;
	char *reason;
	int64_t delay_ms;
	char *failed_arn;		/* a request this failure ended */
	char *err;
};

static void outbox_scan(struct outbox *o);

static void
send_enter(struct send *sd, enum send_state next)
{
	log_debug("mail %s to %s: %s -> %s", sd->m.message_id,
	    sd->m.recipient, send_state_names[sd->state],
	    send_state_names[next]);
	sd->state = next;
}

static void
send_free(struct send *sd)
{
	/* the item's fields, moved in from the claim */
	struct store_outbox_item *copy = xmalloc(sizeof(*copy));

	*copy = sd->m;
	store_outbox_items_free(copy, 1);
	free(sd->reason);
	free(sd->failed_arn);
	free(sd->err);
	free(sd);
}

/* ---- recording ------------------------------------------------------------ */

static int
audit_sent(PGconn *conn, struct send *sd)
{
	json_t *details = json_pack("{s:s, s:s, s:s?, s:s?, s:i}",
	    "MessageId", sd->m.message_id, "Recipient", sd->m.recipient,
	    "Domain", sd->m.domain_name, "ValidationDomain",
	    sd->m.validation_domain, "Attempts", sd->m.attempts);
	int r;

	r = audit_record_work(conn, sd->o->s.host_name,
	    strcmp(sd->m.kind, "VALIDATION") == 0 ? "SendValidationEmail" :
	    "SendEmail", sd->m.arn, details, "certfleetd", &sd->err);
	json_decref(details);
	return r;
}

static int
record_work(PGconn *conn, void *arg)
{
	struct send *sd = arg;
	bool changed = false;
	int r;

	switch (sd->outcome) {
	case OUT_SENT:
		if ((r = store_begin(conn, &sd->err)) < 0)
			return r;
		r = store_outbox_sent(conn, sd->m.id, &changed, &sd->err);
		if (r == 0 && changed)
			r = audit_sent(conn, sd);
		if (r < 0) {
			store_rollback(conn);
			return r;
		}
		return store_commit(conn, &sd->err);
	case OUT_RETRY:
		return store_outbox_retry(conn, sd->m.id, sd->delay_ms,
		    sd->reason, &sd->err);
	case OUT_FAILED:
		break;
	}
	return store_outbox_fail(conn, sd->m.id, sd->reason, &sd->failed_arn,
	    &sd->err);
}

static void
record_done(int rc, void *arg)
{
	struct send *sd = arg;
	struct outbox *o = sd->o;

	send_enter(sd, SEND_DONE);
	o->in_flight--;
	if (rc == 0)
		metrics_email(o->s.metrics, sd->m.kind,
		    outcome_labels[sd->outcome]);
	if (rc < 0)
		log_warning("mail %s to %s: cannot record the outcome (%s); "
		    "the message may be sent again with the same Message-ID",
		    sd->m.message_id, sd->m.recipient,
		    sd->err ? sd->err : strerror(-rc));
	else if (sd->outcome == OUT_SENT)
		log_info("mail %s sent to %s (%s %s)", sd->m.message_id,
		    sd->m.recipient, sd->m.kind,
		    sd->m.domain_name ? sd->m.domain_name : "");
	else if (sd->outcome == OUT_RETRY)
		log_info("mail %s to %s: %s; retrying in %lld ms",
		    sd->m.message_id, sd->m.recipient, sd->reason,
		    (long long)sd->delay_ms);
	else
		log_warning("mail %s to %s given up: %s", sd->m.message_id,
		    sd->m.recipient, sd->reason);
	if (sd->failed_arn != NULL)
		log_notice("certificate %s FAILED (OTHER): no validation email "
		    "for %s could be delivered", sd->failed_arn,
		    sd->m.domain_name);
	send_free(sd);
	if (!o->stopping)
		outbox_scan(o);
}

static void
record(struct send *sd, enum send_outcome outcome, const char *reason)
{
	sd->outcome = outcome;
	free(sd->reason);
	sd->reason = reason ? xstrdup(reason) : NULL;
	send_enter(sd, SEND_RECORDING);
	dbpool_submit(sd->o->s.pool, record_work, record_done, sd);
}

/* retry_min * 2^(attempts-1), at most retry_max, times 0.5 .. 1.0. */
static int64_t
backoff_ms(const struct outbox *o, int attempts)
{
	int64_t d = o->s.retry_min_ms;
	uint32_t r = 0;

	for (int i = 1; i < attempts && d < o->s.retry_max_ms; i++)
		d *= 2;
	if (d > o->s.retry_max_ms)
		d = o->s.retry_max_ms;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = 0;
	return d / 2 + (int64_t)((double)(d / 2) * ((double)r / 4294967295.0));
}

static void
delivered(enum mail_result res, const char *reason, void *arg)
{
	struct send *sd = arg;
	struct outbox *o = sd->o;
	_cleanup_free_ char *why = NULL;

	switch (res) {
	case MAIL_DELIVERED:
		record(sd, OUT_SENT, NULL);
		return;
	case MAIL_PERMANENT:
		record(sd, OUT_FAILED, reason ? reason : "refused");
		return;
	case MAIL_TEMPORARY:
		break;
	}
	if (sd->m.attempts >= o->s.max_attempts) {
		why = xasprintf("%s (after %d attempts)",
		    reason ? reason : "temporary failure", sd->m.attempts);
		record(sd, OUT_FAILED, why);
		return;
	}
	sd->delay_ms = backoff_ms(o, sd->m.attempts);
	record(sd, OUT_RETRY, reason ? reason : "temporary failure");
}

/* ---- rendering and delivery --------------------------------------------- */

static int
render_validation(struct send *sd, char **msg, size_t *len, char **err)
{
	const struct outbox_settings *s = &sd->o->s;
	unsigned char nonce[TOKEN_NONCE_LEN];
	char token[TOKEN_TEXT_SIZE];
	struct mail_headers h = {
		.from = sd->m.sender, .to = sd->m.recipient,
		.message_id = sd->m.message_id, .date = sd->m.created_at,
	};
	struct mail_validation v = {
		.requested_domain = sd->m.requested_domain,
		.domain = sd->m.domain_name, .account = s->account,
		.region = s->region, .certificate_arn = sd->m.arn,
		.base_url = s->base_url, .token = token,
	};
	int r;

	if (sd->m.nonce_hex == NULL || strlen(sd->m.nonce_hex) != 32) {
		*err = xstrdup("the row has no token nonce");
		return -EINVAL;
	}
	for (size_t i = 0; i < TOKEN_NONCE_LEN; i++) {
		char b[3] = { sd->m.nonce_hex[2 * i],
			sd->m.nonce_hex[2 * i + 1], 0 };
		nonce[i] = (unsigned char)strtoul(b, NULL, 16);
	}
	if (token_from_nonce(s->token_key, nonce, token) < 0) {
		*err = xstrdup("cannot compute the approval token");
		return -EIO;
	}
	r = mail_message_validation(&h, &v, msg, len, err);
	OPENSSL_cleanse(token, sizeof(token));
	return r;
}

/* Why a queued validation email must not go out any more, or NULL. The
 * store reports a renewal waiting for the email's name (an ISSUED
 * certificate) as PENDING_VALIDATION, so those emails go out too. */
static const char *
stale_reason(const struct send *sd)
{
	if (strcmp(sd->m.kind, "VALIDATION") != 0)
		return NULL;
	if (sd->m.arn == NULL)
		return "the certificate was deleted";
	if (strcmp(sd->m.certificate_status, "PENDING_VALIDATION") != 0)
		return "the certificate is no longer pending validation";
	return NULL;
}

static void
send_start(struct outbox *o, struct store_outbox_item *item)
{
	struct send *sd = xcalloc(1, sizeof(*sd));
	_cleanup_free_ char *err = NULL;
	char *msg = NULL;
	size_t len = 0;
	const char *stale;
	int r;

	sd->o = o;
	sd->m = *item;
	memset(item, 0, sizeof(*item));
	o->in_flight++;
	/* Claimed for the first time: it joined the queue (whichever daemon
	 * wrote it, exactly one takes it first), so over the fleet queued =
	 * sent + failed + those still waiting. */
	if (sd->m.attempts == 1)
		metrics_email(o->s.metrics, sd->m.kind, "queued");
	if ((stale = stale_reason(sd)) != NULL) {
		record(sd, OUT_FAILED, stale);
		return;
	}
	if (sd->m.body != NULL) {
		len = strlen(sd->m.body);
		msg = xstrdup(sd->m.body);
	} else if (render_validation(sd, &msg, &len, &err) < 0) {
		record(sd, OUT_FAILED, err ? err : "cannot build the message");
		return;
	}
	send_enter(sd, SEND_DELIVERING);
	r = mail_deliver(o->s.curl, o->s.delivery, sd->m.sender,
	    sd->m.recipient, msg, len, delivered, sd);
	/* the message may hold an approval link */
	OPENSSL_cleanse(msg, len);
	free(msg);
	if (r < 0)
		record(sd, OUT_FAILED, "the sender or recipient is not a "
		    "plain address");
}

/* ---- claiming -------------------------------------------------------------- */

struct claim_job {
	struct outbox *o;
	int max;
	struct store_outbox_item *items;
	size_t n;
	char *err;
};

static int
claim_work(PGconn *conn, void *arg)
{
	struct claim_job *job = arg;
	int64_t lease = job->o->s.timeout_ms * 2 + 30000;

	return store_outbox_claim(conn, job->o->s.owner, lease, job->max,
	    &job->items, &job->n, &job->err);
}

static void
claim_done(int rc, void *arg)
{
	struct claim_job *job = arg;
	struct outbox *o = job->o;

	o->claiming = false;
	if (rc < 0 && rc != -ECONNRESET)
		log_warning("mail queue: cannot claim messages: %s",
		    job->err ? job->err : strerror(-rc));
	for (size_t i = 0; rc == 0 && !o->stopping && i < job->n; i++)
		send_start(o, &job->items[i]);
	if (rc == 0 && !o->stopping && (o->again || job->n == (size_t)job->max)) {
		o->again = false;
		outbox_scan(o);
	}
	store_outbox_items_free(job->items, job->n);
	free(job->err);
	free(job);
}

static void
outbox_scan(struct outbox *o)
{
	struct claim_job *job;
	int room = o->s.max_parallel - (int)o->in_flight;

	if (o->stopping)
		return;
	if (o->claiming) {
		o->again = true;
		return;
	}
	if (room <= 0)
		return;
	job = xcalloc(1, sizeof(*job));
	job->o = o;
	job->max = room;
	o->claiming = true;
	dbpool_submit(o->s.pool, claim_work, claim_done, job);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	outbox_scan(arg);
}

struct outbox *
outbox_new(const struct outbox_settings *s)
{
	struct outbox *o = xcalloc(1, sizeof(*o));
	struct timeval tv = { SCAN_INTERVAL_MS / 1000,
		(SCAN_INTERVAL_MS % 1000) * 1000 };

	o->s = *s;
	if (o->s.max_parallel < 1)
		o->s.max_parallel = 1;
	o->timer = event_new(s->base, -1, EV_PERSIST, on_timer, o);
	event_add(o->timer, &tv);
	outbox_scan(o);
	return o;
}

void
outbox_kick(struct outbox *o)
{
	if (o != NULL)
		outbox_scan(o);
}

void
outbox_stop(struct outbox *o)
{
	if (o == NULL)
		return;
	o->stopping = true;
	event_del(o->timer);
}

void
outbox_free(struct outbox *o)
{
	if (o == NULL)
		return;
	event_free(o->timer);
	free(o);
}

unsigned
outbox_active(const struct outbox *o)
{
	return o ? o->in_flight : 0;
}
