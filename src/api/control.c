/*
 * control.c: the control socket's connections.
 *
 * Like OpenSMTPD's control.c: refuse to start when another daemon answers on
 * the socket, remove a stale socket file, read every peer's credentials, cap
 * connections per uid, and stop accepting (rather than spin) when out of file
 * descriptors. HTTP/1.1 framing is http-parser's; one request per connection
 * is in flight at a time (reading pauses until its reply is queued), and
 * keep-alive and pipelining work as clients expect. Every error this layer
 * produces is an AWS JSON error, so clients never see an HTML page.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <http_parser.h>

#include "api/control.h"
#include "common/arn.h"
#include "common/json_util.h"
#include "common/log.h"
#include "common/xmalloc.h"

struct control_conn {
	TAILQ_ENTRY(control_conn) entry;
	struct control_server *srv;
	struct bufferevent *bev;	/* NULL once the peer is gone */
	struct control_caller caller;
	http_parser parser;
	struct control_request *req;	/* being parsed, or in flight */
	char *field;			/* header name being read */
	size_t field_len;
	char *value;			/* header value being read */
	size_t value_len;
	bool in_value;			/* last callback was a value part */
	bool complete;			/* req parsed, not yet dispatched */
	bool in_flight;			/* dispatched, awaiting control_reply */
	bool close_after_reply;
};
TAILQ_HEAD(control_conn_list, control_conn);

struct uid_slot {
	uid_t uid;
	int connections;
};

struct control_server {
	struct event_base *base;
	struct control_settings s;
	char *path;			/* socket file we created, or NULL */
	struct evconnlistener *listener;
	struct event *resume_accept;	/* re-enables accept after EMFILE */
	bool accepting;
	struct control_conn_list conns;
	struct uid_slot *uids;
	size_t n_uids;
	unsigned busy;
	http_parser_settings hp;
};

static void conn_free(struct control_conn *conn);
static void conn_parse(struct control_conn *conn);

/* ---- requests and replies -------------------------------------------- */

static void
request_free(struct control_request *req)
{
	if (req == NULL)
		return;
	free(req->method);
	free(req->url);
	free(req->target);
	free(req->content_type);
	free(req->user_agent);
	/* Bodies may carry private keys (ImportCertificate). */
	secret_free(req->body, req->body_len);
	free(req);
}

static const char *
status_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 413: return "Payload Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

static void
write_reply(struct control_conn *conn, const char *request_id, int status,
    const char *body, size_t body_len, bool keep_alive)
{
	struct evbuffer *out = bufferevent_get_output(conn->bev);
	char date[64];
	struct tm tm;
	time_t now = time(NULL);

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	evbuffer_add_printf(out,
	    "HTTP/1.1 %d %s\r\n"
	    "x-amzn-RequestId: %s\r\n"
	    "Content-Type: application/x-amz-json-1.1\r\n"
	    "Content-Length: %zu\r\n"
	    "Date: %s\r\n"
	    "%s"
	    "\r\n",
	    status, status_reason(status), request_id, body_len, date,
	    keep_alive ? "" : "Connection: close\r\n");
	evbuffer_add(out, body, body_len);
}

