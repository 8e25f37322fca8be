/*
 * import_check.c: the checks ImportCertificate makes on the certificate,
 * private key and chain an operator gives us, with messages that say how
 * to fix what is wrong (often the openssl command that converts a file).
 *
 * Each field is read block by block with PEM_read_bio, which never decrypts,
 * so an encrypted key is recognised by its block type or Proc-Type header and
 * refused; no code path can ask for a passphrase.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "common/xmalloc.h"
#include "pki/certinfo.h"
#include "pki/import_check.h"
#include "pki/ossl.h"

enum field {
	FIELD_CERT,
	FIELD_KEY,
	FIELD_CHAIN,
};

static const char *const field_names[] = {
	[FIELD_CERT] = "certificate",
	[FIELD_KEY] = "private key",
	[FIELD_CHAIN] = "certificate chain",
};

#define SUPPORTED_KEYS "ACM supports RSA keys of 1024, 2048, 3072 or 4096 " \
	"bits and EC keys on the curves P-256 (prime256v1), P-384 " \
	"(secp384r1) and P-521 (secp521r1)"

#define MSG_PKCS12 "The %s is a PKCS#12 (.p12/.pfx) bundle, but ACM accepts " \
	"PEM only. Extract the certificate with `openssl pkcs12 -in " \
	"bundle.p12 -nokeys -out cert.pem` and the private key with " \
	"`openssl pkcs12 -in bundle.p12 -nocerts -nodes -out key.pem`, then " \
	"import those files."

#define MSG_ENCRYPTED "The private key is encrypted with a passphrase, but " \
	"ACM accepts only unencrypted private keys. Decrypt it with `openssl " \
	"pkey -in key.pem -out key-decrypted.pem` and import key-decrypted.pem."

/* One PEM block as PEM_read_bio returns it. */
struct pem_block {
	char *name;
	char *header;
	unsigned char *data;
	long len;
};

struct pem_blocks {
	struct pem_block *v;
	size_t n;
};

static void
pem_blocks_clear(struct pem_blocks *b)
{
	for (size_t i = 0; i < b->n; i++) {
		OPENSSL_free(b->v[i].name);
		OPENSSL_free(b->v[i].header);
		/* Key blocks hold secrets; wiping every block is simpler. */
		OPENSSL_clear_free(b->v[i].data, (size_t)b->v[i].len);
	}
	free(b->v);
	b->v = NULL;
	b->n = 0;
}

static void
time_iso8601(int64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "@%lld", (long long)t);
}

/* Names the binary format of a field that holds no PEM block at all. */
static char *
explain_not_pem(enum field f, const unsigned char *buf, size_t len)
{
	const unsigned char *p;
	const char *what = field_names[f];
	char *msg = NULL;
	void *obj;

	p = buf;
	if ((obj = d2i_X509(NULL, &p, (long)len)) != NULL) {
		X509_free(obj);
		msg = xasprintf("The %s is a certificate in DER (binary) form, "
		    "but ACM accepts PEM only. Convert it with `openssl x509 -inform der "
		    "-in cert.der -out cert.pem`.", what);
	} else if (p = buf, (obj = d2i_PKCS12(NULL, &p, (long)len)) != NULL) {
		PKCS12_free(obj);
		msg = xasprintf(MSG_PKCS12, what);
	} else if (p = buf, (obj = d2i_PKCS7(NULL, &p, (long)len)) != NULL) {
		PKCS7_free(obj);
		msg = xasprintf("The %s is a DER PKCS#7 (.p7b) bundle, but ACM "
		    "accepts PEM only. Convert it with `openssl pkcs7 -inform "
		    "der -print_certs -in chain.p7b -out chain.pem`.", what);
	} else if (p = buf, (obj = d2i_X509_SIG(NULL, &p, (long)len)) != NULL) {
		X509_SIG_free(obj);
		msg = xasprintf("The %s is an encrypted DER private key, but ACM "
		    "accepts only unencrypted PEM keys. Convert it with `openssl "
		    "pkey -inform der -in key.der -out key-decrypted.pem`.", what);
	} else if (p = buf, (obj = d2i_AutoPrivateKey(NULL, &p, (long)len)) !=
	    NULL) {
		EVP_PKEY_free(obj);
		msg = xasprintf("The %s is a private key in DER (binary) form, "
		    "but ACM accepts PEM only. Convert it with `openssl pkey -inform der "
		    "-in key.der -out key.pem`.", what);
	} else {
		msg = xasprintf("Could not parse the %s as PEM: no PEM block "
		    "(a line such as -----BEGIN %s-----) was found.", what,
		    f == FIELD_KEY ? "PRIVATE KEY" : "CERTIFICATE");
	}
	ERR_clear_error();
	return msg;
}

