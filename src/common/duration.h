/*
 * duration.h: the configuration's time spans ("250ms", "30s", "1h30m",
 * "60d", "2w") and byte sizes ("4MiB", "512KiB"), parsed strictly and
 * printed back in a form that parses to the same value.
 */
#ifndef CERTFLEET_COMMON_DURATION_H
#define CERTFLEET_COMMON_DURATION_H

#include <stddef.h>
#include <stdint.h>

#include "common/cleanup.h"

/* Longest text duration_format() and size_format() write, with the NUL. */
#define DURATION_FORMAT_MAX 64

/*
 * Parses one or more <digits><unit> terms with units ms, s, m, h, d, w,
 * each unit at most once and from the largest to the smallest ("1h30m",
 * "1d12h"), or a bare integer meaning seconds. No sign, spaces or
 * fractions. Returns 0, -EINVAL for text that is not a duration, or
 * -ERANGE when the value does not fit in int64 milliseconds.
 */
int duration_parse(const char *s, int64_t *out_ms) _wur_;

/*
 * Writes the value as whole weeks when it is one ("2w"), otherwise from
 * the largest unit down, days being the largest ("3d", "60d", "1h30m",
 * "1s500ms", "250ms", "0s"). A negative value is written as "0s". The
 * output is cut to fit len, which DURATION_FORMAT_MAX always fits.
 */
void duration_format(int64_t ms, char *buf, size_t len);

/*
 * Parses a byte count: digits with an optional unit B, KiB, MiB, GiB or
 * TiB ("100", "512KiB", "4MiB"). Returns 0, -EINVAL or -ERANGE.
 */
int size_parse(const char *s, uint64_t *out) _wur_;

/* Writes the largest IEC unit that divides the value ("4MiB", "1536KiB", "100"). */
void size_format(uint64_t bytes, char *buf, size_t len);

#endif
