/*
 * test_rdap.c: the RDAP bootstrap file (RFC 9224 longest match) and the
 * contacts taken from RFC 9083 domain responses, with RFC 9537 redaction
 * and the placeholders registries write instead of addresses.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "validation/rdap.h"

static const char bootstrap_json[] =
    "{\"version\":\"1.0\",\"publication\":\"2024-01-01T00:00:00Z\","
    "\"services\":["
    " [[\"com\",\"NET\"],[\"http://rdap.verisign.test/\","
    "   \"https://rdap.verisign.test/\"]],"
    " [[\"uk\"],[\"https://rdap.nominet.test/uk/\"]],"
    " [[\"co.uk\"],[\"https://rdap.co-uk.test/\"]],"
    " [[\"org\"],[\"ftp://nope.test/\"]],"
    " [[\"example\"],[\"http://only-http.test/rdap/\"]]"
    "]}";

static struct rdap_bootstrap *
load_bootstrap(void)
{
	struct rdap_bootstrap *bs = NULL;
	char *err = NULL;

	assert_int_equal(rdap_bootstrap_parse(bootstrap_json,
	    strlen(bootstrap_json), &bs, &err), 0);
	assert_null(err);
	return bs;
}

static void
test_bootstrap_longest_label_match_wins(void **state)
{
	struct rdap_bootstrap *bs = load_bootstrap();

	assert_string_equal(rdap_bootstrap_lookup(bs, "example.co.uk"),
	    "https://rdap.co-uk.test/");
	assert_string_equal(rdap_bootstrap_lookup(bs, "example.org.uk"),
	    "https://rdap.nominet.test/uk/");
	assert_string_equal(rdap_bootstrap_lookup(bs, "co.uk"),
	    "https://rdap.co-uk.test/");
	assert_string_equal(rdap_bootstrap_lookup(bs, "uk"),
	    "https://rdap.nominet.test/uk/");
	rdap_bootstrap_free(bs);
}

static void
test_bootstrap_matches_whole_labels_case_insensitively(void **state)
{
	struct rdap_bootstrap *bs = load_bootstrap();

	assert_string_equal(rdap_bootstrap_lookup(bs, "Sub.Example.NET."),
	    "https://rdap.verisign.test/");
	assert_string_equal(rdap_bootstrap_lookup(bs, "com"),
	    "https://rdap.verisign.test/");
	assert_null(rdap_bootstrap_lookup(bs, "example.xcom"));
	assert_null(rdap_bootstrap_lookup(bs, "example.de"));
	assert_null(rdap_bootstrap_lookup(bs, ""));
	assert_null(rdap_bootstrap_lookup(NULL, "example.com"));
	rdap_bootstrap_free(bs);
}

static void
test_bootstrap_prefers_https_and_ignores_other_schemes(void **state)
{
	struct rdap_bootstrap *bs = load_bootstrap();

	/* "com" lists http first: https is still chosen */
	assert_string_equal(rdap_bootstrap_lookup(bs, "a.com"),
	    "https://rdap.verisign.test/");
	assert_string_equal(rdap_bootstrap_lookup(bs, "a.example"),
	    "http://only-http.test/rdap/");
	assert_null(rdap_bootstrap_lookup(bs, "a.org"));
	rdap_bootstrap_free(bs);
}

static void
expect_bootstrap_error(const char *text)
{
	struct rdap_bootstrap *bs = NULL;
	char *err = NULL;

	assert_int_equal(rdap_bootstrap_parse(text, strlen(text), &bs, &err),
	    -EBADMSG);
	assert_null(bs);
	assert_non_null(err);
	free(err);
}

static void
test_bootstrap_refuses_malformed_files(void **state)
{
	expect_bootstrap_error("{\"services\": [");
	expect_bootstrap_error("[]");
	expect_bootstrap_error("{\"version\": \"1.0\"}");
	expect_bootstrap_error("{\"services\": {}}");
	expect_bootstrap_error("{\"services\": [[\"com\"]]}");
	expect_bootstrap_error("{\"services\": [[[1], [\"https://x/\"]]]}");
}

