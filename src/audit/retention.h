/*
 * retention.h: deletes audit events older than [audit] retention, once an
 * hour, in small batches on a database thread.
 */
#ifndef CERTFLEET_AUDIT_RETENTION_H
#define CERTFLEET_AUDIT_RETENTION_H

#include <stdint.h>

struct event_base;
struct dbpool;
struct audit_retention;

struct audit_retention *audit_retention_new(struct event_base *base,
    struct dbpool *pool, int64_t retention_ms);
void audit_retention_set(struct audit_retention *r, int64_t retention_ms);
void audit_retention_free(struct audit_retention *r);

#endif
