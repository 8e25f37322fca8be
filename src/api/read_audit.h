/*
 * read_audit.h: the audit events of calls that change nothing, written in
 * groups (see read_audit.c).
 */
#ifndef CERTFLEET_API_READ_AUDIT_H
#define CERTFLEET_API_READ_AUDIT_H

struct api_call;
struct dbpool;
struct read_audit;

/* After the event is stored (rc 0) or could not be (rc < 0, err says why;
 * err is only valid during the call). Runs on the loop thread. */
typedef void (*read_audit_done_fn)(int rc, const char *err, void *arg);

struct read_audit *read_audit_new(struct dbpool *pool);
/* Before dbpool_free(): answers what is queued with -ECONNRESET, and
 * every later submission at once, so nothing waits for a pool that runs
 * no more work. Accepts NULL. */
void read_audit_stop(struct read_audit *ra);
/* After the pool is gone. Accepts NULL. */
void read_audit_free(struct read_audit *ra);
/*
 * Stores call's event, then calls done(rc, err, arg). call must stay as it
 * is until then: a database thread reads it. Loop thread only.
 */
void read_audit_submit(struct read_audit *ra, struct api_call *call,
    read_audit_done_fn done, void *arg);
/* Calls done(0, "", arg) once every event submitted so far is stored: at
 * once if none is waiting. */
void read_audit_after(struct read_audit *ra, read_audit_done_fn done,
    void *arg);
/* Events submitted and not yet stored (a stopping daemon waits for 0). */
unsigned read_audit_pending(const struct read_audit *ra);

#endif
