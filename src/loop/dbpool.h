/*
 * dbpool.h: the database threads. libpq is used synchronously, but only on
 * these threads, so the event loop never waits for PostgreSQL: work is queued
 * here, runs on a thread that owns one connection, and its completion is
 * posted back to the loop thread.
 */
#ifndef CERTFLEET_LOOP_DBPOOL_H
#define CERTFLEET_LOOP_DBPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/cleanup.h"

struct event_base;
struct dbpool;
typedef struct pg_conn PGconn;

/*
 * Runs on a database thread with a connected, prepared connection. Returns
 * 0 or a negative errno; -ECONNRESET marks the connection broken.
 */
typedef int (*dbpool_work_fn)(PGconn *conn, void *arg);
/* Runs on the loop thread with work's result (-ECONNRESET when no
 * connection could be had). Owns arg from then on. */
typedef void (*dbpool_done_fn)(int rc, void *arg);
/* Runs on the loop thread when the database goes up or down. */
typedef void (*dbpool_state_fn)(bool up, const char *why, void *arg);
/* Runs on a database thread after each new connection (prepare statements). */
typedef int (*dbpool_setup_fn)(PGconn *conn, void *arg, char **reterr_msg);

struct dbpool_settings {
	const char *dsn;
	int threads;
	int64_t connect_timeout_ms;
	int64_t max_backoff_ms;
	dbpool_setup_fn setup;
	void *setup_arg;
	dbpool_state_fn on_state;
	void *state_arg;
};

struct dbpool *dbpool_new(struct event_base *base,
    const struct dbpool_settings *settings);
/* Stops the threads after the work already queued; calls no done callback
 * after it returns. Accepts NULL. */
void dbpool_free(struct dbpool *pool);

/* Queues work; done runs later on the loop thread, exactly once. */
void dbpool_submit(struct dbpool *pool, dbpool_work_fn work,
    dbpool_done_fn done, void *arg);

/*
 * Makes every thread reconnect before its next piece of work, so that new
 * connections run the setup hook again (after migrations, for example).
 */
void dbpool_reconnect_all(struct dbpool *pool);

/* Whether the last attempt to use the database succeeded. */
bool dbpool_is_up(const struct dbpool *pool);
/* Work queued or running, for status lines. */
unsigned dbpool_pending(const struct dbpool *pool);

#endif
