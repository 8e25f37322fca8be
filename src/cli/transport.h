/*
 * transport.h: one AWS JSON 1.1 call to certfleetd over its UNIX control
 * socket, and the parse of its answer into a response or an ACM error.
 */
#ifndef CERTFLEET_CLI_TRANSPORT_H
#define CERTFLEET_CLI_TRANSPORT_H

#include <jansson.h>

#include "common/cleanup.h"

#define CERTFLEET_SOCKET_DEFAULT "/run/certfleet/control.sock"

struct transport {
	const char *socket_path;
	long connect_timeout;	/* seconds; 0: none */
	long read_timeout;	/* seconds; 0: none */
};

/* What the service said when it refused: "InvalidArnException", text. */
struct service_error {
	char *code;
	char *message;
};

void service_error_clear(struct service_error *e);

/*
 * POSTs body to "<prefix>.<action>". Returns 0 with the parsed response
 * (an empty object for an empty body); -EREMOTEIO with *err filled for an
 * error the service returned; another negative errno with a message for
 * the user (socket missing, refused, timed out, unreadable answer).
 */
int transport_call(const struct transport *t, const char *prefix,
    const char *action, const json_t *body, json_t **response,
    struct service_error *err, char **reterr_msg) _wur_;

/*
 * Reads an error answer as botocore does: "__type" (after any '#', before
 * any ':') or the HTTP status; "message" or "Message".
 */
void transport_parse_error(long status, const char *body, size_t len,
    struct service_error *err);

#endif
