/*
 * deploy.h: the deployer puts a certificate's current version where its
 * bindings say, on this host only, and makes the consumer pick it up.
 *
 * A binding (CertFleet.CreateBinding) names the daemon that deploys it by
 * host name; each daemon deploys only the bindings whose HostName is its
 * own [daemon] host_name, so a fleet sharing one database deploys locally
 * everywhere. Deploying one binding:
 *
 *   1. on a database thread: read the binding and the certificate's current
 *      version with its sealed key; unseal the key (the only place it is
 *      ever decrypted for deployment), write each file target atomically
 *      (temporary file in the same folder, owner, group and mode set on the
 *      open descriptor, write, fsync, rename, fsync of the folder), wipe
 *      the plaintext key. File writes are small and sit next to the read of
 *      the sealed key, so the plaintext never crosses threads, and the CPU
 *      queue stays free for key generation;
 *   2. the reload action, without blocking the loop: a command (argv, no
 *      shell) run with posix_spawn and watched from the loop through a
 *      pidfd plus a timer that kills it at TimeoutSeconds; or a systemd
 *      unit reloaded with ReloadOrRestartUnit over the system bus, on the
 *      CPU work queue since sd-bus calls block;
 *   3. on a database thread: the outcome in the binding (deploy_status,
 *      deployed_version, deployed_fingerprint, deploy_error, deployed_at)
 *      and the audit event "DeployCertificate" (the analog of KMS Decrypt).
 *
 * Besides what it is asked, the deployer re-reads this host's bindings every
 * few seconds (DEPLOY_SYNC_INTERVAL_MS) and deploys the stale ones: that is
 * how a binding created through another daemon's socket, or a version
 * renewed by another daemon, reaches this host. A deployment that fails is
 * recorded FAILED with the reason and retried after DEPLOY_RETRY_SECONDS. Bindings of one certificate deploy in parallel;
 * one binding is never deployed twice at once (a second request for it waits
 * for the first and then runs once more if the version moved).
 */
#ifndef CERTFLEET_RENEWAL_DEPLOY_H
#define CERTFLEET_RENEWAL_DEPLOY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct daemon_ctx;
struct deployer;

#define DEPLOY_SYNC_INTERVAL_MS 5000
#define DEPLOY_RETRY_SECONDS 60

/* The outcome for one binding; strings live until the callback returns. */
struct deploy_result {
	int64_t binding_id;
	const char *binding_arn;
	const char *certificate_arn;
	int version;			/* certificate version deployed */
	const char *fingerprint_sha256;	/* of that version, hex */
	int rc;				/* 0: files written and reloaded */
	const char *error;		/* NULL on success, else why */
	/* Endpoint to probe (NULL/0 when the binding has none). */
	const char *endpoint_address;
	int endpoint_port;
	const char *server_name;
};

/*
 * Called on the loop thread once every binding of the request finished:
 * results[0..n) (n is 0 when the certificate has no binding on this host).
 * rc is 0 when every one succeeded, else the first failure's.
 */
typedef void (*deploy_done_fn)(int rc, const struct deploy_result *results,
    size_t n, void *arg);

/*
 * Needs ctx->pool, ctx->base, ctx->cfg (host_name) and ctx->master_key.
 * Does nothing until deployer_start().
 */
struct deployer *deployer_new(struct daemon_ctx *ctx);

/*
 * Once the schema is ready: deploys whatever this host's bindings miss
 * (files absent, or a binding never deployed) or have stale (deployed
 * version or fingerprint not the certificate's current one).
 */
void deployer_start(struct deployer *d);

/*
 * Re-reads this host's bindings and deploys the stale ones (after
 * CreateBinding commits; cheap when nothing is stale).
 */
void deployer_sync(struct deployer *d);

/*
 * Deploys one binding (its certificate's current version) now; done may be
 * NULL. A binding of another host answers rc -EREMOTE without touching
 * anything.
 */
void deploy_binding(struct deployer *d, int64_t binding_id,
    deploy_done_fn done, void *arg);

/*
 * Deploys the current version of a certificate (by ARN) to every binding
 * of it on this host, reporting per binding: what the scheduler calls after
 * a renewal, before it probes the endpoints. A binding that is already
 * DEPLOYED at the current version with its files intact (the periodic
 * sync got there first) is reported as it is, without a second write or
 * reload. done may be NULL.
 */
void deployer_deploy_certificate(struct deployer *d,
    const char *certificate_arn, deploy_done_fn done, void *arg);

/*
 * Called on the loop thread after every deployment this daemon finished
 * (whoever asked for it, the periodic sync included): the scheduler's
 * scheduler_deployed() goes here. rc 0 or -errno; set once at start.
 */
typedef void (*deploy_observer_fn)(int64_t binding_id, int rc, void *arg);
void deployer_set_observer(struct deployer *d, deploy_observer_fn fn,
    void *arg);

/*
 * Shutdown: deployer_stop() before workq_free()/dbpool_free() (no new
 * deployments; reload commands in flight are killed, their bindings left
 * for the next start), deployer_free() after dbpool_free(). Both accept
 * NULL; no callback runs after deployer_stop().
 */
void deployer_stop(struct deployer *d);
void deployer_free(struct deployer *d);

#endif
