/*
 * dbpool.c: a fixed set of database threads, each owning one libpq
 * connection, fed from one queue.
 *
 * Work runs synchronously on a thread; its completion is queued back and the
 * loop thread is woken with event_active() (libevent's pthread locking is on,
 * so this is safe from any thread). A thread reconnects with exponential
 * backoff and jitter; while it has no connection, work fails at once with
 * -ECONNRESET so that callers can answer "service unavailable" instead of
 * waiting. Before each piece of work the connection is checked without
 * blocking, so a server restart costs no request an error.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "loop/dbpool.h"

#define BACKOFF_MIN_MS 250

struct db_job {
	TAILQ_ENTRY(db_job) entry;
	dbpool_work_fn work;
	dbpool_done_fn done;
	void *arg;
	int rc;
};
TAILQ_HEAD(db_job_list, db_job);

struct db_worker {
	struct dbpool *pool;
	pthread_t thread;
	PGconn *conn;
	unsigned generation;		/* pool generation conn was made in */
	int64_t next_attempt_ms;	/* monotonic; no reconnect before it */
	int64_t backoff_ms;		/* 0 after a successful connect */
	unsigned seed;			/* for rand_r jitter */
};

struct dbpool {
	struct event_base *base;
	struct dbpool_settings s;
	char *dsn;
	char *connect_timeout;		/* libpq wants whole seconds as text */

	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct db_job_list queue;	/* waiting for a thread */
	struct db_job_list finished;	/* waiting for the loop thread */
	unsigned pending;		/* queued + running */
	bool stopping;

	atomic_uint generation;		/* bumped by dbpool_reconnect_all */
	atomic_bool up;
	atomic_bool known;		/* up has been set at least once */
	bool state_dirty;		/* up changed; report on the loop */
	char *state_why;		/* reason for the last change */
	bool reported_valid;
	bool reported_up;