static void
test_bootstrap_loads_from_a_file(void **state)
{
	char path[] = "/tmp/test_rdap_XXXXXX";
	struct rdap_bootstrap *bs = NULL;
	char *err = NULL;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, bootstrap_json, strlen(bootstrap_json)),
	    (ssize_t)strlen(bootstrap_json));
	close(fd);
	assert_int_equal(rdap_bootstrap_load(path, &bs, &err), 0);
	assert_string_equal(rdap_bootstrap_lookup(bs, "x.co.uk"),
	    "https://rdap.co-uk.test/");
	rdap_bootstrap_free(bs);
	unlink(path);
	assert_int_equal(rdap_bootstrap_load(path, &bs, &err), -ENOENT);
	assert_non_null(strstr(err, path));
	free(err);
	rdap_bootstrap_free(NULL);
}

/* ---- domain responses ---- */

#define VCARD_EMAIL(addr) \
	"[\"vcard\",[[\"version\",{},\"text\",\"4.0\"]," \
	"[\"fn\",{},\"text\",\"Someone\"],[\"email\",{},\"text\",\"" addr "\"]]]"

static char **
emails_of(const char *body)
{
	char **v = NULL;
	char *err = NULL;

	assert_int_equal(rdap_domain_emails(body, strlen(body), &v, &err), 0);
	assert_null(err);
	assert_non_null(v);
	return v;
}

static size_t
count(char **v)
{
	size_t n = 0;

	while (v[n] != NULL)
		n++;
	return n;
}

static void
test_contacts_come_ordered_by_role_lowercased_and_unique(void **state)
{
	static const char body[] =
	    "{\"objectClassName\":\"domain\",\"ldhName\":\"example.com\","
	    "\"entities\":["
	    " {\"objectClassName\":\"entity\",\"roles\":[\"administrative\"],"
	    "  \"vcardArray\":" VCARD_EMAIL("Admin@Example.COM") "},"
	    " {\"objectClassName\":\"entity\",\"roles\":[\"technical\"],"
	    "  \"vcardArray\":" VCARD_EMAIL("tech@example.com") "},"
	    " {\"objectClassName\":\"entity\",\"roles\":[\"registrant\"],"
	    "  \"vcardArray\":" VCARD_EMAIL("mailto:Owner@Example.com") "},"
	    " {\"objectClassName\":\"entity\",\"roles\":[\"billing\"],"
	    "  \"vcardArray\":" VCARD_EMAIL("billing@example.com") "},"
	    " {\"objectClassName\":\"entity\",\"roles\":[\"registrar\"],"
	    "  \"vcardArray\":" VCARD_EMAIL("registrar@registrar.test") ","
	    "  \"entities\":[{\"roles\":[\"abuse\"],"
	    "   \"vcardArray\":" VCARD_EMAIL("abuse@registrar.test") "},"
	    "   {\"roles\":[\"technical\",\"administrative\"],"
	    "   \"vcardArray\":" VCARD_EMAIL("admin@example.com") "}]}"
	    "]}";
	char **v = emails_of(body);

	assert_int_equal(count(v), 3);
	assert_string_equal(v[0], "owner@example.com");
	/* found first as administrative, again (nested) as technical: it
	 * counts once, as technical, and was seen before tech@ */
	assert_string_equal(v[1], "admin@example.com");
	assert_string_equal(v[2], "tech@example.com");
	rdap_emails_free(v);
}

static void
test_every_email_property_of_a_contact_counts(void **state)
{
	static const char body[] =
	    "{\"entities\":[{\"roles\":[\"REGISTRANT\"],\"vcardArray\":"
	    "[\"vcard\",[[\"EMAIL\",{\"type\":\"work\"},\"text\",\"a@x.example\"],"
	    "[\"email\",{},\"text\",\"b@x.example\"],"
	    "[\"email\",{},\"text\",[\"not\",\"a string\"]],"
	    "[\"email\",{},\"text\"],[\"tel\",{},\"uri\",\"tel:+1\"]]]}]}";
	char **v = emails_of(body);

	assert_int_equal(count(v), 2);
	assert_string_equal(v[0], "a@x.example");
	assert_string_equal(v[1], "b@x.example");
	rdap_emails_free(v);
}

