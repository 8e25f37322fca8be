/*
 * test_metrics.c: the metrics registry and the two exposition formats
 * (src/metrics/registry.c, src/metrics/expo.c): escaping of label values
 * and help text, number spelling, counters named with and without _total,
 * cumulative histogram buckets, # UNIT only in OpenMetrics. And the
 * compressed parts of /metrics (src/metrics/gzpart.c): parts made apart
 * joined into one gzip member that zlib's own gzip decoder reads back
 * whole, a part inflated a few bytes at a time, damage detected,
 * Accept-Encoding. And the daemon's own families (src/metrics/metrics.c):
 * labelled counters present at zero from the start, the update calls.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <zlib.h>

#include "common/xmalloc.h"
#include "metrics/expo.h"
#include "metrics/gzpart.h"
#include "metrics/internal.h"
#include "metrics/metrics.h"
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

/* ---- gzpart ----------------------------------------------------------- */

/* Text that looks like the certificate figures, line i of n. */
static void
cert_lines(struct expo_buf *b, int from, int to)
{
	char line[200];

	for (int i = from; i < to; i++) {
		int n = snprintf(line, sizeof(line),
		    "certfleet_certificate_in_use{certificate_arn=\"arn:aws:acm:"
		    "us-east-1:123456789012:certificate/%08x-0000\"} %d\n",
		    (unsigned)i * 2654435761u, i % 2);

		expo_buf_add(b, line, (size_t)n);
	}
}

static void
make_part(struct gzpart_writer *w, const char *text, size_t n,
    struct gzpart *p)
{
	/* In uneven slices, as rows arrive. */
	for (size_t off = 0; off < n;) {
		size_t take = n - off < 777 ? n - off : 777;

		gzpart_writer_add(w, text + off, take);
		off += take;
	}
	gzpart_writer_end(w, p);
}

/* Inflates a whole gzip stream with zlib's gzip decoder; the caller frees
 * the result. Fails the test if bytes are left after the first member. */
static char *
gunzip_one_member(const unsigned char *gz, size_t size, size_t *len)
{
	z_stream z;
	size_t cap = 1 << 20;
	char *out = malloc(cap);
	int rc;

	memset(&z, 0, sizeof(z));
	assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
	z.next_in = (Bytef *)gz;
	z.avail_in = (uInt)size;
	*len = 0;
	do {
		if (*len == cap)
			out = realloc(out, cap *= 2);
		z.next_out = (Bytef *)out + *len;
		z.avail_out = (uInt)(cap - *len);
		rc = inflate(&z, Z_NO_FLUSH);
		*len = cap - z.avail_out;
		assert_true(rc == Z_OK || rc == Z_STREAM_END);
	} while (rc != Z_STREAM_END);
	assert_int_equal(z.avail_in, 0);	/* one member, nothing after */
	inflateEnd(&z);
	return out;
}

static void
test_parts_made_apart_join_into_one_gzip_member(void **state)
{
	struct expo_buf live = { 0 }, cached = { 0 }, all = { 0 },
	    gz = { 0 };
	struct gzpart_writer *cw = gzpart_writer_new(1);
	struct gzpart_writer *lw = gzpart_writer_new(6);
	struct gzpart parts[5];
	struct gzip_member g;
	unsigned char header[GZIP_HEADER_SIZE], end[GZIP_END_SIZE];
	char *plain;
	size_t len;

	/* Cached parts, made by one writer (as a database thread does),
	 * and live ones by another, interleaved in the member. */
	cert_lines(&cached, 0, 20000);
	make_part(cw, cached.data, cached.len / 2, &parts[1]);
	make_part(cw, cached.data + cached.len / 2,
	    cached.len - cached.len / 2, &parts[3]);
	expo_buf_puts(&live, "# HELP x Live.\n# TYPE x gauge\nx 1\n");
	make_part(lw, live.data, live.len, &parts[0]);
	make_part(lw, "", 0, &parts[2]);	/* an empty part is fine */
	make_part(lw, "# EOF\n", 6, &parts[4]);
	assert_true(parts[1].size * 8 < parts[1].plain);

	gzip_member_begin(&g, header);
	expo_buf_add(&gz, (char *)header, sizeof(header));
	for (int i = 0; i < 5; i++) {
		expo_buf_add(&gz, (char *)parts[i].data, parts[i].size);
		gzip_member_add(&g, &parts[i]);
	}
	gzip_member_end(&g, end);
	expo_buf_add(&gz, (char *)end, sizeof(end));

	expo_buf_add(&all, live.data, live.len);
	expo_buf_add(&all, cached.data, cached.len);
	expo_buf_add(&all, "# EOF\n", 6);
	plain = gunzip_one_member((unsigned char *)gz.data, gz.len, &len);
	assert_int_equal(len, all.len);
	assert_memory_equal(plain, all.data, all.len);

	free(plain);
	for (int i = 0; i < 5; i++)
		gzpart_clear(&parts[i]);
	gzpart_writer_free(cw);
	gzpart_writer_free(lw);
	gzpart_writer_free(NULL);
	expo_buf_clear(&live);
	expo_buf_clear(&cached);
	expo_buf_clear(&all);
	expo_buf_clear(&gz);
}