static int
read_pem_blocks(enum field f, const void *buf, size_t len,
    struct pem_blocks *out, char **reterr_msg)
{
	_cleanup_bio_ BIO *bio = NULL;

	/* Editors on Windows start files with a UTF-8 byte order mark. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		buf = (const unsigned char *)buf + 3;
		len -= 3;
	}
	if (len == 0) {
		*reterr_msg = xasprintf("The %s field is empty.", field_names[f]);
		return -EINVAL;
	}
	if (len > INT_MAX || (bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		*reterr_msg = xasprintf("The %s is too large.", field_names[f]);
		return -EINVAL;
	}
	ERR_clear_error();
	for (;;) {
		struct pem_block b = { 0 };
		unsigned long e;

		if (PEM_read_bio(bio, &b.name, &b.header, &b.data, &b.len)) {
			out->v = xrealloc(out->v, (out->n + 1) * sizeof(b));
			out->v[out->n++] = b;
			continue;
		}
		e = ERR_peek_last_error();
		if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
		    ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
			ERR_clear_error();
			if (out->n > 0)
				return 0;
			*reterr_msg = explain_not_pem(f, buf, len);
			return -EINVAL;
		}
		_cleanup_free_ char *err = ossl_error_string();
		*reterr_msg = xasprintf("Could not parse the %s as PEM: %s "
		    "(after %zu complete PEM block%s). Check that the file was "
		    "copied whole, including the -----END ...----- line.",
		    field_names[f], err, out->n, out->n == 1 ? "" : "s");
		return -EINVAL;
	}
}

static bool
is_private_key_block(const char *name)
{
	return strstr(name, "PRIVATE KEY") != NULL;
}

/* Refuses a block that does not belong in a certificate or chain field. */
static char *
explain_foreign_block(enum field f, const char *name)
{
	if (strcmp(name, "PKCS7") == 0)
		return xasprintf("The %s is a PKCS#7 (.p7b) bundle, but ACM "
		    "accepts PEM certificates only. Convert it with `openssl "
		    "pkcs7 -print_certs -in chain.p7b -out chain.pem`.",
		    field_names[f]);
	if (is_private_key_block(name) && f == FIELD_CHAIN)
		return xstrdup("The certificate chain field may contain only "
		    "certificates, but it contains a private key. Remove the "
		    "private key from the chain.");
	if (is_private_key_block(name))
		return xstrdup("The certificate field contains a private key. "
		    "Put the private key in the private key field and only "
		    "the certificate here.");
	return xasprintf("The %s field contains a PEM block of type \"%s\"; "
	    "it may contain only CERTIFICATE blocks.", field_names[f], name);
}

static int
parse_certificates(enum field f, const void *buf, size_t len,
    STACK_OF(X509) **out, char **reterr_msg)
{
	struct pem_blocks blocks = { 0 };
	_cleanup_x509_stack_ STACK_OF(X509) *certs = sk_X509_new_null();
	int r = 0;

	if (certs == NULL)
		return -ENOMEM;
	r = read_pem_blocks(f, buf, len, &blocks, reterr_msg);
	for (size_t i = 0; r == 0 && i < blocks.n; i++) {
		const unsigned char *p = blocks.v[i].data;
		X509 *x;

		if (strcmp(blocks.v[i].name, "CERTIFICATE") != 0 &&
		    strcmp(blocks.v[i].name, "X509 CERTIFICATE") != 0) {
			*reterr_msg = explain_foreign_block(f,
			    blocks.v[i].name);
			r = -EINVAL;
			break;
		}
		x = d2i_X509(NULL, &p, blocks.v[i].len);
		if (x == NULL) {
			_cleanup_free_ char *err = ossl_error_string();
			*reterr_msg = xasprintf("Could not parse the %s as PEM: "
			    "certificate %zu of %zu is not a valid X.509 "
			    "certificate: %s", field_names[f], i + 1, blocks.n,
			    err);
			r = -EINVAL;
			break;
		}
		if (!sk_X509_push(certs, x)) {
			X509_free(x);
			r = -ENOMEM;
		}
	}
	pem_blocks_clear(&blocks);
	if (r == 0)
		*out = TAKE_PTR(certs);
	return r;
}

static int
parse_leaf(const void *buf, size_t len, X509 **out, char **reterr_msg)
{
	_cleanup_x509_stack_ STACK_OF(X509) *certs = NULL;
	int r;

	r = parse_certificates(FIELD_CERT, buf, len, &certs, reterr_msg);
	if (r < 0)
		return r;
	if (sk_X509_num(certs) != 1) {
		*reterr_msg = xstrdup("The certificate field contains more "
		    "than one certificate. You can specify only one "
		    "certificate in this field.");
		return -EINVAL;
	}
	*out = sk_X509_shift(certs);
	return 0;
}

static char *
explain_key_block(const struct pem_block *b)
{
	if (strcmp(b->name, "ENCRYPTED PRIVATE KEY") == 0 ||
	    (b->header != NULL && strstr(b->header, "ENCRYPTED") != NULL))
		return xstrdup(MSG_ENCRYPTED);
	if (strstr(b->name, "CERTIFICATE") != NULL || strcmp(b->name,
	    "PKCS7") == 0)
		return xstrdup("The private key field contains a certificate. "
		    "Put the certificate in the certificate field (and the "
		    "CA certificates in the certificate chain) and only the "
		    "private key here.");
	if (strstr(b->name, "PUBLIC KEY") != NULL)
		return xstrdup("The private key field contains a public key; "
		    "it must contain the unencrypted private key "
		    "(-----BEGIN PRIVATE KEY-----).");
	return xasprintf("The private key field contains a PEM block of type "
	    "\"%s\"; it must contain one unencrypted private key "
	    "(PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY).", b->name);
}

static int
decode_key_blocks(const struct pem_blocks *blocks, EVP_PKEY **out,
    char **reterr_msg)
{
	_cleanup_evp_pkey_ EVP_PKEY *key = NULL;

	for (size_t i = 0; i < blocks->n; i++) {
		const struct pem_block *b = &blocks->v[i];
		const unsigned char *p = b->data;

		/* `openssl ecparam -genkey` writes the curve before the key. */
		if (strcmp(b->name, "EC PARAMETERS") == 0)
			continue;
		if (!is_private_key_block(b->name) || strcmp(b->name,
		    "ENCRYPTED PRIVATE KEY") == 0 || (b->header != NULL &&
		    strstr(b->header, "ENCRYPTED") != NULL)) {
			*reterr_msg = explain_key_block(b);
			return -EINVAL;
		}
		if (key != NULL) {
			*reterr_msg = xstrdup("The private key field contains "
			    "more than one private key. You can specify only "
			    "one private key in this field.");
			return -EINVAL;
		}
		key = d2i_AutoPrivateKey(NULL, &p, b->len);
		if (key == NULL) {
			_cleanup_free_ char *err = ossl_error_string();
			*reterr_msg = xasprintf("Could not parse the private "
			    "key as PEM: the %s block is not a valid key: %s",
			    b->name, err);
			return -EINVAL;
		}
	}
	if (key == NULL) {
		*reterr_msg = xstrdup("The private key field contains no "
		    "private key.");
		return -EINVAL;
	}
	*out = TAKE_PTR(key);
	return 0;
}

static int
parse_key(const void *buf, size_t len, EVP_PKEY **out, char **reterr_msg)
{
	struct pem_blocks blocks = { 0 };
	int r;

	r = read_pem_blocks(FIELD_KEY, buf, len, &blocks, reterr_msg);
	if (r == 0)
		r = decode_key_blocks(&blocks, out, reterr_msg);
	pem_blocks_clear(&blocks);
	return r;
}

static int
check_key(X509 *leaf, EVP_PKEY *key, char **reterr_msg)
{
	if (key_algorithm_of_pkey(key) == KEY_ALG_UNKNOWN) {
		_cleanup_free_ char *desc = pkey_describe(key);
		*reterr_msg = xasprintf("The private key is of an unsupported "
		    "type (%s). " SUPPORTED_KEYS ".", desc);
		return -EINVAL;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(leaf), key) != 1) {
		ERR_clear_error();
		*reterr_msg = xstrdup("The private key does not match the "
		    "certificate's public key.");
		return -EINVAL;
	}
	return 0;
}

