/*
 * contacts.c: finds who gets the validation email for one name, without
 * blocking the loop. Two activities run side by side per lookup:
 *  - the MX walk (c-ares): the name, then each parent up to the registrable
 *    domain, until a level has an MX record; that level gets the five
 *    administrative addresses. NXDOMAIN and NODATA mean "go up"; any other
 *    DNS failure (SERVFAIL, REFUSED, timeout) means we cannot tell where
 *    the mail should go, so the whole lookup ends as a temporary failure
 *    rather than a guess. A ValidationDomain skips the walk.
 *  - the RDAP fetch (libcurl): <base>/domain/<registrable domain>; any
 *    failure (404, timeout, garbage) only means "no RDAP contacts".
 * When both ended the result is delivered from the event base, never from
 * inside contacts_find().
 *
 * Neither loop adapter can cancel a single query, so a query's callback
 * argument is a small ticket that points back to its lookup; cancelling a
 * lookup clears the pointer and the ticket is freed when c-ares or curl
 * report the query's end (at the latest when their loop is freed).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/queue.h>

#include <arpa/nameser.h>
#include <ares.h>
#include <curl/curl.h>
#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "loop/ares_loop.h"
#include "loop/curl_loop.h"
#include "validation/contacts.h"
#include "validation/names.h"
#include "validation/rdap.h"

#define RDAP_DEFAULT_TIMEOUT_MS 10000L
#define RDAP_DEFAULT_MAX_BODY ((size_t)1 << 20)
#define RDAP_MAX_REDIRECTS 3L

static const char *const admin_locals[CONTACTS_ADMIN_COUNT] = {
	"admin", "administrator", "hostmaster", "postmaster", "webmaster",
};

enum mx_state {
	MX_QUERYING,	/* a query for lk->level is in flight */
	MX_FOUND,	/* admin_domain is set */
	MX_NONE,	/* no level has an MX: no admin addresses */
	MX_FAILED,	/* tempfail is set */
	MX_SKIPPED,	/* a ValidationDomain decided */
};

static const char *const mx_state_names[] = {
	[MX_QUERYING] = "querying",
	[MX_FOUND] = "found",
	[MX_NONE] = "none",
	[MX_FAILED] = "failed",
	[MX_SKIPPED] = "skipped",
};

enum rdap_state {
	RDAP_FETCHING,
	RDAP_DONE,	/* rdap_emails may be NULL: nothing usable */
	RDAP_SKIPPED,	/* no registrable domain, no server, or no HTTP */
};

static const char *const rdap_state_names[] = {
	[RDAP_FETCHING] = "fetching",
	[RDAP_DONE] = "done",
	[RDAP_SKIPPED] = "skipped",
};

struct lookup;

struct dns_ticket {
	struct lookup *lk;	/* NULL once the lookup is gone */
};

struct rdap_fetch {
	struct lookup *lk;	/* NULL once the lookup is gone */
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	size_t len;
	size_t max;
	bool too_big;
};

struct lookup {
	TAILQ_ENTRY(lookup) entry;
	struct contacts_ctx *ctx;
	contacts_done_fn done;
	void *arg;
	char *name;		/* without www. or *. */
	char *validation_domain;	/* the same, or NULL */
	char *registrable;	/* NULL when there is none */
	const char *level;	/* the MX walk's position, inside name */
	enum mx_state mx;
	enum rdap_state rdap;
	struct dns_ticket *dns;
	struct rdap_fetch *fetch;
	const char *admin_domain;	/* points at level or validation_domain */
	char **rdap_emails;
	char *tempfail;		/* why the lookup could not decide */
	struct event *deliver;	/* set once the result is ready */
	char *addresses[CONTACTS_MAX];
};

struct contacts_ctx {
	struct event_base *base;
	struct ares_loop *dns;
	struct curl_loop *http;
	contacts_registrable_fn registrable;
	const void *registrable_arg;
	char *rdap_base_url;
	const struct rdap_bootstrap *rdap_bootstrap;
	long rdap_timeout_ms;
	size_t rdap_max_body;
	TAILQ_HEAD(lookup_list, lookup) lookups;
	size_t n_lookups;
};