static void
test_top_level_redaction_hides_the_named_roles(void **state)
{
	static const char body[] =
	    "{\"entities\":["
	    " {\"roles\":[\"registrant\"],\"vcardArray\":"
	    VCARD_EMAIL("owner@example.com") "},"
	    " {\"roles\":[\"technical\"],\"vcardArray\":"
	    VCARD_EMAIL("tech@example.com") "},"
	    " {\"roles\":[\"administrative\"],\"vcardArray\":"
	    VCARD_EMAIL("admin@example.com") "}],"
	    "\"redacted\":["
	    " {\"name\":{\"type\":\"Registrant Email\"},\"method\":\"removal\","
	    "  \"prePath\":\"$.entities[?(@.roles[0]=='registrant')]."
	    "vcardArray[1][?(@[0]=='email')]\"},"
	    " {\"name\":{\"description\":\"Administrative Contact Email\"},"
	    "  \"method\":\"replacementValue\"},"
	    " {\"name\":{\"type\":\"Tech Name\"},\"method\":\"removal\"}]}";
	char **v = emails_of(body);

	/* only the technical contact's name was redacted, not its email */
	assert_int_equal(count(v), 1);
	assert_string_equal(v[0], "tech@example.com");
	rdap_emails_free(v);
}

static void
test_entity_level_redaction_hides_that_entity(void **state)
{
	static const char body[] =
	    "{\"entities\":["
	    " {\"roles\":[\"registrant\"],\"redacted\":[{\"name\":"
	    "  {\"type\":\"Email\"},\"method\":\"replacementValue\"}],"
	    "  \"vcardArray\":" VCARD_EMAIL("proxy-123@privacy.test") "},"
	    " {\"roles\":[\"technical\"],\"redacted\":[{\"name\":"
	    "  {\"type\":\"Tech Phone\"}}],"
	    "  \"vcardArray\":" VCARD_EMAIL("tech@example.com") "}]}";
	char **v = emails_of(body);

	assert_int_equal(count(v), 1);
	assert_string_equal(v[0], "tech@example.com");
	rdap_emails_free(v);
}

static void
test_placeholder_values_are_not_addresses(void **state)
{
	static const char body[] =
	    "{\"entities\":["
	    " {\"roles\":[\"registrant\"],\"vcardArray\":"
	    VCARD_EMAIL("REDACTED FOR PRIVACY") "},"
	    " {\"roles\":[\"registrant\"],\"vcardArray\":"
	    VCARD_EMAIL("Please query the RDDS service of the Registrar of "
	    "Record identified in this output for information on how to "
	    "contact the Registrant") "},"
	    " {\"roles\":[\"technical\"],\"vcardArray\":"
	    VCARD_EMAIL("redacted@example.invalid") "},"
	    " {\"roles\":[\"technical\"],\"vcardArray\":"
	    VCARD_EMAIL("contact@registrant.invalid") "},"
	    " {\"roles\":[\"administrative\"],\"vcardArray\":"
	    VCARD_EMAIL("Redacted-For-Privacy@registrar.test") "},"
	    " {\"roles\":[\"administrative\"],\"vcardArray\":"
	    VCARD_EMAIL("") "},"
	    " {\"roles\":[\"administrative\"],\"vcardArray\":"
	    VCARD_EMAIL("no-at-sign.example.com") "},"
	    " {\"roles\":[\"administrative\"],\"vcardArray\":"
	    VCARD_EMAIL("two@at@example.com") "},"
	    " {\"roles\":[\"administrative\"],\"vcardArray\":"
	    VCARD_EMAIL("nodot@localhost") "},"
	    " {\"roles\":[\"administrative\"],\"vcardArray\":"
	    VCARD_EMAIL("@example.com") "},"
	    " {\"roles\":[\"administrative\"],\"vcardArray\":"
	    VCARD_EMAIL("a@b..example") "},"
	    " {\"roles\":[\"administrative\"],\"vcardArray\":"
	    VCARD_EMAIL("  Real@Example.com ") "}]}";
	char **v = emails_of(body);

	assert_int_equal(count(v), 1);
	assert_string_equal(v[0], "real@example.com");
	rdap_emails_free(v);
}

