/*
 * http.c: the metrics listener. libevent's evhttp on [metrics] listen,
 * apart from the control socket, serving GET (and HEAD) of
 *   /metrics  the exposition, OpenMetrics when the Accept header asks for
 *             it, the Prometheus text format otherwise;
 *   /healthz  "ok" whenever the process answers;
 *   /readyz   200 when the daemon is ready (migrations ran, not stopping)
 *             and the database answered the last ping, else 503 and why.
 * A ping job every second keeps the readiness (and certfleet_database_up)
 * current even when nothing else uses the database. The listener runs on
 * the loop thread, so answering at all shows the loop is alive.
 *
 * /metrics is gzip'd for clients that take it (Prometheus always does):
 * one gzip member made of the live figures compressed now and the cached
 * certificate figures as they were compressed. Other clients get plain
 * text in a chunked reply, inflated a chunk at a time when the previous
 * one has been written, so a scrape of 100,000 certificates holds neither
 * the loop nor much memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "loop/dbpool.h"
#include "metrics/gzpart.h"
#include "metrics/internal.h"
#include "store/store.h"

#define PING_INTERVAL_MS 1000
/* A database that answered no ping for this long is not ready, even if
 * the pings are only stuck behind other work. */
#define PING_STALE_S 10.0
#define HTTP_TIMEOUT_S 30
/* Plain text sent per chunk of a reply: inflating it takes a fraction of
 * a millisecond, so the loop is never held for long. */
#define TEXT_CHUNK_SIZE (128 * 1024)

/* ---- the readiness ping ----------------------------------------------- */

struct ping_job {
	struct metrics *m;
	char *err;
};

static int
ping_work(PGconn *conn, void *arg)
{
	struct ping_job *job = arg;

	return store_ping(conn, &job->err);
}

static void
ping_done(int rc, void *arg)
{
	struct ping_job *job = arg;
	struct metrics *m = job->m;

	m->pinging = false;
	m->ping_ok = rc == 0;
	free(m->ping_why);
	m->ping_why = NULL;
	if (rc == 0)
		m->ping_ok_at = metrics_monotonic();
	else
		m->ping_why = xstrdup(job->err ? job->err :
		    "cannot connect to the database");
	free(job->err);
	free(job);
}

static void
ping_tick(evutil_socket_t fd, short what, void *arg)
{
	struct metrics *m = arg;
	struct ping_job *job;

	if (m->pinging)
		return;
	job = xcalloc(1, sizeof(*job));
	job->m = m;
	m->pinging = true;
	dbpool_submit(m->s.pool, ping_work, ping_done, job);
}

/* NULL when ready; else a one-line reason in buf. */
static const char *
unready_reason(struct metrics *m, char *buf, size_t size)
{
	const char *why = m->s.unready ? m->s.unready(m->s.unready_arg) : NULL;
	double age;

	if (why != NULL)
		return why;
	if (!m->ping_ok) {
		snprintf(buf, size, "database unreachable: %s",
		    m->ping_why ? m->ping_why : "not checked yet");
		buf[strcspn(buf, "\n")] = '\0';
		return buf;
	}
	age = metrics_monotonic() - m->ping_ok_at;
	if (age > PING_STALE_S) {
		snprintf(buf, size, "database has not answered for %.0f s",
		    age);
		return buf;
	}
	return NULL;
}

/* ---- requests --------------------------------------------------------- */

static bool
wants_openmetrics(struct evhttp_request *req)
{
	const char *accept = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Accept");

	return accept != NULL &&
	    strstr(accept, "application/openmetrics-text") != NULL;
}

static void
reply_text(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	struct evbuffer *body = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	evbuffer_add_printf(body, "%s\n", text);
	evhttp_send_reply(req, code, reason, body);
	evbuffer_free(body);
}

/*
 * A plain /metrics reply being sent. It lives until its last chunk has
 * been handed over or the connection is gone, whichever comes first; the
 * connection's close callback is its handle for the latter.
 */
struct text_reply {
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	struct metrics_text *text;
	struct evbuffer *chunk;
};

static void
text_reply_free(struct text_reply *t)
{
	metrics_text_free(t->text);
	evbuffer_free(t->chunk);
	free(t);
}

/* The previous chunk is written (or the reply starts): the next one. */
static void
text_reply_next(struct evhttp_connection *evcon, void *arg)
{
	struct text_reply *t = arg;

	metrics_text_read(t->text, t->chunk, TEXT_CHUNK_SIZE);
	if (evbuffer_get_length(t->chunk) > 0) {
		evhttp_send_reply_chunk_with_cb(t->req, t->chunk,
		    text_reply_next, t);
		return;
	}
	evhttp_connection_set_closecb(t->evcon, NULL, NULL);
	evhttp_send_reply_end(t->req);
	text_reply_free(t);
}

