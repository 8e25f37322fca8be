/*
 * runner.c: contact discovery on the loop (see runner.h). One struct per
 * claimed name goes CLAIMED -> LOOKING_UP -> RECORDING -> DONE; the
 * runner itself polls every few seconds and whenever kicked, keeping at
 * most max_parallel names in flight.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/arn.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "loop/dbpool.h"
#include "store/store.h"
#include "validation/contacts.h"
#include "validation/runner.h"
#include "validation/token.h"

#define SCAN_INTERVAL_MS 2000
#define LEASE_MS (5 * 60 * 1000)
#define RETRY_MIN_MS 5000
#define RETRY_MAX_MS (10 * 60 * 1000)

/* A NULL-terminated list of strings; accepts NULL. */
static void
strings_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

struct lookup;

struct discovery {
	struct discovery_settings s;
	/* lookups waiting for contacts.c: freed here if it drops them */
	LIST_HEAD(lookup_list, lookup) waiting;
	struct event *timer;
	unsigned in_flight;		/* names claimed and not yet recorded */
	bool claiming;			/* a claim query is out */
	bool again;			/* kicked while claiming */
	bool stopping;
};

enum lookup_state { LK_CLAIMED, LK_LOOKING_UP, LK_RECORDING, LK_DONE };

static const char *const lookup_state_names[] = {
	"claimed", "looking-up", "recording", "done",
};

/* One claimed name. */
struct lookup {
	struct discovery *d;
	enum lookup_state state;
	LIST_ENTRY(lookup) entry;	/* in d->waiting while LOOKING_UP */
	struct store_discovery_item item;
	/* the outcome to record */
	enum contacts_status status;
	char **emails;
	struct store_validation_mail *mails;
	char **owned;			/* strings the mails point at */
	size_t n_mails;
	char *admin_domain;
	char *why;
	char *err;
	int rc;
};

static void discovery_scan(struct discovery *d);

static void
lookup_enter(struct lookup *lk, enum lookup_state next)
{
	if (lk->state == LK_LOOKING_UP)
		LIST_REMOVE(lk, entry);
	if (next == LK_LOOKING_UP)
		LIST_INSERT_HEAD(&lk->d->waiting, lk, entry);
	log_debug("discovery %s (%s): %s -> %s", lk->item.domain_name,
	    lk->item.arn, lookup_state_names[lk->state],
	    lookup_state_names[next]);
	lk->state = next;
}

static void
lookup_free(struct lookup *lk)
{
	free(lk->item.arn);
	free(lk->item.requested_domain);
	free(lk->item.domain_name);
	free(lk->item.validation_domain);
	strings_free(lk->emails);
	strings_free(lk->owned);
	free(lk->mails);
	free(lk->admin_domain);
	free(lk->why);
	free(lk->err);
	free(lk);
}

/* ---- recording ---------------------------------------------------------- */

static int
record_work(PGconn *conn, void *arg)
{
	struct lookup *lk = arg;
	struct store_discovery_result res;
	int64_t delay;

	switch (lk->status) {
	case CONTACTS_OK:
		res = (struct store_discovery_result){
			.certificate_id = lk->item.certificate_id,
			.domain_name = lk->item.domain_name,
			.validation_domain = lk->admin_domain ?
			    lk->admin_domain : lk->item.validation_domain,
			.emails = lk->emails, .mails = lk->mails,
			.n_mails = lk->n_mails, .sender = lk->d->s.mail_from,
			.token_lifetime_ms = lk->d->s.token_lifetime_ms,
		};
		return store_discovery_done(conn, lk->d->s.owner, &res,
		    &lk->err);
	case CONTACTS_NO_CONTACTS:
		return store_discovery_no_contacts(conn, lk->d->s.owner,
		    lk->item.certificate_id, lk->item.domain_name, lk->why,
		    &lk->err);
	case CONTACTS_TEMPORARY_FAILURE:
		break;
	}
	delay = RETRY_MIN_MS << (lk->item.attempts < 7 ? lk->item.attempts : 7);
	if (delay > RETRY_MAX_MS)
		delay = RETRY_MAX_MS;
	return store_discovery_retry(conn, lk->d->s.owner,
	    lk->item.certificate_id, lk->item.domain_name, delay, lk->why,
	    &lk->err);
}

