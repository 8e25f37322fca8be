/*
 * curl_loop.c: the glue between curl's multi interface and libevent, after
 * curl's docs/examples/multi-event.c: curl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION) and when to wake it (CURLMOPT_TIMERFUNCTION);
 * we tell curl what happened with curl_multi_socket_action() and collect
 * finished transfers with curl_multi_info_read().
 */
#include <stdlib.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "loop/curl_loop.h"

struct curl_transfer;

struct curl_loop {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	unsigned active;
	LIST_HEAD(curl_transfer_list, curl_transfer) transfers;	/* for cancelling on free */
};

/* One per socket curl watches; curl keeps it as the socket's pointer. */
struct curl_sock {
	struct curl_loop *loop;
	struct event *ev;
};

/* What the loop keeps per transfer, as the easy handle's private data. */
struct curl_transfer {
	LIST_ENTRY(curl_transfer) entry;
	CURL *easy;
	curl_loop_done_fn done;
	void *arg;
};

static void
collect_finished(struct curl_loop *loop)
{
	struct curl_transfer *t;
	CURLMsg *msg;
	CURLcode result;
	CURL *easy;
	int left;

	while ((msg = curl_multi_info_read(loop->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		result = msg->data.result;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
		curl_multi_remove_handle(loop->multi, easy);
		LIST_REMOVE(t, entry);
		loop->active--;
		t->done(easy, result, t->arg);
		free(t);
	}
}

static void
on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct curl_loop *loop = arg;
	int flags = 0, running;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(loop->multi, fd, flags, &running);
	collect_finished(loop);
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct curl_loop *loop = arg;
	int running;

	curl_multi_socket_action(loop->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	collect_finished(loop);
}

static int
timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct curl_loop *loop = arg;
	struct timeval tv;

	if (timeout_ms < 0) {
		evtimer_del(loop->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(loop->timer, &tv);
	return 0;
}

static int
socket_cb(CURL *easy, curl_socket_t s, int what, void *arg, void *sockp)
{
	struct curl_loop *loop = arg;
	struct curl_sock *cs = sockp;
	short events = EV_PERSIST;

	if (what == CURL_POLL_REMOVE) {
		if (cs != NULL) {
			event_free(cs->ev);
			free(cs);
			curl_multi_assign(loop->multi, s, NULL);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EV_READ;
	if (what & CURL_POLL_OUT)
		events |= EV_WRITE;
	if (cs == NULL) {
		cs = xcalloc(1, sizeof(*cs));
		cs->loop = loop;
		curl_multi_assign(loop->multi, s, cs);
	} else {
		event_free(cs->ev);
	}
	cs->ev = event_new(loop->base, s, events, on_socket_event, loop);
	event_add(cs->ev, NULL);
	return 0;
}

struct curl_loop *
curl_loop_new(struct event_base *base)
{
	struct curl_loop *loop = xcalloc(1, sizeof(*loop));

	loop->base = base;
	LIST_INIT(&loop->transfers);
	loop->multi = curl_multi_init();
	if (loop->multi == NULL) {
		log_error("curl_multi_init failed");
		abort();
	}
	loop->timer = evtimer_new(base, on_timeout, loop);
	curl_multi_setopt(loop->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(loop->multi, CURLMOPT_SOCKETDATA, loop);
	curl_multi_setopt(loop->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(loop->multi, CURLMOPT_TIMERDATA, loop);
	return loop;
}

void
curl_loop_add(struct curl_loop *loop, CURL *easy, curl_loop_done_fn done,
    void *arg)
{
	struct curl_transfer *t = xcalloc(1, sizeof(*t));

	t->easy = easy;
	t->done = done;
	t->arg = arg;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
	LIST_INSERT_HEAD(&loop->transfers, t, entry);
	loop->active++;
	curl_multi_add_handle(loop->multi, easy);
}

unsigned
curl_loop_active(const struct curl_loop *loop)
{
	return loop->active;
}

void
curl_loop_free(struct curl_loop *loop)
{
	struct curl_transfer *t;

	if (loop == NULL)
		return;
	while ((t = LIST_FIRST(&loop->transfers)) != NULL) {
		LIST_REMOVE(t, entry);
		curl_multi_remove_handle(loop->multi, t->easy);
		t->done(t->easy, CURLE_ABORTED_BY_CALLBACK, t->arg);
		free(t);
	}
	curl_multi_cleanup(loop->multi);
	event_free(loop->timer);
	free(loop);
}
