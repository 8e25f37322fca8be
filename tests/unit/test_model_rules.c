/*
 * test_model_rules.c: ACM's shape constraints (lengths in characters,
 * patterns as full matches) and the exact wording of the resulting
 * ValidationException and InvalidTagException messages.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/model_rules.h"

#define TAG_PATTERN "[\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@]*"

typedef int (*check_fn)(const struct model_rules *, const char *,
    const char *, struct model_errors *);

static int
setup(void **state)
{
	*state = model_rules_new();
	return *state ? 0 : -1;
}

static int
teardown(void **state)
{
	model_rules_free(*state);
	return 0;
}

/* n copies of the UTF-8 character c. */
static char *
repeat(const char *c, size_t n)
{
	size_t len = strlen(c);
	char *s = malloc(len * n + 1);

	for (size_t i = 0; i < n; i++)
		memcpy(s + i * len, c, len);
	s[len * n] = '\0';
	return s;
}

static void
expect_ok(const struct model_rules *r, check_fn fn, const char *v)
{
	struct model_errors e = MODEL_ERRORS_INIT;

	if (fn(r, v, "x", &e) != 0)
		fail_msg("refused '%s': %s", v, e.text);
	assert_int_equal(e.count, 0);
}

/* Refused with `count` violations; returns the message (caller frees). */
static char *
expect_refused(const struct model_rules *r, check_fn fn, const char *v,
    const char *where, size_t count)
{
	struct model_errors e = MODEL_ERRORS_INIT;
	char *msg;

	if (fn(r, v, where, &e) != -EINVAL)
		fail_msg("accepted '%s'", v);
	if (e.count != count)
		fail_msg("'%s': %zu violations, want %zu: %s", v, e.count,
		    count, e.text);
	msg = model_errors_message(&e);
	model_errors_clear(&e);
	return msg;
}

static void
test_tag_key_accepts_letters_spaces_numbers_and_symbols(void **state)
{
	static const char *const ok[] = { "Name", "env:prod", "a b",
		"@x=1+2-3/4.5_6:7", "\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87",
		"\xe6\x97\xa5\xe6\x9c\xac", "nbsp\xc2\xa0here", "\xd9\xa3" };
	char *max = repeat("\xd0\xb6", 128); /* 128 characters, 256 bytes */

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		expect_ok(*state, model_check_tag_key, ok[i]);
	expect_ok(*state, model_check_tag_key, max);
	free(max);
}

static void
test_tag_key_refusals_use_aws_wording(void **state)
{
	char *msg, *long_key = repeat("k", 129), *both = repeat("*", 129);
	char *want;

	msg = expect_refused(*state, model_check_tag_key, "", "tags.1.member.key", 1);
	assert_string_equal(msg, "1 validation error detected: Value '' at "
				 "'tags.1.member.key' failed to satisfy "
				 "constraint: Member must have length greater "
				 "than or equal to 1");
	free(msg);
	msg = expect_refused(*state, model_check_tag_key, "a*b",
	    "tags.1.member.key", 1);
	assert_string_equal(msg, "1 validation error detected: Value 'a*b' at "
				 "'tags.1.member.key' failed to satisfy "
				 "constraint: Member must satisfy regular "
				 "expression pattern: " TAG_PATTERN);
	free(msg);
	msg = expect_refused(*state, model_check_tag_key, long_key,
	    "tags.3.member.key", 1);
	assert_non_null(strstr(msg, "Member must have length less than or equal to 128"));
	free(msg);
	msg = expect_refused(*state, model_check_tag_key, both,
	    "tags.2.member.key", 2);
	assert_true(asprintf(&want,
			"2 validation errors detected: Value '%s' at "
			"'tags.2.member.key' failed to satisfy constraint: "
			"Member must have length less than or equal to 128; "
			"Value '%s' at 'tags.2.member.key' failed to satisfy "
			"constraint: Member must satisfy regular expression "
			"pattern: " TAG_PATTERN,
			both, both) > 0);
	assert_string_equal(msg, want);
	free(want);
	free(msg);
	free(long_key);
	free(both);
	for (const char *const *v = (const char *const[]){ "a\tb", "a\nb",
		 "\xf0\x9f\x98\x80", "a,b", "a*", "a\xff", NULL };
	     *v; v++)
		free(expect_refused(*state, model_check_tag_key, *v, "k", 1));
}

