/*
 * certinfo.h: the facts about one X.509 certificate that ACM shows in
 * DescribeCertificate (Serial, Subject, SubjectAlternativeNames, KeyAlgorithm,
 * SignatureAlgorithm, KeyUsages, ...), read once from the certificate and
 * spelled the way ACM spells them.
 */
#ifndef CERTFLEET_PKI_CERTINFO_H
#define CERTFLEET_PKI_CERTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cleanup.h"

typedef struct x509_st X509;
typedef struct evp_pkey_st EVP_PKEY;

/* The key types ACM supports; names are ACM's KeyAlgorithm enum. */
enum key_algorithm {
	KEY_ALG_UNKNOWN = 0,
	KEY_ALG_RSA_1024,
	KEY_ALG_RSA_2048,
	KEY_ALG_RSA_3072,
	KEY_ALG_RSA_4096,
	KEY_ALG_EC_P256,
	KEY_ALG_EC_P384,
	KEY_ALG_EC_P521,
};

/* "RSA_2048", "EC_prime256v1", "EC_secp384r1", ...; NULL for UNKNOWN. */
const char *key_algorithm_name(enum key_algorithm alg);
/* -EINVAL if name is not one of ACM's KeyAlgorithm values. */
int key_algorithm_from_name(const char *name, enum key_algorithm *out) _wur_;
/* KEY_ALG_UNKNOWN for keys ACM does not support (RSA 8192, Ed25519...). */
enum key_algorithm key_algorithm_of_pkey(const EVP_PKEY *pkey);
/* For messages: "RSA 8192-bit", "EC secp224r1", "ED25519"; malloc'd. */
char *pkey_describe(const EVP_PKEY *pkey);

struct cert_info {
	/* Lower-case hex bytes joined by ':' ("0a:1b:2c"), as ACM's Serial. */
	char *serial;
	/* RFC 2253 order, most specific first:
	 * "CN=www.example.com,O=Example Corp,C=US". */
	char *subject;
	char *issuer;
	/* Subject CN if present and a DNS name, else the first DNS SAN;
	 * NULL if neither. */
	char *domain_name;
	/* SubjectAlternativeNames: domain_name first, then the other DNS
	 * SANs, without duplicates (case-insensitive); NULL-terminated. */
	char **names;
	size_t n_names;
	int64_t not_before, not_after; /* epoch seconds */
	enum key_algorithm key_algorithm;
	/* ACM style: "SHA256WITHRSA", "SHA384WITHECDSA", ... */
	char *signature_algorithm;
	/* ACM KeyUsageName values, in bit order; NULL-terminated. */
	char **key_usages;
	size_t n_key_usages;
	/* ACM ExtendedKeyUsageName values; unknown OIDs become one "CUSTOM";
	 * empty when the certificate has no extendedKeyUsage; NULL-terminated. */
	char **extended_key_usages;
	size_t n_extended_key_usages;
	char fingerprint_sha256[65]; /* lower-case hex of SHA-256 over the DER */
	bool is_ca;		     /* basicConstraints CA:TRUE */
	bool self_signed; /* subject == issuer and it verifies with its own key */
};

void cert_info_free(struct cert_info *info);

/*
 * Reads x509 (not consumed). -EINVAL with a message if the certificate
 * cannot be read (no public key, bad dates); an unsupported key type is
 * not an error here: key_algorithm is KEY_ALG_UNKNOWN.
 */
int cert_info_from_x509(X509 *x509, struct cert_info **out,
    char **reterr_msg) _wur_;

/*
 * The same for a certificate whose public key the caller holds: pub (not
 * consumed) stands in for X509_get0_pubkey, which has nothing to give for
 * a certificate built in memory with its key set as raw
 * SubjectPublicKeyInfo (ca_issue's EC leaves), and would cost a decoding
 * for one read back.
 */
int cert_info_from_x509_key(X509 *x509, EVP_PKEY *pub,
    struct cert_info **out, char **reterr_msg) _wur_;

/* True if s looks like a DNS name: LDH labels, optional "*." prefix. */
bool cert_is_dns_name(const char *s);

#endif
