/*
 * ares_loop.c: c-ares on libevent, in the manner of PgBouncer's
 * dnslookup.c: c-ares reports through its socket-state callback which
 * sockets to watch; each gets a persistent event, and one timer follows
 * ares_timeout() so that retries and time-outs happen without polling.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "common/xmalloc.h"
#include "loop/ares_loop.h"

struct ares_sock {
	LIST_ENTRY(ares_sock) entry;
	ares_socket_t fd;
	struct event *ev;
};

struct ares_loop {
	struct event_base *base;
	ares_channel channel;
	struct event *timer;
	LIST_HEAD(ares_sock_list, ares_sock) socks;
};

static void
rearm_timer(struct ares_loop *loop)
{
	struct timeval tv, *tvp;

	tvp = ares_timeout(loop->channel, NULL, &tv);
	if (tvp == NULL)
		evtimer_del(loop->timer);
	else
		evtimer_add(loop->timer, tvp);
}

static void
on_socket(evutil_socket_t fd, short what, void *arg)
{
	struct ares_loop *loop = arg;

	ares_process_fd(loop->channel,
	    (what & EV_READ) ? fd : ARES_SOCKET_BAD,
	    (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	rearm_timer(loop);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct ares_loop *loop = arg;

	ares_process_fd(loop->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	rearm_timer(loop);
}

static struct ares_sock *
find_sock(struct ares_loop *loop, ares_socket_t fd)
{
	struct ares_sock *s;

	LIST_FOREACH(s, &loop->socks, entry)
		if (s->fd == fd)
			return s;
	return NULL;
}

static void
sock_state_cb(void *arg, ares_socket_t fd, int readable, int writable)
{
	struct ares_loop *loop = arg;
	struct ares_sock *s = find_sock(loop, fd);
	short events = EV_PERSIST | (readable ? EV_READ : 0) |
	    (writable ? EV_WRITE : 0);

	if (s != NULL) {
		event_free(s->ev);
		s->ev = NULL;
	}
	if (!readable && !writable) {
		if (s != NULL) {
			LIST_REMOVE(s, entry);
			free(s);
		}
		return;
	}
	if (s == NULL) {
		s = xcalloc(1, sizeof(*s));
		s->fd = fd;
		LIST_INSERT_HEAD(&loop->socks, s, entry);
	}
	s->ev = event_new(loop->base, fd, events, on_socket, loop);
	event_add(s->ev, NULL);
}

int
ares_loop_new(struct event_base *base, const struct ares_loop_settings *set,
    struct ares_loop **out, char **reterr_msg)
{
	struct ares_loop *loop = xcalloc(1, sizeof(*loop));
	struct ares_options opts = { 0 };
	int r;

	loop->base = base;
	LIST_INIT(&loop->socks);
	opts.sock_state_cb = sock_state_cb;
	opts.sock_state_cb_data = loop;
	opts.timeout = set->timeout_ms > 0 ? set->timeout_ms : 2000;
	opts.tries = set->tries > 0 ? set->tries : 2;
	r = ares_init_options(&loop->channel, &opts,
	    ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (r != ARES_SUCCESS) {
		*reterr_msg = xasprintf("cannot start the DNS resolver: %s",
		    ares_strerror(r));
		free(loop);
		return -EIO;
	}
	if (set->servers != NULL && set->servers[0] != '\0' &&
	    (r = ares_set_servers_ports_csv(loop->channel, set->servers)) !=
	    ARES_SUCCESS) {
		*reterr_msg = xasprintf("[dns] servers '%s': %s",
		    set->servers, ares_strerror(r));
		ares_destroy(loop->channel);
		free(loop);
		return -EINVAL;
	}
	loop->timer = evtimer_new(base, on_timer, loop);
	*out = loop;
	return 0;
}

ares_channel
ares_loop_channel(struct ares_loop *loop)
{
	return loop->channel;
}

void
ares_loop_kick(struct ares_loop *loop)
{
	rearm_timer(loop);
}

void
ares_loop_free(struct ares_loop *loop)
{
	struct ares_sock *s;

	if (loop == NULL)
		return;
	ares_destroy(loop->channel);	/* runs callbacks, closes sockets */
	while ((s = LIST_FIRST(&loop->socks)) != NULL) {
		LIST_REMOVE(s, entry);
		if (s->ev)
			event_free(s->ev);
		free(s);
	}
	event_free(loop->timer);
	free(loop);
}
