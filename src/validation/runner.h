/*
 * runner.h: contact discovery on the loop. Claims names waiting for their
 * validation emails (a lease in the database, so daemons sharing it split
 * the work), finds their addresses with contacts.h, and records addresses,
 * token hashes and outbox rows in one transaction; then the mail queue
 * (src/mail/outbox.h) sends them. Temporary DNS trouble is retried with
 * backoff; a name with nobody to ask ends the request FAILED with
 * NO_AVAILABLE_CONTACTS. A renewal's name (the fallback after a failed
 * check) is claimed the same way; with nobody to ask, the certificate
 * stays ISSUED and the name's renewal status FAILED makes the scheduler
 * end the renewal FAILED with NO_AVAILABLE_CONTACTS.
 */
#ifndef CERTFLEET_VALIDATION_RUNNER_H
#define CERTFLEET_VALIDATION_RUNNER_H

#include <stdint.h>

struct event_base;
struct dbpool;
struct contacts_ctx;
struct discovery;

struct discovery_settings {
	struct event_base *base;
	struct dbpool *pool;
	struct contacts_ctx *contacts;
	const char *owner;		/* lease owner: unique per daemon */
	const unsigned char *token_key;	/* TOKEN_KEY_LEN bytes */
	const char *mail_from;
	const char *message_id_domain;	/* right of '@' in Message-IDs */
	int64_t token_lifetime_ms;
	int max_parallel;
	/* after a commit that queued mail (loop thread) */
	void (*on_mail_queued)(void *arg);
	void *arg;
};

struct discovery *discovery_new(const struct discovery_settings *s);
/* Look for work now. */
void discovery_kick(struct discovery *d);
/* No new claims or lookups; pending DB results are dropped when they
 * arrive. Call before dbpool_free(); discovery_free() after it. */
void discovery_stop(struct discovery *d);
void discovery_free(struct discovery *d);

#endif