static void
test_part_inflates_a_bounded_piece_at_a_time(void **state)
{
	struct expo_buf text = { 0 }, back = { 0 };
	struct gzpart_writer *w = gzpart_writer_new(1);
	struct gzpart_reader *r = gzpart_reader_new();
	struct gzpart p;
	char buf[1000];
	size_t got, reads = 0;

	cert_lines(&text, 0, 5000);
	make_part(w, text.data, text.len, &p);
	gzpart_reader_start(r, &p);
	do {
		/* Odd sizes: pieces end mid-line and mid-match. */
		size_t want = 1 + reads * 37 % sizeof(buf);

		assert_int_equal(gzpart_reader_read(r, buf, want, &got), 0);
		assert_true(got <= want);
		expo_buf_add(&back, buf, got);
		reads++;
	} while (got > 0);
	assert_true(reads > text.len / sizeof(buf));
	assert_int_equal(back.len, text.len);
	assert_memory_equal(back.data, text.data, text.len);
	/* After the end, the end again. */
	assert_int_equal(gzpart_reader_read(r, buf, sizeof(buf), &got), 0);
	assert_int_equal(got, 0);

	/* The same reader, started again, reads it again. */
	back.len = 0;
	gzpart_reader_start(r, &p);
	do {
		assert_int_equal(gzpart_reader_read(r, buf, sizeof(buf), &got),
		    0);
		expo_buf_add(&back, buf, got);
	} while (got > 0);
	assert_int_equal(back.len, text.len);

	gzpart_clear(&p);
	gzpart_reader_free(r);
	gzpart_reader_free(NULL);
	gzpart_writer_free(w);
	expo_buf_clear(&text);
	expo_buf_clear(&back);
}

static int
read_all(struct gzpart_reader *r, const struct gzpart *p)
{
	char buf[4096];
	size_t got;
	int rc;

	gzpart_reader_start(r, p);
	do {
		rc = gzpart_reader_read(r, buf, sizeof(buf), &got);
	} while (rc == 0 && got > 0);
	return rc;
}

static void
test_damaged_part_is_detected(void **state)
{
	struct expo_buf text = { 0 };
	struct gzpart_writer *w = gzpart_writer_new(6);
	struct gzpart_reader *r = gzpart_reader_new();
	struct gzpart p;

	cert_lines(&text, 0, 500);
	make_part(w, text.data, text.len, &p);
	assert_int_equal(read_all(r, &p), 0);
	p.crc ^= 1;			/* figures that do not match */
	assert_int_equal(read_all(r, &p), -EBADMSG);
	p.crc ^= 1;
	p.plain++;
	assert_int_equal(read_all(r, &p), -EBADMSG);
	p.plain--;
	p.data[0] = 0xff;		/* an invalid block type (3) */
	assert_int_equal(read_all(r, &p), -EBADMSG);

	gzpart_clear(&p);
	gzpart_reader_free(r);
	gzpart_writer_free(w);
	expo_buf_clear(&text);
}

static void
test_accept_encoding_gzip(void **state)
{
	assert_false(gzip_accepted(NULL));
	assert_false(gzip_accepted(""));
	assert_true(gzip_accepted("gzip"));
	assert_true(gzip_accepted("GZip"));
	assert_true(gzip_accepted("x-gzip"));
	assert_true(gzip_accepted("deflate, gzip;q=0.5"));
	assert_true(gzip_accepted("gzip, deflate, br"));
	assert_true(gzip_accepted("*"));
	assert_true(gzip_accepted("identity;q=1, *;q=0.1"));
	assert_false(gzip_accepted("identity"));
	assert_false(gzip_accepted("deflate, br"));
	assert_false(gzip_accepted("gzip;q=0"));
	assert_false(gzip_accepted("gzip ; q=0.000, deflate"));
	assert_false(gzip_accepted("gzip;q=0, *"));	/* named wins */
	assert_false(gzip_accepted("*;q=0"));
	assert_false(gzip_accepted("gzipper, xgzip"));
	assert_true(gzip_accepted("gzip;q=0.001"));
}

