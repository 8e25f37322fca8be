/*
 * test_arn.c: building and parsing ACM ARNs, the InvalidArnException text,
 * agreement with the model's compiled Arn pattern, and UUID v4 shape.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/arn.h"
#include "common/model_rules.h"

#define CERT "arn:aws:acm:us-east-1:123456789012:certificate/" \
	     "12345678-1234-1234-1234-123456789012"

static const char *const accepted[] = {
	CERT,
	"arn:aws:acm:local-1:000000000000:binding/abc",
	"arn:aws-cn:acm:cn-north-1:1:certificate/x",
	"arn:a/b:acm::0:certificate/id_with.+=,@-chars",
	"arn:aws:acm::123:certificate/1",
};

static const char *const refused[] = {
	"",
	"arn",
	"arn:aws:acm:us-east-1:123:certificate", /* no id */
	"arn:aws:acm:us-east-1:123:certificate/",
	"arn:aws:acm:us-east-1:123:/abc",
	"arn:aws:acm:us-east-1:123:certificate/a/b",
	"arn:aws:acm:us-east-1:123:key/12345678",
	"arn:aws:acm-pca:us-east-1:123:certificate/abc",
	"arn:aws:s3:us-east-1:123456789012:certificate/abc",
	"arn::acm:us-east-1:123456789012:certificate/abc",
	"arn:aws:acm:us-east-1::certificate/abcdef",
	"arn:aws:acm:us-east-1:12a4:certificate/abcdef",
	"arn:aws:acm:us-east-1:-1:certificate/abcdef",
	"ARN:aws:acm:us-east-1:123:certificate/abcdef",
	"arn:aws:acm:us-east-1:123:certificate/abc:def",
	"arn:aws:acm:us-east-1:123:certificate/abc def",
	"arn:aws:acm:us east:123:certificate/abcdef",
	"arn:aws:acm:us-east-1:123:certificate/abc\xc3\xa9",
	" arn:aws:acm:us-east-1:123:certificate/abc",
	"arn:aws:acm:us-east-1:123:certificate/abc\n",
	"arn:a:acm::1:a/b", /* 16 characters */
	/* a field longer than struct arn_parts holds */
	"arn:aws:acm:us-east-1:123:certificate/"
	"0123456789012345678901234567890123456789012345678901234567890123456789",
	"arn:aws:acm:us-east-1:123:certificatecertificatecertificate/abc",
};

static void
test_arn_parse_accepts_certificate_and_binding_arns(void **state)
{
	struct arn_parts p;
	char *msg = NULL;

	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
		if (arn_parse(accepted[i], &p, &msg) != 0)
			fail_msg("refused %s: %s", accepted[i], msg);
	assert_null(msg);
	assert_int_equal(arn_parse(CERT, &p, NULL), 0);
	assert_string_equal(p.partition, "aws");
	assert_string_equal(p.region, "us-east-1");
	assert_string_equal(p.account, "123456789012");
	assert_string_equal(p.resource_type, "certificate");
	assert_string_equal(p.resource_id,
	    "12345678-1234-1234-1234-123456789012");
	assert_int_equal(arn_parse("arn:aws:acm::123:binding/1", &p, NULL), 0);
	assert_string_equal(p.region, "");
	assert_string_equal(p.resource_type, "binding");
}

static void
test_arn_parse_refuses_with_acm_message(void **state)
{
	struct arn_parts p;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		char *msg = NULL, *want;
		int r = arn_parse(refused[i], &p, &msg);

		if (r != -EINVAL)
			fail_msg("accepted '%s'", refused[i]);
		assert_non_null(msg);
		assert_true(asprintf(&want, "String '%s' is not a valid ARN.",
				refused[i]) > 0);
		assert_string_equal(msg, want);
		free(want);
		free(msg);
	}
	assert_int_equal(arn_parse(NULL, &p, NULL), -EINVAL);
}

static void
test_arn_parse_refuses_over_2048_characters(void **state)
{
	const char *head = "arn:aws:acm:us-east-1:123:certificate/";
	size_t n = 2049;
	char *s = malloc(n + 1);
	struct arn_parts p;

	memset(s, 'a', n);
	memcpy(s, head, strlen(head));
	s[n] = '\0';
	assert_int_equal(arn_parse(s, &p, NULL), -EINVAL);
	free(s);
}

static void
test_arn_build_round_trips(void **state)
{
	char id[37];
	char *arn;
	struct arn_parts p;

	uuid_v4(id);
	arn = arn_build("aws", "local-1", "000000000000", "certificate", id);
	assert_int_equal(arn_parse(arn, &p, NULL), 0);
	assert_string_equal(p.partition, "aws");
	assert_string_equal(p.region, "local-1");
	assert_string_equal(p.account, "000000000000");
	assert_string_equal(p.resource_type, "certificate");
	assert_string_equal(p.resource_id, id);
	free(arn);
	arn = arn_build("aws", "us-west-2", "1", "binding", "b1");
	assert_string_equal(arn, "arn:aws:acm:us-west-2:1:binding/b1");
	free(arn);
}

/* What arn_parse accepts, the model's pattern accepts too. */
static void
test_arn_parse_agrees_with_model_pattern(void **state)
{
	struct model_rules *r = model_rules_new();
	struct arn_parts p;

	assert_non_null(r);
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		struct model_errors e = MODEL_ERRORS_INIT;

		assert_int_equal(model_check_arn(r, accepted[i], "a", &e), 0);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct model_errors e = MODEL_ERRORS_INIT;

		if (model_check_arn(r, refused[i], "a", &e) < 0 &&
		    arn_parse(refused[i], &p, NULL) == 0)
			fail_msg("pattern refuses but parser accepts '%s'",
			    refused[i]);
		model_errors_clear(&e);
	}
	model_rules_free(r);
}

static void
test_uuid_v4_is_random_version_4(void **state)
{
	char a[37], b[37];

	uuid_v4(a);
	uuid_v4(b);
	assert_int_equal(strlen(a), 36);
	assert_string_not_equal(a, b);
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(a[i], '-');
		else
			assert_non_null(strchr("0123456789abcdef", a[i]));
	}
	assert_int_equal(a[14], '4');
	assert_non_null(strchr("89ab", a[19]));
}

/* Version 7: time-ordered, so ids made later sort later. */
static void
test_uuid_v7_is_time_ordered(void **state)
{
	char a[37], b[37];
	struct timespec pause = { 0, 2 * 1000 * 1000 };

	uuid_v7(a);
	nanosleep(&pause, NULL);
	uuid_v7(b);
	assert_int_equal(strlen(a), 36);
	assert_int_equal(a[14], '7');
	assert_true(strchr("89ab", a[19]) != NULL);
	assert_true(strcmp(a, b) < 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arn_parse_accepts_certificate_and_binding_arns),
		cmocka_unit_test(test_arn_parse_refuses_with_acm_message),
		cmocka_unit_test(test_arn_parse_refuses_over_2048_characters),
		cmocka_unit_test(test_arn_build_round_trips),
		cmocka_unit_test(test_arn_parse_agrees_with_model_pattern),
		cmocka_unit_test(test_uuid_v4_is_random_version_4),
		cmocka_unit_test(test_uuid_v7_is_time_ordered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
