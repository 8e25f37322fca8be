/*
 * test_base64.c: the strict RFC 4648 base64 of src/common/base64.c, on the
 * RFC's own vectors, on everything a strict decoder must refuse, and on
 * round trips long enough to cross the internal chunking.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/base64.h"

static const struct {
	const char *plain, *encoded;
} rfc4648[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

static void
test_encode_rfc4648_vectors(void **state)
{
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		char *s = base64_encode(rfc4648[i].plain,
		    strlen(rfc4648[i].plain));

		assert_string_equal(s, rfc4648[i].encoded);
		free(s);
	}
}

static void
test_decode_rfc4648_vectors(void **state)
{
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		unsigned char *out = NULL;
		size_t len = 99;

		assert_int_equal(base64_decode(rfc4648[i].encoded,
		    strlen(rfc4648[i].encoded), &out, &len), 0);
		assert_int_equal(len, strlen(rfc4648[i].plain));
		assert_memory_equal(out, rfc4648[i].plain, len);
		assert_int_equal(out[len], '\0');
		free(out);
	}
}

static void
assert_refused(const char *text)
{
	unsigned char *out = NULL;
	size_t len = 0;

	if (base64_decode(text, strlen(text), &out, &len) != -EINVAL)
		fail_msg("\"%s\" was accepted", text);
	assert_null(out);
}

static void
test_decode_refuses_missing_padding(void **state)
{
	assert_refused("Zg");
	assert_refused("Zm8");
	assert_refused("Zm9vYg");
}

static void
test_decode_refuses_bad_characters(void **state)
{
	assert_refused("Zm9v\n");
	assert_refused("Zm 9v");
	assert_refused(" Zm9v");
	assert_refused("Zm9-");	/* URL-safe alphabet */
	assert_refused("Zm9_");
	assert_refused("Zm9\x80");
	assert_refused("Zm9v!!!!");
}

static void
test_decode_refuses_misplaced_padding(void **state)
{
	assert_refused("====");
	assert_refused("Z===");
	assert_refused("Zg==Zm9v");
	assert_refused("Zm=v");
	assert_refused("=m9v");
}

static void
test_decode_refuses_bad_length(void **state)
{
	assert_refused("Z");
	assert_refused("Zm9vY");
	assert_refused("Zm9vYmFy=");
}

static void
test_decode_refuses_nonzero_trailing_bits(void **state)
{
	/* "Zh==" and "Zm9=" decode to the same bytes as "Zg==" and "Zm8=". */
	assert_refused("Zh==");
	assert_refused("Zm9=");
}

static void
test_decode_stops_at_given_length(void **state)
{
	unsigned char *out = NULL;
	size_t len = 0;

	assert_int_equal(base64_decode("Zm9vjunk", 4, &out, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(out, "foo", 3);
	free(out);
}

static void
test_round_trip_all_lengths_and_bytes(void **state)
{
	unsigned char buf[300];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	for (size_t n = 0; n <= sizeof(buf); n++) {
		char *s = base64_encode(buf, n);
		unsigned char *out = NULL;
		size_t len = 0;

		assert_int_equal(strlen(s), (n + 2) / 3 * 4);
		assert_int_equal(base64_decode(s, strlen(s), &out, &len), 0);
		assert_int_equal(len, n);
		assert_memory_equal(out, buf, n);
		free(out);
		free(s);
	}
}

static void
test_round_trip_larger_than_one_chunk(void **state)
{
	size_t n = 1000 * 1000 + 1;
	unsigned char *buf = malloc(n), *out = NULL;
	size_t len = 0;
	char *s;

	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)(i ^ (i >> 8));
	s = base64_encode(buf, n);
	assert_int_equal(strlen(s), (n + 2) / 3 * 4);
	assert_null(strchr(s, '\n'));
	assert_int_equal(base64_decode(s, strlen(s), &out, &len), 0);
	assert_int_equal(len, n);
	assert_memory_equal(out, buf, n);
	free(out);
	free(s);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_rfc4648_vectors),
		cmocka_unit_test(test_decode_rfc4648_vectors),
		cmocka_unit_test(test_decode_refuses_missing_padding),
		cmocka_unit_test(test_decode_refuses_bad_characters),
		cmocka_unit_test(test_decode_refuses_misplaced_padding),
		cmocka_unit_test(test_decode_refuses_bad_length),
		cmocka_unit_test(test_decode_refuses_nonzero_trailing_bits),
		cmocka_unit_test(test_decode_stops_at_given_length),
		cmocka_unit_test(test_round_trip_all_lengths_and_bytes),
		cmocka_unit_test(test_round_trip_larger_than_one_chunk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
