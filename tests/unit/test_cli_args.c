/*
 * test_cli_args.c: the certfleet CLI without a daemon: names derived like
 * the AWS CLI's, the shorthand parser (lists, nesting, quoting, escapes,
 * errors with their caret), option values from fileb:// and file://,
 * integers, whole requests built from argv, botocore-compatible paging
 * and resume tokens, and the text and table formats (expected outputs
 * were produced by the AWS CLI from the same responses).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/paginate.h"
#include "cli/request.h"
#include "cli/transport.h"
#include "common/xmalloc.h"

#define ARN "arn:aws:acm:us-east-1:123456789012:certificate/" \
	    "12345678-1234-1234-1234-123456789012"

/* Parses shorthand and compares with the JSON text expected. */
static void
assert_shorthand(const char *text, const char *expected)
{
	json_t *got = NULL, *want = json_loads(expected, 0, NULL);
	char *err = NULL;

	assert_non_null(want);
	assert_int_equal(args_shorthand_parse(text, &got, &err), 0);
	assert_null(err);
	if (!json_equal(got, want)) {
		char *s = json_dumps(got, JSON_COMPACT);

		fail_msg("%s parsed as %s, expected %s", text, s, expected);
	}
	json_decref(got);
	json_decref(want);
}

static char *
shorthand_error(const char *text)
{
	json_t *got = NULL;
	char *err = NULL;

	assert_int_equal(args_shorthand_parse(text, &got, &err), -EINVAL);
	assert_null(got);
	assert_non_null(err);
	return err;
}

static void
test_kebab_names_match_aws_cli(void **state)
{
	const char *cases[][2] = {
		{ "ImportCertificate", "import-certificate" },
		{ "CertificateArn", "certificate-arn" },
		{ "SubjectAlternativeNames", "subject-alternative-names" },
		{ "CertificateTransparencyLoggingPreference",
		    "certificate-transparency-logging-preference" },
		{ "GetAccountConfiguration", "get-account-configuration" },
		{ "CreateBinding", "create-binding" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char *k = args_kebab(cases[i][0]);

		assert_string_equal(k, cases[i][1]);
		free(k);
	}
	assert_non_null(cli_command_find("remove-tags-from-certificate"));
	assert_null(cli_command_find("RemoveTagsFromCertificate"));
}

static void
test_shorthand_structures_and_lists(void **state)
{
	assert_shorthand("Key=Env,Value=Prod", "{\"Key\":\"Env\",\"Value\":\"Prod\"}");
	assert_shorthand("keyTypes=RSA_2048,EC_prime256v1",
	    "{\"keyTypes\":[\"RSA_2048\",\"EC_prime256v1\"]}");
	/* "c" ends the list only because "c=d" starts the next key. */
	assert_shorthand("a=b,c,d=e", "{\"a\":[\"b\",\"c\"],\"d\":\"e\"}");
	assert_shorthand("keyTypes=[RSA_2048,EC_prime256v1],keyUsage=[DIGITAL_SIGNATURE]",
	    "{\"keyTypes\":[\"RSA_2048\",\"EC_prime256v1\"],"
	    "\"keyUsage\":[\"DIGITAL_SIGNATURE\"]}");
	assert_shorthand("a=[b,[c,d],{e=f}]",
	    "{\"a\":[\"b\",[\"c\",\"d\"],{\"e\":\"f\"}]}");
	assert_shorthand("Options={A=b,C=[d]}", "{\"Options\":{\"A\":\"b\",\"C\":[\"d\"]}}");
	assert_shorthand("a=", "{\"a\":\"\"}");
	assert_shorthand("a = b , c = d ", "{\"a\":\"b\",\"c\":\"d\"}");
}

static void
test_shorthand_quoting_and_escapes(void **state)
{
	assert_shorthand("Key=\"a,b\",Value=c", "{\"Key\":\"a,b\",\"Value\":\"c\"}");
	assert_shorthand("Key='y z'", "{\"Key\":\"y z\"}");
	assert_shorthand("Key='it\\'s'", "{\"Key\":\"it's\"}");
	assert_shorthand("Key=a\\,b", "{\"Key\":\"a,b\"}");
	assert_shorthand("Key=a=b", "{\"Key\":\"a=b\"}");
	assert_shorthand("Key=[\"x]\",y]", "{\"Key\":[\"x]\",\"y\"]}");
}

static void
test_shorthand_errors_show_where(void **state)
{
	char *err = shorthand_error("Key");

	assert_string_equal(err, "Expected: '=', received: 'EOF' for input:\n"
				 "Key\n   ^");
	free(err);
	err = shorthand_error("Key=a,Key=b");
	assert_non_null(strstr(err, "Second instance of key \"Key\""));
	assert_non_null(strstr(err, "Key=a,Key=b\n      ^"));
	free(err);
	err = shorthand_error("Key=[a,b");
	assert_non_null(strstr(err, "Expected: ',', received: 'EOF'"));
	free(err);
	err = shorthand_error("Key=a,Value=\"open");
	assert_non_null(strstr(err, "Expected: '<double quoted>'"));
	free(err);
	err = shorthand_error("a=b,");
	assert_non_null(strstr(err, "Expected: '<second>'"));
	free(err);
}

static const struct shape s_int = { .type = SHAPE_INTEGER };
static const struct shape s_str = { .type = SHAPE_STRING };
static const struct shape s_blob = { .type = SHAPE_BLOB };
static const struct shape s_strs = { .type = SHAPE_LIST, .member = &s_str };
static const struct shape_member ev_members[] = {
	{ "DaysBeforeExpiry", &s_int, false, NULL },
	{ "Names", &s_strs, false, NULL },
	{ NULL },
};
static const struct shape s_ev = { .type = SHAPE_STRUCT, .members = ev_members };

static void
test_shorthand_coerced_to_shape(void **state)
{
	const char *words[] = { "DaysBeforeExpiry=30,Names=one" };
	json_t *v = NULL;
	char *err = NULL;

	assert_int_equal(args_value(&s_ev, words, 1, BINARY_BASE64, &v, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(v, "DaysBeforeExpiry")), 30);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(v, "Names"), 0)), "one");
	json_decref(v);
	words[0] = "DaysBeforeExpiry=thirty";
	assert_int_equal(args_value(&s_ev, words, 1, BINARY_BASE64, &v, &err),
	    -EINVAL);
	assert_non_null(strstr(err, "'thirty'"));
	free(err);
}

