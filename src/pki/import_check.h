/*
 * import_check.h: everything ACM checks when a certificate is imported
 * (ImportCertificate): the formats of the three PEM fields, the key type,
 * that the key matches, the validity period, the names, that the certificate
 * is a leaf, and that the chain verifies it.
 *
 * Decisions worth knowing:
 *  - All three fields must be PEM. DER, PKCS#12, PKCS#7 and encrypted keys
 *    are recognised and refused with the openssl command that converts them.
 *    No passphrase is ever asked for.
 *  - A chain is required unless the certificate is self-signed. For a
 *    self-signed certificate a chain is accepted if it holds only
 *    certificates, kept as given, and not verified: the certificate vouches
 *    for itself.
 *  - Size limits are the API layer's job.
 */
#ifndef CERTFLEET_PKI_IMPORT_CHECK_H
#define CERTFLEET_PKI_IMPORT_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "common/cleanup.h"

struct cert_info;

struct import_material {
	struct cert_info *info;
	char *certificate_pem; /* the leaf, re-encoded as one PEM block */
	/* The chain's certificates, re-encoded PEM blocks concatenated in the
	 * order given; NULL when no chain was given. */
	char *chain_pem;
	unsigned char *private_key_der; /* plaintext PKCS#8 DER; secret */
	size_t private_key_len;
};

/* Wipes the key; accepts NULL. */
void import_material_free(struct import_material *m);

/*
 * Checks an import at time now (epoch seconds). chain may be NULL/0.
 * Returns 0 and *out, or -EINVAL with a message an operator can act on
 * (becomes ACM's ValidationException).
 */
int pki_check_import(const void *cert, size_t cert_len, const void *key,
    size_t key_len, const void *chain, size_t chain_len, int64_t now,
    struct import_material **out, char **reterr_msg) _wur_;

#endif