static int
check_leaf(const struct cert_info *info, int64_t now, char **reterr_msg)
{
	char from[32], until[32], at[32];

	time_iso8601(info->not_before, from);
	time_iso8601(info->not_after, until);
	time_iso8601(now, at);
	if (now < info->not_before) {
		*reterr_msg = xasprintf("The certificate is not yet valid: it "
		    "is valid from %s until %s, and the time now is %s.", from,
		    until, at);
		return -EINVAL;
	}
	if (now > info->not_after) {
		*reterr_msg = xasprintf("The certificate has expired: it was "
		    "valid until %s, and the time now is %s. Import a renewed "
		    "certificate.", until, at);
		return -EINVAL;
	}
	if (info->is_ca) {
		*reterr_msg = xstrdup("The certificate is a CA certificate "
		    "(basicConstraints CA:TRUE). Import the leaf (end-entity) "
		    "certificate in the certificate field and put the CA "
		    "certificates in the certificate chain. For a self-signed "
		    "certificate made with `openssl req -x509`, add `-addext "
		    "basicConstraints=critical,CA:FALSE`.");
		return -EINVAL;
	}
	if (info->n_names == 0) {
		*reterr_msg = xstrdup("The certificate has no DNS name: neither "
		    "its subject common name (CN) nor its subject alternative "
		    "names hold a domain name. Import a certificate issued for "
		    "at least one domain name.");
		return -EINVAL;
	}
	return 0;
}

