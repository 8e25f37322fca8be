/*
 * expiry.h: expiry for every certificate. Certificates past NotAfter
 * become EXPIRED; from the account's DaysBeforeExpiry on, each certificate
 * gets an expiry event (an email to [notifications] email and a journal
 * warning) at most once per [notifications] expiry_event_interval, until
 * it is renewed, re-imported (NotAfter moves) or expires. The scheduler
 * runs this on each tick; what is due comes from an index, so a tick with
 * nothing due reads no certificate.
 *
 * Also the operator notices the scheduler sends (failed renewals).
 */
#ifndef CERTFLEET_RENEWAL_EXPIRY_H
#define CERTFLEET_RENEWAL_EXPIRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cleanup.h"

typedef struct pg_conn PGconn;
struct metrics;
struct store_expiry;

/* What a notice needs; copied at submit, read on a database thread. */
struct notice_settings {
	char *email;		/* "" or NULL: journal only */
	char *sender;		/* From: */
	char *host_name;	/* Message-ID's right side, audit events */
	char *account, *region;
	int64_t interval_ms;	/* expiry_event_interval */
	struct metrics *metrics;	/* counts expiry events; borrowed,
					   NULL: none */
};

void notice_settings_clear(struct notice_settings *n);

/* What one run did, for the journal (on the loop thread). */
struct expiry_report {
	struct store_expiry *v;
	size_t n;
	bool more;		/* a full batch: run again */
};

void expiry_report_clear(struct expiry_report *r);

/*
 * On a database thread, in its own transaction: claims the due expiry
 * work (at most `limit` rows), records an audit event ("ExpiryEvent") and
 * queues an email per event when an address is configured. Once that
 * commits, the events are counted (ns->metrics).
 */
int expiry_run(PGconn *conn, const struct notice_settings *ns, int limit,
    struct expiry_report *out, char **reterr_msg) _wur_;

/* Journal entries for a report (warnings), on the loop thread. */
void expiry_log(const struct expiry_report *r);

/*
 * Builds an operator notice as a complete message (to ns->email): *ret
 * and *message_id are malloc'd. -EINVAL with a message for bad headers.
 */
int notice_build(const struct notice_settings *ns, const char *subject,
    const char *body, char **ret, char **message_id,
    char **reterr_msg) _wur_;

#endif
