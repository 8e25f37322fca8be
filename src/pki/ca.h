/*
 * ca.h: certfleet's own certificate authority: creating its root and
 * intermediate, loading them (or an operator's) into a signing context, and
 * issuing leaf certificates the way ACM issues them.
 *
 * Decisions worth knowing:
 *  - The default CA key is EC P-256 (for both root and intermediate): it
 *    signs about twice as fast as RSA-2048, is created instantly on first
 *    start, makes a smaller chain, and every TLS client of the last decade
 *    accepts it. RSA-2048, 3072, 4096 and P-384 CAs can be chosen; leaves
 *    of any supported type are signed by either kind of CA.
 *  - The chain (ca_chain_pem) is the intermediate then the root, as ACM's
 *    GetCertificate returns its chain up to the root. That is what
 *    `openssl verify -CAfile root.pem -untrusted chain.pem cert.pem` takes,
 *    what ImportCertificate's chain check accepts, and what a TLS server may
 *    send after the leaf (RFC 8446 allows the root; a server that wants the
 *    shortest chain may drop the last block).
 *  - Loading checks what the signature and CA flags say, not the time: an
 *    expired CA still loads (existing certificates stay readable), and
 *    ca_issue refuses to issue from an expired intermediate.
 *  - A leaf never outlives its intermediate: NotAfter is clamped to the
 *    intermediate's NotAfter.
 *
 * Thread safety: a loaded struct ca is read-only. ca_issue may run on many
 * threads at once on one struct ca: each call signs through its own
 * EVP_MD_CTX (and so its own EVP_PKEY_CTX) over the shared EVP_PKEY, which
 * OpenSSL 3 allows for private-key operations (openssl-threads(7): objects
 * are safe to share while no thread modifies them; the key's provider-data
 * cache and RSA blinding are lock-protected); the extensions every leaf
 * shares are built once at load and only copied.
 */
#ifndef CERTFLEET_PKI_CA_H
#define CERTFLEET_PKI_CA_H

#include <stddef.h>
#include <stdint.h>

#include "common/cleanup.h"
#include "pki/certinfo.h"

#define CA_DEFAULT_KEY_ALGORITHM KEY_ALG_EC_P256
#define CA_DEFAULT_ROOT_VALIDITY (INT64_C(7305) * 86400) /* 20 years */
#define CA_DEFAULT_INTERMEDIATE_VALIDITY (INT64_C(3653) * 86400) /* 10 y */
#define CA_DEFAULT_LEAF_VALIDITY (INT64_C(395) * 86400) /* 13 months */
#define CA_DEFAULT_BACKDATE INT64_C(3600)
/* A subject CN holds at most 64 characters; " Intermediate CA" takes 16. */
#define CA_NAME_MAX 48

struct ca_create_params {
	/* Subjects "CN=<name> Root CA,O=certfleet" and "CN=<name>
	 * Intermediate CA,O=certfleet"; UTF-8, 1 to CA_NAME_MAX bytes. */
	const char *name;
	/* Key type of both CA keys; KEY_ALG_UNKNOWN: the default. */
	enum key_algorithm key_algorithm;
	int64_t now;			/* epoch seconds; 0: the clock */
	int64_t root_validity;		/* seconds; 0: the default */
	int64_t intermediate_validity;	/* seconds; 0: the default */
};

/* What ca_create makes, for the caller to seal and store. */
struct ca_material {
	char *root_pem;
	char *intermediate_pem;
	/* Plaintext PKCS#8 DER; secrets, wiped by ca_material_free. The root
	 * key is kept to sign the next intermediate one day. */
	unsigned char *root_key_der;
	size_t root_key_len;
	unsigned char *intermediate_key_der;
	size_t intermediate_key_len;
};

/* Wipes the keys; accepts NULL. */
void ca_material_free(struct ca_material *m);

/*
 * A new root (self-signed, CA:TRUE critical, keyCertSign and cRLSign, SKI)
 * and an intermediate signed by it (CA:TRUE pathlen:0 critical, SKI and AKI),
 * both back-dated by CA_DEFAULT_BACKDATE. -EINVAL with a message for bad
 * parameters, -EIO if OpenSSL fails.
 */
