/*
 * approval_page.c: the approval page (see approval_page.h). Each request
 * is a struct visit that goes RECEIVED -> QUERYING -> ANSWERED; the token
 * is hashed on arrival and only the hash travels on, so no log line or
 * database row ever holds it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "audit/audit.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "loop/dbpool.h"
#include "store/store.h"
#include "validation/approval_page.h"
#include "validation/token.h"

#define BUCKETS_MAX 4096
#define BODY_MAX 4096
#define HTTP_TIMEOUT_S 30

struct bucket {
	char addr[64];
	double tokens;
	double stamp;		/* monotonic seconds of the last refill */
};

struct approval_page {
	struct approval_page_settings s;
	struct evhttp *http;
	struct bucket *buckets;
	size_t n_buckets;
	unsigned in_flight;
	bool stopping;
};

enum visit_state { V_RECEIVED, V_QUERYING, V_ANSWERED };

static const char *const visit_state_names[] = {
	"received", "querying", "answered",
};

struct visit {
	struct approval_page *p;
	enum visit_state state;
	struct evhttp_request *req;
	bool approve;			/* POST */
	char addr[64];
	char code[TOKEN_TEXT_SIZE];	/* the token: for the GET form only */
	char hash_hex[2 * TOKEN_HASH_LEN + 1];
	char serial[33];
	struct store_token_info t;
	char *err;
};

static void
visit_enter(struct visit *v, enum visit_state next)
{
	log_debug("approval page %s %s: %s -> %s", v->approve ? "POST" : "GET",
	    v->addr, visit_state_names[v->state], visit_state_names[next]);
	v->state = next;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- rate limit: a token bucket per client address --------------------- */

static struct bucket *
bucket_for(struct approval_page *p, const char *addr, double now)
{
	double cap = p->s.rate_per_minute;
	size_t oldest = 0;

	for (size_t i = 0; i < p->n_buckets; i++) {
		if (strcmp(p->buckets[i].addr, addr) == 0)
			return &p->buckets[i];
		if (p->buckets[i].stamp < p->buckets[oldest].stamp)
			oldest = i;
	}
	/* Full: the least recently seen address starts over. */
	if (p->n_buckets == BUCKETS_MAX) {
		p->buckets[oldest] = (struct bucket){ .tokens = cap,
			.stamp = now };
		snprintf(p->buckets[oldest].addr, sizeof(p->buckets[0].addr),
		    "%s", addr);
		return &p->buckets[oldest];
	}
	p->buckets[p->n_buckets] = (struct bucket){ .tokens = cap,
		.stamp = now };
	snprintf(p->buckets[p->n_buckets].addr, sizeof(p->buckets[0].addr),
	    "%s", addr);
	return &p->buckets[p->n_buckets++];
}

static bool
rate_ok(struct approval_page *p, const char *addr)
{
	double now = now_s(), cap = p->s.rate_per_minute;
	struct bucket *b = bucket_for(p, addr, now);

	b->tokens += (now - b->stamp) * cap / 60.0;
	if (b->tokens > cap)
		b->tokens = cap;
	b->stamp = now;
	if (b->tokens < 1.0)
		return false;
	b->tokens -= 1.0;
	return true;
}

/* ---- pages ----------------------------------------------------------------- */

static void
add_escaped(struct evbuffer *b, const char *s)
{
	char *e = evhttp_htmlescape(s ? s : "");

	evbuffer_add(b, e, strlen(e));
	free(e);
}

static void
page_start(struct evbuffer *b, const char *title)
{
	evbuffer_add_printf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><meta name=\"robots\" content=\"noindex\">"
	    "<title>certfleet certificate approvals: ");
	add_escaped(b, title);
	evbuffer_add_printf(b, "</title><style>body{font-family:sans-serif;"
	    "max-width:40em;margin:2em auto;padding:0 1em}"
	    "dt{font-weight:bold}button{font-size:1.1em;padding:.4em 1.2em}"
	    "</style></head><body><h1>certfleet certificate approvals</h1>\n"
	    "<h2>");
	add_escaped(b, title);
	evbuffer_add_printf(b, "</h2>\n");
}