static void start_mx_query(struct lookup *lk);
static void maybe_finish(struct lookup *lk);

/* The guide's rule: one leading "www." or "*." goes; lower case, no
 * trailing dot, so that addresses and MX levels compare as strings. */
static char *
strip_prefix(const char *name)
{
	char *s = xstrdup(names_strip_for_admin(name)), *p;
	size_t len;

	for (p = s; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	len = strlen(s);
	if (len > 1 && s[len - 1] == '.')
		s[len - 1] = '\0';
	return s;
}

static void
mx_enter(struct lookup *lk, enum mx_state st)
{
	log_debug("contacts %s: mx %s -> %s", lk->name,
	    mx_state_names[lk->mx], mx_state_names[st]);
	lk->mx = st;
}

static void
rdap_enter(struct lookup *lk, enum rdap_state st)
{
	log_debug("contacts %s: rdap %s -> %s", lk->name,
	    rdap_state_names[lk->rdap], rdap_state_names[st]);
	lk->rdap = st;
}

/* ---- the MX walk ---- */

/* True when the answer holds an MX that accepts mail: a lone null MX
 * (RFC 7505, exchange ".") says the domain takes none, so go up. */
static bool
answer_has_mx(const unsigned char *abuf, int alen)
{
	struct ares_mx_reply *mx = NULL, *m;
	bool found = false;

	if (ares_parse_mx_reply(abuf, alen, &mx) != ARES_SUCCESS)
		return false;
	for (m = mx; m != NULL; m = m->next)
		if (m->host != NULL && m->host[0] != '\0' &&
		    strcmp(m->host, ".") != 0)
			found = true;
	ares_free_data(mx);
	return found;
}

/* The next level up, or NULL when the walk has reached its top. */
static const char *
parent_level(const struct lookup *lk)
{
	const char *dot;

	if (lk->registrable == NULL ||
	    strlen(lk->level) <= strlen(lk->registrable))
		return NULL;
	if ((dot = strchr(lk->level, '.')) == NULL)
		return NULL;
	return dot + 1;
}

/* c-ares 1.18 ends a query that every server REFUSED or SERVFAILed with
 * ECONNREFUSED, whose text ("Could not contact DNS servers") misleads. */
static const char *
dns_failure_text(int status)
{
	switch (status) {
	case ARES_ECONNREFUSED:
		return "no DNS server gave an answer (refused, server "
		    "failure or unreachable)";
	case ARES_EREFUSED:
		return "the DNS server refused the query";
	case ARES_ESERVFAIL:
		return "the DNS server failed (SERVFAIL)";
	case ARES_ETIMEOUT:
		return "timeout while waiting for the DNS servers";
	default:
		return ares_strerror(status);
	}
}

static void
on_mx_answer(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct dns_ticket *t = arg;
	struct lookup *lk = t->lk;

	free(t);
	if (lk == NULL)
		return;		/* cancelled */
	lk->dns = NULL;
	if (status == ARES_SUCCESS && answer_has_mx(abuf, alen)) {
		lk->admin_domain = lk->level;
		mx_enter(lk, MX_FOUND);
	} else if (status == ARES_SUCCESS || status == ARES_ENODATA ||
	    status == ARES_ENOTFOUND) {
		if ((lk->level = parent_level(lk)) != NULL) {
			start_mx_query(lk);
			return;
		}
		mx_enter(lk, MX_NONE);
	} else {
		lk->tempfail = xasprintf("MX lookup of %s failed: %s",
		    lk->level, dns_failure_text(status));
		mx_enter(lk, MX_FAILED);
	}
	maybe_finish(lk);
}

static void
start_mx_query(struct lookup *lk)
{
	struct dns_ticket *t = xcalloc(1, sizeof(*t));

	t->lk = lk;
	lk->dns = t;
	log_debug("contacts %s: MX %s?", lk->name, lk->level);
	/* ares_query, not ares_search: the name is absolute. It may call
	 * back at once (bad name, no memory); on_mx_answer copes. */
	ares_query(ares_loop_channel(lk->ctx->dns), lk->level, ns_c_in,
	    ns_t_mx, on_mx_answer, t);
	ares_loop_kick(lk->ctx->dns);
}

/* ---- the RDAP fetch ---- */

static void
rdap_fetch_free(struct rdap_fetch *f)
{
	if (f == NULL)
		return;
	curl_easy_cleanup(f->easy);
	curl_slist_free_all(f->headers);
	free(f->body);
	free(f);
}

static size_t
on_rdap_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct rdap_fetch *f = arg;
	size_t n = size * nmemb;

	if (n > f->max - f->len) {
		f->too_big = true;
		return 0;	/* curl ends the transfer: CURLE_WRITE_ERROR */
	}
	f->body = xrealloc(f->body, f->len + n + 1);
	memcpy(f->body + f->len, data, n);
	f->len += n;
	f->body[f->len] = '\0';
	return n;
}

