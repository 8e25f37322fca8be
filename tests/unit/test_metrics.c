/*
 * test_metrics.c: the metrics registry and the two exposition formats
 * (src/metrics/registry.c, src/metrics/expo.c): escaping of label values
 * and help text, number spelling, counters named with and without _total,
 * cumulative histogram buckets, # UNIT only in OpenMetrics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics/expo.h"
#include "metrics/registry.h"

static const double buckets[] = { 0.01, 0.1, 1 };

enum { T_REQUESTS, T_LATENCY, T_TEMPERATURE, T_UNUSED };

static const struct metric_desc table[] = {
	[T_REQUESTS] = { "demo_requests", METRIC_COUNTER, NULL,
	    "Requests \"served\"\\counted.\nSecond line.",
	    { "action", "exception", NULL }, NULL, 0 },
	[T_LATENCY] = { "demo_latency_seconds", METRIC_HISTOGRAM, "seconds",
	    "Latency.", { "action", NULL }, buckets, 3 },
	[T_TEMPERATURE] = { "demo_temperature_celsius", METRIC_GAUGE,
	    "celsius", "Temperature.", { NULL }, NULL, 0 },
	[T_UNUSED] = { "demo_unused", METRIC_GAUGE, NULL, "Never set.",
	    { NULL }, NULL, 0 },
};

/* The rendered text, NUL-terminated; the caller frees it. */
static char *
render(struct metric_registry *reg, enum expo_format fmt)
{
	struct expo_buf b = { 0 };

	metric_registry_render(reg, fmt, &b);
	expo_buf_add(&b, "", 1);
	return b.data;
}

static bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p != NULL && *p != '\0';) {
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return true;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return false;
}

static void
test_label_values_escape_backslash_quote_and_newline(void **state)
{
	struct expo_buf b = { 0 };

	expo_label_value(&b, "a\\b\"c\nd");
	expo_buf_add(&b, "", 1);
	assert_string_equal(b.data, "a\\\\b\\\"c\\nd");
	expo_buf_clear(&b);
	expo_label_value(&b, NULL);
	assert_int_equal(b.len, 0);
	expo_buf_clear(&b);
}

static void
test_help_escapes_quotes_only_in_openmetrics(void **state)
{
	struct expo_buf b = { 0 };

	expo_help_text(&b, "say \"hi\"\\\n", EXPO_TEXT);
	expo_buf_add(&b, "", 1);
	assert_string_equal(b.data, "say \"hi\"\\\\\\n");
	b.len = 0;
	expo_help_text(&b, "say \"hi\"\\\n", EXPO_OPENMETRICS);
	expo_buf_add(&b, "", 1);
	assert_string_equal(b.data, "say \\\"hi\\\"\\\\\\n");
	expo_buf_clear(&b);
}

static void
check_number(double v, const char *want)
{
	struct expo_buf b = { 0 };

	expo_number(&b, v);
	expo_buf_add(&b, "", 1);
	assert_string_equal(b.data, want);
	expo_buf_clear(&b);
}

static void
test_numbers_are_shortest_and_exact(void **state)
{
	check_number(0, "0");
	check_number(-3, "-3");
	check_number(1735689600, "1735689600");
	check_number(0.1, "0.1");
	check_number(0.0005, "0.0005");
	check_number(1.0 / 3.0, "0.3333333333333333");
	check_number(1e300, "1e+300");
	check_number(0.1 + 0.2, "0.30000000000000004");
	check_number(INFINITY, "+Inf");
	check_number(-INFINITY, "-Inf");
	check_number(NAN, "NaN");
}

static void
test_bucket_bounds_are_canonical_in_openmetrics(void **state)
{
	struct expo_buf b = { 0 };

	expo_le(&b, 1, EXPO_TEXT);
	expo_buf_add(&b, " ", 1);
	expo_le(&b, 1, EXPO_OPENMETRICS);
	expo_buf_add(&b, " ", 1);
	expo_le(&b, 0.25, EXPO_OPENMETRICS);
	expo_buf_add(&b, "", 1);
	assert_string_equal(b.data, "1 1.0 0.25");
	expo_buf_clear(&b);
}