static void
reply(struct visit *v, int code, const char *reason, struct evbuffer *b)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(v->req);

	evbuffer_add_printf(b, "</body></html>\n");
	evhttp_add_header(h, "Content-Type", "text/html; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Content-Security-Policy", "default-src 'none'; "
	    "style-src 'unsafe-inline'; form-action 'self'");
	evhttp_send_reply(v->req, code, reason, b);
}

static void
details(struct evbuffer *b, const struct visit *v)
{
	const struct approval_page_settings *s = &v->p->s;

	evbuffer_add_printf(b, "<dl><dt>Domain name</dt><dd>");
	add_escaped(b, v->t.domain_name);
	evbuffer_add_printf(b, "</dd><dt>Account</dt><dd>");
	add_escaped(b, s->account);
	evbuffer_add_printf(b, "</dd><dt>Region</dt><dd>");
	add_escaped(b, s->region);
	evbuffer_add_printf(b, "</dd><dt>Certificate identifier</dt><dd>");
	add_escaped(b, v->t.arn);
	evbuffer_add_printf(b, "</dd></dl>\n");
}

/* The pages for a token that cannot approve; NULL when it can. */
static bool
answer_refusal(struct visit *v, struct evbuffer *b)
{
	switch (v->t.state) {
	case STORE_TOKEN_VALID:
		return false;
	case STORE_TOKEN_UNKNOWN:
		page_start(b, "Link not valid");
		evbuffer_add_printf(b, "<p>This approval link is not valid. "
		    "Check that you copied the whole link from the email. "
		    "If the certificate request was deleted, its links no "
		    "longer work.</p>\n");
		reply(v, 404, "Not Found", b);
		return true;
	case STORE_TOKEN_USED:
	case STORE_TOKEN_APPROVED:
		page_start(b, "Already approved");
		details(b, v);
		evbuffer_add_printf(b, "<p>This domain name has already been "
		    "approved for this certificate request; an approval link "
		    "can be used once only. Nothing more is needed.</p>\n");
		reply(v, 410, "Gone", b);
		return true;
	case STORE_TOKEN_EXPIRED:
		page_start(b, "Link expired");
		details(b, v);
		evbuffer_add_printf(b, "<p>This approval link has expired. "
		    "Ask the requester to resend the validation email "
		    "(certfleet resend-validation-email).</p>\n");
		reply(v, 410, "Gone", b);
		return true;
	case STORE_TOKEN_CLOSED:
		page_start(b, "Request closed");
		details(b, v);
		evbuffer_add_printf(b, "<p>This certificate request is no "
		    "longer waiting for approval (it was issued, failed or "
		    "timed out), so this link cannot be used.</p>\n");
		reply(v, 410, "Gone", b);
		return true;
	}
	return false;
}

static void
answer_get(struct visit *v, struct evbuffer *b)
{
	page_start(b, "Approve certificate request");
	evbuffer_add_printf(b, "<p>A certificate was requested for the domain "
	    "name below. To approve the request, review the details and "
	    "choose <b>I Approve</b>. If you did not expect this request, do "
	    "not approve it: simply close this page.</p>\n");
	details(b, v);
	evbuffer_add_printf(b, "<form method=\"post\" action=\"approvals\">"
	    "<input type=\"hidden\" name=\"code\" value=\"");
	/* base64url only (token_well_formed): nothing to escape */
	evbuffer_add(b, v->code, strlen(v->code));
	evbuffer_add_printf(b, "\"><button type=\"submit\">I Approve"
	    "</button></form>\n");
	reply(v, 200, "OK", b);
}

static void
answer_post(struct visit *v, struct evbuffer *b)
{
	page_start(b, "Success!");
	details(b, v);
	evbuffer_add_printf(b, "<p>You have successfully approved the "
	    "certificate request for this domain name.%s</p>\n", v->t.issue ?
	    " Every name of the request is now approved: the certificate "
	    "is being issued." : " Other names of the request may still "
	    "need approval.");
	reply(v, 200, "OK", b);
}