static void
rdap_take_response(struct lookup *lk, struct rdap_fetch *f, CURLcode rc)
{
	_cleanup_free_ char *err = NULL;
	long status = 0;

	curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK) {
		log_debug("contacts %s: RDAP for %s: %s%s", lk->name,
		    lk->registrable, curl_easy_strerror(rc),
		    f->too_big ? " (response too large)" : "");
		return;
	}
	if (status != 200) {
		log_debug("contacts %s: RDAP for %s: HTTP %ld", lk->name,
		    lk->registrable, status);
		return;
	}
	if (rdap_domain_emails(f->body != NULL ? f->body : "", f->len,
	    &lk->rdap_emails, &err) < 0)
		log_debug("contacts %s: RDAP for %s: %s", lk->name,
		    lk->registrable, err);
}

static void
on_rdap_done(CURL *easy, CURLcode rc, void *arg)
{
	struct rdap_fetch *f = arg;
	struct lookup *lk = f->lk;

	if (lk != NULL) {
		lk->fetch = NULL;
		rdap_take_response(lk, f, rc);
		rdap_enter(lk, RDAP_DONE);
		maybe_finish(lk);
	}
	rdap_fetch_free(f);
}

static void
rdap_set_protocols(CURL *easy)
{
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
}

static struct rdap_fetch *
rdap_fetch_new(const struct contacts_ctx *c, const char *url)
{
	struct rdap_fetch *f = xcalloc(1, sizeof(*f));

	if ((f->easy = curl_easy_init()) == NULL) {
		free(f);
		return NULL;
	}
	f->max = c->rdap_max_body;
	f->headers = curl_slist_append(NULL, "Accept: application/rdap+json");
	curl_easy_setopt(f->easy, CURLOPT_URL, url);
	curl_easy_setopt(f->easy, CURLOPT_HTTPHEADER, f->headers);
	curl_easy_setopt(f->easy, CURLOPT_USERAGENT, PACKAGE_NAME "/"
	    PACKAGE_VERSION);
	curl_easy_setopt(f->easy, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(f->easy, CURLOPT_MAXREDIRS, RDAP_MAX_REDIRECTS);
	curl_easy_setopt(f->easy, CURLOPT_TIMEOUT_MS, c->rdap_timeout_ms);
	curl_easy_setopt(f->easy, CURLOPT_CONNECTTIMEOUT_MS,
	    c->rdap_timeout_ms);
	curl_easy_setopt(f->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(f->easy, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)c->rdap_max_body);
	curl_easy_setopt(f->easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(f->easy, CURLOPT_WRITEFUNCTION, on_rdap_body);
	curl_easy_setopt(f->easy, CURLOPT_WRITEDATA, f);
	rdap_set_protocols(f->easy);
	return f;
}

static void
start_rdap(struct lookup *lk)
{
	struct contacts_ctx *c = lk->ctx;
	_cleanup_free_ char *url = NULL;
	const char *base;
	size_t blen;

	lk->rdap = RDAP_SKIPPED;
	if (lk->registrable == NULL || c->http == NULL)
		return;
	base = c->rdap_base_url != NULL ? c->rdap_base_url :
	    rdap_bootstrap_lookup(c->rdap_bootstrap, lk->registrable);
	if (base == NULL) {
		log_debug("contacts %s: no RDAP server for %s", lk->name,
		    lk->registrable);
		return;
	}
	blen = strlen(base);
	url = xasprintf("%s%sdomain/%s", base,
	    blen > 0 && base[blen - 1] == '/' ? "" : "/", lk->registrable);
	if ((lk->fetch = rdap_fetch_new(c, url)) == NULL)
		return;
	lk->fetch->lk = lk;
	lk->rdap = RDAP_FETCHING;
	log_debug("contacts %s: GET %s", lk->name, url);
	curl_loop_add(c->http, lk->fetch->easy, on_rdap_done, lk->fetch);
}

/* ---- results ---- */

static bool
mx_settled(const struct lookup *lk)
{
	return lk->mx != MX_QUERYING;
}

/* Leaves the queries in flight to end on their own, without us. */
static void
detach_queries(struct lookup *lk)
{
	if (lk->dns != NULL)
		lk->dns->lk = NULL;
	if (lk->fetch != NULL)
		lk->fetch->lk = NULL;
	lk->dns = NULL;
	lk->fetch = NULL;
}

static void
lookup_free(struct lookup *lk)
{
	size_t i;

	if (lk == NULL)
		return;
	detach_queries(lk);
	if (lk->deliver != NULL)
		event_free(lk->deliver);
	for (i = 0; i < CONTACTS_MAX; i++)
		free(lk->addresses[i]);
	rdap_emails_free(lk->rdap_emails);
	free(lk->tempfail);
	free(lk->registrable);
	free(lk->validation_domain);
	free(lk->name);
	free(lk);
}

static bool
have_address(struct lookup *lk, size_t n, const char *a)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(lk->addresses[i], a) == 0)
			return true;
	return false;
}

