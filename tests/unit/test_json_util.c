/*
 * test_json_util.c: typed member look-ups, the json_t cleanup attribute
 * and making text valid UTF-8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "common/json_util.h"

static void
test_typed_lookups_answer_absent_or_wrong_type(void **state)
{
	_cleanup_json_ json_t *o = json_pack("{s:s, s:I, s:b, s:n}",
	    "CertificateArn", "arn:x", "MaxItems", (json_int_t)5,
	    "Force", 1, "Nothing");
	_cleanup_json_ json_t *arr = json_array();
	int64_t i = -1;
	bool b = false;

	assert_non_null(o);
	assert_string_equal(json_get_string(o, "CertificateArn"), "arn:x");
	assert_null(json_get_string(o, "MaxItems"));
	assert_null(json_get_string(o, "Missing"));
	assert_null(json_get_string(o, "Nothing"));
	assert_null(json_get_string(arr, "CertificateArn"));
	assert_null(json_get_string(NULL, "CertificateArn"));
	assert_true(json_get_int(o, "MaxItems", &i));
	assert_int_equal(i, 5);
	assert_false(json_get_int(o, "CertificateArn", &i));
	assert_int_equal(i, 5);
	assert_true(json_get_bool(o, "Force", &b));
	assert_true(b);
	assert_false(json_get_bool(o, "MaxItems", &b));
}

static void
test_make_utf8_keeps_valid_text_and_masks_the_rest(void **state)
{
	char ok[] = "curl/8.0 \xc3\xa9t\xc3\xa9";	/* "été" in UTF-8 */
	char latin1[] = "caf\xe9 client\x01";
	char empty[] = "";

	json_util_make_utf8(ok);
	assert_string_equal(ok, "curl/8.0 \xc3\xa9t\xc3\xa9");
	json_util_make_utf8(latin1);
	assert_string_equal(latin1, "caf? client?");
	json_util_make_utf8(empty);
	assert_string_equal(empty, "");
	json_util_make_utf8(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_typed_lookups_answer_absent_or_wrong_type),
		cmocka_unit_test(
		    test_make_utf8_keeps_valid_text_and_masks_the_rest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