static char *
describe_failure(X509_STORE_CTX *ctx, X509 *leaf)
{
	int err = X509_STORE_CTX_get_error(ctx);
	int depth = X509_STORE_CTX_get_error_depth(ctx);
	X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
	_cleanup_free_ char *subject = NULL;

	if (cur == NULL)
		cur = leaf;
	subject = ossl_name_string(X509_get_subject_name(cur));
	char *msg = xasprintf("The certificate chain does not verify the "
	    "certificate: %s, at %s (depth %d, subject %s). The chain must "
	    "hold the CA certificates that issued this certificate, its "
	    "issuer first.", X509_verify_cert_error_string(err),
	    depth == 0 ? "the certificate itself" : "a chain certificate",
	    depth, subject != NULL ? subject : "unknown");
	return msg;
}

/*
 * Self-signed chain certificates are the trusted roots and the rest are
 * untrusted intermediates; a chain without a root is trusted from its last
 * certificate on (partial chain), as the operator vouches for it.
 */
static int
verify_chain(X509 *leaf, STACK_OF(X509) *chain, int64_t now,
    char **reterr_msg)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	bool have_root = false;
	int n = sk_X509_num(chain), r = -ENOMEM;

	if (store == NULL || ctx == NULL || untrusted == NULL)
		goto out;
	for (int i = 0; i < n; i++) {
		X509 *x = sk_X509_value(chain, i);
		if (X509_self_signed(x, 1) == 1) {
			have_root = true;
			X509_STORE_add_cert(store, x);
		} else if (!sk_X509_push(untrusted, x))
			goto out;
	}
	if (!have_root) {
		X509_STORE_add_cert(store, sk_X509_value(chain, n - 1));
		X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	}
	ERR_clear_error();
	if (!X509_STORE_CTX_init(ctx, store, leaf, untrusted))
		goto out;
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx),
	    (time_t)now);
	if (X509_verify_cert(ctx) == 1) {
		r = 0;
	} else {
		*reterr_msg = describe_failure(ctx, leaf);
		r = -EINVAL;
	}
out:
	ERR_clear_error();
	sk_X509_free(untrusted); /* the certificates belong to chain */
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return r;
}

static char *
certs_to_pem(STACK_OF(X509) *certs)
{
	_cleanup_bio_ BIO *bio = BIO_new(BIO_s_mem());

	if (bio == NULL)
		return NULL;
	for (int i = 0; i < sk_X509_num(certs); i++)
		if (!PEM_write_bio_X509(bio, sk_X509_value(certs, i)))
			return NULL;
	return ossl_bio_to_string(bio);
}

