/*
 * ares_loop.h: a c-ares channel driven by the libevent loop, so DNS lookups
 * (MX walks, the renewal DNS checks, probe targets) never block it.
 */
#ifndef CERTFLEET_LOOP_ARES_LOOP_H
#define CERTFLEET_LOOP_ARES_LOOP_H

#include <ares.h>

#include "common/cleanup.h"

struct event_base;
struct ares_loop;

struct ares_loop_settings {
	const char *servers;	/* "127.0.0.1:5353,[::1]:53"; NULL or "" =
				   the system's resolvers */
	int timeout_ms;		/* per try */
	int tries;
};

int ares_loop_new(struct event_base *base, const struct ares_loop_settings *s,
    struct ares_loop **out, char **reterr_msg) _wur_;
/* Cancels pending queries (their callbacks run with ARES_EDESTRUCTION). */
void ares_loop_free(struct ares_loop *loop);

/* The channel to start queries on (ares_query, ares_getaddrinfo, ...). */
ares_channel ares_loop_channel(struct ares_loop *loop);
/* Call after starting queries: re-arms the timeout timer. */
void ares_loop_kick(struct ares_loop *loop);

#endif
