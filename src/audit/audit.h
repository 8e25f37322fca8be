/*
 * audit.h: the audit trail's producers. Every control call becomes one
 * event, written in the transaction of the change it records; the daemon's
 * own work (mail sent, approvals, issuance, deployment) uses the same
 * record. Secrets never enter an event: certificate bodies, private keys
 * and passphrases are left out of the request parameters, as ACM's
 * CloudTrail records leave them out.
 */
#ifndef CERTFLEET_AUDIT_AUDIT_H
#define CERTFLEET_AUDIT_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "common/cleanup.h"

typedef struct pg_conn PGconn;
struct api_call;
struct audit_user_cache;

/* User names by uid for the audit records, shared by the database threads
 * (thread-safe), entries kept for a minute. */
struct audit_user_cache *audit_user_cache_new(void);
void audit_user_cache_free(struct audit_user_cache *c);

/* A copy of a request object without the members that carry secrets or
 * certificate bodies. */
json_t *audit_scrub_request(const json_t *input);

/* Writes the event for a finished API call (success or failure). Runs on a
 * database thread, in the call's transaction if in_change (then it commits
 * with the change), else on its own. */
int audit_record_call(PGconn *conn, const struct api_call *call,
    bool in_change, char **reterr_msg) _wur_;

/* The events of n finished calls outside any change (reads, refusals),
 * in one statement. Runs on a database thread. */
int audit_record_calls(PGconn *conn, const struct api_call *const *calls,
    size_t n, char **reterr_msg) _wur_;

/* Writes an event for the daemon's own work. */
int audit_record_work(PGconn *conn, const char *host_name,
    const char *event_name, const char *certificate_arn,
    const json_t *details, const char *source, char **reterr_msg) _wur_;

#endif
