/*
 * workq.c: a fixed pool of threads fed from one queue; finished work is
 * queued back and the loop woken with event_active(), as in dbpool.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "loop/workq.h"

struct workq_item {
	TAILQ_ENTRY(workq_item) entry;
	workq_work_fn work;
	workq_done_fn done;
	void *arg;
	int rc;
};
TAILQ_HEAD(workq_list, workq_item);

struct workq {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct workq_list queue;
	struct workq_list finished;
	unsigned pending;
	bool stopping;
	struct event *wake;
	pthread_t *threads;
	int n_threads;
};

static void *
worker_main(void *arg)
{
	struct workq *q = arg;
	struct workq_item *it;

	for (;;) {
		pthread_mutex_lock(&q->lock);
		while (!q->stopping && TAILQ_EMPTY(&q->queue))
			pthread_cond_wait(&q->cond, &q->lock);
		it = TAILQ_FIRST(&q->queue);
		if (it == NULL) {
			pthread_mutex_unlock(&q->lock);
			return NULL;
		}
		TAILQ_REMOVE(&q->queue, it, entry);
		pthread_mutex_unlock(&q->lock);

		it->rc = it->work(it->arg);

		pthread_mutex_lock(&q->lock);
		TAILQ_INSERT_TAIL(&q->finished, it, entry);
		pthread_mutex_unlock(&q->lock);
		event_active(q->wake, EV_READ, 0);
	}
}

static void
drain(struct workq *q)
{
	struct workq_list done = TAILQ_HEAD_INITIALIZER(done);
	struct workq_item *it;

	pthread_mutex_lock(&q->lock);
	TAILQ_CONCAT(&done, &q->finished, entry);
	pthread_mutex_unlock(&q->lock);
	while ((it = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, it, entry);
		pthread_mutex_lock(&q->lock);
		q->pending--;
		pthread_mutex_unlock(&q->lock);
		it->done(it->rc, it->arg);
		free(it);
	}
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	drain(arg);
}

struct workq *
workq_new(struct event_base *base, int threads)
{
	struct workq *q = xcalloc(1, sizeof(*q));
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	if (threads <= 0)
		threads = cores > 0 ? (int)cores : 1;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	TAILQ_INIT(&q->queue);
	TAILQ_INIT(&q->finished);
	q->wake = event_new(base, -1, 0, on_wake, q);
	q->n_threads = threads;
	q->threads = xcalloc((size_t)threads, sizeof(*q->threads));
	for (int i = 0; i < threads; i++)
		if (pthread_create(&q->threads[i], NULL, worker_main, q) != 0) {
			log_error("cannot start worker thread: %s",
			    strerror(errno));
			abort();
		}
	return q;
}

void
workq_free(struct workq *q)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->lock);
	q->stopping = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	for (int i = 0; i < q->n_threads; i++)
		pthread_join(q->threads[i], NULL);
	drain(q);
	event_free(q->wake);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q->threads);
	free(q);
}

void
workq_submit(struct workq *q, workq_work_fn work, workq_done_fn done,
    void *arg)
{
	struct workq_item *it = xcalloc(1, sizeof(*it));

	it->work = work;
	it->done = done;
	it->arg = arg;
	pthread_mutex_lock(&q->lock);
	TAILQ_INSERT_TAIL(&q->queue, it, entry);
	q->pending++;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

unsigned
workq_pending(const struct workq *q)
{
	struct workq *m = (struct workq *)q;
	unsigned n;

	pthread_mutex_lock(&m->lock);
	n = m->pending;
	pthread_mutex_unlock(&m->lock);
	return n;
}

int
workq_threads(const struct workq *q)
{
	return q->n_threads;
}
