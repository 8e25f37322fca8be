/*
 * bindings.h: the SQL behind bindings (CertFleet.CreateBinding and
 * friends) and their deployment state. A binding ties a certificate to a
 * consumer on one fleet host; while one exists the certificate is "in use"
 * (InUseBy, ResourceInUseException on delete) and, when certfleet issued
 * it, ELIGIBLE for managed renewal.
 *
 * Same conventions as store.h: synchronous, on a connection of the
 * caller's, inside the caller's transaction where one is open; 0 or a
 * negative errno with a message.
 *
 * The deployment state needs no column of its own for the fingerprint:
 * versions are immutable, so deployed_version names the deployed bytes and
 * its fingerprint is read from certificate_versions.
 */
#ifndef CERTFLEET_STORE_BINDINGS_H
#define CERTFLEET_STORE_BINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cleanup.h"

typedef struct pg_conn PGconn;

/* A binding to write; the API has checked and normalised every field. */
struct store_binding_new {
	const char *arn;		/* the new BindingArn */
	const char *certificate_arn;
	const char *host_name;
	const char *endpoint_address;
	int endpoint_port;
	const char *server_name;	/* NULL: none */
	/* JSON array text: [{"content": "CERTIFICATE|CHAIN|FULLCHAIN|KEY",
	 * "path": ..., "owner": ..., "group": ..., "mode": "0640"}] */
	const char *file_targets;
	/* JSON object text {"command": [...], "timeout_seconds": N} or
	 * {"systemd_unit": ..., "timeout_seconds": N}; NULL: no reload. */
	const char *reload;
};

struct store_binding {
	int64_t id;
	char *arn;
	char *certificate_arn;
	char *certificate_type;		/* IMPORTED, AMAZON_ISSUED, ... */
	char *host_name;
	char *endpoint_address;
	int endpoint_port;
	char *server_name;		/* NULL: none */
	char *file_targets;		/* JSON text, as stored */
	char *reload;			/* JSON text or NULL */
	char *deploy_status;		/* PENDING, DEPLOYED, FAILED */
	char *deploy_error;		/* NULL unless FAILED */
	int deployed_version;		/* 0: never deployed */
	char *deployed_fingerprint;	/* of deployed_version; NULL if none */
	int64_t deployed_at;		/* epoch seconds; 0: never */
	int64_t created_at;
	int current_version;		/* the certificate's; 0 if none */
	char *current_fingerprint;
};

void store_binding_free(struct store_binding *b);
void store_bindings_free(struct store_binding *v, size_t n);

/*
 * Inserts a binding and makes an AMAZON_ISSUED certificate ELIGIBLE.
 * -ENOENT no such certificate; -EPERM the certificate has no issued
 * version to deploy (pending, failed, revoked...); -EEXIST the ARN exists.
 * *id gets the new row's id.
 */
int store_binding_create(PGconn *conn, const struct store_binding_new *b,
    int64_t *id, char **reterr_msg) _wur_;

/* One binding by ARN; -ENOENT. */
int store_binding_get(PGconn *conn, const char *arn,
    struct store_binding **out, char **reterr_msg) _wur_;
/* One binding by id; -ENOENT. */
int store_binding_get_id(PGconn *conn, int64_t id,
    struct store_binding **out, char **reterr_msg) _wur_;

/*
 * Deletes a binding; the certificate becomes INELIGIBLE when it was its
 * last one. -ENOENT. *certificate_arn (may be NULL) names the certificate.
 */
int store_binding_delete(PGconn *conn, const char *arn,
    char **certificate_arn, char **reterr_msg) _wur_;

struct store_binding_query {
	const char *certificate_arn;	/* NULL: any */
	const char *host_name;		/* NULL: any */
	int64_t after_id;		/* keyset position; 0 = start */
	int max_items;
};

/*
 * A page of bindings in creation order; *more when another page exists.
 * A certificate_arn that names no certificate is -ENOENT.
 */
int store_binding_list(PGconn *conn, const struct store_binding_query *q,
    struct store_binding **out, size_t *n, bool *more,
    char **reterr_msg) _wur_;

/*
 * The bindings of host_name, all of them or (stale_only) those whose
 * deployed version is not the certificate's current one or whose last
 * attempt did not succeed (a FAILED one only after 60 seconds, so that a
 * broken reload action is not retried in a loop); optionally of one
 * certificate only.
 */
int store_bindings_of_host(PGconn *conn, const char *host_name,
    const char *certificate_arn, bool stale_only, struct store_binding **out,
    size_t *n, char **reterr_msg) _wur_;

/* What a deployment writes: a version with its sealed key. */
struct store_deploy_material {
	int version;
	char *fingerprint_sha256;
	char *certificate_pem;
	char *chain_pem;		/* NULL: none */
	unsigned char *sealed_key;	/* free with secret_free */
	size_t sealed_key_len;
};

void store_deploy_material_clear(struct store_deploy_material *m);

/* The current version of the binding's certificate; -ENOENT. */
int store_binding_material(PGconn *conn, int64_t binding_id,
    struct store_deploy_material *m, char **reterr_msg) _wur_;

/*
 * Records a deployment's outcome: DEPLOYED with the version, or FAILED
 * with error (the deployed version stays what it was). -ENOENT when the
 * binding is gone.
 */
int store_binding_deployed(PGconn *conn, int64_t binding_id, int version,
    const char *error, char **reterr_msg) _wur_;

#endif