void
control_reply(struct control_request *req, int status, const char *body,
    size_t body_len)
{
	struct control_conn *conn = req->conn;
	bool keep_alive;

	conn->in_flight = false;
	conn->req = NULL;
	conn->srv->busy--;
	if (conn->bev == NULL) {
		/* The client left while we worked: drop the reply. */
		request_free(req);
		conn_free(conn);
		return;
	}
	keep_alive = !conn->close_after_reply &&
	    http_should_keep_alive(&conn->parser);
	write_reply(conn, req->request_id, status, body, body_len, keep_alive);
	request_free(req);
	if (!keep_alive) {
		conn->close_after_reply = true;
		bufferevent_disable(conn->bev, EV_READ);
		return;	/* conn_write frees it once the reply is out */
	}
	http_parser_pause(&conn->parser, 0);
	bufferevent_enable(conn->bev, EV_READ);
	/* Pipelined requests may wait in the buffer: parse them from the loop,
	 * not from inside this call, which may come from a request handler. */
	if (evbuffer_get_length(bufferevent_get_input(conn->bev)) > 0)
		bufferevent_trigger(conn->bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
}

/* Replies with an AWS JSON error from this layer and closes afterwards. */
static void
reply_error(struct control_conn *conn, int status, const char *type,
    const char *message)
{
	char id[37];
	_cleanup_free_ char *body = NULL;

	uuid_v4(id);
	body = xasprintf("{\"__type\":\"%s\",\"message\":\"%s\"}", type, message);
	write_reply(conn, id, status, body, strlen(body), false);
	conn->close_after_reply = true;
	bufferevent_disable(conn->bev, EV_READ);
}

/* ---- http-parser callbacks ------------------------------------------- */

static void
append(char **buf, size_t *len, const char *at, size_t n)
{
	*buf = xrealloc(*buf, *len + n + 1);
	memcpy(*buf + *len, at, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static void
header_done(struct control_conn *conn)
{
	struct control_request *req = conn->req;
	char **slot = NULL;

	if (conn->field == NULL)
		return;
	if (strcasecmp(conn->field, "X-Amz-Target") == 0)
		slot = &req->target;
	else if (strcasecmp(conn->field, "Content-Type") == 0)
		slot = &req->content_type;
	else if (strcasecmp(conn->field, "User-Agent") == 0)
		slot = &req->user_agent;
	if (slot != NULL) {
		free(*slot);
		*slot = xstrdup(conn->value ? conn->value : "");
		json_util_make_utf8(*slot);
	}
	free(conn->field);
	free(conn->value);
	conn->field = conn->value = NULL;
	conn->field_len = conn->value_len = 0;
}

static int
on_message_begin(http_parser *p)
{
	struct control_conn *conn = p->data;

	request_free(conn->req);
	conn->req = xcalloc(1, sizeof(*conn->req));
	conn->req->conn = conn;
	conn->req->caller = conn->caller;
	uuid_v4(conn->req->request_id);
	return 0;
}

static int
on_url(http_parser *p, const char *at, size_t n)
{
	struct control_conn *conn = p->data;
	size_t len = conn->req->url ? strlen(conn->req->url) : 0;

	append(&conn->req->url, &len, at, n);
	return 0;
}

static int
on_header_field(http_parser *p, const char *at, size_t n)
{
	struct control_conn *conn = p->data;

	if (conn->in_value) {
		header_done(conn);
		conn->in_value = false;
	}
	append(&conn->field, &conn->field_len, at, n);
	return 0;
}

static int
on_header_value(http_parser *p, const char *at, size_t n)
{
	struct control_conn *conn = p->data;

	conn->in_value = true;
	append(&conn->value, &conn->value_len, at, n);
	return 0;
}

static int
on_headers_complete(http_parser *p)
{
	struct control_conn *conn = p->data;

	header_done(conn);
	conn->in_value = false;
	conn->req->method = xstrdup(http_method_str(p->method));
	if ((p->flags & F_CONTENTLENGTH) &&
	    p->content_length > conn->srv->s.max_body_size)
		conn->req->body_too_large = true;
	return 0;
}

static int
on_body(http_parser *p, const char *at, size_t n)
{
	struct control_request *req = ((struct control_conn *)p->data)->req;
	size_t max = ((struct control_conn *)p->data)->srv->s.max_body_size;

	if (req->body_too_large)
		return 0;
	if (req->body_len + n > max) {
		/* Keep reading to answer properly, but keep nothing. */
		req->body_too_large = true;
		secret_free(req->body, req->body_len);
		req->body = NULL;
		req->body_len = 0;
		return 0;
	}
	append(&req->body, &req->body_len, at, n);
	return 0;
}

static int
on_message_complete(http_parser *p)
{
	struct control_conn *conn = p->data;

	conn->complete = true;
	http_parser_pause(p, 1);
	return 0;
}

/* ---- connections ----------------------------------------------------- */

static struct uid_slot *
uid_slot(struct control_server *srv, uid_t uid, bool create)
{
	for (size_t i = 0; i < srv->n_uids; i++)
		if (srv->uids[i].uid == uid)
			return &srv->uids[i];
	if (!create)
		return NULL;
	srv->uids = xrealloc(srv->uids, (srv->n_uids + 1) * sizeof(*srv->uids));
	srv->uids[srv->n_uids] = (struct uid_slot){ .uid = uid };
	return &srv->uids[srv->n_uids++];
}

static void
conn_release_peer(struct control_conn *conn)
{
	struct uid_slot *slot;

	if (conn->bev == NULL)
		return;
	bufferevent_free(conn->bev);
	conn->bev = NULL;
	slot = uid_slot(conn->srv, conn->caller.uid, false);
	if (slot != NULL && slot->connections > 0)
		slot->connections--;
}

static void
conn_free(struct control_conn *conn)
{
	conn_release_peer(conn);
	if (conn->in_flight)
		return;	/* freed by control_reply when the work is done */
	TAILQ_REMOVE(&conn->srv->conns, conn, entry);
	request_free(conn->req);
	free(conn->field);
	free(conn->value);
	free(conn);
}

static void
conn_dispatch(struct control_conn *conn)
{
	struct control_request *req = conn->req;

	conn->complete = false;
	if (req->body == NULL)
		req->body = xstrdup("");
	if (req->body_too_large)
		conn->close_after_reply = true;
	conn->in_flight = true;
	conn->srv->busy++;
	bufferevent_disable(conn->bev, EV_READ);
	conn->srv->s.on_request(req, conn->srv->s.arg);
}

static void
conn_parse(struct control_conn *conn)
{
	struct evbuffer *in;
	struct evbuffer_iovec v;
	size_t n;
	enum http_errno e;

	while (conn->bev != NULL && !conn->in_flight &&
	    !conn->close_after_reply) {
		in = bufferevent_get_input(conn->bev);
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			return;
		n = http_parser_execute(&conn->parser, &conn->srv->hp,
		    v.iov_base, v.iov_len);
		e = HTTP_PARSER_ERRNO(&conn->parser);
		if (e != HPE_OK && e != HPE_PAUSED) {
			reply_error(conn, 400, "SerializationException",
			    "Malformed HTTP request");
			return;
		}
		evbuffer_drain(in, n);
		if (conn->complete)
			conn_dispatch(conn);
	}
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	conn_parse(arg);
}

static void
conn_write(struct bufferevent *bev, void *arg)
{
	struct control_conn *conn = arg;

	/* The output buffer is empty: a closing reply has been sent. */
	if (conn->close_after_reply && !conn->in_flight)
		conn_free(conn);
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct control_conn *conn = arg;

	if ((what & BEV_EVENT_TIMEOUT) && conn->req != NULL &&
	    !conn->in_flight && !conn->close_after_reply &&
	    (what & BEV_EVENT_READING) &&
	    conn->parser.nread > 0) {
		/* A request started but did not finish in time. */
		reply_error(conn, 400, "RequestTimeoutException",
		    "The request was not received completely in time");
		bufferevent_enable(bev, EV_WRITE);
		return;
	}
	/* EOF, error, or an idle connection timing out. */
	conn_free(conn);
}

/*
 * The peer's process name, read once when it connects: the audit event of
 * a call is written after its answer, when the caller may have left.
 */
static void
peer_process(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	json_util_make_utf8(buf);
}

static void
conn_new(struct control_server *srv, evutil_socket_t fd)
{
	struct control_conn *conn;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct uid_slot *slot;
	struct timeval tv = {
		.tv_sec = srv->s.request_timeout_ms / 1000,
		.tv_usec = (srv->s.request_timeout_ms % 1000) * 1000,
	};

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		log_warning("control: cannot read peer credentials: %s, "
		    "closing connection", strerror(errno));
		close(fd);
		return;
	}
	slot = uid_slot(srv, cred.uid, true);
	if (slot->connections >= srv->s.max_connections_per_uid) {
		log_warning("control: uid %u has %d connections open, "
		    "refusing another", (unsigned)cred.uid, slot->connections);
		close(fd);
		return;
	}
	slot->connections++;
	conn = xcalloc(1, sizeof(*conn));
	conn->srv = srv;
	conn->caller = (struct control_caller){ .uid = cred.uid,
	    .gid = cred.gid, .pid = cred.pid };
	peer_process(cred.pid, conn->caller.process,
	    sizeof(conn->caller.process));
	http_parser_init(&conn->parser, HTTP_REQUEST);
	conn->parser.data = conn;
	conn->bev = bufferevent_socket_new(srv->base, fd,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	bufferevent_setcb(conn->bev, conn_read, conn_write, conn_event, conn);
	bufferevent_set_timeouts(conn->bev, &tv, &tv);
	bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&srv->conns, conn, entry);
}

/* ---- listening ------------------------------------------------------- */

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	conn_new(arg, fd);
}

static void
on_resume_accept(evutil_socket_t fd, short what, void *arg)
{
	struct control_server *srv = arg;

	if (srv->accepting)
		evconnlistener_enable(srv->listener);
}

static void
on_accept_error(struct evconnlistener *l, void *arg)
{
	struct control_server *srv = arg;
	int err = EVUTIL_SOCKET_ERROR();
	struct timeval one_second = { 1, 0 };

	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
		log_warning("control: cannot accept: %s; pausing accept for "
		    "a second", strerror(err));
		evconnlistener_disable(l);
		evtimer_add(srv->resume_accept, &one_second);
		return;
	}
	log_warning("control: accept failed: %s, ignoring", strerror(err));
}

