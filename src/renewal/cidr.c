/*
 * cidr.c: parsing and matching of [renewal] managed_networks, the
 * networks certfleet's hosts live in. inet_pton does the address syntax;
 * this file adds the prefix, the list and the bit comparison.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "renewal/cidr.h"

#define CIDR_TEXT_MAX	(INET6_ADDRSTRLEN + 4)

/* "/N": decimal digits only, no sign or spaces, at most max. */
static int
parse_prefix(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (s[0] == '\0' || strlen(s) > 3)
		return -EINVAL;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Whether the first prefix bits of a and b agree. */
static bool
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;
	uint8_t mask;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

static bool
host_bits_zero(const uint8_t *a, size_t len, unsigned prefix)
{
	unsigned bit;

	for (bit = prefix; bit < len * 8; bit++)
		if (a[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

int
cidr_parse(const char *text, struct cidr *out, char **reterr_msg)
{
	char buf[CIDR_TEXT_MAX];
	char *slash;
	struct cidr c = { 0 };
	size_t len = strlen(text);
	unsigned max;

	if (len == 0 || len >= sizeof(buf)) {
		*reterr_msg = xasprintf("'%s' is not a network in CIDR "
		    "notation", text);
		return -EINVAL;
	}
	memcpy(buf, text, len + 1);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, c.addr) == 1) {
		c.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c.addr) == 1) {
		c.family = AF_INET6;
		max = 128;
	} else {
		*reterr_msg = xasprintf("'%s': '%s' is not an IPv4 or IPv6 "
		    "address", text, buf);
		return -EINVAL;
	}
	c.prefix = max;
	if (slash != NULL && parse_prefix(slash, max, &c.prefix) < 0) {
		*reterr_msg = xasprintf("'%s': the prefix length must be a "
		    "number from 0 to %u", text, max);
		return -EINVAL;
	}
	if (!host_bits_zero(c.addr, max / 8, c.prefix)) {
		*reterr_msg = xasprintf("'%s' has bits set after the prefix "
		    "(a host address, not a network)", text);
		return -EINVAL;
	}
	*out = c;
	return 0;
}

static bool
is_separator(char ch)
{
	return ch == ',' || ch == ' ' || ch == '\t' || ch == '\n' ||
	    ch == '\r';
}

int
cidr_set_parse(const char *list, struct cidr_set **out, char **reterr_msg)
{
	struct cidr_set *set = xcalloc(1, sizeof(*set));
	const char *p = list, *end;
	char buf[CIDR_TEXT_MAX + 1];
	size_t cap = 0;
	int r;

	for (;;) {
		while (*p != '\0' && is_separator(*p))
			p++;
		if (*p == '\0')
			break;
		for (end = p; *end != '\0' && !is_separator(*end); end++)
			;
		if ((size_t)(end - p) >= sizeof(buf)) {
			*reterr_msg = xasprintf("'%.*s' is not a network in "
			    "CIDR notation", (int)(end - p), p);
			cidr_set_free(set);
			return -EINVAL;
		}
		memcpy(buf, p, (size_t)(end - p));
		buf[end - p] = '\0';
		if (set->n == cap) {
			cap = cap ? cap * 2 : 4;
			set->nets = xrealloc(set->nets,
			    cap * sizeof(*set->nets));
		}
		if ((r = cidr_parse(buf, &set->nets[set->n], reterr_msg)) < 0) {
			cidr_set_free(set);
			return r;
		}
		set->n++;
		p = end;
	}
	*out = set;
	return 0;
}

void
cidr_set_free(struct cidr_set *set)
{
	if (set == NULL)
		return;
	free(set->nets);
	free(set);
}

bool
cidr_contains(const struct cidr *net, int family, const void *addr)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	const uint8_t *a = addr;

	/* An AAAA record holding ::ffff:a.b.c.d reaches the IPv4 host. */
	if (family == AF_INET6 && memcmp(a, v4mapped, 12) == 0) {
		family = AF_INET;
		a += 12;
	}
	if (family != net->family)
		return false;
	return prefix_equal(net->addr, a, net->prefix);
}

bool
cidr_set_contains(const struct cidr_set *set, int family, const void *addr)
{
	size_t i;

	if (set == NULL)
		return false;
	for (i = 0; i < set->n; i++)
		if (cidr_contains(&set->nets[i], family, addr))
			return true;
	return false;
}
