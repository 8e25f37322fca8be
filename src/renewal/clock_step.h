/*
 * clock_step.h: tells the loop when the wall clock is stepped (an NTP
 * step, settimeofday or clock_settime, a resume from suspend), because
 * renewal due times are wall-clock values in the database and a step
 * changes what is due without any timer noticing.
 *
 * Linux's way: a timerfd on CLOCK_REALTIME armed far in the future with
 * TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET. The kernel cancels it when
 * the clock is set, and its read then fails with ECANCELED; the watcher
 * re-arms it and calls back. A watcher costs no wake-ups while the clock
 * runs smoothly (slewing, as adjtime does, is not a step).
 */
#ifndef CERTFLEET_RENEWAL_CLOCK_STEP_H
#define CERTFLEET_RENEWAL_CLOCK_STEP_H

#include <stddef.h>
#include <sys/types.h>

#include "common/cleanup.h"

struct event_base;
struct clock_step;

typedef void (*clock_step_fn)(void *arg);

/* Calls fn(arg) on the loop after each step of the wall clock. */
int clock_step_new(struct event_base *base, clock_step_fn fn, void *arg,
    struct clock_step **out, char **reterr_msg) _wur_;
/* Accepts NULL. */
void clock_step_free(struct clock_step *w);

/*
 * What the watcher does with its descriptor, so that tests can stand in
 * for the kernel: read() as read(2), arm() (re)arms the descriptor (0 or
 * -errno). clock_step_timerfd_io is the real one.
 */
struct clock_step_io {
	ssize_t (*read)(int fd, void *buf, size_t n);
	int (*arm)(int fd);
};

extern const struct clock_step_io clock_step_timerfd_io;

/*
 * As clock_step_new() on a descriptor the caller opened (the watcher owns
 * it from now on, and closes it even on failure), through io: arms it,
 * then watches it for reads.
 */
int clock_step_new_fd(struct event_base *base, int fd,
    const struct clock_step_io *io, clock_step_fn fn, void *arg,
    struct clock_step **out, char **reterr_msg) _wur_;

#endif
