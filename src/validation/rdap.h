/*
 * rdap.h: the two RDAP documents certfleet reads, parsed without any I/O:
 * the RFC 9224 bootstrap file that maps TLDs to RDAP servers (IANA's
 * dns.json), and the RFC 9083 domain response whose registrant, technical
 * and administrative contacts receive validation emails. Fetching lives in
 * contacts.c.
 */
#ifndef CERTFLEET_VALIDATION_RDAP_H
#define CERTFLEET_VALIDATION_RDAP_H

#include <stddef.h>

#include "common/cleanup.h"

struct rdap_bootstrap;

/* Reads an RFC 9224 "dns" bootstrap file. */
int rdap_bootstrap_load(const char *path, struct rdap_bootstrap **out,
    char **reterr_msg) _wur_;
/* The same from text in memory (len bytes, need not be NUL-terminated). */
int rdap_bootstrap_parse(const char *text, size_t len,
    struct rdap_bootstrap **out, char **reterr_msg) _wur_;
void rdap_bootstrap_free(struct rdap_bootstrap *bs);

/*
 * The base URL of the RDAP service for a domain name ("example.co.uk" or a
 * bare "uk"), by RFC 9224's label-wise longest match, case-insensitive, a
 * trailing dot ignored. Among a service's URLs an https one is preferred.
 * NULL when no entry matches. The string belongs to bs.
 */
const char *rdap_bootstrap_lookup(const struct rdap_bootstrap *bs,
    const char *domain);

/*
 * The email addresses of the entities with the role registrant, technical
 * or administrative in an RFC 9083 domain response, nested entities
 * included: lower-cased, de-duplicated, registrant ones first, then
 * technical, then administrative (document order within a role).
 *
 * Redacted contacts add nothing. An address is left out when
 *  - the response's top-level RFC 9537 "redacted" array, or the entity's
 *    own "redacted" member, names an email of that role (a redaction entry
 *    whose name or paths mention "email" and the role: "Registrant Email",
 *    "Tech Email", "$.entities[?(@.roles[0]=='administrative')]...email");
 *    an entity-level entry that mentions email but no role applies to that
 *    entity;
 *  - it is not a plausible address (one '@', no spaces or control
 *    characters, a dotted domain, at most 254 characters): this drops
 *    placeholders such as "REDACTED FOR PRIVACY" and "Please query the RDDS
 *    service of the Registrar of Record...";
 *  - it contains "redacted" (redacted@example.org, redacted-for-privacy@..)
 *    or its domain is under the reserved ".invalid" TLD (RFC 2606), which
 *    registries use for placeholders (redacted@example.invalid).
 * A "mailto:" prefix is removed. A response without entities gives an
 * empty list.
 *
 * On success *out is a NULL-terminated array (possibly just { NULL }) to
 * free with rdap_emails_free(). Malformed JSON or a top level that is not
 * an object is an error (-EBADMSG).
 */
int rdap_domain_emails(const char *body, size_t len, char ***out,
    char **reterr_msg) _wur_;
void rdap_emails_free(char **emails);

#endif