/* A temporary file with the given bytes; returns its path. */
static char *
temp_file(const void *data, size_t len)
{
	char *path = xstrdup("/tmp/test_cli_args.XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

static void
test_fileb_is_base64_encoded(void **state)
{
	static const unsigned char bytes[] = { 'K', 'E', 'Y', 0, 0xff, '\n' };
	char *path = temp_file(bytes, sizeof(bytes));
	char *uri = xasprintf("fileb://%s", path);
	const char *words[] = { uri };
	json_t *v = NULL;
	char *err = NULL;

	assert_int_equal(args_value(&s_blob, words, 1, BINARY_BASE64, &v, &err), 0);
	assert_string_equal(json_string_value(v), "S0VZAP8K");
	json_decref(v);
	/* file:// and literals are base64 text by default, raw on request. */
	free(uri);
	uri = xasprintf("file://%s", path);
	words[0] = uri;
	assert_int_equal(args_value(&s_blob, words, 1, BINARY_BASE64, &v, &err),
	    -EINVAL);
	assert_non_null(strstr(err, "Invalid base64"));
	free(err);
	words[0] = "S0VZ\n";
	assert_int_equal(args_value(&s_blob, words, 1, BINARY_BASE64, &v, &err), 0);
	assert_string_equal(json_string_value(v), "S0VZ");
	json_decref(v);
	words[0] = "KEY";
	assert_int_equal(args_value(&s_blob, words, 1, BINARY_RAW_IN_BASE64_OUT,
			     &v, &err), 0);
	assert_string_equal(json_string_value(v), "S0VZ");
	json_decref(v);
	unlink(path);
	free(path);
	free(uri);
}

static void
test_file_text_and_missing_file(void **state)
{
	char *path = temp_file("www.example.com\n", 16);
	char *uri = xasprintf("file://%s", path);
	const char *words[] = { uri };
	json_t *v = NULL;
	char *err = NULL;

	assert_int_equal(args_value(&s_str, words, 1, BINARY_BASE64, &v, &err), 0);
	assert_string_equal(json_string_value(v), "www.example.com\n");
	json_decref(v);
	unlink(path);
	assert_int_equal(args_value(&s_str, words, 1, BINARY_BASE64, &v, &err),
	    -ENOENT);
	assert_non_null(strstr(err, "Unable to load paramfile file:///tmp/"));
	assert_non_null(strstr(err, "No such file or directory"));
	free(err);
	free(path);
	free(uri);
}

static void
test_list_options_take_words_or_json(void **state)
{
	const char *two[] = { "ISSUED", "EXPIRED" }, *json[] = { "[\"A\",\"B\"]" };
	json_t *v = NULL;
	char *err = NULL;

	assert_int_equal(args_value(&s_strs, two, 2, BINARY_BASE64, &v, &err), 0);
	assert_int_equal(json_array_size(v), 2);
	assert_string_equal(json_string_value(json_array_get(v, 1)), "EXPIRED");
	json_decref(v);
	assert_int_equal(args_value(&s_strs, json, 1, BINARY_BASE64, &v, &err), 0);
	assert_string_equal(json_string_value(json_array_get(v, 0)), "A");
	json_decref(v);
}

static void
test_integer_validation(void **state)
{
	json_int_t n;

	assert_int_equal(args_parse_integer("10", &n), 0);
	assert_int_equal(n, 10);
	assert_int_equal(args_parse_integer(" -3 ", &n), 0);
	assert_int_equal(n, -3);
	assert_int_equal(args_parse_integer("1x", &n), -EINVAL);
	assert_int_equal(args_parse_integer("", &n), -EINVAL);
	assert_int_equal(args_parse_integer("99999999999999999999", &n), -EINVAL);
}

/* Builds a request for cmd from a NULL-terminated argv. */
static int
build(const char *cmd, const char *const *argv, struct request *req,
    char **err)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return request_build(cli_command_find(cmd), argc, argv, BINARY_BASE64,
	    req, err);
}

static void
assert_body(const struct request *req, const char *expected)
{
	json_t *want = json_loads(expected, 0, NULL);

	assert_non_null(want);
	if (!json_equal(req->body, want)) {
		char *s = json_dumps(req->body, JSON_COMPACT);

		fail_msg("request %s, expected %s", s, expected);
	}
	json_decref(want);
}

static void
test_request_import_certificate(void **state)
{
	char *cert = temp_file("CERT", 4), *key = temp_file("KEY", 3);
	char *c = xasprintf("fileb://%s", cert), *k = xasprintf("fileb://%s", key);
	const char *argv[] = { "--certificate", c, "--private-key", k,
		"--tags", "Key=Env,Value=Prod", "Key=Team,Value=Web",
		"--certificate-arn", ARN, NULL };
	struct request req;
	char *err = NULL;

	assert_int_equal(build("import-certificate", argv, &req, &err), 0);
	assert_body(&req, "{\"Certificate\":\"Q0VSVA==\",\"PrivateKey\":\"S0VZ\","
			  "\"Tags\":[{\"Key\":\"Env\",\"Value\":\"Prod\"},"
			  "{\"Key\":\"Team\",\"Value\":\"Web\"}],"
			  "\"CertificateArn\":\"" ARN "\"}");
	request_clear(&req);
	unlink(cert);
	unlink(key);
	free(cert);
	free(key);
	free(c);
	free(k);
}

static void
test_request_list_certificates_paging(void **state)
{
	const char *argv[] = { "--certificate-statuses", "ISSUED", "EXPIRED",
		"--includes", "keyTypes=RSA_2048,EC_prime256v1",
		"--max-items", "10", "--page-size", "5", "--starting-token",
		"abc", NULL };
	const char *bad[] = { "--max-items", "ten", NULL };
	const char *hidden[] = { "--next-token", "x", NULL };
	struct request req;
	char *err = NULL;

	assert_int_equal(build("list-certificates", argv, &req, &err), 0);
	assert_body(&req, "{\"CertificateStatuses\":[\"ISSUED\",\"EXPIRED\"],"
			  "\"Includes\":{\"keyTypes\":[\"RSA_2048\","
			  "\"EC_prime256v1\"]}}");
	assert_int_equal(req.page.max_items, 10);
	assert_int_equal(req.page.page_size, 5);
	assert_string_equal(req.page.starting_token, "abc");
	request_clear(&req);
	assert_int_equal(build("list-certificates", bad, &req, &err), -EINVAL);
	assert_string_equal(err, "argument --max-items: invalid int value: 'ten'");
	free(err);
	/* The paging members hide behind --starting-token, as with aws. */
	assert_int_equal(build("list-certificates", hidden, &req, &err), -EINVAL);
	assert_string_equal(err, "Unknown options: --next-token, x");
	free(err);
}

static void
test_request_put_account_configuration(void **state)
{
	const char *argv[] = { "--expiry-events", "DaysBeforeExpiry=30",
		"--idempotency-token", "tok", NULL };
	const char *json[] = { "--cli-input-json",
		"{\"IdempotencyToken\":\"a\",\"ExpiryEvents\":{\"DaysBeforeExpiry\":5}}",
		"--expiry-events", "{\"DaysBeforeExpiry\":7}", NULL };
	const char *missing[] = { "--expiry-events", "DaysBeforeExpiry=1", NULL };
	const char *badtype[] = { "--cli-input-json",
		"{\"IdempotencyToken\":\"a\",\"ExpiryEvents\":{\"DaysBeforeExpiry\":\"5\"}}",
		NULL };
	struct request req;
	char *err = NULL;

	assert_int_equal(build("put-account-configuration", argv, &req, &err), 0);
	assert_body(&req, "{\"ExpiryEvents\":{\"DaysBeforeExpiry\":30},"
			  "\"IdempotencyToken\":\"tok\"}");
	request_clear(&req);
	assert_int_equal(build("put-account-configuration", json, &req, &err), 0);
	assert_body(&req, "{\"ExpiryEvents\":{\"DaysBeforeExpiry\":7},"
			  "\"IdempotencyToken\":\"a\"}");
	request_clear(&req);
	assert_int_equal(build("put-account-configuration", missing, &req, &err),
	    -EINVAL);
	assert_string_equal(err, "the following arguments are required: "
				 "--idempotency-token");
	free(err);
	assert_int_equal(build("put-account-configuration", badtype, &req, &err),
	    -EBADMSG);
	assert_string_equal(err, "Parameter validation failed:\nInvalid type "
				 "for parameter ExpiryEvents.DaysBeforeExpiry, "
				 "value: (not shown), type: string, valid "
				 "types: integer");
	free(err);
}

static void
test_request_validation_and_help(void **state)
{
	const char *unknown_key[] = { "--certificate-arn", ARN, "--tags",
		"Key=a,Foo=b", NULL };
	const char *help[] = { "--certificate-arn", ARN, "--help", NULL };
	struct request req;
	char *err = NULL;

	assert_int_equal(build("add-tags-to-certificate", unknown_key, &req, &err),
	    -EBADMSG);
	assert_string_equal(err, "Parameter validation failed:\nUnknown "
				 "parameter in Tags[0]: \"Foo\", must be one "
				 "of: Key, Value");
	free(err);
	assert_int_equal(build("describe-certificate", help, &req, &err), 0);
	assert_true(req.help);
	request_clear(&req);
}

/* A fake ListCertificates over 7 items, 3 a page unless MaxItems says. */
static int
fake_list(void *ctx, json_t *request, json_t **response)
{
	json_t *mx = json_object_get(request, "MaxItems");
	json_t *nt = json_object_get(request, "NextToken");
	json_int_t start = nt ? strtol(json_string_value(nt), NULL, 10) : 0;
	json_int_t per = mx ? json_integer_value(mx) : 3;
	json_t *list = json_array();
	int *calls = ctx;

	(*calls)++;
	for (json_int_t i = start; i < start + per && i < 7; i++)
		json_array_append_new(list, json_pack("{s:I}", "N", i));
	*response = json_pack("{s:o}", "CertificateSummaryList", list);
	if (start + per < 7)
		json_object_set_new(*response, "NextToken",
		    json_string(start + per == 3 ? "3" : "6"));
	return 0;
}

static int
repeating_list(void *ctx, json_t *request, json_t **response)
{
	*response = json_pack("{s:[{s:i}],s:s}", "CertificateSummaryList", "N",
	    1, "NextToken", "same");
	return 0;
}

static const struct paginator pages = { "NextToken", "NextToken", "MaxItems",
	"CertificateSummaryList" };

static void
test_paginate_matches_botocore(void **state)
{
	struct page_opts all = { 0 }, four = { .max_items = 4 };
	json_t *req = json_object(), *res = NULL;
	char *err = NULL, *next, *resume;
	json_int_t skip;
	int calls = 0;

	assert_int_equal(paginate_run(&pages, req, &all, fake_list, &calls, &res,
			     &err), 0);
	assert_int_equal(calls, 3);
	assert_int_equal(json_array_size(json_object_get(res,
	    "CertificateSummaryList")), 7);
	assert_null(json_object_get(res, "NextToken"));
	json_decref(res);
	/* The same token aws prints for --max-items 4 over these pages. */
	assert_int_equal(paginate_run(&pages, req, &four, fake_list, &calls, &res,
			     &err), 0);
	assert_int_equal(json_array_size(json_object_get(res,
	    "CertificateSummaryList")), 4);
	resume = xstrdup(json_string_value(json_object_get(res, "NextToken")));
	assert_string_equal(resume, "eyJOZXh0VG9rZW4iOiAiMyIsICJib3RvX3RydW5jYXR"
				    "lX2Ftb3VudCI6IDF9");
	json_decref(res);
	paginate_token_decode(resume, &next, &skip);
	assert_string_equal(next, "3");
	assert_int_equal(skip, 1);
	free(next);
	all.starting_token = resume;
	assert_int_equal(paginate_run(&pages, req, &all, fake_list, &calls, &res,
			     &err), 0);
	assert_int_equal(json_array_size(json_object_get(res,
	    "CertificateSummaryList")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(res, "CertificateSummaryList"), 0), "N")), 4);
	json_decref(res);
	free(resume);
	/* A token the server made is used as it is. */
	paginate_token_decode("6", &next, &skip);
	assert_string_equal(next, "6");
	free(next);
	assert_int_equal(paginate_run(&pages, req, &(struct page_opts){ 0 },
			     repeating_list, NULL, &res, &err), -EPROTO);
	assert_non_null(strstr(err, "same next token"));
	free(err);
	json_decref(req);
}