/* ---- database work ----------------------------------------------------- */

static int
visit_work(PGconn *conn, void *arg)
{
	struct visit *v = arg;
	json_t *d;
	int r;

	if (!v->approve)
		return store_token_lookup(conn, v->hash_hex, &v->t, &v->err);
	if ((r = store_begin(conn, &v->err)) < 0)
		return r;
	r = store_token_approve(conn, v->hash_hex, v->addr, v->serial, &v->t,
	    &v->err);
	if (r == 0 && v->t.state == STORE_TOKEN_VALID) {
		d = json_pack("{s:s, s:s, s:b}", "DomainName",
		    v->t.domain_name, "ValidationDomain",
		    v->t.validation_domain, "AllNamesApproved", v->t.issue);
		r = audit_record_work(conn, v->p->s.host_name, "ApproveDomain",
		    v->t.arn, d, v->addr, &v->err);
		json_decref(d);
	}
	if (r < 0) {
		store_rollback(conn);
		return r;
	}
	return store_commit(conn, &v->err);
}

static void
visit_free(struct visit *v)
{
	store_token_info_clear(&v->t);
	OPENSSL_cleanse(v->code, sizeof(v->code));
	free(v->err);
	free(v);
}

static void
visit_done(int rc, void *arg)
{
	struct visit *v = arg;
	struct approval_page *p = v->p;
	struct evbuffer *b = evbuffer_new();

	p->in_flight--;
	visit_enter(v, V_ANSWERED);
	if (rc < 0) {
		log_warning("approval page: database error for a request from "
		    "%s: %s", v->addr, v->err ? v->err : strerror(-rc));
		page_start(b, "Try again later");
		evbuffer_add_printf(b, "<p>The approval could not be processed "
		    "right now. Please try again in a few minutes.</p>\n");
		reply(v, 503, "Service Unavailable", b);
	} else if (!answer_refusal(v, b)) {
		if (v->approve) {
			log_kv(LOG_NOTICE, LOG_FIELDS("CERTIFICATE_ARN",
			    v->t.arn), "domain %s of %s approved from %s%s",
			    v->t.domain_name, v->t.arn, v->addr, v->t.issue ?
			    "; every name approved, issuing" : "");
			answer_post(v, b);
			if (v->t.issue && !p->stopping && p->s.on_issue)
				p->s.on_issue(p->s.arg);
		} else
			answer_get(v, b);
	}
	evbuffer_free(b);
	visit_free(v);
}

/* ---- requests ------------------------------------------------------------ */

static void
simple_page(struct visit *v, int code, const char *reason, const char *title,
    const char *text)
{
	struct evbuffer *b = evbuffer_new();

	page_start(b, title);
	evbuffer_add_printf(b, "<p>%s</p>\n", text);
	reply(v, code, reason, b);
	evbuffer_free(b);
}

/* The code parameter of a query string or form body, malloc'd. */
static char *
code_from(const char *query)
{
	struct evkeyvalq q;
	const char *c;
	char *out = NULL;

	if (query == NULL)
		return NULL;
	TAILQ_INIT(&q);
	if (evhttp_parse_query_str(query, &q) == 0 &&
	    (c = evhttp_find_header(&q, "code")) != NULL)
		out = xstrdup(c);
	evhttp_clear_headers(&q);
	return out;
}

static char *
form_code(struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	char *body, *code;

	if (n > BODY_MAX)
		return NULL;
	body = xmalloc(n + 1);
	evbuffer_copyout(in, body, n);
	body[n] = '\0';
	code = code_from(body);
	OPENSSL_cleanse(body, n);
	free(body);
	return code;
}

