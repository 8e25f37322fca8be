/*
 * reaper.h: ends requests that were not approved for every name within
 * [validation] timeout: PENDING_VALIDATION -> VALIDATION_TIMED_OUT, as
 * ACM does after 72 hours. Scans periodically on the loop.
 */
#ifndef CERTFLEET_VALIDATION_REAPER_H
#define CERTFLEET_VALIDATION_REAPER_H

#include <stdint.h>

struct event_base;
struct dbpool;
struct reaper;

struct reaper *reaper_new(struct event_base *base, struct dbpool *pool,
    int64_t timeout_ms);
/* [validation] timeout changed (reload). */
void reaper_set_timeout(struct reaper *r, int64_t timeout_ms);
/* Call before dbpool_free(), reaper_free() after it. */
void reaper_stop(struct reaper *r);
void reaper_free(struct reaper *r);

#endif