/* Renders v into a string with the given format. */
static char *
render(const char *json, enum output_format f, const char *title,
    bool paginated)
{
	json_t *v = json_loads(json, 0, NULL);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	assert_non_null(v);
	output_print(m, v, f, title, paginated, 80);
	fclose(m);
	json_decref(v);
	return buf;
}

static void
test_text_output_shapes(void **state)
{
	char *s = render("{\"CertificateSummaryList\":[{\"CertificateArn\":\"a1\","
			 "\"DomainName\":\"d1\",\"InUse\":false,"
			 "\"SubjectAlternativeNameSummaries\":[\"d1\"]},"
			 "{\"CertificateArn\":\"a2\",\"DomainName\":\"d2\","
			 "\"InUse\":true}],\"NextToken\":\"tok\"}",
	    OUTPUT_TEXT, "ListCertificates", true);

	assert_string_equal(s, "CERTIFICATESUMMARYLIST\ta1\td1\tFalse\n"
			       "SUBJECTALTERNATIVENAMESUMMARIES\td1\n"
			       "CERTIFICATESUMMARYLIST\ta2\td2\tTrue\n"
			       "NEXTTOKEN\ttok\n");
	free(s);
	s = render("{\"ExpiryEvents\":{\"DaysBeforeExpiry\":45}}", OUTPUT_TEXT,
	    "GetAccountConfiguration", false);
	assert_string_equal(s, "EXPIRYEVENTS\t45\n");
	free(s);
	s = render("{}", OUTPUT_TEXT, "DeleteCertificate", false);
	assert_string_equal(s, "");
	free(s);
	s = render("{\"Tags\":[]}", OUTPUT_JSON, "X", false);
	assert_string_equal(s, "{\n    \"Tags\": []\n}\n");
	free(s);
}