/* Another process answering on path means another daemon runs. */
static int
probe_existing(const char *path, const struct sockaddr_un *sun, char **err)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int r;

	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (r == 0) {
		*err = xasprintf("another process already answers on %s; "
		    "is certfleetd already running?", path);
		return -EADDRINUSE;
	}
	if (errno == ECONNREFUSED)
		unlink(path);	/* stale socket from a dead daemon */
	return 0;
}

static int
set_group(const char *path, const char *group, char **err)
{
	struct group gr, *res = NULL;
	char buf[4096];

	if (group == NULL || group[0] == '\0')
		return 0;
	if (getgrnam_r(group, &gr, buf, sizeof(buf), &res) != 0 || res == NULL) {
		*err = xasprintf("[control] socket_group: no group named '%s'",
		    group);
		return -ENOENT;
	}
	if (chown(path, (uid_t)-1, gr.gr_gid) != 0) {
		*err = xasprintf("cannot set group of %s to %s: %s", path,
		    group, strerror(errno));
		return -errno;
	}
	return 0;
}

static int
bind_socket(const struct control_settings *s, int *out_fd, char **err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old_umask;
	int fd, r;

	if (strlen(s->path) >= sizeof(sun.sun_path)) {
		*err = xasprintf("control socket path is too long: %s", s->path);
		return -ENAMETOOLONG;
	}
	memcpy(sun.sun_path, s->path, strlen(s->path) + 1);
	if ((r = probe_existing(s->path, &sun, err)) < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		*err = xasprintf("socket: %s", strerror(errno));
		return -errno;
	}
	old_umask = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_umask);
	if (r != 0) {
		r = -errno;
		*err = xasprintf("cannot bind the control socket %s: %s",
		    s->path, strerror(errno));
		close(fd);
		return r;
	}
	if (chmod(s->path, s->mode) != 0 || set_group(s->path, s->group, err) < 0 ||
	    listen(fd, 128) != 0) {
		r = -errno;
		if (*err == NULL)
			*err = xasprintf("cannot set up %s: %s", s->path,
			    strerror(errno));
		close(fd);
		unlink(s->path);
		return r ? r : -EIO;
	}
	*out_fd = fd;
	return 0;
}