static void
test_responses_without_contacts_give_an_empty_list(void **state)
{
	static const char *const bodies[] = {
		"{\"objectClassName\":\"domain\",\"ldhName\":\"example.com\"}",
		"{\"entities\":[]}",
		"{\"entities\":{}}",
		"{\"entities\":[{\"roles\":[\"registrant\"]}]}",
		"{\"entities\":[{\"roles\":\"registrant\",\"vcardArray\":"
		    VCARD_EMAIL("x@example.com") "}]}",
		"{\"entities\":[{\"roles\":[\"registrant\"],"
		    "\"vcardArray\":[\"vcard\",{}]}]}",
		"{\"errorCode\":404,\"title\":\"Not Found\"}",
	};
	size_t i;
	char **v;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		v = emails_of(bodies[i]);
		assert_int_equal(count(v), 0);
		rdap_emails_free(v);
	}
	rdap_emails_free(NULL);
}

static void
test_malformed_responses_are_errors(void **state)
{
	static const char *const bodies[] = {
		"", "{", "<html>Not Found</html>", "[]", "\"domain\"",
		"{\"entities\":[}",
	};
	size_t i;
	char **v;
	char *err;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		v = NULL;
		err = NULL;
		assert_int_equal(rdap_domain_emails(bodies[i],
		    strlen(bodies[i]), &v, &err), -EBADMSG);
		assert_null(v);
		assert_non_null(err);
		free(err);
	}
}

static void
test_deeply_nested_entities_stop_at_a_bound(void **state)
{
	char body[8192];
	size_t len = 0, i, depth = 40;
	char **v;

	len += (size_t)snprintf(body + len, sizeof(body) - len, "{");
	for (i = 0; i < depth; i++)
		len += (size_t)snprintf(body + len, sizeof(body) - len,
		    "\"entities\":[{\"roles\":[\"registrant\"],"
		    "\"vcardArray\":[\"vcard\",[[\"email\",{},\"text\","
		    "\"r%zu@example.com\"]]],", i);
	len += (size_t)snprintf(body + len, sizeof(body) - len, "\"x\":0");
	for (i = 0; i < depth; i++)
		len += (size_t)snprintf(body + len, sizeof(body) - len, "}]");
	snprintf(body + len, sizeof(body) - len, "}");
	v = emails_of(body);
	assert_true(count(v) > 2);
	assert_true(count(v) < depth);
	assert_string_equal(v[0], "r0@example.com");
	rdap_emails_free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bootstrap_longest_label_match_wins),
		cmocka_unit_test(
		    test_bootstrap_matches_whole_labels_case_insensitively),
		cmocka_unit_test(
		    test_bootstrap_prefers_https_and_ignores_other_schemes),
		cmocka_unit_test(test_bootstrap_refuses_malformed_files),
		cmocka_unit_test(test_bootstrap_loads_from_a_file),
		cmocka_unit_test(
		    test_contacts_come_ordered_by_role_lowercased_and_unique),
		cmocka_unit_test(test_every_email_property_of_a_contact_counts),
		cmocka_unit_test(test_top_level_redaction_hides_the_named_roles),
		cmocka_unit_test(test_entity_level_redaction_hides_that_entity),
		cmocka_unit_test(test_placeholder_values_are_not_addresses),
		cmocka_unit_test(
		    test_responses_without_contacts_give_an_empty_list),
		cmocka_unit_test(test_malformed_responses_are_errors),
		cmocka_unit_test(test_deeply_nested_entities_stop_at_a_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
