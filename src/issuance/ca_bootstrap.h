/*
 * ca_bootstrap.h: certfleet's CA at start-up, after the migrations and
 * before READY=1. The active CA is loaded from the database; on the first
 * start it is created (a root and an intermediate, keys sealed with the
 * master key) under an advisory lock, so daemons sharing one database
 * create one CA; or the operator's root and intermediate from [ca] are
 * checked, stored the same way and made active. The root is then written
 * to <state_directory>/ca-root.pem for trust distribution.
 */
#ifndef CERTFLEET_ISSUANCE_CA_BOOTSTRAP_H
#define CERTFLEET_ISSUANCE_CA_BOOTSTRAP_H

struct ca;
struct daemon_ctx;

/* The name of certfleet's own CA: subjects "CN=certfleet Root CA" and
 * "CN=certfleet Intermediate CA"; the root's row is "<name> root". */
#define CA_BOOTSTRAP_NAME "certfleet"
#define CA_ROOT_FILE "ca-root.pem"

/*
 * Runs on the loop thread with the signing context (now the callee's) and
 * rc 0, or ca NULL and rc < 0 with a message: -ECONNRESET when the
 * database went away (try again later); anything else is fatal (the
 * operator's files do not check out, the master key does not open the
 * stored CA key).
 */
typedef void (*ca_bootstrap_done_fn)(int rc, struct ca *ca, const char *err,
    void *arg);

/* Starts the work on a database thread; done runs exactly once. */
void ca_bootstrap_start(struct daemon_ctx *ctx, ca_bootstrap_done_fn done,
    void *arg);

/*
 * Writes pem to path atomically (a temporary file in the same folder,
 * fsync, rename) with mode 0644. For the root file and for tests.
 */
int ca_write_public_file(const char *path, const char *pem,
    char **reterr_msg);

#endif
