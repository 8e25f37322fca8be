/*
 * duration.c: strict parsing and exact printing of durations and sizes for
 * the configuration file. The parsers refuse anything ambiguous (signs,
 * spaces, fractions, repeated or out-of-order units) so a typo in a config
 * file is an error at start, not a surprising timeout in production.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/duration.h"

struct unit {
	const char *name;
	int64_t factor;
};

/* Largest first: the order terms must appear in and the order we print. */
static const struct unit duration_units[] = {
	{ "w", 7LL * 24 * 3600 * 1000 },
	{ "d", 24LL * 3600 * 1000 },
	{ "h", 3600LL * 1000 },
	{ "m", 60LL * 1000 },
	{ "s", 1000 },
	{ "ms", 1 },
};

static const struct unit size_units[] = {
	{ "TiB", 1LL << 40 },
	{ "GiB", 1LL << 30 },
	{ "MiB", 1LL << 20 },
	{ "KiB", 1LL << 10 },
	{ "B", 1 },
};

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Reads the digits at *p into *out; -EINVAL when there are none. */
static int
read_number(const char **p, uint64_t *out)
{
	uint64_t v = 0;
	const char *s = *p;

	if (!is_digit(*s))
		return -EINVAL;
	for (; is_digit(*s); s++) {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
			return -ERANGE;
	}
	*p = s;
	*out = v;
	return 0;
}

/* Index of the unit spelled by the letters at *p (advanced past them), or -1. */
static int
read_unit(const char **p, const struct unit *units, size_t n)
{
	const char *s = *p;
	size_t len = 0;

	while (is_alpha(s[len]))
		len++;
	for (size_t i = 0; i < n; i++) {
		if (strlen(units[i].name) == len &&
		    strncmp(units[i].name, s, len) == 0) {
			*p = s + len;
			return (int)i;
		}
	}
	return -1;
}

/* Adds n * factor to *total, failing when the result leaves int64. */
static int
add_term(int64_t *total, uint64_t n, int64_t factor)
{
	int64_t term;

	if (n > INT64_MAX || __builtin_mul_overflow((int64_t)n, factor, &term) ||
	    __builtin_add_overflow(*total, term, total))
		return -ERANGE;
	return 0;
}

int
duration_parse(const char *s, int64_t *out_ms)
{
	int64_t total = 0;
	int last = -1, u, r;
	uint64_t n;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	while (*s != '\0') {
		if ((r = read_number(&s, &n)) < 0)
			return r;
		if (*s == '\0' && last == -1) {
			/* A bare integer means seconds. */
			u = (int)ELEMENTSOF(duration_units) - 2;
		} else {
			u = read_unit(&s, duration_units,
			    ELEMENTSOF(duration_units));
			if (u < 0 || u <= last)
				return -EINVAL;
		}
		if ((r = add_term(&total, n, duration_units[u].factor)) < 0)
			return r;
		last = u;
	}
	*out_ms = total;
	return 0;
}

/* Appends "<n><unit>" to buf at *off, cutting at len. */
static void
append_term(char *buf, size_t len, size_t *off, int64_t n, const char *unit)
{
	int w;

	if (*off >= len)
		return;
	w = snprintf(buf + *off, len - *off, "%lld%s", (long long)n, unit);
	if (w > 0)
		*off += (size_t)w;
}

void
duration_format(int64_t ms, char *buf, size_t len)
{
	const int64_t week = duration_units[0].factor;
	size_t off = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (ms <= 0) {
		append_term(buf, len, &off, 0, "s");
		return;
	}
	if (ms % week == 0) {
		append_term(buf, len, &off, ms / week, "w");
		return;
	}
	/* Weeks are left out here: "8w4d" reads worse than "60d". */
	for (size_t i = 1; i < ELEMENTSOF(duration_units); i++) {
		int64_t f = duration_units[i].factor;

		if (ms >= f) {
			append_term(buf, len, &off, ms / f,
			    duration_units[i].name);
			ms %= f;
		}
	}
}

int
size_parse(const char *s, uint64_t *out)
{
	uint64_t n, v;
	int u, r;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	if ((r = read_number(&s, &n)) < 0)
		return r;
	if (*s == '\0') {
		*out = n;
		return 0;
	}
	u = read_unit(&s, size_units, ELEMENTSOF(size_units));
	if (u < 0 || *s != '\0')
		return -EINVAL;
	if (__builtin_mul_overflow(n, (uint64_t)size_units[u].factor, &v))
		return -ERANGE;
	*out = v;
	return 0;
}

void
size_format(uint64_t bytes, char *buf, size_t len)
{
	if (len == 0)
		return;
	for (size_t i = 0; i + 1 < ELEMENTSOF(size_units); i++) {
		uint64_t f = (uint64_t)size_units[i].factor;

		if (bytes != 0 && bytes % f == 0) {
			snprintf(buf, len, "%llu%s",
			    (unsigned long long)(bytes / f), size_units[i].name);
			return;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)bytes);
}
