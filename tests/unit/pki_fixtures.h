/*
 * pki_fixtures.h: certificates, keys and encoded files for the pki unit
 * tests, made in-process with OpenSSL so no fixture file can go stale.
 */
#ifndef CERTFLEET_TESTS_PKI_FIXTURES_H
#define CERTFLEET_TESTS_PKI_FIXTURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* Fixed "now" for every test: 2026-01-01T00:00:00Z. */
#define FIXTURE_NOW INT64_C(1767225600)
#define FIXTURE_DAY INT64_C(86400)

/* "RSA" with bits, "EC" with a curve name ("P-256"), or "ED25519". */
EVP_PKEY *fixture_key(const char *type, int bits, const char *curve);

struct fixture_cert_opts {
	const char *cn;		/* subject CN; NULL for none */
	const char *org;	/* subject O; NULL for none */
	const char *sans;	/* "DNS:a.example,DNS:b.example" or NULL */
	EVP_PKEY *key;		/* the certificate's key */
	X509 *issuer;		/* NULL: self-signed */
	EVP_PKEY *issuer_key;	/* NULL: self-signed with key */
	bool ca;		/* basicConstraints critical,CA:TRUE */
	const char *key_usage;	/* "digitalSignature,keyEncipherment" or NULL */
	const char *ext_key_usage; /* "serverAuth,clientAuth" or NULL */
	int64_t not_before, not_after; /* 0: NOW - 1 day, NOW + 90 days */
	const EVP_MD *md;	/* NULL: SHA-256 (none for Ed25519) */
	long serial;		/* 0: random */
};

X509 *fixture_cert(const struct fixture_cert_opts *o);

/* Encoders; each returns malloc'd bytes and sets *len (NUL-terminated). */
char *fixture_cert_pem(X509 *x, size_t *len);
char *fixture_key_pem(EVP_PKEY *k, size_t *len);	 /* PKCS#8 */
char *fixture_key_pem_traditional(EVP_PKEY *k, size_t *len); /* RSA/EC PRIVATE KEY */
char *fixture_key_pem_encrypted(EVP_PKEY *k, size_t *len);   /* ENCRYPTED PRIVATE KEY */
char *fixture_key_pem_encrypted_traditional(EVP_PKEY *k, size_t *len); /* Proc-Type */
unsigned char *fixture_cert_der(X509 *x, size_t *len);
unsigned char *fixture_key_der(EVP_PKEY *k, size_t *len);
unsigned char *fixture_pkcs12(X509 *x, EVP_PKEY *k, size_t *len);
unsigned char *fixture_pkcs7_der(X509 *a, X509 *b, size_t *len);
char *fixture_pkcs7_pem(X509 *a, X509 *b, size_t *len);

/* Concatenates NUL-terminated strings into a new one; last argument NULL. */
char *fixture_concat(const char *first, ...);

#endif