static void
test_tag_value_allows_empty_and_256_characters(void **state)
{
	char *max = repeat("\xe6\x97\xa5", 256), *over = repeat("v", 257);
	char *msg;

	expect_ok(*state, model_check_tag_value, "");
	expect_ok(*state, model_check_tag_value, max);
	msg = expect_refused(*state, model_check_tag_value, over,
	    "tags.1.member.value", 1);
	assert_non_null(strstr(msg, "Member must have length less than or equal to 256"));
	free(msg);
	msg = expect_refused(*state, model_check_tag_value, "*.mydomain.com",
	    "tags.1.member.value", 1);
	assert_string_equal(msg,
	    "1 validation error detected: Value '*.mydomain.com' at "
	    "'tags.1.member.value' failed to satisfy constraint: Member must "
	    "satisfy regular expression pattern: " TAG_PATTERN);
	free(msg);
	free(max);
	free(over);
}

static void
test_tag_key_aws_prefix_is_reserved_in_any_case(void **state)
{
	static const char *const reserved[] = { "aws:x", "AWS:x", "Aws:cloudformation", "aws:" };
	static const char *const fine[] = { "aws", "awsx", "x:aws:", "aws-x:y" };
	char *msg = NULL;

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		assert_int_equal(model_check_tag_key_reserved(reserved[i], &msg), -EINVAL);
		assert_string_equal(msg, "Tags beginning with aws: are reserved");
		free(msg);
		msg = NULL;
	}
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
		assert_int_equal(model_check_tag_key_reserved(fine[i], &msg), 0);
	assert_null(msg);
}

