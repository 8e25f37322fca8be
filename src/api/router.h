/*
 * router.h: turns control-socket requests into API calls. Decoding, the
 * action lookup, readiness and the reply's encoding happen here once for
 * every action; the handler itself runs on a database thread.
 */
#ifndef CERTFLEET_API_ROUTER_H
#define CERTFLEET_API_ROUTER_H

#include <stdbool.h>

struct router;
struct dbpool;
struct api_env;
struct api_limits;
struct control_request;
struct metrics;

struct router *router_new(struct dbpool *pool, const struct api_env *env,
    const struct api_limits *limits);
void router_free(struct router *r);
/* Until ready, every action answers ServiceUnavailableException. */
void router_set_ready(struct router *r, bool ready);
void router_set_limits(struct router *r, const struct api_limits *limits);
/* Where calls are counted (certfleet_api_requests_total); NULL: nowhere. */
void router_set_metrics(struct router *r, struct metrics *m);
/* Before dbpool_free(): from now on calls whose events are not stored
 * yet are answered without them (a stop past its grace period). */
void router_stop(struct router *r);
/* Audit events of answered calls not stored yet: a stopping daemon waits
 * for them as for requests in flight. */
unsigned router_pending_audit(const struct router *r);
/* A control_request_fn: arg is the router. */
void router_handle(struct control_request *req, void *arg);

#endif