int ca_create(const struct ca_create_params *p, struct ca_material **out,
    char **reterr_msg) _wur_;

/* A signing context; opaque, read-only once loaded. */
struct ca;

/*
 * A signing context from stored material (the PEM certificates, and the
 * intermediate's key as unsealed PKCS#8 DER, not kept by the context). The
 * same checks as ca_load_files. -EINVAL with a message.
 */
int ca_load(const char *root_pem, const char *intermediate_pem,
    const unsigned char *intermediate_key_der, size_t len, struct ca **out,
    char **reterr_msg) _wur_;

/*
 * A signing context from an operator's PEM files: the intermediate's
 * certificate (the first block of the file), its unencrypted private key
 * (PKCS#8 or traditional), and the root that signed it. Checks that the
 * intermediate is a CA (basicConstraints CA:TRUE, keyCertSign if it has a
 * keyUsage), that the key is RSA of 2048 bits or more or EC P-256/384/521
 * and matches, and that the intermediate verifies against the root (which
 * may itself be an intermediate of a larger PKI: it is the trust anchor).
 * -ENOENT/-EACCES/... for an unreadable file, -EINVAL for a failed check,
 * with a message naming the file.
 */
int ca_load_files(const char *intermediate_cert_path,
    const char *intermediate_key_path, const char *root_cert_path,
    struct ca **out, char **reterr_msg) _wur_;

/* Accepts NULL. */
void ca_free(struct ca *ca);

/* The root (one PEM block), for trust distribution. */
const char *ca_root_pem(const struct ca *ca);
/* The intermediate then the root, PEM blocks concatenated. */
const char *ca_chain_pem(const struct ca *ca);

struct issue_params {
	/* The leaf's key; only its public half is read. RSA of 2048 bits or
	 * more, or EC P-256/384/521. Not modified, but not shared with other
	 * threads during the call either. */
	EVP_PKEY *public_key;
	/* names[0] is the subject CN (at most 64 characters, as ACM's first
	 * name); every name, including the first, is a DNS SAN, in order,
	 * duplicates (ignoring case) dropped. Names are checked by the caller
	 * against ACM's rules; here they must only be DNS names. */
	const char *const *names;
	size_t n_names;
	int64_t now;		/* epoch seconds; 0: the clock */
	int64_t backdate;	/* NotBefore = now - backdate; >= 0 */
	int64_t validity;	/* NotAfter = now + validity; > 0 */
	/* The serial as big-endian octets, 1 to 20, not zero (the top bit
	 * clear at 20), so that an issuance redone after a crash reuses the
	 * serial its intent recorded. NULL: 128 random bits. */
	const unsigned char *serial;
	size_t serial_len;
};

/* now 0, backdate CA_DEFAULT_BACKDATE, validity CA_DEFAULT_LEAF_VALIDITY. */
void issue_params_init(struct issue_params *p);

/*
 * Issues a leaf: the given serial or a 128-bit random positive one,
 * SHA-256 signature, basicConstraints CA:FALSE (critical), keyUsage
 * (critical) digitalSignature, plus keyEncipherment for an RSA key, extendedKeyUsage
 * serverAuth and clientAuth, SKI, AKI, SAN. *cert_pem is one PEM block
 * (malloc'd). -EINVAL with a message for bad parameters, -EKEYEXPIRED if the
 * intermediate has expired, -EIO if OpenSSL fails.
 */
int ca_issue(const struct ca *ca, const struct issue_params *p,
    char **cert_pem, char **reterr_msg) _wur_;

/*
 * ca_issue, plus the facts of the new leaf in *info (cert_info_free it):
 * what ca_issued_info gives, taken from the certificate in memory: reading
 * it back (its public key through OpenSSL 3's decoders) costs more than
 * signing it. On failure neither is set.
 */
int ca_issue_with_info(const struct ca *ca, const struct issue_params *p,
    char **cert_pem, struct cert_info **info, char **reterr_msg) _wur_;

/*
 * The facts the store keeps (serial as ACM spells it, names, dates,
 * algorithms, fingerprint) of an issued PEM certificate: cert_info_from_x509
 * on its parsed form.
 */
int ca_issued_info(const char *cert_pem, struct cert_info **out,
    char **reterr_msg) _wur_;

#endif