/* Fills lk->addresses: admin ones first, then RDAP ones, capped. */
static void
build_result(struct lookup *lk, struct contacts_result *res)
{
	size_t n = 0, i;
	char **e;

	memset(res, 0, sizeof(*res));
	res->registrable_domain = lk->registrable;
	if (lk->tempfail != NULL) {
		res->status = CONTACTS_TEMPORARY_FAILURE;
		res->reason = lk->tempfail;
		return;
	}
	if (lk->admin_domain != NULL) {
		for (i = 0; i < CONTACTS_ADMIN_COUNT; i++)
			lk->addresses[n++] = xasprintf("%s@%s",
			    admin_locals[i], lk->admin_domain);
		res->admin_domain = lk->admin_domain;
	}
	res->n_admin = n;
	for (e = lk->rdap_emails; e != NULL && *e != NULL && n < CONTACTS_MAX;
	    e++)
		if (!have_address(lk, n, *e))
			lk->addresses[n++] = xstrdup(*e);
	res->addresses = (const char *const *)lk->addresses;
	res->n_addresses = n;
	res->status = n > 0 ? CONTACTS_OK : CONTACTS_NO_CONTACTS;
}

static void
on_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct lookup *lk = arg;
	struct contacts_ctx *c = lk->ctx;
	struct contacts_result res;

	TAILQ_REMOVE(&c->lookups, lk, entry);
	c->n_lookups--;
	build_result(lk, &res);
	log_debug("contacts %s: %zu addresses%s%s", lk->name,
	    res.n_addresses, res.reason != NULL ? ", " : "",
	    res.reason != NULL ? res.reason : "");
	/* The callback may free the ctx: lk is no longer in it. */
	lk->done(&res, lk->arg);
	lookup_free(lk);
}