static void
test_table_output_shapes(void **state)
{
	char *s = render("{\"Tags\":[{\"Key\":\"Env\",\"Value\":\"Prod\"},"
			 "{\"Key\":\"Team\"}]}",
	    OUTPUT_TABLE, "ListTagsForCertificate", false);

	assert_string_equal(s, "------------------------\n"
			       "|ListTagsForCertificate|\n"
			       "+----------------------+\n"
			       "||        Tags        ||\n"
			       "|+--------+-----------+|\n"
			       "||   Key  |   Value   ||\n"
			       "|+--------+-----------+|\n"
			       "||  Env   |  Prod     ||\n"
			       "||  Team  |           ||\n"
			       "|+--------+-----------+|\n");
	free(s);
	s = render("{\"ExpiryEvents\":{\"DaysBeforeExpiry\":45}}", OUTPUT_TABLE,
	    "GetAccountConfiguration", false);
	assert_string_equal(s, "------------------------------\n"
			       "|   GetAccountConfiguration  |\n"
			       "+----------------------------+\n"
			       "||       ExpiryEvents       ||\n"
			       "|+--------------------+-----+|\n"
			       "||  DaysBeforeExpiry  |  45 ||\n"
			       "|+--------------------+-----+|\n");
	free(s);
}

static void
test_timestamps_and_errors(void **state)
{
	static const char *const members[] = { "CreatedAt", "NotAfter", NULL };
	json_t *root = json_loads("{\"Certificate\":{\"CreatedAt\":1704067200.5,"
				  "\"NotAfter\":1767225600,\"Serial\":7}}",
	    0, NULL);
	struct service_error e = { 0 };
	const char *body;
	json_t *v;

	output_timestamps(root, members);
	v = json_object_get(root, "Certificate");
	assert_string_equal(json_string_value(json_object_get(v, "CreatedAt")),
	    "2024-01-01T00:00:00.500000+00:00");
	assert_string_equal(json_string_value(json_object_get(v, "NotAfter")),
	    "2026-01-01T00:00:00+00:00");
	assert_int_equal(json_integer_value(json_object_get(v, "Serial")), 7);
	json_decref(root);
	body = "{\"__type\":\"com.amazonaws.acm#InvalidArnException\","
	       "\"message\":\"bad arn\"}";
	transport_parse_error(400, body, strlen(body), &e);
	assert_string_equal(e.code, "InvalidArnException");
	assert_string_equal(e.message, "bad arn");
	service_error_clear(&e);
	body = "{\"__type\":\"AccessDeniedException\",\"Message\":\"no\"}";
	transport_parse_error(400, body, strlen(body), &e);
	assert_string_equal(e.code, "AccessDeniedException");
	assert_string_equal(e.message, "no");
	service_error_clear(&e);
	transport_parse_error(503, "", 0, &e);
	assert_string_equal(e.code, "503");
	assert_string_equal(e.message, "");
	service_error_clear(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kebab_names_match_aws_cli),
		cmocka_unit_test(test_shorthand_structures_and_lists),
		cmocka_unit_test(test_shorthand_quoting_and_escapes),
		cmocka_unit_test(test_shorthand_errors_show_where),
		cmocka_unit_test(test_shorthand_coerced_to_shape),
		cmocka_unit_test(test_fileb_is_base64_encoded),
		cmocka_unit_test(test_file_text_and_missing_file),
		cmocka_unit_test(test_list_options_take_words_or_json),
		cmocka_unit_test(test_integer_validation),
		cmocka_unit_test(test_request_import_certificate),
		cmocka_unit_test(test_request_list_certificates_paging),
		cmocka_unit_test(test_request_put_account_configuration),
		cmocka_unit_test(test_request_validation_and_help),
		cmocka_unit_test(test_paginate_matches_botocore),
		cmocka_unit_test(test_text_output_shapes),
		cmocka_unit_test(test_table_output_shapes),
		cmocka_unit_test(test_timestamps_and_errors),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