static char *
cert_to_pem(X509 *x)
{
	_cleanup_bio_ BIO *bio = BIO_new(BIO_s_mem());

	if (bio == NULL || !PEM_write_bio_X509(bio, x))
		return NULL;
	return ossl_bio_to_string(bio);
}

/* Plaintext PKCS#8 DER in a buffer of ours, so secret_free can wipe it. */
static int
key_to_pkcs8_der(EVP_PKEY *key, unsigned char **out, size_t *out_len)
{
	PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(key);
	unsigned char *buf, *p;
	int n;

	if (p8 == NULL)
		return -EIO;
	n = i2d_PKCS8_PRIV_KEY_INFO(p8, NULL);
	if (n <= 0) {
		PKCS8_PRIV_KEY_INFO_free(p8);
		return -EIO;
	}
	buf = p = xmalloc((size_t)n);
	if (i2d_PKCS8_PRIV_KEY_INFO(p8, &p) != n) {
		PKCS8_PRIV_KEY_INFO_free(p8);
		secret_free(buf, (size_t)n);
		return -EIO;
	}
	PKCS8_PRIV_KEY_INFO_free(p8);
	*out = buf;
	*out_len = (size_t)n;
	return 0;
}

void
import_material_free(struct import_material *m)
{
	if (m == NULL)
		return;
	cert_info_free(m->info);
	free(m->certificate_pem);
	free(m->chain_pem);
	secret_free(m->private_key_der, m->private_key_len);
	free(m);
}

static void
import_material_freep(struct import_material **p)
{
	import_material_free(*p);
}

static int
build_material(X509 *leaf, EVP_PKEY *key, STACK_OF(X509) *chain,
    struct import_material *m, char **reterr_msg)
{
	m->certificate_pem = cert_to_pem(leaf);
	if (chain != NULL)
		m->chain_pem = certs_to_pem(chain);
	if (m->certificate_pem == NULL || (chain != NULL &&
	    m->chain_pem == NULL) || key_to_pkcs8_der(key, &m->private_key_der,
	    &m->private_key_len) < 0) {
		_cleanup_free_ char *err = ossl_error_string();
		*reterr_msg = xasprintf("Could not re-encode the imported "
		    "certificate or key: %s", err);
		return -EIO;
	}
	return 0;
}

int
pki_check_import(const void *cert, size_t cert_len, const void *key,
    size_t key_len, const void *chain, size_t chain_len, int64_t now,
    struct import_material **out, char **reterr_msg)
{
	_cleanup_(import_material_freep) struct import_material *m = NULL;
	_cleanup_x509_ X509 *leaf = NULL;
	_cleanup_evp_pkey_ EVP_PKEY *pkey = NULL;
	_cleanup_x509_stack_ STACK_OF(X509) *chain_certs = NULL;
	int r;

	m = xcalloc(1, sizeof(*m));
	if ((r = parse_leaf(cert, cert_len, &leaf, reterr_msg)) < 0)
		return r;
	if (chain != NULL && chain_len > 0 && (r = parse_certificates(
	    FIELD_CHAIN, chain, chain_len, &chain_certs, reterr_msg)) < 0)
		return r;
	if ((r = parse_key(key, key_len, &pkey, reterr_msg)) < 0)
		return r;
	if ((r = check_key(leaf, pkey, reterr_msg)) < 0)
		return r;
	if ((r = cert_info_from_x509(leaf, &m->info, reterr_msg)) < 0)
		return r;
	if ((r = check_leaf(m->info, now, reterr_msg)) < 0)
		return r;
	if (!m->info->self_signed && chain_certs == NULL) {
		*reterr_msg = xstrdup("The certificate is not self-signed, so "
		    "a certificate chain is required: give the PEM "
		    "certificates of the intermediate CA(s) that issued it, "
		    "issuer first, optionally followed by the root.");
		return -EINVAL;
	}
	if (!m->info->self_signed &&
	    (r = verify_chain(leaf, chain_certs, now, reterr_msg)) < 0)
		return r;
	if ((r = build_material(leaf, pkey, chain_certs, m, reterr_msg)) < 0)
		return r;
	*out = TAKE_PTR(m);
	return 0;
}
