/*
 * api.h: what an API action handler sees. The router (router.c) decodes a
 * request into a struct api_call on the loop thread; the handler runs on a
 * database thread, inside one transaction for actions that change state,
 * and leaves either an output object or an ACM exception in the call.
 */
#ifndef CERTFLEET_API_API_H
#define CERTFLEET_API_API_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "common/cleanup.h"

typedef struct pg_conn PGconn;
struct model_rules;
struct audit_user_cache;
struct names_policy;

/*
 * Work a committed call gave the daemon's runners (api_call.kicks): the
 * router hands the flags to api_env.kick on the loop thread after the
 * commit, so a new request's emails go out at once, not at the next scan.
 */
#define API_KICK_DISCOVERY 0x1u	/* names need their contacts found */
#define API_KICK_OUTBOX 0x2u	/* mail was queued */
#define API_KICK_ISSUER 0x4u	/* an issuance intent was written */
#define API_KICK_DEPLOY 0x8u	/* a binding was created: deploy it */
#define API_KICK_RENEWAL 0x10u	/* a renewal came due (RenewCertificate) */
#define API_KICK_ISSUED 0x20u	/* the issuer committed new versions */
typedef void (*api_kick_fn)(unsigned kicks, void *arg);

/* Settings fixed at start, shared read-only with the database threads. */
struct api_env {
	const char *partition;
	const char *region;
	const char *account;
	const unsigned char *master_key;	/* MASTER_KEY_LEN bytes */
	const struct model_rules *rules;
	const char *host_name;		/* recorded with audit events */
	bool audit_reads;		/* record read-only calls too */
	struct audit_user_cache *users;	/* caller names for audit records */
	/* Domain name rules for RequestCertificate: immutable once loaded. */
	const struct names_policy *names;
	api_kick_fn kick;		/* loop thread; NULL: none */
	void *kick_arg;
};

/* Reloadable limits, copied into each call when it arrives. */
struct api_limits {
	int imported_certificates;
	int issued_certificates;
	int domains_per_certificate;
	int tags_per_certificate;
};

struct api_call;
/* Returns 0 with call->output set, or -1 after api_fail(). */
typedef int (*api_handler_fn)(struct api_call *call, PGconn *conn);

struct api_action {
	const char *prefix;	/* "CertificateManager" or "CertFleet" */
	const char *name;	/* "DescribeCertificate" */
	api_handler_fn handler;
	bool read_only;		/* runs without a transaction */
	bool reads_audit;	/* runs after the events of the reads
				   answered before it are stored */
};

struct api_call {
	const struct api_action *action;
	const struct api_env *env;
	struct api_limits limits;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	char process[16];	/* the caller's name, "" if unknown */
	char request_id[37];
	const char *user_agent;	/* NULL if the client sent none */
	int64_t now;		/* request time, epoch seconds */
	int64_t time_us;	/* request time, epoch microseconds */
	json_t *input;		/* request object (borrowed by the handler) */

	json_t *output;		/* set by a successful handler */
	unsigned kicks;		/* API_KICK_* for after the commit */
	int http_status;	/* 200, or the error's status */
	const char *error_type;	/* ACM exception name */
	char *error_message;
};

/* Records an ACM exception (HTTP 400) in the call; returns -1. */
int api_fail(struct api_call *call, const char *type, const char *fmt, ...)
	_printf_(3, 4);
/* Maps a store error code to the exception ACM would answer; returns -1. */
int api_fail_store(struct api_call *call, int rc, const char *msg);
/* Succeeds with an output object (stolen); NULL means "{}". */
int api_ok(struct api_call *call, json_t *output);

const struct api_action *api_action_find(const char *target);

#endif