/* The client went away (or the listener is closing) mid-reply. */
static void
text_reply_closed(struct evhttp_connection *evcon, void *arg)
{
	struct text_reply *t = arg;

	evhttp_connection_set_closecb(evcon, NULL, NULL);
	/* evhttp lets go of a request it was still sending; else it frees
	 * it with the connection. */
	if (evhttp_request_get_connection(t->req) == NULL)
		evhttp_request_free(t->req);
	text_reply_free(t);
}

static void
serve_text(struct metrics *m, struct evhttp_request *req,
    enum expo_format fmt)
{
	struct text_reply *t = xcalloc(1, sizeof(*t));

	t->req = req;
	t->evcon = evhttp_request_get_connection(req);
	t->text = metrics_text_new(m, fmt);
	t->chunk = evbuffer_new();
	evhttp_connection_set_closecb(t->evcon, text_reply_closed, t);
	evhttp_send_reply_start(req, HTTP_OK, "OK");
	text_reply_next(t->evcon, t);
}

static void
serve_metrics(struct metrics *m, struct evhttp_request *req)
{
	enum expo_format fmt = wants_openmetrics(req) ? EXPO_OPENMETRICS :
	    EXPO_TEXT;
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	bool gzip = gzip_accepted(evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Accept-Encoding"));
	struct evbuffer *body;

	evhttp_add_header(out, "Content-Type", fmt == EXPO_OPENMETRICS ?
	    EXPO_OPENMETRICS_CONTENT_TYPE : EXPO_TEXT_CONTENT_TYPE);
	evhttp_add_header(out, "Vary", "Accept-Encoding");
	if (gzip)
		evhttp_add_header(out, "Content-Encoding", "gzip");
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		evhttp_send_reply(req, HTTP_OK, "OK", NULL);
		return;
	}
	if (!gzip) {
		serve_text(m, req, fmt);
		return;
	}
	body = evbuffer_new();
	metrics_render_gzip(m, fmt, body);
	evhttp_send_reply(req, HTTP_OK, "OK", body);
	evbuffer_free(body);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	char buf[512];
	const char *why;

	if (path == NULL)
		path = "";
	if (strcmp(path, "/metrics") == 0) {
		serve_metrics(m, req);
	} else if (strcmp(path, "/healthz") == 0) {
		reply_text(req, HTTP_OK, "OK", "ok");
	} else if (strcmp(path, "/readyz") == 0) {
		why = unready_reason(m, buf, sizeof(buf));
		if (why == NULL)
			reply_text(req, HTTP_OK, "OK", "ready");
		else
			reply_text(req, 503, "Service Unavailable", why);
	} else {
		reply_text(req, HTTP_NOTFOUND, "Not Found",
		    "not found: try /metrics, /healthz or /readyz");
	}
}

/* ---- the listener ----------------------------------------------------- */

int
metrics_http_start(struct metrics *m, char **reterr_msg)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	struct evconnlistener *l;
	struct timeval tv = { PING_INTERVAL_MS / 1000,
		PING_INTERVAL_MS % 1000 * 1000 };

	memset(&ss, 0, sizeof(ss));
	if (evutil_parse_sockaddr_port(m->listen, (struct sockaddr *)&ss,
	    &len) < 0) {
		*reterr_msg = xasprintf("[metrics] listen: '%s' is not an "
		    "address and port", m->listen);
		return -EINVAL;
	}
	l = evconnlistener_new_bind(m->s.base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    -1, (struct sockaddr *)&ss, len);
	if (l == NULL) {
		int e = errno;

		*reterr_msg = xasprintf("cannot listen on %s: %s", m->listen,
		    strerror(e));
		return -e;
	}
	m->http = evhttp_new(m->s.base);
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(m->http, HTTP_TIMEOUT_S);
	evhttp_set_gencb(m->http, on_request, m);
	if (evhttp_bind_listener(m->http, l) == NULL) {
		evconnlistener_free(l);
		evhttp_free(m->http);
		m->http = NULL;
		*reterr_msg = xasprintf("cannot serve HTTP on %s", m->listen);
		return -EIO;
	}
	m->ping_timer = event_new(m->s.base, -1, EV_PERSIST, ping_tick, m);
	event_add(m->ping_timer, &tv);
	ping_tick(-1, 0, m);
	return 0;
}

void
metrics_http_stop(struct metrics *m)
{
	if (m->ping_timer != NULL)
		event_free(m->ping_timer);
	m->ping_timer = NULL;
	if (m->http != NULL)
		evhttp_free(m->http);
	m->http = NULL;
}
