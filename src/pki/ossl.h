/*
 * ossl.h: small OpenSSL helpers shared by the pki module: scope-bound
 * cleanups for OpenSSL objects and the conversion of OpenSSL's error queue
 * into a message string (we never print the queue).
 */
#ifndef CERTFLEET_PKI_OSSL_H
#define CERTFLEET_PKI_OSSL_H

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/cleanup.h"

/*
 * Drains OpenSSL's error queue into "reason; reason" (malloc'd, never
 * NULL); "unknown error" when the queue is empty.
 */
char *ossl_error_string(void);

/* NUL-terminated copy of everything written to a memory BIO. */
char *ossl_bio_to_string(BIO *bio);

/* "CN=www.example.com,O=Example Corp,C=US" (RFC 2253, UTF-8 kept);
 * NULL on error. */
char *ossl_name_string(const X509_NAME *name);

static inline void
bio_freep(BIO **p)
{
	BIO_free_all(*p);
}
#define _cleanup_bio_ _cleanup_(bio_freep)

static inline void
x509_freep(X509 **p)
{
	X509_free(*p);
}
#define _cleanup_x509_ _cleanup_(x509_freep)

static inline void
evp_pkey_freep(EVP_PKEY **p)
{
	EVP_PKEY_free(*p);
}
#define _cleanup_evp_pkey_ _cleanup_(evp_pkey_freep)

static inline void
x509_stack_freep(STACK_OF(X509) **p)
{
	sk_X509_pop_free(*p, X509_free);
}
#define _cleanup_x509_stack_ _cleanup_(x509_stack_freep)

static inline void
evp_cipher_ctx_freep(EVP_CIPHER_CTX **p)
{
	EVP_CIPHER_CTX_free(*p);
}
#define _cleanup_cipher_ctx_ _cleanup_(evp_cipher_ctx_freep)

#endif
