/*
 * bench_util.h: what the benchmark programs share: a monotonic clock,
 * per-thread latency samples, a round's figures (rate and percentiles), the
 * median over rounds, a small random generator, strict number parsing and a
 * watchdog that ends a run that overstays its time budget.
 *
 * Benchmarks print figures; they never judge them.
 */
#ifndef CERTFLEET_TESTS_BENCH_UTIL_H
#define CERTFLEET_TESTS_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/cleanup.h"

/* Latencies of one thread in one round, in milliseconds. */
struct bench_samples {
	double *ms;
	size_t n;
	size_t cap;
	uint64_t errors;
};

/* The figures of one round (or the medians over rounds). */
struct bench_round {
	uint64_t requests;	/* completed without error */
	uint64_t errors;
	double seconds;		/* wall time of the round */
	double rps;		/* requests / seconds */
	double p50, p90, p99, max; /* milliseconds */
};

/* Seconds on the monotonic clock. */
double bench_now(void);

void bench_samples_add(struct bench_samples *s, double ms);
void bench_samples_reset(struct bench_samples *s);
void bench_samples_done(struct bench_samples *s);

/*
 * Merges the samples of nthreads threads into one round's figures; seconds
 * is the round's wall time.
 */
void bench_round_compute(struct bench_round *out,
    const struct bench_samples *per_thread, size_t nthreads, double seconds);

/* Each field of out is the median of that field over the rounds. */
void bench_round_median(struct bench_round *out,
    const struct bench_round *rounds, size_t n);

/*
 * Prints "<label> round <i>: ..." for a round (i >= 1) or "<label> median
 * of <n> rounds: ..." (i == 0), and for the median also a line
 * "RESULT name=<label> key=value ..." for scripts.
 */
void bench_round_print(FILE *f, const char *label, size_t i, size_t n,
    const struct bench_round *r, const char *extra);

/* xorshift64*: per-thread, seeded, good enough to pick ARNs. */
uint64_t bench_rand(uint64_t *state);

/* Parses a whole decimal number in [min, max]; 0 or -EINVAL. */
int bench_parse_long(const char *s, long min, long max, long *out) _wur_;

/*
 * Ends the process with status 3 and a message on stderr if it still runs
 * after the given number of seconds (0: no limit).
 */
void bench_watchdog(unsigned int seconds);

/* Reads a file of one string per line (empty lines skipped). */
int bench_read_lines(const char *path, char ***lines, size_t *n) _wur_;

#endif
