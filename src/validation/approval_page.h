/*
 * approval_page.h: the page behind the link in validation emails, served
 * with libevent's evhttp on [public] listen (put a TLS reverse proxy in
 * front of it; [public] base_url is how the links are written).
 *
 *   GET  /approvals?code=TOKEN  shows the domain, account, region and
 *                               certificate identifier and an "I Approve"
 *                               form; it changes nothing, so mail scanners
 *                               that follow links approve nothing.
 *   POST /approvals             (form field code=TOKEN) approves the name:
 *                               token used, name SUCCESS, and the issuance
 *                               intent once no name is left pending.
 *
 * Unknown tokens answer 404, used or expired ones 410, a client over its
 * rate (token bucket per address) 429. Tokens are never logged; approvals
 * are audited as "ApproveDomain" with the client address as source.
 */
#ifndef CERTFLEET_VALIDATION_APPROVAL_PAGE_H
#define CERTFLEET_VALIDATION_APPROVAL_PAGE_H

#include "common/cleanup.h"

struct event_base;
struct dbpool;
struct approval_page;

struct approval_page_settings {
	struct event_base *base;
	struct dbpool *pool;
	const char *listen;		/* "127.0.0.1:9470", "[::1]:9470" */
	const char *account, *region, *host_name;
	int rate_per_minute;		/* per client address */
	/* after an approval wrote an issuance intent (loop thread) */
	void (*on_issue)(void *arg);
	void *arg;
};

int approval_page_new(const struct approval_page_settings *s,
    struct approval_page **out, char **reterr_msg) _wur_;
/* Stops accepting; replies still owed are sent when their DB work ends.
 * Call before dbpool_free(), approval_page_free() after it. */
void approval_page_stop(struct approval_page *p);
void approval_page_free(struct approval_page *p);

#endif
