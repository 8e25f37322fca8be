/*
 * expo.h: writing the exposition formats Prometheus scrapes: the text
 * format 0.0.4 and OpenMetrics 1.0. A growing byte buffer, the escaping
 * rules of each format, numbers as both formats spell them, and the
 * metadata lines (# HELP, # TYPE, # UNIT) of a metric family. No daemon
 * state: unit tests use it alone.
 */
#ifndef CERTFLEET_METRICS_EXPO_H
#define CERTFLEET_METRICS_EXPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum expo_format {
	EXPO_TEXT,		/* text/plain; version=0.0.4 */
	EXPO_OPENMETRICS,	/* application/openmetrics-text; version=1.0.0 */
};

#define EXPO_TEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define EXPO_OPENMETRICS_CONTENT_TYPE \
	"application/openmetrics-text; version=1.0.0; charset=utf-8"

enum metric_type {
	METRIC_COUNTER,
	METRIC_GAUGE,
	METRIC_HISTOGRAM,
};

#define METRIC_MAX_LABELS 5

/* One metric family. */
struct metric_desc {
	const char *name;	/* family name; a counter's without "_total" */
	enum metric_type type;
	const char *unit;	/* "seconds", "bytes": a suffix of name; or NULL */
	const char *help;
	const char *labels[METRIC_MAX_LABELS + 1];	/* NULL-terminated */
	const double *buckets;	/* histogram upper bounds, ascending; +Inf
				   is implied */
	size_t n_buckets;
};

struct expo_buf {
	char *data;		/* not NUL-terminated */
	size_t len;
	size_t cap;
};

void expo_buf_reserve(struct expo_buf *b, size_t more);
void expo_buf_add(struct expo_buf *b, const char *s, size_t n);
void expo_buf_puts(struct expo_buf *b, const char *s);
/* Frees the bytes; the struct itself belongs to the caller. */
void expo_buf_clear(struct expo_buf *b);

/* A label value with \, " and newline escaped (both formats). */
void expo_label_value(struct expo_buf *b, const char *s);
/* Help text: \ and newline escaped; " too in OpenMetrics. */
void expo_help_text(struct expo_buf *b, const char *s, enum expo_format fmt);
void expo_int(struct expo_buf *b, int64_t v);
/* The shortest text that reads back as v; +Inf, -Inf, NaN. */
void expo_number(struct expo_buf *b, double v);
/* A bucket bound: OpenMetrics wants integers as "1.0" (canonical). */
void expo_le(struct expo_buf *b, double v, enum expo_format fmt);

/* "# HELP", "# TYPE" (and "# UNIT" in OpenMetrics) of a family. */
void expo_header(struct expo_buf *b, const struct metric_desc *d,
    enum expo_format fmt);
/*
 * "name{l1="v1",...} " without the value: name is the family's name plus
 * suffix ("_total", "_bucket", ...); extra is one more label (le) or NULL.
 */
void expo_sample_start(struct expo_buf *b, const char *name,
    const char *suffix, const char *const *label_names,
    const char *const *label_values, const char *extra_name,
    const char *extra_value);
/* The suffix a counter's samples carry. */
#define EXPO_COUNTER_SUFFIX "_total"

#endif
