/*
 * cidr.h: the [renewal] managed_networks list: IPv4 and IPv6 networks in
 * CIDR notation, and whether an address lies within one of them. Pure: no
 * daemon state, no event loop; the DNS check (renewal/dns_check.h) uses it.
 */
#ifndef CERTFLEET_RENEWAL_CIDR_H
#define CERTFLEET_RENEWAL_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cleanup.h"

struct cidr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network, host bits zero; 4 bytes for v4 */
	unsigned prefix;	/* 0..32 or 0..128 */
};

struct cidr_set {
	size_t n;
	struct cidr *nets;
};

/*
 * "10.0.0.0/8", "2001:db8::/32"; a bare address is a /32 or /128. Host bits
 * set ("10.0.0.1/8") are refused, as a likely typo.
 */
int cidr_parse(const char *text, struct cidr *out, char **reterr_msg) _wur_;

/*
 * A list separated by commas and/or white space; "" gives an empty set,
 * which contains no address.
 */
int cidr_set_parse(const char *list, struct cidr_set **out,
    char **reterr_msg) _wur_;
void cidr_set_free(struct cidr_set *set);

/*
 * addr is a struct in_addr (AF_INET) or struct in6_addr (AF_INET6). An
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) is matched as the IPv4 one.
 */
bool cidr_contains(const struct cidr *net, int family, const void *addr);
bool cidr_set_contains(const struct cidr_set *set, int family,
    const void *addr);

#endif
