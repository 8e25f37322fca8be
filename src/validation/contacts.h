/*
 * contacts.h: who gets the validation email for a name, found on the event
 * loop as the ACM guide describes: the five administrative addresses
 * (admin@, administrator@, hostmaster@, postmaster@, webmaster@) formed on
 * the ValidationDomain or, without one, on the first level of the name
 * that has an MX record (walking up to the registrable domain), plus the
 * registrant, technical and administrative contacts that RDAP publishes
 * for the registrable domain. At most CONTACTS_MAX addresses.
 */
#ifndef CERTFLEET_VALIDATION_CONTACTS_H
#define CERTFLEET_VALIDATION_CONTACTS_H

#include <stddef.h>

#include "common/cleanup.h"

struct event_base;
struct ares_loop;
struct curl_loop;
struct rdap_bootstrap;
struct contacts_ctx;

/* The guide's limit of addresses per name. */
#define CONTACTS_MAX 8
/* admin@, administrator@, hostmaster@, postmaster@, webmaster@ */
#define CONTACTS_ADMIN_COUNT 5

/*
 * The registrable domain (public suffix plus one label) of a lower-case
 * ASCII name, malloc'd; NULL when the name is a public suffix or not under
 * one: the top of the MX walk and the domain asked of RDAP. The daemon
 * passes a wrapper of names_registrable_domain() with the names_policy as
 * arg; tests pass their own.
 */
typedef char *(*contacts_registrable_fn)(const void *arg, const char *name);

struct contacts_settings {
	struct event_base *base;	/* results are delivered from it */
	struct ares_loop *dns;		/* MX look-ups */
	struct curl_loop *http;		/* RDAP fetches; NULL: no RDAP */
	contacts_registrable_fn registrable;
	const void *registrable_arg;
	/* [rdap] base_url: one server for every TLD; wins over bootstrap */
	const char *rdap_base_url;
	/* [rdap] bootstrap_file, loaded; borrowed, must outlive the ctx */
	const struct rdap_bootstrap *rdap_bootstrap;
	long rdap_timeout_ms;		/* whole fetch; <= 0: 10 s */
	size_t rdap_max_body;		/* bytes; 0: 1 MiB */
};

enum contacts_status {
	CONTACTS_OK,			/* at least one address */
	CONTACTS_NO_CONTACTS,		/* looked everywhere: nobody */
	CONTACTS_TEMPORARY_FAILURE,	/* DNS could not say; retry later */
};

struct contacts_result {
	enum contacts_status status;
	/* TEMPORARY_FAILURE: why, for the log and the retry; else NULL */
	const char *reason;
	/*
	 * The addresses, lower case: first the administrative ones in the
	 * order admin, administrator, hostmaster, postmaster, webmaster, then
	 * the RDAP contacts (registrant, technical, administrative) not
	 * already in the list, cut at CONTACTS_MAX. Empty unless OK.
	 */
	const char *const *addresses;
	size_t n_addresses;
	size_t n_admin;			/* the first n_admin are admin@... */
	/* where admin addresses were formed: the ValidationDomain (without
	 * a leading www. or wildcard label) or the MX level; NULL if none */
	const char *admin_domain;
	/* whose RDAP record was asked; NULL when none */
	const char *registrable_domain;
};

/* Runs on the loop thread, always after contacts_find() has returned.
 * res and everything in it live until the callback returns. */
typedef void (*contacts_done_fn)(const struct contacts_result *res,
    void *arg);

int contacts_new(const struct contacts_settings *s, struct contacts_ctx **out,
    char **reterr_msg) _wur_;
/* Drops every lookup in progress without calling its callback; the DNS
 * and HTTP loops must be freed after it (they end what is in flight). */
void contacts_free(struct contacts_ctx *c);

/*
 * Starts finding the addresses for `name` (lower-case ASCII, maybe
 * "*.x" or "www.x"), with the request's ValidationDomain or NULL. `done`
 * runs exactly once, unless the lookup is cancelled. -EINVAL (and no
 * callback) when name or validation_domain is empty.
 */
int contacts_find(struct contacts_ctx *c, const char *name,
    const char *validation_domain, contacts_done_fn done, void *arg) _wur_;
/* Cancels every lookup started with this `arg`; their callbacks never
 * run. Returns how many were cancelled. */
size_t contacts_cancel(struct contacts_ctx *c, const void *arg);
/* Lookups in progress. */
size_t contacts_pending(const struct contacts_ctx *c);

#endif