/* The daemon's whole exposition (no certificate figures yet), as text. */
static char *
exposition(struct metrics *m)
{
	struct metrics_text *t = metrics_text_new(m, EXPO_TEXT);
	struct evbuffer *out = evbuffer_new();
	size_t len;
	char *text;

	for (;;) {
		len = evbuffer_get_length(out);
		metrics_text_read(t, out, 4096);
		if (evbuffer_get_length(out) == len)
			break;
	}
	metrics_text_free(t);
	len = evbuffer_get_length(out);
	text = xmalloc(len + 1);
	evbuffer_remove(out, text, len);
	text[len] = '\0';
	evbuffer_free(out);
	return text;
}

static void
test_daemon_counters_start_at_zero_for_every_label_value(void **state)
{
	struct metrics_settings s = { .listen = "", .version = "0-test",
		.certificate_cache_ms = 1000 };
	struct metrics *m = metrics_new(&s);
	char *text = exposition(m);
	const char *zero[] = {
		"certfleet_dns_checks_total{result=\"ok\"} 0",
		"certfleet_dns_checks_total{result=\"nxdomain\"} 0",
		"certfleet_dns_checks_total{result=\"timeout\"} 0",
		"certfleet_tls_probes_total{result=\"mismatch\"} 0",
		"certfleet_tls_probes_total{result=\"resolve_error\"} 0",
		"certfleet_dns_check_duration_seconds_count 0",
		"certfleet_tls_probe_duration_seconds_bucket{le=\"+Inf\"} 0",
		"certfleet_emails_total{kind=\"validation\",result=\"queued\"} 0",
		"certfleet_emails_total{kind=\"expiry\",result=\"failed\"} 0",
		"certfleet_expiry_events_total 0",
		"# TYPE certfleet_dns_checks_total counter",
		"# TYPE certfleet_tls_probe_duration_seconds histogram",
	};

	for (size_t i = 0; i < ELEMENTSOF(zero); i++)
		if (!has_line(text, zero[i]))
			fail_msg("no line %s in\n%s", zero[i], text);
	/* The mail queue is the database's: absent until first read. */
	assert_null(strstr(text, "certfleet_mail_queue_messages"));
	free(text);

	metrics_dns_check(m, "ok", 0.003);
	metrics_dns_check(m, "ok", 0.02);
	metrics_tls_probe(m, "resolve_error", -1);
	metrics_tls_probe_observer(m, "mismatch", 0.5);
	metrics_email(m, "VALIDATION", "sent");
	metrics_email(m, "EXPIRY", "queued");
	metrics_email(m, "something new", "retried");
	metrics_expiry_events(m, 3);
	metrics_dns_check(NULL, "ok", 1);	/* no metrics: nothing */
	text = exposition(m);
	const char *after[] = {
		"certfleet_dns_checks_total{result=\"ok\"} 2",
		"certfleet_dns_check_duration_seconds_count 2",
		"certfleet_dns_check_duration_seconds_bucket{le=\"0.005\"} 1",
		"certfleet_tls_probes_total{result=\"resolve_error\"} 1",
		"certfleet_tls_probes_total{result=\"mismatch\"} 1",
		/* a resolution failure has no duration */
		"certfleet_tls_probe_duration_seconds_count 1",
		"certfleet_emails_total{kind=\"validation\",result=\"sent\"} 1",
		"certfleet_emails_total{kind=\"expiry\",result=\"queued\"} 1",
		"certfleet_emails_total{kind=\"other\",result=\"retried\"} 1",
		"certfleet_expiry_events_total 3",
	};
	for (size_t i = 0; i < ELEMENTSOF(after); i++)
		if (!has_line(text, after[i]))
			fail_msg("no line %s in\n%s", after[i], text);
	free(text);
	metrics_free(m);
}

static void
test_email_kinds_are_a_fixed_set(void **state)
{
	assert_string_equal(metrics_email_kind_label("VALIDATION"),
	    "validation");
	assert_string_equal(metrics_email_kind_label("expiry"), "expiry");
	assert_string_equal(metrics_email_kind_label("Renewal"), "renewal");
	assert_string_equal(metrics_email_kind_label("OTHER"), "other");
	assert_string_equal(metrics_email_kind_label("NEWKIND"), "other");
	assert_string_equal(metrics_email_kind_label(NULL), "other");
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
		cmocka_unit_test(test_parts_made_apart_join_into_one_gzip_member),
		cmocka_unit_test(test_part_inflates_a_bounded_piece_at_a_time),
		cmocka_unit_test(test_damaged_part_is_detected),
		cmocka_unit_test(test_accept_encoding_gzip),
		cmocka_unit_test(test_daemon_counters_start_at_zero_for_every_label_value),
		cmocka_unit_test(test_email_kinds_are_a_fixed_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
