/*
 * keygen.h: new private keys of the algorithms ACM issues (RSA 2048, 3072,
 * 4096; EC P-256 and P-384), and their plaintext PKCS#8 DER form, the form
 * key_seal() seals and the store keeps.
 *
 * Every function is thread-safe and may run on several worker threads at
 * once: each call uses its own OpenSSL contexts and no shared state.
 */
#ifndef CERTFLEET_PKI_KEYGEN_H
#define CERTFLEET_PKI_KEYGEN_H

#include <stddef.h>

#include "common/cleanup.h"
#include "pki/certinfo.h"

/*
 * A new key pair of alg into *out (EVP_PKEY_free it). -EINVAL with a message
 * for an algorithm certfleet does not issue (RSA 1024, P-521, UNKNOWN), -EIO
 * with OpenSSL's reasons if generation fails.
 */
int keygen_generate(enum key_algorithm alg, EVP_PKEY **out,
    char **reterr_msg) _wur_;

/*
 * The private key as plaintext PKCS#8 DER in *der (malloc'd; the caller
 * wipes it with secret_free(*der, *len)). -EIO if OpenSSL cannot encode it.
 */
int pkey_to_pkcs8_der(EVP_PKEY *k, unsigned char **der, size_t *len) _wur_;

/*
 * The reverse: a private key from plaintext PKCS#8 DER. -EINVAL if der is
 * not an unencrypted PKCS#8 private key.
 */
int pkey_from_pkcs8_der(const unsigned char *der, size_t len,
    EVP_PKEY **out) _wur_;

#endif
