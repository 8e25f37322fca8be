/*
 * clock_step.c: the wall-clock step watcher (see clock_step.h): one
 * CLOCK_REALTIME timerfd with TFD_TIMER_CANCEL_ON_SET, read on the loop.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/xmalloc.h"
#include "renewal/clock_step.h"

/* The timer is armed this far ahead: it is there to be cancelled, and
 * when it does expire, it is armed again. */
#define ARM_AHEAD_S (365 * 24 * 3600)

struct clock_step {
	int fd;
	const struct clock_step_io *io;
	struct event *ev;
	clock_step_fn fn;
	void *arg;
};

static int
timerfd_arm(int fd)
{
	struct itimerspec its = { 0 };
	struct timespec now;

	if (clock_gettime(CLOCK_REALTIME, &now) < 0)
		return -errno;
	its.it_value.tv_sec = now.tv_sec + ARM_AHEAD_S;
	if (timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET,
	    &its, NULL) < 0)
		return -errno;
	return 0;
}

const struct clock_step_io clock_step_timerfd_io = {
	.read = read,
	.arm = timerfd_arm,
};

/*
 * ECANCELED: the clock was set (the timer is cancelled until armed
 * again). A whole read: the far timer expired; nothing stepped. EAGAIN:
 * nothing to read after all. The arm error, if any, leaves the watcher
 * deaf; there is nobody to tell from here but the next read.
 */
static void
on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct clock_step *w = arg;
	uint64_t expirations;
	ssize_t n = w->io->read(w->fd, &expirations, sizeof(expirations));

	if (n < 0 && errno == ECANCELED) {
		(void)w->io->arm(w->fd);
		w->fn(w->arg);
	} else if (n == (ssize_t)sizeof(expirations)) {
		(void)w->io->arm(w->fd);
	}
}

int
clock_step_new_fd(struct event_base *base, int fd,
    const struct clock_step_io *io, clock_step_fn fn, void *arg,
    struct clock_step **out, char **reterr_msg)
{
	struct clock_step *w;
	int r;

	*out = NULL;
	if ((r = io->arm(fd)) < 0) {
		*reterr_msg = xasprintf("cannot arm the clock-step timer: %s",
		    strerror(-r));
		close(fd);
		return r;
	}
	w = xcalloc(1, sizeof(*w));
	w->fd = fd;
	w->io = io;
	w->fn = fn;
	w->arg = arg;
	w->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_readable, w);
	if (w->ev == NULL || event_add(w->ev, NULL) < 0) {
		*reterr_msg = xstrdup("cannot watch the clock-step timer");
		clock_step_free(w);
		return -ENOMEM;
	}
	*out = w;
	return 0;
}

int
clock_step_new(struct event_base *base, clock_step_fn fn, void *arg,
    struct clock_step **out, char **reterr_msg)
{
	int fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	int e = errno;

	*out = NULL;
	if (fd < 0) {
		*reterr_msg = xasprintf("timerfd_create: %s", strerror(e));
		return -e;
	}
	return clock_step_new_fd(base, fd, &clock_step_timerfd_io, fn, arg,
	    out, reterr_msg);
}

void
clock_step_free(struct clock_step *w)
{
	if (w == NULL)
		return;
	if (w->ev != NULL)
		event_free(w->ev);
	close(w->fd);
	free(w);
}
