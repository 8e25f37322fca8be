/*
 * deploy_files.h: the file half of a deployment, without the daemon: turn a
 * binding's stored file targets and a certificate version into files on
 * disk, each written atomically with the owner, group and mode asked for,
 * and tell whether the files already on disk are the version's.
 *
 * Targets are the JSON array stored in bindings.file_targets:
 *   [{"content": "CERTIFICATE"|"CHAIN"|"FULLCHAIN"|"KEY", "path": "/abs",
 *     "owner": "name or uid", "group": "name or gid", "mode": "0640"}]
 */
#ifndef CERTFLEET_RENEWAL_DEPLOY_FILES_H
#define CERTFLEET_RENEWAL_DEPLOY_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/cleanup.h"

/* What the files of one version hold; the key is DER, as sealed. */
struct deploy_content {
	const char *certificate_pem;
	const char *chain_pem;		/* NULL: none (an empty CHAIN file) */
	const unsigned char *key_der;	/* NULL when no target needs it */
	size_t key_der_len;
};

/*
 * Writes data to path atomically: a temporary file in the same folder
 * (created 0600), fchown/fchmod on the descriptor, write, fsync, rename
 * over path, fsync of the folder. The folder must exist. On failure the
 * temporary file is removed and path is untouched.
 */
int deploy_write_atomic(const char *path, const void *data, size_t len,
    uid_t uid, gid_t gid, mode_t mode, char **reterr_msg) _wur_;

/* A user or group name, or a numeric id; -ENOENT when unknown here. */
int deploy_lookup_user(const char *name, uid_t *uid, char **reterr_msg) _wur_;
int deploy_lookup_group(const char *name, gid_t *gid,
    char **reterr_msg) _wur_;

/* Whether some target is the private key (so the key must be unsealed). */
bool deploy_targets_need_key(const char *targets_json);

/*
 * Writes every target. The private key is converted from DER to PEM
 * (PKCS#8) in memory that is wiped before it is freed. Stops at the first
 * failure, naming the path.
 */
int deploy_write_targets(const char *targets_json,
    const struct deploy_content *c, char **reterr_msg) _wur_;

/*
 * True when every target exists and the certificate, chain and full chain
 * files hold exactly this version's text (the key file is only checked for
 * presence: reading it back would mean decrypting the key to compare).
 */
bool deploy_targets_intact(const char *targets_json,
    const struct deploy_content *c);

#endif
