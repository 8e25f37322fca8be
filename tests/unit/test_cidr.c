/*
 * test_cidr.c: [renewal] managed_networks parsing and matching
 * (src/renewal/cidr.c): prefixes at the edges, IPv4 and IPv6, mapped
 * addresses, lists and the errors an operator may make.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "renewal/cidr.h"

static bool
set_has(const struct cidr_set *set, const char *text)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, text, &a4) == 1)
		return cidr_set_contains(set, AF_INET, &a4);
	assert_int_equal(inet_pton(AF_INET6, text, &a6), 1);
	return cidr_set_contains(set, AF_INET6, &a6);
}

static struct cidr_set *
parse_ok(const char *list)
{
	struct cidr_set *set = NULL;
	char *msg = NULL;

	if (cidr_set_parse(list, &set, &msg) < 0)
		fail_msg("'%s': %s", list, msg);
	return set;
}

static void
parse_fails(const char *list, const char *why)
{
	struct cidr_set *set = NULL;
	char *msg = NULL;

	assert_true(cidr_set_parse(list, &set, &msg) < 0);
	assert_null(set);
	assert_non_null(msg);
	if (strstr(msg, why) == NULL)
		fail_msg("'%s': '%s' does not say '%s'", list, msg, why);
	free(msg);
}

static void
test_ipv4_prefix_boundaries(void **state)
{
	struct cidr_set *set = parse_ok("10.1.2.0/23");

	assert_true(set_has(set, "10.1.2.0"));
	assert_true(set_has(set, "10.1.3.255"));
	assert_false(set_has(set, "10.1.1.255"));
	assert_false(set_has(set, "10.1.4.0"));
	cidr_set_free(set);
}

static void
test_ipv4_slash_0_and_32(void **state)
{
	struct cidr_set *all = parse_ok("0.0.0.0/0");
	struct cidr_set *one = parse_ok("192.0.2.7/32, 198.51.100.9");

	assert_true(set_has(all, "255.255.255.255"));
	assert_true(set_has(all, "0.0.0.0"));
	assert_false(set_has(all, "::1"));	/* no IPv6 in a v4 net */
	assert_true(set_has(one, "192.0.2.7"));
	assert_false(set_has(one, "192.0.2.6"));
	assert_true(set_has(one, "198.51.100.9"));	/* bare = /32 */
	assert_false(set_has(one, "198.51.100.8"));
	cidr_set_free(all);
	cidr_set_free(one);
}

static void
test_ipv6_prefixes(void **state)
{
	struct cidr_set *set = parse_ok("2001:db8::/32 fd00:1:2:3::/64,"
	    "2001:db8:ffff::1/128 fe80::/10");

	assert_true(set_has(set, "2001:db8::1"));
	assert_true(set_has(set, "2001:db8:ffff:ffff::"));
	assert_false(set_has(set, "2001:db9::"));
	assert_true(set_has(set, "fd00:1:2:3:ffff:ffff:ffff:ffff"));
	assert_false(set_has(set, "fd00:1:2:4::"));
	assert_true(set_has(set, "febf:ffff::1"));	/* /10: odd bits */
	assert_false(set_has(set, "fec0::1"));
	assert_false(set_has(set, "10.0.0.1"));
	cidr_set_free(set);
}

static void
test_ipv6_slash_0_and_128(void **state)
{
	struct cidr_set *all = parse_ok("::/0");
	struct cidr_set *one = parse_ok("::1/128");

	assert_true(set_has(all, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	assert_true(set_has(one, "::1"));
	assert_false(set_has(one, "::2"));
	assert_false(set_has(one, "::"));
	cidr_set_free(all);
	cidr_set_free(one);
}

static void
test_ipv4_mapped_ipv6_matches_the_ipv4_net(void **state)
{
	struct cidr_set *set = parse_ok("10.0.0.0/8");

	assert_true(set_has(set, "::ffff:10.9.8.7"));
	assert_false(set_has(set, "::ffff:11.0.0.1"));
	assert_false(set_has(set, "::10.9.8.7"));	/* compatible, not mapped */
	cidr_set_free(set);
}

static void
test_empty_list_contains_nothing(void **state)
{
	struct cidr_set *set = parse_ok(" , \t ");

	assert_int_equal(set->n, 0);
	assert_false(set_has(set, "127.0.0.1"));
	assert_false(set_has(set, "::1"));
	cidr_set_free(set);
	assert_false(cidr_set_contains(NULL, AF_INET, "\x7f\0\0\1"));
	cidr_set_free(NULL);
}

static void
test_separators(void **state)
{
	struct cidr_set *set = parse_ok("127.0.0.0/8,::1/128\n"
	    "  192.168.0.0/16 ,, 172.16.0.0/12");

	assert_int_equal(set->n, 4);
	assert_true(set_has(set, "172.31.255.255"));
	assert_false(set_has(set, "172.32.0.0"));
	cidr_set_free(set);
}

static void
test_errors_are_refused_with_a_reason(void **state)
{
	parse_fails("10.0.0.0/33", "prefix length");
	parse_fails("::/129", "prefix length");
	parse_fails("10.0.0.0/", "prefix length");
	parse_fails("10.0.0.0/-1", "prefix length");
	parse_fails("10.0.0.0/+8", "prefix length");
	parse_fails("10.0.0.0/8a", "prefix length");
	parse_fails("10.0.0.0/0008", "prefix length");
	parse_fails("10.0.0.1/8", "bits set after the prefix");
	parse_fails("2001:db8::1/32", "bits set after the prefix");
	parse_fails("10.0.0/8", "not an IPv4 or IPv6 address");
	parse_fails("example.com/24", "not an IPv4 or IPv6 address");
	parse_fails("127.0.0.0/8, 300.1.1.1", "not an IPv4 or IPv6 address");
	parse_fails("10.0.0.0/8/8", "prefix length");
	parse_fails("aaaa:bbbb:cccc:dddd:eeee:ffff:0000:1111:2222:3333:4444/64",
	    "not a network");
}

static void
test_single_parse(void **state)
{
	struct cidr c;
	char *msg = NULL;

	assert_int_equal(cidr_parse("192.0.2.0/24", &c, &msg), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.prefix, 24);
	assert_int_equal(cidr_parse("2001:db8::", &c, &msg), 0);
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.prefix, 128);
	assert_true(cidr_parse("", &c, &msg) < 0);
	free(msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_prefix_boundaries),
		cmocka_unit_test(test_ipv4_slash_0_and_32),
		cmocka_unit_test(test_ipv6_prefixes),
		cmocka_unit_test(test_ipv6_slash_0_and_128),
		cmocka_unit_test(test_ipv4_mapped_ipv6_matches_the_ipv4_net),
		cmocka_unit_test(test_empty_list_contains_nothing),
		cmocka_unit_test(test_separators),
		cmocka_unit_test(test_errors_are_refused_with_a_reason),
		cmocka_unit_test(test_single_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
