/*
 * test_json_util.c: typed member look-ups and the json_t cleanup attribute.
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_typed_lookups_answer_absent_or_wrong_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
