/*
 * test_clock_step.c: the wall-clock step watcher (src/renewal/clock_step.c).
 *
 * The kernel's side (a CLOCK_REALTIME timerfd armed with
 * TFD_TIMER_CANCEL_ON_SET fails its read with ECANCELED when the clock is
 * set) cannot be exercised without setting the machine's clock, which a
 * test must not do. So the watcher is driven through its io seam: an
 * eventfd stands in for the timerfd (written to make it readable), and a
 * fake read() drains it and then answers what the kernel would. What the
 * real timerfd io does is checked separately: arming it leaves a timer
 * armed far in the future that has not expired.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "renewal/clock_step.h"

/* What the fake kernel answers to the next read: a whole read (the
 * timer expired), or -1 with this errno. */
static int next_errno;
static int reads, arms, arm_result, steps;

static ssize_t
fake_read(int fd, void *buf, size_t n)
{
	uint64_t v;

	reads++;
	/* Drain the eventfd so the level-triggered event goes quiet. */
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return -1;
	if (next_errno != 0) {
		errno = next_errno;
		return -1;
	}
	*(uint64_t *)buf = 1;
	return (ssize_t)n;
}

static int
fake_arm(int fd)
{
	arms++;
	return arm_result;
}

static const struct clock_step_io fake_io = { fake_read, fake_arm };

static void
on_step(void *arg)
{
	steps++;
	*(int *)arg += 1;
}

struct fixture {
	struct event_base *base;
	int efd;
	struct clock_step *w;
	int calls;		/* the callback's own count, through arg */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char *err = NULL;

	next_errno = reads = arms = arm_result = steps = 0;
	f->base = event_base_new();
	f->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_non_null(f->base);
	assert_true(f->efd >= 0);
	assert_int_equal(clock_step_new_fd(f->base, f->efd, &fake_io,
	    on_step, &f->calls, &f->w, &err), 0);
	assert_null(err);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	clock_step_free(f->w);	/* closes efd */
	event_base_free(f->base);
	free(f);
	return 0;
}

/* Makes the descriptor readable and runs the loop once without waiting. */
static void
kernel_says(struct fixture *f, int err)
{
	uint64_t one = 1;

	next_errno = err;
	assert_int_equal(write(f->efd, &one, sizeof(one)), sizeof(one));
	assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE |
	    EVLOOP_NONBLOCK), 0);
}

static void
test_armed_at_creation(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(arms, 1);
	assert_int_equal(reads, 0);
	assert_int_equal(f->calls, 0);
}

static void
test_ecanceled_rearms_and_calls_back(void **state)
{
	struct fixture *f = *state;

	kernel_says(f, ECANCELED);
	assert_int_equal(reads, 1);
	assert_int_equal(arms, 2);
	assert_int_equal(f->calls, 1);
	/* And again: each step is one call. */
	kernel_says(f, ECANCELED);
	assert_int_equal(arms, 3);
	assert_int_equal(f->calls, 2);
}

static void
test_expiry_rearms_without_callback(void **state)
{
	struct fixture *f = *state;

	kernel_says(f, 0);
	assert_int_equal(reads, 1);
	assert_int_equal(arms, 2);
	assert_int_equal(f->calls, 0);
}

static void
test_eagain_does_nothing(void **state)
{
	struct fixture *f = *state;

	kernel_says(f, EAGAIN);
	assert_int_equal(reads, 1);
	assert_int_equal(arms, 1);
	assert_int_equal(f->calls, 0);
}

static void
test_quiet_descriptor_is_not_read(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE |
	    EVLOOP_NONBLOCK), 0);
	assert_int_equal(reads, 0);
	assert_int_equal(steps, 0);
}

static void
test_arm_failure_is_reported_and_fd_closed(void **state)
{
	struct event_base *base = event_base_new();
	struct clock_step *w = (struct clock_step *)1;
	char *err = NULL;
	int efd = eventfd(0, EFD_CLOEXEC);

	arms = 0;
	arm_result = -EINVAL;
	assert_int_equal(clock_step_new_fd(base, efd, &fake_io, on_step,
	    &(int){ 0 }, &w, &err), -EINVAL);
	assert_null(w);
	assert_non_null(err);
	assert_int_equal(close(efd), -1);	/* already closed */
	assert_int_equal(errno, EBADF);
	free(err);
	event_base_free(base);
}

/* The real io on a real timerfd: armed about a year ahead, not expired. */
static void
test_real_timerfd_arm(void **state)
{
	int fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	struct itimerspec cur;
	uint64_t v;

	assert_true(fd >= 0);
	assert_int_equal(clock_step_timerfd_io.arm(fd), 0);
	assert_int_equal(timerfd_gettime(fd, &cur), 0);
	assert_true(cur.it_value.tv_sec > 300 * 24 * 3600);
	assert_int_equal(cur.it_interval.tv_sec, 0);
	assert_int_equal(clock_step_timerfd_io.read(fd, &v, sizeof(v)), -1);
	assert_int_equal(errno, EAGAIN);
	close(fd);
}

/* The real watcher starts and stops cleanly and stays quiet. */
static void
test_real_watcher_quiet(void **state)
{
	struct event_base *base = event_base_new();
	struct clock_step *w = NULL;
	char *err = NULL;
	int calls = 0;

	assert_int_equal(clock_step_new(base, on_step, &calls, &w, &err), 0);
	assert_non_null(w);
	assert_int_equal(event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK),
	    0);
	assert_int_equal(calls, 0);
	clock_step_free(w);
	clock_step_free(NULL);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_armed_at_creation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_ecanceled_rearms_and_calls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_expiry_rearms_without_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eagain_does_nothing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_quiet_descriptor_is_not_read, setup, teardown),
		cmocka_unit_test(test_arm_failure_is_reported_and_fd_closed),
		cmocka_unit_test(test_real_timerfd_arm),
		cmocka_unit_test(test_real_watcher_quiet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