static void
new_serial(char out[33])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		memset(b, 0x5a, sizeof(b));
	b[0] &= 0x7f;	/* a positive INTEGER */
	if (b[0] == 0)
		b[0] = 1;
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct approval_page *p = arg;
	struct visit *v = xcalloc(1, sizeof(*v));
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	char *host = NULL;
	ev_uint16_t port = 0;
	unsigned char hash[TOKEN_HASH_LEN];
	_cleanup_free_ char *code = NULL;

	v->p = p;
	v->req = req;
	evhttp_connection_get_peer(evhttp_request_get_connection(req), &host,
	    &port);
	snprintf(v->addr, sizeof(v->addr), "%s", host ? host : "unknown");
	v->approve = cmd == EVHTTP_REQ_POST;
	if (path == NULL || strcmp(path, "/approvals") != 0) {
		simple_page(v, 404, "Not Found", "Not found",
		    "There is nothing here.");
		goto out;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, POST");
		simple_page(v, 405, "Method Not Allowed", "Method not allowed",
		    "Open the link from the email in a web browser.");
		goto out;
	}
	if (!rate_ok(p, v->addr)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", "60");
		simple_page(v, 429, "Too Many Requests", "Too many requests",
		    "Too many requests came from your address. Please wait a "
		    "minute and try again.");
		goto out;
	}
	code = v->approve ? form_code(req) : code_from(
	    evhttp_uri_get_query(uri));
	if (!token_well_formed(code)) {
		/* forged, truncated or mangled: no query needed */
		v->t.state = STORE_TOKEN_UNKNOWN;
		struct evbuffer *b = evbuffer_new();
		answer_refusal(v, b);
		evbuffer_free(b);
		goto out;
	}
	token_hash(code, hash);
	if (!v->approve)
		memcpy(v->code, code, TOKEN_TEXT_SIZE);
	for (size_t i = 0; i < sizeof(hash); i++)
		snprintf(v->hash_hex + 2 * i, 3, "%02x", hash[i]);
	OPENSSL_cleanse(code, strlen(code));
	new_serial(v->serial);
	p->in_flight++;
	visit_enter(v, V_QUERYING);
	dbpool_submit(p->s.pool, visit_work, visit_done, v);
	return;
out:
	visit_free(v);
}

/* ---- set-up ----------------------------------------------------------------- */

static int
bind_listen(struct approval_page *p, char **reterr_msg)
{
	const char *colon = strrchr(p->s.listen, ':');
	_cleanup_free_ char *host = NULL;
	size_t n;

	if (colon == NULL) {
		*reterr_msg = xasprintf("[public] listen %s: expected "
		    "address:port", p->s.listen);
		return -EINVAL;
	}
	n = (size_t)(colon - p->s.listen);
	if (p->s.listen[0] == '[' && n >= 2)
		host = xstrndup(p->s.listen + 1, n - 2);
	else
		host = xstrndup(p->s.listen, n);
	if (evhttp_bind_socket(p->http, host,
	    (ev_uint16_t)strtoul(colon + 1, NULL, 10)) != 0) {
		*reterr_msg = xasprintf("cannot listen on %s for the approval "
		    "page: %s", p->s.listen, strerror(errno));
		return -EADDRINUSE;
	}
	return 0;
}

int
approval_page_new(const struct approval_page_settings *s,
    struct approval_page **out, char **reterr_msg)
{
	struct approval_page *p = xcalloc(1, sizeof(*p));
	int r;

	*out = NULL;
	p->s = *s;
	if (p->s.rate_per_minute < 1)
		p->s.rate_per_minute = 1;
	p->buckets = xcalloc(BUCKETS_MAX, sizeof(*p->buckets));
	p->http = evhttp_new(s->base);
	evhttp_set_timeout(p->http, HTTP_TIMEOUT_S);
	evhttp_set_max_body_size(p->http, BODY_MAX);
	evhttp_set_allowed_methods(p->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS);
	evhttp_set_gencb(p->http, on_request, p);
	if ((r = bind_listen(p, reterr_msg)) < 0) {
		approval_page_free(p);
		return r;
	}
	*out = p;
	return 0;
}

void
approval_page_stop(struct approval_page *p)
{
	if (p != NULL)
		p->stopping = true;
}

void
approval_page_free(struct approval_page *p)
{
	if (p == NULL)
		return;
	if (p->http != NULL)
		evhttp_free(p->http);
	free(p->buckets);
	free(p);
}
