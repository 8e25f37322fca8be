/*
 * daemon.h: the one daemon context. Everything certfleetd keeps while it
 * runs hangs off this struct, owned by main(); nothing else is global but
 * the log level.
 */
#ifndef CERTFLEET_DAEMON_DAEMON_H
#define CERTFLEET_DAEMON_DAEMON_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "pki/keyseal.h"

struct config;
struct event;
struct event_base;
struct dbpool;
struct control_server;
struct router;
struct model_rules;
struct audit_retention;
struct metrics;
struct workq;
struct ca;
struct issuer;
struct ares_loop;
struct curl_loop;
struct request_flow;
struct deployer;
struct scheduler;

struct daemon_ctx {
	const char *config_path;
	struct config *cfg;
	char *dsn;			/* the effective connection string */
	struct event_base *base;
	struct dbpool *pool;
	struct control_server *control;
	struct router *router;
	struct model_rules *rules;
	struct audit_retention *retention;	/* started once ready */
	struct metrics *metrics;	/* Prometheus figures, /readyz */
	struct workq *workq;		/* CPU threads: key generation, signing */
	struct ca *ca;			/* certfleet's signing CA, loaded once
					   ready; read-only, shared by workq */
	struct issuer *issuer;		/* turns issuance intents into
					   certificates; started once ready */
	struct ares_loop *dns;		/* c-ares on the loop: MX look-ups */
	struct curl_loop *http;		/* curl multi: SMTP, RDAP */
	struct request_flow *flow;	/* contact discovery, mail queue,
					   approval page, validation timeout */
	struct deployer *deployer;	/* writes this host's bindings' files;
					   started once ready */
	struct scheduler *scheduler;	/* renewals and expiry events;
					   started once ready */
	struct api_env env;		/* shared read-only with db threads */
	unsigned char master_key[MASTER_KEY_LEN];

	struct event *sig_term, *sig_int, *sig_hup;
	struct event *migrate_timer;	/* retries migrations with backoff */
	struct event *watchdog_timer;
	struct event *shutdown_timer;	/* polls in-flight work on stop */
	int64_t migrate_backoff_ms;
	uint64_t watchdog_usec;		/* 0 when WatchdogSec= is unset */
	int64_t stop_deadline_ms;	/* monotonic */
	bool ready;			/* migrations ran, API serving */
	atomic_bool schema_ready;	/* the same, for the database threads */
	char *db_why;			/* why the database was last down */
	bool db_up;
	bool stopping;
	int exit_code;
};

/* lifecycle.c: start-up, readiness, reload and shutdown on the loop. */
void lifecycle_start(struct daemon_ctx *ctx);
void lifecycle_stop(struct daemon_ctx *ctx, const char *why);
void lifecycle_reload(struct daemon_ctx *ctx);
void lifecycle_db_state(bool up, const char *why, void *arg);
/* NULL when ready to serve, else why not; arg is the daemon_ctx. */
const char *lifecycle_unready_reason(void *arg);
void lifecycle_fatal(struct daemon_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * validation_setup.c: the request flow. build: after the context, before
 * the loop runs (-1: cannot start). start: once the schema is ready.
 * stop: before dbpool_free(); free: after it.
 */
int request_flow_build(struct daemon_ctx *ctx);
void request_flow_start(struct daemon_ctx *ctx);
void request_flow_reload(struct daemon_ctx *ctx);
void request_flow_stop(struct daemon_ctx *ctx);
void request_flow_free(struct daemon_ctx *ctx);
/* api_env.kick: API_KICK_* flags after a commit; arg is the context. */
void request_flow_kick(unsigned kicks, void *arg);

#endif
