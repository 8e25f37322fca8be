/*
 * outbox.h: the mail queue's sender. Claims due mail_outbox rows with a
 * lease, renders validation emails (the approval token recomputed from the
 * row's nonce, never read from the database), delivers each to its one
 * recipient through delivery.h, and records the outcome: SENT with the
 * audit event "SendValidationEmail" in one transaction, a retry with
 * exponential backoff and jitter, or FAILED with the reason. A crash after
 * delivery and before the record re-sends the same message, same
 * Message-ID, once the lease runs out.
 */
#ifndef CERTFLEET_MAIL_OUTBOX_H
#define CERTFLEET_MAIL_OUTBOX_H

#include <stdint.h>

struct event_base;
struct dbpool;
struct curl_loop;
struct mail_delivery_settings;
struct metrics;
struct outbox;

struct outbox_settings {
	struct event_base *base;
	struct dbpool *pool;
	struct curl_loop *curl;
	/* borrowed; must outlive the outbox */
	const struct mail_delivery_settings *delivery;
	const char *owner;		/* lease owner, unique per daemon */
	const unsigned char *token_key;	/* TOKEN_KEY_LEN bytes */
	const char *host_name;		/* for audit events */
	const char *account, *region, *base_url;
	int64_t retry_min_ms, retry_max_ms, timeout_ms;
	int max_attempts;
	int max_parallel;
	/* Counts each message's first attempt and every recorded outcome
	 * (metrics_email); borrowed, NULL: not counted. */
	struct metrics *metrics;
};

struct outbox *outbox_new(const struct outbox_settings *s);
void outbox_kick(struct outbox *o);
/* No new claims; call before curl_loop_free() and dbpool_free(),
 * outbox_free() after both. */
void outbox_stop(struct outbox *o);
void outbox_free(struct outbox *o);
/* Messages in flight. */
unsigned outbox_active(const struct outbox *o);

#endif