int
control_server_new(struct event_base *base, const struct control_settings *s,
    struct control_server **out, char **reterr_msg)
{
	struct control_server *srv;
	int fd = s->inherited_fd, r;

	if (fd < 0 && (r = bind_socket(s, &fd, reterr_msg)) < 0)
		return r;
	evutil_make_socket_nonblocking(fd);
	srv = xcalloc(1, sizeof(*srv));
	srv->base = base;
	srv->s = *s;
	srv->s.path = NULL;
	srv->s.group = NULL;
	if (s->inherited_fd < 0)
		srv->path = xstrdup(s->path);
	TAILQ_INIT(&srv->conns);
	srv->hp.on_message_begin = on_message_begin;
	srv->hp.on_url = on_url;
	srv->hp.on_header_field = on_header_field;
	srv->hp.on_header_value = on_header_value;
	srv->hp.on_headers_complete = on_headers_complete;
	srv->hp.on_body = on_body;
	srv->hp.on_message_complete = on_message_complete;
	srv->listener = evconnlistener_new(base, on_accept, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	evconnlistener_set_error_cb(srv->listener, on_accept_error);
	srv->resume_accept = evtimer_new(base, on_resume_accept, srv);
	srv->accepting = true;
	*out = srv;
	return 0;
}

void
control_server_set_limits(struct control_server *srv,
    int max_connections_per_uid, int64_t request_timeout_ms,
    size_t max_body_size)
{
	srv->s.max_connections_per_uid = max_connections_per_uid;
	srv->s.request_timeout_ms = request_timeout_ms;
	srv->s.max_body_size = max_body_size;
}

void
control_server_stop_accepting(struct control_server *srv)
{
	srv->accepting = false;
	evconnlistener_disable(srv->listener);
}

unsigned
control_server_busy(const struct control_server *srv)
{
	return srv->busy;
}

void
control_server_free(struct control_server *srv)
{
	struct control_conn *conn;

	if (srv == NULL)
		return;
	/* The caller has had every request in flight answered first. */
	while ((conn = TAILQ_FIRST(&srv->conns)) != NULL) {
		conn->in_flight = false;
		conn_free(conn);
	}
	evconnlistener_free(srv->listener);
	event_free(srv->resume_accept);
	if (srv->path != NULL)
		unlink(srv->path);
	free(srv->path);
	free(srv->uids);
	free(srv);
}