static void
test_counter_family_names_differ_by_format(void **state)
{
	struct metric_registry *reg = metric_registry_new(table, 4);
	const char *ok[] = { "List", NULL };
	const char *bad[] = { "Describe", "InvalidArnException" };
	char *text, *om;

	metric_add(reg, T_REQUESTS, ok, 1);
	metric_add(reg, T_REQUESTS, ok, 2);
	metric_add(reg, T_REQUESTS, bad, 1);
	metric_add(reg, T_REQUESTS, bad, -5);	/* counters never go down */
	assert_true(metric_get(reg, T_REQUESTS, ok) == 3);
	assert_true(metric_get(reg, T_REQUESTS, bad) == 1);

	text = render(reg, EXPO_TEXT);
	assert_true(has_line(text, "# TYPE demo_requests_total counter"));
	assert_true(has_line(text, "# HELP demo_requests_total Requests "
	    "\"served\"\\\\counted.\\nSecond line."));
	assert_true(has_line(text,
	    "demo_requests_total{action=\"List\",exception=\"\"} 3"));
	assert_true(has_line(text, "demo_requests_total{action=\"Describe\","
	    "exception=\"InvalidArnException\"} 1"));
	assert_null(strstr(text, "demo_unused"));	/* never set */

	om = render(reg, EXPO_OPENMETRICS);
	assert_true(has_line(om, "# TYPE demo_requests counter"));
	assert_true(has_line(om, "# HELP demo_requests Requests "
	    "\\\"served\\\"\\\\counted.\\nSecond line."));
	assert_true(has_line(om,
	    "demo_requests_total{action=\"List\",exception=\"\"} 3"));
	free(text);
	free(om);
	metric_registry_free(reg);
}

static void
test_histogram_buckets_are_cumulative(void **state)
{
	struct metric_registry *reg = metric_registry_new(table, 4);
	const char *a[] = { "Import" };
	char *text, *om;

	metric_observe(reg, T_LATENCY, a, 0.005);
	metric_observe(reg, T_LATENCY, a, 0.01);	/* le is inclusive */
	metric_observe(reg, T_LATENCY, a, 0.5);
	metric_observe(reg, T_LATENCY, a, 7);
	text = render(reg, EXPO_TEXT);
	assert_true(has_line(text, "# TYPE demo_latency_seconds histogram"));
	assert_true(has_line(text,
	    "demo_latency_seconds_bucket{action=\"Import\",le=\"0.01\"} 2"));
	assert_true(has_line(text,
	    "demo_latency_seconds_bucket{action=\"Import\",le=\"0.1\"} 2"));
	assert_true(has_line(text,
	    "demo_latency_seconds_bucket{action=\"Import\",le=\"1\"} 3"));
	assert_true(has_line(text,
	    "demo_latency_seconds_bucket{action=\"Import\",le=\"+Inf\"} 4"));
	assert_true(has_line(text,
	    "demo_latency_seconds_sum{action=\"Import\"} 7.515"));
	assert_true(has_line(text,
	    "demo_latency_seconds_count{action=\"Import\"} 4"));
	assert_null(strstr(text, "# UNIT"));

	om = render(reg, EXPO_OPENMETRICS);
	assert_true(has_line(om,
	    "demo_latency_seconds_bucket{action=\"Import\",le=\"1.0\"} 3"));
	assert_true(has_line(om, "# UNIT demo_latency_seconds seconds"));
	free(text);
	free(om);
	metric_registry_free(reg);
}

static void
test_gauges_set_and_unit_line_only_in_openmetrics(void **state)
{
	struct metric_registry *reg = metric_registry_new(table, 4);
	char *text, *om;

	metric_set(reg, T_TEMPERATURE, NULL, 21.5);
	metric_set(reg, T_TEMPERATURE, NULL, -4.25);
	text = render(reg, EXPO_TEXT);
	om = render(reg, EXPO_OPENMETRICS);
	assert_true(has_line(text, "demo_temperature_celsius -4.25"));
	assert_true(has_line(text, "# TYPE demo_temperature_celsius gauge"));
	assert_null(strstr(text, "# UNIT"));
	assert_true(has_line(om, "# UNIT demo_temperature_celsius celsius"));
	assert_true(has_line(om, "demo_temperature_celsius -4.25"));
	free(text);
	free(om);
	metric_registry_free(reg);
	metric_registry_free(NULL);
}

static void
test_sample_with_extra_label_and_no_labels(void **state)
{
	struct expo_buf b = { 0 };
	const char *names[] = { "x", NULL };
	const char *values[] = { "1" };

	expo_sample_start(&b, "m", NULL, NULL, NULL, NULL, NULL);
	expo_sample_start(&b, "m", "_bucket", names, values, "le", "+Inf");
	expo_sample_start(&b, "m", "_sum", NULL, NULL, "le", "0.5");
	expo_buf_add(&b, "", 1);
	assert_string_equal(b.data,
	    "m m_bucket{x=\"1\",le=\"+Inf\"} m_sum{le=\"0.5\"} ");
	expo_buf_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_values_escape_backslash_quote_and_newline),
		cmocka_unit_test(test_help_escapes_quotes_only_in_openmetrics),
		cmocka_unit_test(test_numbers_are_shortest_and_exact),
		cmocka_unit_test(test_bucket_bounds_are_canonical_in_openmetrics),
		cmocka_unit_test(test_counter_family_names_differ_by_format),
		cmocka_unit_test(test_histogram_buckets_are_cumulative),
		cmocka_unit_test(test_gauges_set_and_unit_line_only_in_openmetrics),
		cmocka_unit_test(test_sample_with_extra_label_and_no_labels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