static void
record_done(int rc, void *arg)
{
	struct lookup *lk = arg;
	struct discovery *d = lk->d;

	lookup_enter(lk, LK_DONE);
	d->in_flight--;
	if (rc < 0)
		log_warning("contact discovery for %s (%s): cannot record the "
		    "result: %s", lk->item.domain_name, lk->item.arn,
		    lk->err ? lk->err : strerror(-rc));
	else if (lk->status == CONTACTS_OK) {
		log_info("validation emails for %s (%s) queued to %zu "
		    "address%s", lk->item.domain_name, lk->item.arn,
		    lk->n_mails, lk->n_mails == 1 ? "" : "es");
		if (!d->stopping && d->s.on_mail_queued)
			d->s.on_mail_queued(d->s.arg);
	} else if (lk->status == CONTACTS_NO_CONTACTS && lk->item.renewal) {
		/* The scheduler ends the renewal at its next look, once the
		 * other names' look-ups have had their turn too. */
		log_info("renewal of %s: no contacts for %s (%s): no "
		    "validation email sent; the renewal ends FAILED "
		    "(NO_AVAILABLE_CONTACTS) at the next scan, the certificate "
		    "stays ISSUED and its current version is still served",
		    lk->item.arn, lk->item.domain_name, lk->why);
	} else if (lk->status == CONTACTS_NO_CONTACTS)
		log_info("certificate %s FAILED: no contacts for %s (%s)",
		    lk->item.arn, lk->item.domain_name, lk->why);
	else
		log_info("contact discovery for %s (%s) will be retried: %s",
		    lk->item.domain_name, lk->item.arn, lk->why);
	lookup_free(lk);
	if (!d->stopping)
		discovery_scan(d);
}

/* ---- preparing the emails ------------------------------------------------ */

