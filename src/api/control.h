/*
 * control.h: the control socket. Accepts connections on a UNIX socket,
 * learns each peer's credentials, parses HTTP/1.1 requests with http-parser
 * and hands each complete request to a callback. Replies go back through
 * control_reply(), possibly much later (after a database thread answered).
 */
#ifndef CERTFLEET_API_CONTROL_H
#define CERTFLEET_API_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/cleanup.h"

struct event_base;
struct control_server;
struct control_conn;

struct control_caller {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	char process[16];	/* its name when it connected; "" if gone */
};

/* One request; owned by the server until control_reply() is called. */
struct control_request {
	struct control_conn *conn;	/* reply handle; valid until replied */
	struct control_caller caller;
	char request_id[37];
	char *method;
	char *url;
	char *target;			/* X-Amz-Target, NULL if absent */
	char *content_type;
	char *user_agent;
	char *body;			/* NUL-terminated */
	size_t body_len;
	bool body_too_large;		/* body was discarded past the limit */
};

typedef void (*control_request_fn)(struct control_request *req, void *arg);

struct control_settings {
	const char *path;		/* socket path (ignored for an inherited fd) */
	unsigned mode;			/* chmod of a socket we create */
	const char *group;		/* chgrp of a socket we create; "" keeps */
	int inherited_fd;		/* from socket activation, or -1 */
	int max_connections_per_uid;
	int64_t request_timeout_ms;	/* idle and per-request read timeout */
	size_t max_body_size;
	control_request_fn on_request;
	void *arg;
};

/*
 * Binds (or adopts) the socket and starts accepting. Refuses when another
 * process already answers on the path; removes a stale socket file.
 */
int control_server_new(struct event_base *base,
    const struct control_settings *settings, struct control_server **out,
    char **reterr_msg) _wur_;
/* Applies reloaded limits; connections already open keep their timeout. */
void control_server_set_limits(struct control_server *srv,
    int max_connections_per_uid, int64_t request_timeout_ms,
    size_t max_body_size);
/* Stops accepting new connections; requests in flight still get replies. */
void control_server_stop_accepting(struct control_server *srv);
/* Connections still open with a request in flight. */
unsigned control_server_busy(const struct control_server *srv);
/* Closes every connection and the socket (unlinking one we created).
 * Call it only once no request is in flight (control_server_busy() == 0
 * or the work queue drained). */
void control_server_free(struct control_server *srv);

/*
 * Sends the reply for req and frees req. body is JSON text. Safe when the
 * client went away meanwhile: the reply is then dropped.
 */
void control_reply(struct control_request *req, int status,
    const char *body, size_t body_len);

#endif