	struct event *wake;
	struct db_worker *workers;
	int n_workers;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Called on a database thread: records up/down for the loop to report. */
static void
pool_set_up(struct dbpool *pool, bool up, const char *why)
{
	if (atomic_load(&pool->known) && atomic_load(&pool->up) == up)
		return;
	pthread_mutex_lock(&pool->lock);
	atomic_store(&pool->known, true);
	atomic_store(&pool->up, up);
	pool->state_dirty = true;
	free(pool->state_why);
	pool->state_why = xstrdup(why ? why : "");
	pthread_mutex_unlock(&pool->lock);
	event_active(pool->wake, EV_READ, 0);
}

/* True if the connection is still usable, found out without blocking. */
static bool
conn_alive(PGconn *conn)
{
	struct pollfd pfd = { .fd = PQsocket(conn), .events = POLLIN };
	PGnotify *n;

	if (PQstatus(conn) != CONNECTION_OK || pfd.fd < 0)
		return false;
	/*
	 * Unsolicited input on an idle connection is a notice or the server's
	 * goodbye (a FATAL message, then end of file). One read may return the
	 * message alone, so keep reading while there is input: the end of
	 * file makes PQconsumeInput fail and marks the connection bad. A
	 * connection that keeps talking is bounded by the loop count.
	 */
	for (int i = 0; i < 8 && poll(&pfd, 1, 0) > 0; i++) {
		if (!PQconsumeInput(conn))
			return false;
		while ((n = PQnotifies(conn)) != NULL)
			PQfreemem(n);
	}
	return PQstatus(conn) == CONNECTION_OK;
}

static void
worker_backoff(struct db_worker *w)
{
	int64_t b = w->backoff_ms ? w->backoff_ms * 2 : BACKOFF_MIN_MS;

	if (b > w->pool->s.max_backoff_ms)
		b = w->pool->s.max_backoff_ms;
	w->backoff_ms = b;
	/* Jitter in [b/2, b) so that the threads do not retry in step. */
	w->next_attempt_ms = now_ms() + b / 2 + rand_r(&w->seed) % (b / 2 + 1);
}

/* libpq prints notices (and the server's goodbye) on stderr by default. */
static void
notice_to_log(void *arg, const char *message)
{
	log_debug("database: %.*s", (int)strcspn(message, "\n"), message);
}

static bool
worker_connect(struct db_worker *w)
{
	struct dbpool *pool = w->pool;
	const char *keys[] = { "dbname", "connect_timeout", "application_name",
		NULL };
	const char *values[] = { pool->dsn, pool->connect_timeout, "certfleetd",
		NULL };
	_cleanup_free_ char *err = NULL;
	_cleanup_free_ char *why = NULL;

	w->generation = atomic_load(&pool->generation);
	w->conn = PQconnectdbParams(keys, values, 1);
	PQsetNoticeProcessor(w->conn, notice_to_log, NULL);
	if (PQstatus(w->conn) == CONNECTION_OK &&
	    (pool->s.setup == NULL || pool->s.setup(w->conn, pool->s.setup_arg, &err) == 0)) {
		w->backoff_ms = 0;
		return true;
	}
	why = xstrdup(err ? err : PQerrorMessage(w->conn));
	why[strcspn(why, "\n")] = '\0';
	PQfinish(w->conn);
	w->conn = NULL;
	worker_backoff(w);
	pool_set_up(pool, false, why);
	return false;
}

static bool
worker_ensure_conn(struct db_worker *w)
{
	if (w->conn != NULL &&
	    w->generation == atomic_load(&w->pool->generation) &&
	    conn_alive(w->conn))
		return true;
	if (w->conn != NULL) {
		PQfinish(w->conn);
		w->conn = NULL;
		w->next_attempt_ms = 0;	/* it was up: try again at once */
	}
	/* Backoff spares a database that is away; once another thread got
	 * through, it is back, and this one need not wait out its own. */
	if (now_ms() < w->next_attempt_ms && !atomic_load(&w->pool->up))
		return false;
	return worker_connect(w);
}

static int
worker_run(struct db_worker *w, struct db_job *job)
{
	int rc;

	if (!worker_ensure_conn(w))
		return -ECONNRESET;
	rc = job->work(w->conn, job->arg);
	if (rc == -ECONNRESET || PQstatus(w->conn) != CONNECTION_OK) {
		PQfinish(w->conn);
		w->conn = NULL;
		w->next_attempt_ms = 0;
		pool_set_up(w->pool, false, "connection to the database lost");
		return -ECONNRESET;
	}
	pool_set_up(w->pool, true, "database connection established");
	return rc;
}

static void *
worker_main(void *arg)
{
	struct db_worker *w = arg;
	struct dbpool *pool = w->pool;
	struct db_job *job;

	for (;;) {
		pthread_mutex_lock(&pool->lock);
		while (!pool->stopping && TAILQ_EMPTY(&pool->queue))
			pthread_cond_wait(&pool->cond, &pool->lock);
		job = TAILQ_FIRST(&pool->queue);
		if (job == NULL) {
			pthread_mutex_unlock(&pool->lock);
			break;
		}
		TAILQ_REMOVE(&pool->queue, job, entry);
		pthread_mutex_unlock(&pool->lock);

		job->rc = worker_run(w, job);

		pthread_mutex_lock(&pool->lock);
		TAILQ_INSERT_TAIL(&pool->finished, job, entry);
		pthread_mutex_unlock(&pool->lock);
		event_active(pool->wake, EV_READ, 0);
	}
	PQfinish(w->conn);
	w->conn = NULL;
	return NULL;
}

/* Loop thread: hands finished work to its callbacks, reports state. */
static void
pool_drain(struct dbpool *pool)
{
	struct db_job_list done = TAILQ_HEAD_INITIALIZER(done);
	_cleanup_free_ char *why = NULL;
	bool dirty, up;
	struct db_job *job;

	pthread_mutex_lock(&pool->lock);
	TAILQ_CONCAT(&done, &pool->finished, entry);
	dirty = pool->state_dirty;
	pool->state_dirty = false;
	why = TAKE_PTR(pool->state_why);
	up = atomic_load(&pool->up);
	pthread_mutex_unlock(&pool->lock);

	if (dirty && (!pool->reported_valid || pool->reported_up != up)) {
		pool->reported_valid = true;
		pool->reported_up = up;
		if (pool->s.on_state)
			pool->s.on_state(up, why ? why : "", pool->s.state_arg);
	}
	while ((job = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, job, entry);
		pthread_mutex_lock(&pool->lock);
		pool->pending--;
		pthread_mutex_unlock(&pool->lock);
		job->done(job->rc, job->arg);
		free(job);
	}
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	pool_drain(arg);
}

struct dbpool *
dbpool_new(struct event_base *base, const struct dbpool_settings *settings)
{
	struct dbpool *pool = xcalloc(1, sizeof(*pool));
	int64_t secs = (settings->connect_timeout_ms + 999) / 1000;

	pool->base = base;
	pool->s = *settings;
	pool->dsn = xstrdup(settings->dsn ? settings->dsn : "");
	pool->s.dsn = pool->dsn;
	/* libpq treats 1 as 2 seconds anyway; keep what the operator said. */
	pool->connect_timeout = xasprintf("%lld", (long long)(secs < 1 ? 1 : secs));
	if (pool->s.max_backoff_ms < BACKOFF_MIN_MS)
		pool->s.max_backoff_ms = BACKOFF_MIN_MS;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->cond, NULL);
	TAILQ_INIT(&pool->queue);
	TAILQ_INIT(&pool->finished);
	pool->wake = event_new(base, -1, 0, on_wake, pool);
	pool->n_workers = settings->threads > 0 ? settings->threads : 1;
	pool->workers = xcalloc(pool->n_workers, sizeof(*pool->workers));
	for (int i = 0; i < pool->n_workers; i++) {
		struct db_worker *w = &pool->workers[i];

		w->pool = pool;
		w->seed = (unsigned)(now_ms() ^ (i * 7919));
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			log_error("cannot start database thread: %s",
			    strerror(errno));
			abort();
		}
	}
	return pool;
}

void
dbpool_free(struct dbpool *pool)
{
	if (pool == NULL)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->stopping = true;
	pthread_cond_broadcast(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	for (int i = 0; i < pool->n_workers; i++)
		pthread_join(pool->workers[i].thread, NULL);
	pool_drain(pool);
	event_free(pool->wake);
	pthread_cond_destroy(&pool->cond);
	pthread_mutex_destroy(&pool->lock);
	free(pool->state_why);
	free(pool->workers);
	free(pool->connect_timeout);
	free(pool->dsn);
	free(pool);
}

void
dbpool_submit(struct dbpool *pool, dbpool_work_fn work, dbpool_done_fn done,
    void *arg)
{
	struct db_job *job = xcalloc(1, sizeof(*job));

	job->work = work;
	job->done = done;
	job->arg = arg;
	pthread_mutex_lock(&pool->lock);
	TAILQ_INSERT_TAIL(&pool->queue, job, entry);
	pool->pending++;
	pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
}

void
dbpool_reconnect_all(struct dbpool *pool)
{
	atomic_fetch_add(&pool->generation, 1);
}

bool
dbpool_is_up(const struct dbpool *pool)
{
	return atomic_load(&pool->up);
}

unsigned
dbpool_pending(const struct dbpool *pool)
{
	struct dbpool *p = (struct dbpool *)pool;
	unsigned n;

	pthread_mutex_lock(&p->lock);
	n = p->pending;
	pthread_mutex_unlock(&p->lock);
	return n;
}
