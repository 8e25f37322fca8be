/*
 * expiry.c: EXPIRED and expiry events (see expiry.h). The once-per-day
 * rule lives in the database (expiry_events), so it holds across restarts
 * and across daemons sharing the database.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "audit/audit.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "mail/message.h"
#include "metrics/metrics.h"
#include "renewal/expiry.h"
#include "store/db.h"
#include "store/renewal.h"
#include "store/store.h"

void
notice_settings_clear(struct notice_settings *n)
{
	if (n == NULL)
		return;
	free(n->email);
	free(n->sender);
	free(n->host_name);
	free(n->account);
	free(n->region);
	memset(n, 0, sizeof(*n));
}

void
expiry_report_clear(struct expiry_report *r)
{
	if (r == NULL)
		return;
	store_expiries_free(r->v, r->n);
	memset(r, 0, sizeof(*r));
}

static char *
random_hex(size_t bytes)
{
	unsigned char b[32];
	char *s = xmalloc(bytes * 2 + 1);

	if (bytes > sizeof(b))
		bytes = sizeof(b);
	if (RAND_bytes(b, (int)bytes) != 1)
		memset(b, 0, sizeof(b));
	for (size_t i = 0; i < bytes; i++)
		snprintf(s + 2 * i, 3, "%02x", b[i]);
	return s;
}

int
notice_build(const struct notice_settings *ns, const char *subject,
    const char *body, char **ret, char **message_id, char **reterr_msg)
{
	_cleanup_free_ char *rnd = random_hex(16);
	char *id = xasprintf("%s@%s", rnd, ns->host_name);
	struct mail_headers h = { .from = ns->sender, .to = ns->email,
	    .message_id = id, .date = time(NULL) };
	size_t len;
	int r;

	if ((r = mail_message_notice(&h, subject, body, ret, &len,
	    reterr_msg)) < 0) {
		free(id);
		return r;
	}
	*message_id = id;
	return 0;
}

static void
utc_text(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

static int
queue_event(PGconn *conn, const struct notice_settings *ns,
    const struct store_expiry *e, char **reterr_msg)
{
	_cleanup_free_ char *subject = NULL, *body = NULL, *msg = NULL;
	_cleanup_free_ char *id = NULL;
	char when[64];
	int r;

	utc_text(e->not_after, when, sizeof(when));
	subject = xasprintf(e->expired ? "Certificate for %s has expired" :
	    "Certificate for %s expires on %s", e->domain_name, when);
	body = xasprintf("The certificate %s for %s in account %s, region %s"
	    " %s on %s.\n\n%s\n", e->arn, e->domain_name, ns->account,
	    ns->region, e->expired ? "expired" : "expires", when,
	    e->expired ? "Its status is now EXPIRED." :
	    "Renew or re-import it before then; this notice repeats daily "
	    "until it is renewed, re-imported or expires.");
	if ((r = notice_build(ns, subject, body, &msg, &id, reterr_msg)) < 0)
		return r;
	return store_notice_queue(conn, e->id, &(struct store_notice){
	    .message_id = id, .sender = ns->sender, .recipient = ns->email,
	    .body = msg, .kind = "EXPIRY" }, reterr_msg);
}

/* The audit trail's copy of an event: the daemon's own work. */
static int
audit_event(PGconn *conn, const struct notice_settings *ns,
    const struct store_expiry *e, bool mailed, char **reterr_msg)
{
	json_t *details = json_pack("{s:I, s:b, s:s?}", "NotAfter",
	    (json_int_t)e->not_after, "Expired", e->expired, "Recipient",
	    mailed ? ns->email : NULL);
	int r;

	r = audit_record_work(conn, ns->host_name, "ExpiryEvent", e->arn,
	    details, "certfleetd", reterr_msg);
	json_decref(details);
	return r;
}

static int
run_locked(PGconn *conn, const struct notice_settings *ns, int limit,
    struct expiry_report *out, char **reterr_msg)
{
	bool mail = ns->email != NULL && ns->email[0] != '\0';
	int r;

	if ((r = store_expiry_claim(conn, ns->interval_ms, limit, &out->v,
	    &out->n, reterr_msg)) < 0)
		return r;
	out->more = out->n == (size_t)limit;
	for (size_t i = 0; i < out->n; i++) {
		if (mail && (r = queue_event(conn, ns, &out->v[i],
		    reterr_msg)) < 0)
			return r;
		if ((r = audit_event(conn, ns, &out->v[i], mail,
		    reterr_msg)) < 0)
			return r;
	}
	return 0;
}

int
expiry_run(PGconn *conn, const struct notice_settings *ns, int limit,
    struct expiry_report *out, char **reterr_msg)
{
	bool own;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = store_tx_enter(conn, &own, reterr_msg)) < 0)
		return r;
	r = run_locked(conn, ns, limit, out, reterr_msg);
	r = store_tx_leave(conn, own, r, reterr_msg);
	if (r < 0)
		expiry_report_clear(out);
	else
		metrics_expiry_events(ns->metrics, out->n);
	return r;
}

void
expiry_log(const struct expiry_report *r)
{
	char when[64];

	for (size_t i = 0; i < r->n; i++) {
		const struct store_expiry *e = &r->v[i];

		utc_text(e->not_after, when, sizeof(when));
		log_kv(LOG_WARNING, LOG_FIELDS("CERTIFICATE_ARN", e->arn),
		    "certificate %s (%s) %s %s", e->arn, e->domain_name,
		    e->expired ? "expired on" : "expires on", when);
	}
}