static void
maybe_finish(struct lookup *lk)
{
	if (lk->deliver != NULL)
		return;
	if (lk->tempfail == NULL &&
	    (!mx_settled(lk) || lk->rdap == RDAP_FETCHING))
		return;
	/* A temporary failure decides the result: RDAP cannot change it. */
	detach_queries(lk);
	lk->deliver = event_new(lk->ctx->base, -1, 0, on_deliver, lk);
	event_active(lk->deliver, EV_TIMEOUT, 1);
}

/* ---- the context ---- */

int
contacts_new(const struct contacts_settings *s, struct contacts_ctx **out,
    char **reterr_msg)
{
	struct contacts_ctx *c;

	if (s->base == NULL || s->dns == NULL || s->registrable == NULL) {
		*reterr_msg = xstrdup("contacts: an event base, a resolver and "
		    "a registrable-domain function are required");
		return -EINVAL;
	}
	c = xcalloc(1, sizeof(*c));
	c->base = s->base;
	c->dns = s->dns;
	c->http = s->http;
	c->registrable = s->registrable;
	c->registrable_arg = s->registrable_arg;
	if (s->rdap_base_url != NULL && s->rdap_base_url[0] != '\0')
		c->rdap_base_url = xstrdup(s->rdap_base_url);
	c->rdap_bootstrap = s->rdap_bootstrap;
	c->rdap_timeout_ms = s->rdap_timeout_ms > 0 ? s->rdap_timeout_ms :
	    RDAP_DEFAULT_TIMEOUT_MS;
	c->rdap_max_body = s->rdap_max_body > 0 ? s->rdap_max_body :
	    RDAP_DEFAULT_MAX_BODY;
	TAILQ_INIT(&c->lookups);
	*out = c;
	return 0;
}

void
contacts_free(struct contacts_ctx *c)
{
	struct lookup *lk;

	if (c == NULL)
		return;
	while ((lk = TAILQ_FIRST(&c->lookups)) != NULL) {
		TAILQ_REMOVE(&c->lookups, lk, entry);
		lookup_free(lk);
	}
	free(c->rdap_base_url);
	free(c);
}

int
contacts_find(struct contacts_ctx *c, const char *name,
    const char *validation_domain, contacts_done_fn done, void *arg)
{
	struct lookup *lk;

	if (name == NULL || name[0] == '\0' ||
	    (validation_domain != NULL && validation_domain[0] == '\0'))
		return -EINVAL;
	lk = xcalloc(1, sizeof(*lk));
	lk->ctx = c;
	lk->done = done;
	lk->arg = arg;
	lk->name = strip_prefix(name);
	if (validation_domain != NULL)
		lk->validation_domain = strip_prefix(
		    validation_domain);
	/* RDAP is asked about the domain that is validated. */
	lk->registrable = c->registrable(c->registrable_arg,
	    lk->validation_domain != NULL ? lk->validation_domain : lk->name);
	TAILQ_INSERT_TAIL(&c->lookups, lk, entry);
	c->n_lookups++;
	start_rdap(lk);
	if (lk->validation_domain != NULL) {
		lk->admin_domain = lk->validation_domain;
		lk->mx = MX_SKIPPED;
		maybe_finish(lk);
	} else {
		lk->level = lk->name;
		lk->mx = MX_QUERYING;
		start_mx_query(lk);
	}
	return 0;
}

size_t
contacts_cancel(struct contacts_ctx *c, const void *arg)
{
	struct lookup *lk, *next;
	size_t n = 0;

	for (lk = TAILQ_FIRST(&c->lookups); lk != NULL; lk = next) {
		next = TAILQ_NEXT(lk, entry);
		if (lk->arg != arg)
			continue;
		TAILQ_REMOVE(&c->lookups, lk, entry);
		c->n_lookups--;
		lookup_free(lk);
		n++;
	}
	return n;
}

size_t
contacts_pending(const struct contacts_ctx *c)
{
	return c->n_lookups;
}
