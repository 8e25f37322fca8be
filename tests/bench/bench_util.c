/*
 * bench_util.c: clock, samples, percentiles and medians for the benchmark
 * programs (see bench_util.h).
 *
 * Percentiles are nearest-rank over every sample of a round; a round's rate
 * is completed requests over the round's wall time, so a stalled client
 * shows up as a lower rate and a longer tail, not as a missing sample.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "tests/bench/bench_util.h"

double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
bench_samples_add(struct bench_samples *s, double ms)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		double *p = realloc(s->ms, cap * sizeof(*p));

		if (p == NULL)
			abort();
		s->ms = p;
		s->cap = cap;
	}
	s->ms[s->n++] = ms;
}

void
bench_samples_reset(struct bench_samples *s)
{
	s->n = 0;
	s->errors = 0;
}

void
bench_samples_done(struct bench_samples *s)
{
	free(s->ms);
	memset(s, 0, sizeof(*s));
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least p of them at or below. */
static double
percentile(const double *sorted, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	rank = (size_t)(p * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

void
bench_round_compute(struct bench_round *out,
    const struct bench_samples *per_thread, size_t nthreads, double seconds)
{
	size_t total = 0, i, k = 0;
	double *all;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < nthreads; i++) {
		total += per_thread[i].n;
		out->errors += per_thread[i].errors;
	}
	all = xcalloc(total ? total : 1, sizeof(*all));
	for (i = 0; i < nthreads; i++) {
		memcpy(all + k, per_thread[i].ms,
		    per_thread[i].n * sizeof(*all));
		k += per_thread[i].n;
	}
	qsort(all, total, sizeof(*all), cmp_double);
	out->requests = total;
	out->seconds = seconds;
	out->rps = seconds > 0 ? (double)total / seconds : 0;
	out->p50 = percentile(all, total, 0.50);
	out->p90 = percentile(all, total, 0.90);
	out->p99 = percentile(all, total, 0.99);
	out->max = total ? all[total - 1] : 0;
	free(all);
}

static double
median_of(const struct bench_round *rounds, size_t n, size_t offset)
{
	double *v = xcalloc(n ? n : 1, sizeof(*v));
	double m;
	size_t i;

	for (i = 0; i < n; i++)
		memcpy(&v[i], (const char *)&rounds[i] + offset, sizeof(double));
	qsort(v, n, sizeof(*v), cmp_double);
	m = n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	free(v);
	return m;
}

static uint64_t
median_u64(const struct bench_round *rounds, size_t n, int errors)
{
	uint64_t *v = xcalloc(n ? n : 1, sizeof(*v));
	uint64_t m;
	size_t i, j;

	for (i = 0; i < n; i++) {
		uint64_t x = errors ? rounds[i].errors : rounds[i].requests;

		for (j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	m = n ? v[n / 2] : 0;
	free(v);
	return m;
}

void
bench_round_median(struct bench_round *out, const struct bench_round *rounds,
    size_t n)
{
	memset(out, 0, sizeof(*out));
	out->requests = median_u64(rounds, n, 0);
	out->errors = median_u64(rounds, n, 1);
	out->seconds = median_of(rounds, n, offsetof(struct bench_round, seconds));
	out->rps = median_of(rounds, n, offsetof(struct bench_round, rps));
	out->p50 = median_of(rounds, n, offsetof(struct bench_round, p50));
	out->p90 = median_of(rounds, n, offsetof(struct bench_round, p90));
	out->p99 = median_of(rounds, n, offsetof(struct bench_round, p99));
	out->max = median_of(rounds, n, offsetof(struct bench_round, max));
}

void
bench_round_print(FILE *f, const char *label, size_t i, size_t n,
    const struct bench_round *r, const char *extra)
{
	if (i > 0)
		fprintf(f, "%s round %zu/%zu:", label, i, n);
	else
		fprintf(f, "%s median of %zu rounds:", label, n);
	fprintf(f, " %8.1f req/s  p50 %7.3f  p90 %7.3f  p99 %7.3f  max %8.3f ms"
	    "  (%llu ok, %llu errors, %.2f s)%s%s\n", r->rps, r->p50, r->p90,
	    r->p99, r->max, (unsigned long long)r->requests,
	    (unsigned long long)r->errors, r->seconds, extra ? "  " : "",
	    extra ? extra : "");
	if (i == 0)
		fprintf(f, "RESULT name=%s rounds=%zu rps=%.1f p50_ms=%.3f "
		    "p90_ms=%.3f p99_ms=%.3f max_ms=%.3f requests=%llu "
		    "errors=%llu\n", label, n, r->rps, r->p50, r->p90, r->p99,
		    r->max, (unsigned long long)r->requests,
		    (unsigned long long)r->errors);
	fflush(f);
}

uint64_t
bench_rand(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

int
bench_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static void
watchdog_fired(int sig)
{
	static const char msg[] = "benchmark: time budget exceeded, "
	    "stopping\n";
	ssize_t r = write(STDERR_FILENO, msg, sizeof(msg) - 1);

	(void)r;
	_exit(3);
}

void
bench_watchdog(unsigned int seconds)
{
	struct sigaction sa;

	if (seconds == 0)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watchdog_fired;
	sigaction(SIGALRM, &sa, NULL);
	alarm(seconds);
}

int
bench_read_lines(const char *path, char ***lines, size_t *n)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, **v = NULL;
	size_t cap = 0, len = 0, vcap = 0;
	ssize_t r;

	if (f == NULL)
		return -errno;
	while ((r = getline(&line, &cap, f)) >= 0) {
		while (r > 0 && (line[r - 1] == '\n' || line[r - 1] == '\r'))
			line[--r] = '\0';
		if (r == 0)
			continue;
		if (len == vcap) {
			vcap = vcap ? vcap * 2 : 1024;
			v = realloc(v, vcap * sizeof(*v));
			if (v == NULL)
				abort();
		}
		v[len++] = xstrdup(line);
	}
	free(line);
	fclose(f);
	*lines = v;
	*n = len;
	return 0;
}
