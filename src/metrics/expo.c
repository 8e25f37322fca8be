/*
 * expo.c: the byte-level rules of the two exposition formats. Both share
 * the sample line syntax and label escaping; they differ in the metadata
 * lines (OpenMetrics names a counter's family without "_total", has
 * "# UNIT" and escapes '"' in help text) and in how bucket bounds are
 * spelled.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "metrics/expo.h"

void
expo_buf_reserve(struct expo_buf *b, size_t more)
{
	size_t want = b->len + more;

	if (want <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 4096;
	while (b->cap < want)
		b->cap *= 2;
	b->data = xrealloc(b->data, b->cap);
}

void
expo_buf_add(struct expo_buf *b, const char *s, size_t n)
{
	if (n == 0)
		return;
	expo_buf_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

void
expo_buf_puts(struct expo_buf *b, const char *s)
{
	expo_buf_add(b, s, strlen(s));
}

void
expo_buf_clear(struct expo_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static void
escaped(struct expo_buf *b, const char *s, bool quote)
{
	const char *run = s;

	for (; *s != '\0'; s++) {
		const char *rep = NULL;

		if (*s == '\\')
			rep = "\\\\";
		else if (*s == '\n')
			rep = "\\n";
		else if (*s == '"' && quote)
			rep = "\\\"";
		if (rep == NULL)
			continue;
		expo_buf_add(b, run, (size_t)(s - run));
		expo_buf_add(b, rep, 2);
		run = s + 1;
	}
	expo_buf_add(b, run, (size_t)(s - run));
}

void
expo_label_value(struct expo_buf *b, const char *s)
{
	escaped(b, s ? s : "", true);
}

void
expo_help_text(struct expo_buf *b, const char *s, enum expo_format fmt)
{
	escaped(b, s, fmt == EXPO_OPENMETRICS);
}

void
expo_int(struct expo_buf *b, int64_t v)
{
	char tmp[24];
	char *p = tmp + sizeof(tmp);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	expo_buf_add(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* Writes v into tmp; returns whether it is an integer written as one. */
static bool
format_number(double v, char *tmp, size_t size)
{
	if (isnan(v)) {
		snprintf(tmp, size, "NaN");
		return false;
	}
	if (isinf(v)) {
		snprintf(tmp, size, v > 0 ? "+Inf" : "-Inf");
		return false;
	}
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		snprintf(tmp, size, "%lld", (long long)v);
		return true;
	}
	/* The shortest of %.15g..%.17g that reads back exactly. */
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, size, "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	return false;
}

void
expo_number(struct expo_buf *b, double v)
{
	char tmp[40];

	format_number(v, tmp, sizeof(tmp));
	expo_buf_puts(b, tmp);
}

void
expo_le(struct expo_buf *b, double v, enum expo_format fmt)
{
	char tmp[40];
	bool integer = format_number(v, tmp, sizeof(tmp));

	expo_buf_puts(b, tmp);
	if (integer && fmt == EXPO_OPENMETRICS)
		expo_buf_puts(b, ".0");
}

static const char *
type_name(enum metric_type t)
{
	switch (t) {
	case METRIC_COUNTER: return "counter";
	case METRIC_GAUGE: return "gauge";
	case METRIC_HISTOGRAM: return "histogram";
	}
	return "unknown";
}

void
expo_header(struct expo_buf *b, const struct metric_desc *d,
    enum expo_format fmt)
{
	/* The text format names a counter's family after its samples. */
	const char *suffix = d->type == METRIC_COUNTER && fmt == EXPO_TEXT ?
	    EXPO_COUNTER_SUFFIX : "";

	expo_buf_puts(b, "# HELP ");
	expo_buf_puts(b, d->name);
	expo_buf_puts(b, suffix);
	expo_buf_puts(b, " ");
	expo_help_text(b, d->help, fmt);
	expo_buf_puts(b, "\n# TYPE ");
	expo_buf_puts(b, d->name);
	expo_buf_puts(b, suffix);
	expo_buf_puts(b, " ");
	expo_buf_puts(b, type_name(d->type));
	expo_buf_puts(b, "\n");
	if (fmt == EXPO_OPENMETRICS && d->unit != NULL) {
		expo_buf_puts(b, "# UNIT ");
		expo_buf_puts(b, d->name);
		expo_buf_puts(b, " ");
		expo_buf_puts(b, d->unit);
		expo_buf_puts(b, "\n");
	}
}

static void
label(struct expo_buf *b, bool *first, const char *name, const char *value)
{
	expo_buf_puts(b, *first ? "{" : ",");
	*first = false;
	expo_buf_puts(b, name);
	expo_buf_add(b, "=\"", 2);
	expo_label_value(b, value);
	expo_buf_add(b, "\"", 1);
}

void
expo_sample_start(struct expo_buf *b, const char *name, const char *suffix,
    const char *const *label_names, const char *const *label_values,
    const char *extra_name, const char *extra_value)
{
	bool first = true;

	expo_buf_puts(b, name);
	if (suffix != NULL)
		expo_buf_puts(b, suffix);
	for (size_t i = 0; label_names != NULL && label_names[i] != NULL; i++)
		label(b, &first, label_names[i], label_values[i]);
	if (extra_name != NULL)
		label(b, &first, extra_name, extra_value);
	if (!first)
		expo_buf_add(b, "}", 1);
	expo_buf_add(b, " ", 1);
}
