/*
 * test_duration.c: duration and size parsing and printing. The duration
 * cases live in vectors/durations.txt, one per line, so a new case is one
 * line; the sizes are few enough to list here.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/duration.h"

/* Decodes "" and \x20 escapes so vectors can hold empty and spaced input. */
static void
decode_input(const char *in, char *out, size_t len)
{
	size_t o = 0;

	if (strcmp(in, "\"\"") == 0) {
		out[0] = '\0';
		return;
	}
	for (size_t i = 0; in[i] && o + 1 < len; i++) {
		if (strncmp(in + i, "\\x20", 4) == 0) {
			out[o++] = ' ';
			i += 3;
		} else
			out[o++] = in[i];
	}
	out[o] = '\0';
}

static void
check_vector(int lineno, const char *input, const char *expected,
    const char *formatted)
{
	char in[128], buf[DURATION_FORMAT_MAX];
	int64_t ms = -1;
	int r;

	decode_input(input, in, sizeof(in));
	r = duration_parse(in, &ms);
	if (strcmp(expected, "EINVAL") == 0 || strcmp(expected, "ERANGE") == 0) {
		int want = expected[1] == 'I' ? -EINVAL : -ERANGE;

		if (r != want)
			fail_msg("line %d: '%s': got %d, want %s", lineno, in,
			    r, expected);
		return;
	}
	if (r != 0 || ms != strtoll(expected, NULL, 10))
		fail_msg("line %d: '%s': got %d/%lld, want %s", lineno, in, r,
		    (long long)ms, expected);
	duration_format(ms, buf, sizeof(buf));
	if (strcmp(buf, formatted) != 0)
		fail_msg("line %d: format(%lld) = '%s', want '%s'", lineno,
		    (long long)ms, buf, formatted);
	/* What we print parses back to the same value. */
	assert_int_equal(duration_parse(buf, &ms), 0);
	assert_int_equal(ms, strtoll(expected, NULL, 10));
}

static void
test_duration_vectors(void **state)
{
	FILE *f = fopen(TOP_SRCDIR "/tests/unit/vectors/durations.txt", "r");
	char line[256], input[128], expected[64], formatted[64];
	int lineno = 0, cases = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		formatted[0] = '\0';
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%127s %63s %63s", input, expected,
			formatted) < 2)
			fail_msg("line %d: malformed vector", lineno);
		check_vector(lineno, input, expected, formatted);
		cases++;
	}
	fclose(f);
	assert_true(cases >= 50);
}

static void
test_duration_parse_null_is_invalid(void **state)
{
	int64_t ms;

	assert_int_equal(duration_parse(NULL, &ms), -EINVAL);
}

static void
test_duration_format_negative_and_small_buffers(void **state)
{
	char buf[DURATION_FORMAT_MAX], small[4];

	duration_format(-5, buf, sizeof(buf));
	assert_string_equal(buf, "0s");
	duration_format(5400000, small, sizeof(small));
	assert_string_equal(small, "1h3");
	duration_format(INT64_MAX, buf, sizeof(buf));
	assert_true(strlen(buf) < sizeof(buf) - 1);
}

static void
test_size_parse_accepts_iec_units_and_bytes(void **state)
{
	static const struct {
		const char *in;
		uint64_t v;
	} ok[] = {
		{ "100", 100 },
		{ "0", 0 },
		{ "100B", 100 },
		{ "512KiB", 512 * 1024 },
		{ "4MiB", 4 * 1024 * 1024 },
		{ "1GiB", 1024ULL * 1024 * 1024 },
		{ "2TiB", 2ULL << 40 },
		{ "18446744073709551615", UINT64_MAX },
		{ "16777215TiB", 16777215ULL << 40 },
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(size_parse(ok[i].in, &v), 0);
		assert_true(v == ok[i].v);
	}
}

static void
test_size_parse_refuses_other_forms(void **state)
{
	static const char *const bad[] = { "", "-1", "4 MiB", "4mib", "4MB",
		"4M", "4K", "1.5MiB", "MiB", "4MiBx", "4MiB4KiB", " 4MiB",
		"0x10", "+4" };
	uint64_t v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (size_parse(bad[i], &v) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
	assert_int_equal(size_parse(NULL, &v), -EINVAL);
	assert_int_equal(size_parse("18446744073709551616", &v), -ERANGE);
	assert_int_equal(size_parse("16777216TiB", &v), -ERANGE);
}

static void
test_size_format_uses_largest_exact_unit(void **state)
{
	char buf[DURATION_FORMAT_MAX];
	uint64_t v;

	size_format(4 * 1024 * 1024, buf, sizeof(buf));
	assert_string_equal(buf, "4MiB");
	size_format(1536 * 1024, buf, sizeof(buf));
	assert_string_equal(buf, "1536KiB");
	size_format(100, buf, sizeof(buf));
	assert_string_equal(buf, "100");
	size_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "0");
	size_format(1ULL << 40, buf, sizeof(buf));
	assert_string_equal(buf, "1TiB");
	size_format(UINT64_MAX, buf, sizeof(buf));
	assert_int_equal(size_parse(buf, &v), 0);
	assert_true(v == UINT64_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_vectors),
		cmocka_unit_test(test_duration_parse_null_is_invalid),
		cmocka_unit_test(test_duration_format_negative_and_small_buffers),
		cmocka_unit_test(test_size_parse_accepts_iec_units_and_bytes),
		cmocka_unit_test(test_size_parse_refuses_other_forms),
		cmocka_unit_test(test_size_format_uses_largest_exact_unit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
