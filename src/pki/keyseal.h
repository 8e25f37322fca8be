/*
 * keyseal.h: private keys at rest. Each sealed key has its own random
 * AES-256-GCM data key, wrapped (AES-256-GCM) by the daemon's master key;
 * the caller's AAD (the certificate ARN plus the certificate version, as one
 * string) is bound to both the wrap and the data, so a sealed key copied to
 * another certificate or version does not open.
 *
 * Sealed blob format, version 1 (89 bytes + plaintext length):
 *
 *   offset  size  field
 *   0       1     format version (1)
 *   1       12    nonce for the key wrap
 *   13      32    data key, encrypted under the master key
 *   45      16    GCM tag of the key wrap
 *   61      12    nonce for the data
 *   73      n     plaintext, encrypted under the data key
 *   73+n    16    GCM tag of the data
 *
 * The GCM AAD of both encryptions is the version byte followed by the
 * caller's AAD string (without its NUL).
 */
#ifndef CERTFLEET_PKI_KEYSEAL_H
#define CERTFLEET_PKI_KEYSEAL_H

#include <stddef.h>

#include "common/cleanup.h"

#define MASTER_KEY_LEN 32
#define KEYSEAL_VERSION 1
#define KEYSEAL_OVERHEAD (1 + 12 + 32 + 16 + 12 + 16)

/*
 * Missing file: creates it atomically (temporary file in the same folder,
 * mode 0600, then link(2) so a concurrent creator wins cleanly) with 32
 * random bytes, and fsyncs the file and the folder. Existing file: refuses
 * one that is not a regular file of exactly 32 bytes, or that group or
 * others may read or write (the message says `chmod 600 PATH`).
 * Returns 0, -EINVAL (bad file) or another -errno, with a message.
 */
int master_key_load_or_create(const char *path,
    unsigned char key[MASTER_KEY_LEN], char **reterr_msg) _wur_;

/* *sealed is malloc'd (*sealed_len = plain_len + KEYSEAL_OVERHEAD). */
int key_seal(const unsigned char master[MASTER_KEY_LEN], const char *aad,
    const unsigned char *plain, size_t plain_len, unsigned char **sealed,
    size_t *sealed_len, char **reterr_msg) _wur_;

/*
 * Caller frees *plain with secret_free(*plain, *plain_len). A wrong master
 * key, wrong AAD, unknown version, truncation or any tampering: -EBADMSG.
 */
int key_unseal(const unsigned char master[MASTER_KEY_LEN], const char *aad,
    const unsigned char *sealed, size_t sealed_len, unsigned char **plain,
    size_t *plain_len, char **reterr_msg) _wur_;

#endif