static void
test_domain_name_follows_model_pattern(void **state)
{
	static const char *const ok[] = { "example.com", "*.example.com",
		"a.b.c.example.co.uk", "xn--bcher-kva.example", "EXAMPLE.COM",
		"a-b.example.com", "1.2.3.44", "a.bc" };
	static const char *const bad[] = { "localhost", "example.c",
		"-a.example.com", "a-.example.com", "*.*.example.com",
		"ex_ample.com", "example.com.", ".example.com", "a..com",
		"*example.com", "ex ample.com", "b\xc3\xbc" "cher.de",
		"example.com-" };
	char label63[64], label64[65], name[300];
	char *msg, *too_long;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		expect_ok(*state, model_check_domain_name, ok[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		free(expect_refused(*state, model_check_domain_name, bad[i],
		    "domainName", 1));
	memset(label63, 'a', 63);
	label63[63] = '\0';
	memset(label64, 'a', 64);
	label64[64] = '\0';
	snprintf(name, sizeof(name), "%s.com", label63);
	expect_ok(*state, model_check_domain_name, name);
	snprintf(name, sizeof(name), "%s.com", label64);
	free(expect_refused(*state, model_check_domain_name, name, "d", 1));
	/* 254 characters of valid labels: only the length is wrong. */
	too_long = repeat("abc.", 63);
	memcpy(name, too_long, 252);
	memcpy(name + 252, "ab", 3);
	assert_int_equal(strlen(name), 254);
	msg = expect_refused(*state, model_check_domain_name, name,
	    "subjectAlternativeNames.2.member", 1);
	assert_non_null(strstr(msg, "at 'subjectAlternativeNames.2.member' failed to satisfy constraint: Member must have length less than or equal to 253"));
	free(msg);
	free(too_long);
}

static void
test_idempotency_token_is_ascii_word_up_to_32(void **state)
{
	char *msg, *max = repeat("a", 32), *over = repeat("a", 33);

	expect_ok(*state, model_check_idempotency_token, "abc_123");
	expect_ok(*state, model_check_idempotency_token, max);
	free(expect_refused(*state, model_check_idempotency_token, over, "t", 1));
	free(expect_refused(*state, model_check_idempotency_token, "a-b", "t", 1));
	free(expect_refused(*state, model_check_idempotency_token, "\xc3\xa9", "t", 1));
	/* Empty breaks both the length and "\w+". */
	msg = expect_refused(*state, model_check_idempotency_token, "",
	    "idempotencyToken", 2);
	assert_string_equal(msg,
	    "2 validation errors detected: Value '' at 'idempotencyToken' "
	    "failed to satisfy constraint: Member must have length greater "
	    "than or equal to 1; Value '' at 'idempotencyToken' failed to "
	    "satisfy constraint: Member must satisfy regular expression "
	    "pattern: \\w+");
	free(msg);
	free(max);
	free(over);
}

static void
test_next_token_allows_latin1_and_whitespace(void **state)
{
	char *msg;

	expect_ok(*state, model_check_next_token, "abc\tdef\r\n ~");
	expect_ok(*state, model_check_next_token, "caf\xc3\xa9\xc3\xbf");
	free(expect_refused(*state, model_check_next_token, "a\x01", "n", 1));
	msg = expect_refused(*state, model_check_next_token, "\xe2\x82\xac",
	    "nextToken", 1);
	assert_non_null(strstr(msg, "pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]*"));
	free(msg);
	free(expect_refused(*state, model_check_next_token, "", "n", 1));
}

static void
test_arn_check_reports_length_and_pattern(void **state)
{
	char *msg = expect_refused(*state, model_check_arn, "arn:bad",
	    "certificateArn", 2);

	assert_string_equal(msg,
	    "2 validation errors detected: Value 'arn:bad' at "
	    "'certificateArn' failed to satisfy constraint: Member must have "
	    "length greater than or equal to 20; Value 'arn:bad' at "
	    "'certificateArn' failed to satisfy constraint: Member must "
	    "satisfy regular expression pattern: "
	    "arn:[\\w+=/,.@-]+:acm:[\\w+=/,.@-]*:[0-9]+:[\\w+=,.@-]+(/[\\w+=,.@-]+)*");
	free(msg);
	expect_ok(*state, model_check_arn,
	    "arn:aws:acm:us-east-1:123456789012:certificate/abc");
}

static void
test_generic_length_enum_and_null(void **state)
{
	struct model_errors e = MODEL_ERRORS_INIT;
	static const char *const algos[] = { "RSA_2048", "EC_prime256v1", NULL };
	char *msg;

	assert_int_equal(model_utf8_length("a\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80"), 4);
	assert_int_equal(model_check_length("\xc3\xa9\xc3\xa9", "f", 2, 2, &e), 0);
	assert_int_equal(model_check_length("abc", "f", 0, 2, &e), -EINVAL);
	assert_int_equal(model_check_enum("RSA_2048", "keyAlgorithm", algos, &e), 0);
	assert_int_equal(model_check_enum("RSA_1024", "keyAlgorithm", algos, &e), -EINVAL);
	model_errors_add(&e, NULL, "domainName", "Member must not be null");
	msg = model_errors_message(&e);
	assert_string_equal(msg,
	    "3 validation errors detected: Value 'abc' at 'f' failed to "
	    "satisfy constraint: Member must have length less than or equal "
	    "to 2; Value 'RSA_1024' at 'keyAlgorithm' failed to satisfy "
	    "constraint: Member must satisfy enum value set: [RSA_2048, "
	    "EC_prime256v1]; Value null at 'domainName' failed to satisfy "
	    "constraint: Member must not be null");
	free(msg);
	model_errors_clear(&e);
	assert_null(model_errors_message(&e));
	model_errors_clear(NULL);
	model_rules_free(NULL);
}

static void *
match_many(void *arg)
{
	const struct model_rules *r = arg;
	long bad = 0;

	for (int i = 0; i < 2000; i++) {
		struct model_errors e = MODEL_ERRORS_INIT;

		bad += model_check_tag_key(r, "env:prod", "k", &e) != 0;
		bad += model_check_domain_name(r, "*.example.com", "d", &e) != 0;
		bad += model_check_domain_name(r, "-bad.example.com", "d", &e) == 0;
		model_errors_clear(&e);
	}
	return (void *)bad;
}

static void
test_rules_match_concurrently(void **state)
{
	pthread_t t[4];
	void *bad;

	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, match_many, *state), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &bad), 0);
		assert_null(bad);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tag_key_accepts_letters_spaces_numbers_and_symbols),
		cmocka_unit_test(test_tag_key_refusals_use_aws_wording),
		cmocka_unit_test(test_tag_value_allows_empty_and_256_characters),
		cmocka_unit_test(test_tag_key_aws_prefix_is_reserved_in_any_case),
		cmocka_unit_test(test_domain_name_follows_model_pattern),
		cmocka_unit_test(test_idempotency_token_is_ascii_word_up_to_32),
		cmocka_unit_test(test_next_token_allows_latin1_and_whitespace),
		cmocka_unit_test(test_arn_check_reports_length_and_pattern),
		cmocka_unit_test(test_generic_length_enum_and_null),
		cmocka_unit_test(test_rules_match_concurrently),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
