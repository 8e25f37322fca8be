/*
 * test_api_input.c: decoding request members against ACM's model, with
 * AWS's exception names and wording (src/api/input.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/api.h"
#include "api/input.h"
#include "common/model_rules.h"

struct fixture {
	struct model_rules *rules;
	struct api_env env;
	struct api_call call;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->rules = model_rules_new();
	f->env.rules = f->rules;
	f->env.partition = "aws";
	f->env.region = "us-east-1";
	f->env.account = "123456789012";
	f->call.env = &f->env;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	json_decref(f->call.input);
	free(f->call.error_message);
	model_rules_free(f->rules);
	free(f);
	return 0;
}

static void
load(struct fixture *f, const char *json)
{
	json_decref(f->call.input);
	free(f->call.error_message);
	f->call.error_message = NULL;
	f->call.error_type = NULL;
	f->call.input = json_loads(json, 0, NULL);
	assert_non_null(f->call.input);
}

static void
missing_required_member_is_validation_exception(void **state)
{
	struct fixture *f = *state;
	struct input in;

	load(f, "{}");
	input_init(&in, &f->call);
	assert_null(input_string(&in, "CertificateArn", true, 20, 2048));
	assert_int_equal(input_finish(&in), -1);
	assert_string_equal(f->call.error_type, "ValidationException");
	assert_non_null(strstr(f->call.error_message,
	    "Value null at 'certificateArn' failed to satisfy constraint: "
	    "Member must not be null"));
}

static void
wrong_type_is_serialization_exception(void **state)
{
	struct fixture *f = *state;
	struct input in;
	int64_t n;

	load(f, "{\"MaxItems\": \"ten\"}");
	input_init(&in, &f->call);
	assert_false(input_int(&in, "MaxItems", false, 1, 1000, &n));
	assert_int_equal(input_finish(&in), -1);
	assert_string_equal(f->call.error_type, "SerializationException");
}

static void
integer_range_errors_accumulate(void **state)
{
	struct fixture *f = *state;
	struct input in;
	int64_t n;

	load(f, "{\"MaxItems\": 1001, \"Other\": 0}");
	input_init(&in, &f->call);
	assert_false(input_int(&in, "MaxItems", false, 1, 1000, &n));
	assert_false(input_int(&in, "Other", false, 1, 1000, &n));
	assert_int_equal(input_finish(&in), -1);
	assert_non_null(strstr(f->call.error_message,
	    "2 validation errors detected"));
	assert_non_null(strstr(f->call.error_message,
	    "Member must have value less than or equal to 1000"));
}

static void
malformed_arn_is_invalid_arn_exception(void **state)
{
	struct fixture *f = *state;
	struct input in;

	load(f, "{\"CertificateArn\": \"this-is-not-an-arn-at-all\"}");
	input_init(&in, &f->call);
	assert_null(input_arn(&in, "CertificateArn"));
	assert_int_equal(input_finish(&in), -1);
	assert_string_equal(f->call.error_type, "InvalidArnException");
}

static void
arn_outside_model_length_is_validation_exception(void **state)
{
	struct fixture *f = *state;
	struct input in;

	load(f, "{\"CertificateArn\": \"short\"}");
	input_init(&in, &f->call);
	assert_null(input_arn(&in, "CertificateArn"));
	assert_int_equal(input_finish(&in), -1);
	assert_string_equal(f->call.error_type, "ValidationException");
	assert_non_null(strstr(f->call.error_message,
	    "Member must have length greater than or equal to 20"));
}

static void
well_formed_arn_passes(void **state)
{
	struct fixture *f = *state;
	struct input in;
	const char *arn;

	load(f, "{\"CertificateArn\": \"arn:aws:acm:eu-west-1:999999999999:"
	    "certificate/12345678-1234-1234-1234-123456789012\"}");
	input_init(&in, &f->call);
	arn = input_arn(&in, "CertificateArn");
	assert_non_null(arn);
	assert_int_equal(input_finish(&in), 0);
}

static void
blob_must_be_base64_and_within_length(void **state)
{
	struct fixture *f = *state;
	struct input in;
	unsigned char *b;
	size_t len;

	load(f, "{\"Certificate\": \"!!!\"}");
	input_init(&in, &f->call);
	assert_null(input_blob(&in, "Certificate", true, 1, 10, &len));
	assert_int_equal(input_finish(&in), -1);
	assert_string_equal(f->call.error_type, "SerializationException");

	load(f, "{\"Certificate\": \"aGVsbG8gd29ybGQh\"}"); /* 12 bytes */
	input_init(&in, &f->call);
	assert_null(input_blob(&in, "Certificate", true, 1, 10, &len));
	assert_int_equal(input_finish(&in), -1);
	assert_string_equal(f->call.error_type, "ValidationException");
	assert_non_null(strstr(f->call.error_message,
	    "Member must have length less than or equal to 10"));

	load(f, "{\"Certificate\": \"aGVsbG8=\"}");
	input_init(&in, &f->call);
	b = input_blob(&in, "Certificate", true, 1, 10, &len);
	assert_non_null(b);
	assert_int_equal(len, 5);
	assert_memory_equal(b, "hello", 5);
	free(b);
	assert_int_equal(input_finish(&in), 0);
}

static void
enum_outside_set_is_reported_with_the_set(void **state)
{
	struct fixture *f = *state;
	static const char *const orders[] = { "ASCENDING", "DESCENDING",
		NULL };
	struct input in;

	load(f, "{\"SortOrder\": \"SIDEWAYS\"}");
	input_init(&in, &f->call);
	assert_null(input_enum(&in, "SortOrder", false, orders));
	assert_int_equal(input_finish(&in), -1);
	assert_non_null(strstr(f->call.error_message, "sortOrder"));
	assert_non_null(strstr(f->call.error_message, "ASCENDING"));
}

static void
nested_paths_use_aws_member_style(void **state)
{
	struct fixture *f = *state;
	struct input in, sub;
	const json_t *tag;

	load(f, "{\"Tags\": [{\"Value\": \"x\"}]}");
	input_init(&in, &f->call);
	tag = json_array_get(json_object_get(f->call.input, "Tags"), 0);
	input_init_nested(&sub, &in, tag, "tags.1.member");
	assert_null(input_string(&sub, "Key", true, 1, 128));
	input_merge(&in, &sub);
	assert_int_equal(input_finish(&in), -1);
	assert_non_null(strstr(f->call.error_message,
	    "at 'tags.1.member.key'"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    missing_required_member_is_validation_exception, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    wrong_type_is_serialization_exception, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    integer_range_errors_accumulate, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    malformed_arn_is_invalid_arn_exception, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    arn_outside_model_length_is_validation_exception, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(well_formed_arn_passes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    blob_must_be_base64_and_within_length, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    enum_outside_set_is_reported_with_the_set, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    nested_paths_use_aws_member_style, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