static char *
hex(const unsigned char *b, size_t n)
{
	char *s = xmalloc(2 * n + 1);

	for (size_t i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02x", b[i]);
	return s;
}

/* A nonce, token hash and Message-ID per address. */
static int
prepare_mails(struct lookup *lk, const struct contacts_result *res)
{
	size_t n = res->n_addresses;

	lk->emails = xcalloc(n + 1, sizeof(char *));
	lk->owned = xcalloc(3 * n + 1, sizeof(char *));
	lk->mails = xcalloc(n + 1, sizeof(*lk->mails));
	for (size_t i = 0; i < n; i++) {
		unsigned char nonce[TOKEN_NONCE_LEN], hash[TOKEN_HASH_LEN];
		char token[TOKEN_TEXT_SIZE], uuid[37];

		lk->emails[i] = xstrdup(res->addresses[i]);
		if (token_nonce_new(nonce) < 0 ||
		    token_from_nonce(lk->d->s.token_key, nonce, token) < 0)
			return -EIO;
		token_hash(token, hash);
		OPENSSL_cleanse(token, sizeof(token));
		uuid_v4(uuid);
		lk->owned[3 * i] = hex(nonce, sizeof(nonce));
		lk->owned[3 * i + 1] = hex(hash, sizeof(hash));
		lk->owned[3 * i + 2] = xasprintf("%s@%s", uuid,
		    lk->d->s.message_id_domain);
		lk->mails[i] = (struct store_validation_mail){
			.recipient = lk->emails[i],
			.nonce_hex = lk->owned[3 * i],
			.token_hash_hex = lk->owned[3 * i + 1],
			.message_id = lk->owned[3 * i + 2],
		};
	}
	lk->n_mails = n;
	return 0;
}

static void
contacts_done(const struct contacts_result *res, void *arg)
{
	struct lookup *lk = arg;

	lk->status = res->status;
	if (res->status == CONTACTS_OK) {
		if (res->admin_domain != NULL)
			lk->admin_domain = xstrdup(res->admin_domain);
		if (prepare_mails(lk, res) < 0) {
			lk->status = CONTACTS_TEMPORARY_FAILURE;
			lk->why = xstrdup("cannot create approval tokens");
		}
	} else if (res->status == CONTACTS_NO_CONTACTS) {
		lk->why = xasprintf("no MX record up to the registrable "
		    "domain and no RDAP contact for %s",
		    lk->item.validation_domain_given ?
		    lk->item.validation_domain : lk->item.domain_name);
	} else {
		lk->why = xstrdup(res->reason ? res->reason :
		    "temporary failure");
	}
	lookup_enter(lk, LK_RECORDING);
	dbpool_submit(lk->d->s.pool, record_work, record_done, lk);
}

static void
lookup_start(struct discovery *d, struct store_discovery_item *item)
{
	struct lookup *lk = xcalloc(1, sizeof(*lk));
	int r;

	lk->d = d;
	lk->item = *item;
	memset(item, 0, sizeof(*item));
	d->in_flight++;
	lookup_enter(lk, LK_LOOKING_UP);
	r = contacts_find(d->s.contacts, lk->item.domain_name,
	    lk->item.validation_domain_given ? lk->item.validation_domain :
	    NULL, contacts_done, lk);
	if (r < 0) {
		lk->status = CONTACTS_TEMPORARY_FAILURE;
		lk->why = xstrdup("cannot start the contact look-up");
		lookup_enter(lk, LK_RECORDING);
		dbpool_submit(d->s.pool, record_work, record_done, lk);
	}
}

/* ---- claiming ------------------------------------------------------------ */

struct claim_job {
	struct discovery *d;
	int max;
	struct store_discovery_item *items;
	size_t n;
	char *err;
};

static int
claim_work(PGconn *conn, void *arg)
{
	struct claim_job *job = arg;

	return store_discovery_claim(conn, job->d->s.owner, LEASE_MS,
	    job->max, &job->items, &job->n, &job->err);
}

static void
claim_done(int rc, void *arg)
{
	struct claim_job *job = arg;
	struct discovery *d = job->d;

	d->claiming = false;
	if (rc < 0 && rc != -ECONNRESET)
		log_warning("contact discovery: cannot claim work: %s",
		    job->err ? job->err : strerror(-rc));
	/* Claimed rows whose lookup never starts are left to their lease. */
	for (size_t i = 0; rc == 0 && !d->stopping && i < job->n; i++)
		lookup_start(d, &job->items[i]);
	if (rc == 0 && !d->stopping && (d->again || job->n == (size_t)job->max)) {
		d->again = false;
		discovery_scan(d);
	}
	store_discovery_items_free(job->items, job->n);
	free(job->err);
	free(job);
}

static void
discovery_scan(struct discovery *d)
{
	struct claim_job *job;
	int room = d->s.max_parallel - (int)d->in_flight;

	if (d->stopping)
		return;
	if (d->claiming) {
		d->again = true;
		return;
	}
	if (room <= 0)
		return;
	job = xcalloc(1, sizeof(*job));
	job->d = d;
	job->max = room;
	d->claiming = true;
	dbpool_submit(d->s.pool, claim_work, claim_done, job);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	discovery_scan(arg);
}

struct discovery *
discovery_new(const struct discovery_settings *s)
{
	struct discovery *d = xcalloc(1, sizeof(*d));
	struct timeval tv = { SCAN_INTERVAL_MS / 1000,
		(SCAN_INTERVAL_MS % 1000) * 1000 };

	d->s = *s;
	LIST_INIT(&d->waiting);
	if (d->s.max_parallel < 1)
		d->s.max_parallel = 1;
	d->timer = event_new(s->base, -1, EV_PERSIST, on_timer, d);
	event_add(d->timer, &tv);
	discovery_scan(d);
	return d;
}

void
discovery_kick(struct discovery *d)
{
	if (d != NULL)
		discovery_scan(d);
}

void
discovery_stop(struct discovery *d)
{
	if (d == NULL)
		return;
	d->stopping = true;
	event_del(d->timer);
}

void
discovery_free(struct discovery *d)
{
	struct lookup *lk;

	if (d == NULL)
		return;
	/* contacts_free() dropped these without calling back */
	while ((lk = LIST_FIRST(&d->waiting)) != NULL) {
		LIST_REMOVE(lk, entry);
		lk->state = LK_DONE;
		lookup_free(lk);
	}
	event_free(d->timer);
	free(d);
}
