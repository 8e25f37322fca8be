/*
 * workq.h: threads for CPU-heavy work (key generation, signing), so that the
 * loop keeps answering the control socket, probes and the approval page
 * while hundreds of keys are generated. Completion comes back on the loop.
 */
#ifndef CERTFLEET_LOOP_WORKQ_H
#define CERTFLEET_LOOP_WORKQ_H

struct event_base;
struct workq;

/* Runs on a worker thread; returns 0 or a negative errno. */
typedef int (*workq_work_fn)(void *arg);
/* Runs on the loop thread with work's result; owns arg from then on. */
typedef void (*workq_done_fn)(int rc, void *arg);

/* threads <= 0: one per online core. */
struct workq *workq_new(struct event_base *base, int threads);
/* Finishes the queued work, runs its callbacks, frees. Accepts NULL. */
void workq_free(struct workq *q);
void workq_submit(struct workq *q, workq_work_fn work, workq_done_fn done,
    void *arg);
/* Queued or running. */
unsigned workq_pending(const struct workq *q);
int workq_threads(const struct workq *q);

#endif
