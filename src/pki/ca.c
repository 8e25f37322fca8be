/*
 * ca.c: certfleet's certificate authority: the root and intermediate it
 * creates on first start (or an operator's), the checks made when they are
 * loaded, and the issuing of leaf certificates.
 *
 * A loaded struct ca is never written after ca_load returns, so worker
 * threads share it without a lock (see ca.h). The extensions that are the
 * same in every leaf are built once at load; the per-leaf work is the
 * serial, the dates, the names, the SKI and one signature.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "common/xmalloc.h"
#include "pki/ca.h"
#include "pki/certinfo.h"
#include "pki/keygen.h"
#include "pki/ossl.h"

#define CA_ORGANIZATION "certfleet"
/* 128 random bits; DER adds a 0x00 octet when the top bit is set, so the
 * serial is 16 or 17 octets, positive, within RFC 5280's 20. */
#define SERIAL_BYTES 16
/* ACM's limit on the first name, which becomes the subject CN. */
#define CN_MAX 64
/* No certificate or key file of ours comes near this. */
#define CA_FILE_MAX (1024 * 1024)
/* Longer validities are a mistake (and would overflow time arithmetic). */
#define VALIDITY_MAX (INT64_C(100) * 366 * 86400)

struct ca {
	X509 *root;
	X509 *intermediate;
	EVP_PKEY *key;		/* the intermediate's private key */
	EVP_MD *sha256;		/* fetched once: signatures */
	EVP_MD *sha1;		/* fetched once: SKI (RFC 5280 method 1) */
	char *root_pem;
	char *chain_pem;	/* the intermediate, then the root */
	int64_t not_after;	/* the intermediate's, epoch seconds */
	/* Extensions every leaf carries, built once, copied into each leaf. */
	X509_EXTENSION *basic_constraints;
	X509_EXTENSION *key_usage_rsa;
	X509_EXTENSION *key_usage_ec;
	X509_EXTENSION *ext_key_usage;
	X509_EXTENSION *authority_key_id;
};

/* Where loaded material came from, for messages. */
struct ca_labels {
	const char *root;
	const char *intermediate;
	const char *key;
};

static const struct ca_labels stored_labels = {
	.root = "(the stored root certificate)",
	.intermediate = "(the stored intermediate certificate)",
	.key = "(the stored intermediate key)",
};

static void
x509_name_freep(X509_NAME **p)
{
	X509_NAME_free(*p);
}
#define _cleanup_x509_name_ _cleanup_(x509_name_freep)

static void
ca_freep(struct ca **p)
{
	ca_free(*p);
}

static void
ca_material_freep(struct ca_material **p)
{
	ca_material_free(*p);
}

/* Fails with OpenSSL's reasons appended to what we were doing. */
static int
ossl_fail(char **reterr_msg, const char *what)
{
	_cleanup_free_ char *err = ossl_error_string();

	*reterr_msg = xasprintf("%s: %s", what, err);
	return -EIO;
}

static int64_t
clock_or(int64_t now)
{
	return now != 0 ? now : (int64_t)time(NULL);
}

static char *
x509_to_pem(X509 *x)
{
	_cleanup_bio_ BIO *bio = BIO_new(BIO_s_mem());

	if (bio == NULL || !PEM_write_bio_X509(bio, x))
		return NULL;
	return ossl_bio_to_string(bio);
}

static bool
asn1_time_epoch(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return false;
	*out = (int64_t)timegm(&tm);
	return true;
}

static bool
random_serial(X509 *x)
{
	unsigned char buf[SERIAL_BYTES];
	BIGNUM *bn = NULL;
	bool ok;

	/* Zero is not a valid serial; retrying costs nothing in practice. */
	do {
		BN_free(bn);
		if (RAND_bytes(buf, sizeof(buf)) != 1 ||
		    (bn = BN_bin2bn(buf, sizeof(buf), NULL)) == NULL)
			return false;
	} while (BN_is_zero(bn));
	ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok;
}

/* A serial the caller chose (checked by check_issue_params). */
static bool
given_serial(X509 *x, const unsigned char *serial, size_t len)
{
	BIGNUM *bn = BN_bin2bn(serial, (int)len, NULL);
	bool ok;

	ok = bn != NULL &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok;
}

static bool
set_validity(X509 *x, int64_t not_before, int64_t not_after)
{
	/* ASN1_TIME_set picks UTCTime through 2049, GeneralizedTime after. */
	return ASN1_TIME_set(X509_getm_notBefore(x), (time_t)not_before) &&
	    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after);
}

/* SHA-256 with the key's own scheme (ECDSA, or RSA PKCS#1 v1.5). */
static bool
sign_x509(X509 *x, EVP_PKEY *key, EVP_MD *md)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	bool ok;

	ok = mctx != NULL && EVP_DigestSignInit(mctx, NULL,
	    md != NULL ? md : EVP_sha256(), NULL, key) == 1 &&
	    X509_sign_ctx(x, mctx) > 0;
	EVP_MD_CTX_free(mctx);
	return ok;
}

/* The SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2, method 1). */
static ASN1_OCTET_STRING *
key_identifier(X509 *x, const EVP_MD *sha1)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	ASN1_OCTET_STRING *id;

	if (!X509_pubkey_digest(x, sha1 != NULL ? sha1 : EVP_sha1(), md, &len))
		return NULL;
	id = ASN1_OCTET_STRING_new();
	if (id != NULL && !ASN1_OCTET_STRING_set(id, md, (int)len)) {
		ASN1_OCTET_STRING_free(id);
		return NULL;
	}
	return id;
}

static bool
add_subject_key_id(X509 *x, const EVP_MD *sha1)
{
	ASN1_OCTET_STRING *id = key_identifier(x, sha1);
	bool ok = id != NULL && X509_add1_ext_i2d(x,
	    NID_subject_key_identifier, id, 0, X509V3_ADD_DEFAULT) == 1;

	ASN1_OCTET_STRING_free(id);
	return ok;
}

/* An extension from OpenSSL's configuration syntax, for constant values. */
static bool
add_conf_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, v3, nid, value);
	bool ok = e != NULL && X509_add_ext(x, e, -1);

	X509_EXTENSION_free(e);
	return ok;
}

/* ---- creating the CA ---------------------------------------------- */

/* "O=certfleet, CN=<cn>" in DER order (printed "CN=...,O=certfleet"). */
static X509_NAME *
ca_subject(const char *cn)
{
	_cleanup_x509_name_ X509_NAME *name = X509_NAME_new();

	if (name == NULL || !X509_NAME_add_entry_by_NID(name,
	    NID_organizationName, MBSTRING_UTF8,
	    (const unsigned char *)CA_ORGANIZATION, -1, -1, 0) ||
	    !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0))
		return NULL;
	return TAKE_PTR(name);
}

struct ca_cert_spec {
	X509_NAME *subject;
	EVP_PKEY *key;
	X509 *issuer;		/* NULL: self-signed */
	EVP_PKEY *issuer_key;	/* NULL: self-signed */
	int64_t not_before, not_after;
	const char *basic_constraints;
	const char *key_usage;
};

static X509 *
make_ca_cert(const struct ca_cert_spec *s)
{
	_cleanup_x509_ X509 *x = X509_new();
	X509V3_CTX v3;

	if (x == NULL || !X509_set_version(x, X509_VERSION_3) ||
	    !random_serial(x) ||
	    !set_validity(x, s->not_before, s->not_after) ||
	    !X509_set_pubkey(x, s->key) ||
	    !X509_set_subject_name(x, s->subject) ||
	    !X509_set_issuer_name(x, s->issuer != NULL ?
	    X509_get_subject_name(s->issuer) : s->subject))
		return NULL;
	X509V3_set_ctx(&v3, s->issuer != NULL ? s->issuer : x, x, NULL, NULL,
	    0);
	if (!add_conf_ext(x, &v3, NID_basic_constraints,
	    s->basic_constraints) ||
	    !add_conf_ext(x, &v3, NID_key_usage, s->key_usage) ||
	    !add_subject_key_id(x, NULL) ||
	    (s->issuer != NULL && !add_conf_ext(x, &v3,
	    NID_authority_key_identifier, "keyid:always")))
		return NULL;
	if (!sign_x509(x, s->issuer_key != NULL ? s->issuer_key : s->key,
	    NULL))
		return NULL;
	return TAKE_PTR(x);
}

static int
check_create_params(const struct ca_create_params *p, int64_t root_validity,
    int64_t inter_validity, char **reterr_msg)
{
	size_t len = p->name != NULL ? strlen(p->name) : 0;

	if (len == 0 || len > CA_NAME_MAX) {
		*reterr_msg = xasprintf("The CA name must be 1 to %d bytes "
		    "long.", CA_NAME_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p->name[i] < 0x20 || p->name[i] == 0x7f) {
			*reterr_msg = xstrdup("The CA name must not contain "
			    "control characters.");
			return -EINVAL;
		}
	if (root_validity <= 0 || inter_validity <= 0 ||
	    root_validity > VALIDITY_MAX || inter_validity > root_validity) {
		*reterr_msg = xstrdup("The CA validities must be positive, at "
		    "most 100 years, and the intermediate's no longer than "
		    "the root's.");
		return -EINVAL;
	}
	return 0;
}

static int
ca_material_fill(struct ca_material *m, X509 *root, EVP_PKEY *root_key,
    X509 *inter, EVP_PKEY *inter_key, char **reterr_msg)
{
	m->root_pem = x509_to_pem(root);
	m->intermediate_pem = x509_to_pem(inter);
	if (m->root_pem == NULL || m->intermediate_pem == NULL ||
	    pkey_to_pkcs8_der(root_key, &m->root_key_der,
	    &m->root_key_len) < 0 ||
	    pkey_to_pkcs8_der(inter_key, &m->intermediate_key_der,
	    &m->intermediate_key_len) < 0)
		return ossl_fail(reterr_msg, "Could not encode the new CA");
	return 0;
}

int
ca_create(const struct ca_create_params *p, struct ca_material **out,
    char **reterr_msg)
{
	_cleanup_evp_pkey_ EVP_PKEY *root_key = NULL, *inter_key = NULL;
	_cleanup_x509_ X509 *root = NULL, *inter = NULL;
	_cleanup_x509_name_ X509_NAME *root_name = NULL, *inter_name = NULL;
	_cleanup_(ca_material_freep) struct ca_material *m = NULL;
	_cleanup_free_ char *root_cn = NULL, *inter_cn = NULL;
	enum key_algorithm alg = p->key_algorithm != KEY_ALG_UNKNOWN ?
	    p->key_algorithm : CA_DEFAULT_KEY_ALGORITHM;
	int64_t now = clock_or(p->now);
	int64_t root_validity = p->root_validity != 0 ? p->root_validity :
	    CA_DEFAULT_ROOT_VALIDITY;
	int64_t inter_validity = p->intermediate_validity != 0 ?
	    p->intermediate_validity : CA_DEFAULT_INTERMEDIATE_VALIDITY;
	int r;

	if ((r = check_create_params(p, root_validity, inter_validity,
	    reterr_msg)) < 0)
		return r;
	root_cn = xasprintf("%s Root CA", p->name);
	inter_cn = xasprintf("%s Intermediate CA", p->name);
	if ((root_name = ca_subject(root_cn)) == NULL ||
	    (inter_name = ca_subject(inter_cn)) == NULL) {
		ERR_clear_error();
		*reterr_msg = xstrdup("The CA name is not valid UTF-8.");
		return -EINVAL;
	}
	if ((r = keygen_generate(alg, &root_key, reterr_msg)) < 0 ||
	    (r = keygen_generate(alg, &inter_key, reterr_msg)) < 0)
		return r;
	root = make_ca_cert(&(struct ca_cert_spec){
	    .subject = root_name, .key = root_key,
	    .not_before = now - CA_DEFAULT_BACKDATE,
	    .not_after = now + root_validity,
	    .basic_constraints = "critical,CA:TRUE",
	    .key_usage = "critical,keyCertSign,cRLSign" });
	if (root != NULL)
		inter = make_ca_cert(&(struct ca_cert_spec){
		    .subject = inter_name, .key = inter_key,
		    .issuer = root, .issuer_key = root_key,
		    .not_before = now - CA_DEFAULT_BACKDATE,
		    .not_after = now + inter_validity,
		    .basic_constraints = "critical,CA:TRUE,pathlen:0",
		    .key_usage = "critical,digitalSignature,keyCertSign,"
		    "cRLSign" });
	if (inter == NULL)
		return ossl_fail(reterr_msg, "Could not create the CA "
		    "certificates");
	m = xcalloc(1, sizeof(*m));
	if ((r = ca_material_fill(m, root, root_key, inter, inter_key,
	    reterr_msg)) < 0)
		return r;
	*out = TAKE_PTR(m);
	return 0;
}

void
ca_material_free(struct ca_material *m)
{
	if (m == NULL)
		return;
	free(m->root_pem);
	free(m->intermediate_pem);
	secret_free(m->root_key_der, m->root_key_len);
	secret_free(m->intermediate_key_der, m->intermediate_key_len);
	free(m);
}

/* ---- loading ------------------------------------------------------ */

static int
check_ca_key(EVP_PKEY *key, X509 *inter, const struct ca_labels *l,
    char **reterr_msg)
{
	enum key_algorithm alg = key_algorithm_of_pkey(key);

	if (alg == KEY_ALG_UNKNOWN || alg == KEY_ALG_RSA_1024) {
		_cleanup_free_ char *desc = pkey_describe(key);
		*reterr_msg = xasprintf("The CA key %s is %s; a CA key must be "
		    "RSA of 2048 bits or more, or EC P-256, P-384 or P-521.",
		    l->key, desc);
		return -EINVAL;
	}
	if (X509_check_private_key(inter, key) != 1) {
		ERR_clear_error();
		*reterr_msg = xasprintf("The private key %s does not match "
		    "the intermediate certificate %s.", l->key,
		    l->intermediate);
		return -EINVAL;
	}
	return 0;
}

static int
check_ca_flags(X509 *root, X509 *inter, const struct ca_labels *l,
    char **reterr_msg)
{
	if (X509_cmp(root, inter) == 0) {
		*reterr_msg = xasprintf("The intermediate certificate %s is "
		    "the root itself; certfleet signs with an intermediate "
		    "issued by the root.", l->intermediate);
		return -EINVAL;
	}
	/* 1: basicConstraints CA:TRUE, and keyCertSign if keyUsage is set. */
	if (X509_check_ca(inter) != 1) {
		*reterr_msg = xasprintf("The intermediate certificate %s is "
		    "not a CA certificate: it needs basicConstraints CA:TRUE, "
		    "and keyCertSign if it has a keyUsage extension.",
		    l->intermediate);
		return -EINVAL;
	}
	if (X509_check_ca(root) == 0) {
		*reterr_msg = xasprintf("The root certificate %s is not a CA "
		    "certificate.", l->root);
		return -EINVAL;
	}
	return 0;
}

/*
 * The root is the trust anchor even if it is not self-signed (PARTIAL_CHAIN);
 * times are not checked here (see ca.h).
 */
static int
check_chains_to_root(X509 *root, X509 *inter, const struct ca_labels *l,
    char **reterr_msg)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int r;

	if (store == NULL || ctx == NULL || !X509_STORE_add_cert(store, root)) {
		r = ossl_fail(reterr_msg, "Could not set up verification");
		goto out;
	}
	X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN |
	    X509_V_FLAG_NO_CHECK_TIME);
	if (!X509_STORE_CTX_init(ctx, store, inter, NULL)) {
		r = ossl_fail(reterr_msg, "Could not set up verification");
		goto out;
	}
	if (X509_verify_cert(ctx) == 1) {
		r = 0;
	} else {
		*reterr_msg = xasprintf("The intermediate certificate %s does "
		    "not verify against the root certificate %s: %s.",
		    l->intermediate, l->root, X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
		r = -EINVAL;
	}
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return r;
}

static X509_EXTENSION *
authority_key_id_ext(X509 *inter, const EVP_MD *sha1)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(inter);
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	X509_EXTENSION *e = NULL;

	if (akid == NULL)
		return NULL;
	/* An intermediate without SKI: the key identifier we would give it. */
	akid->keyid = ski != NULL ? ASN1_OCTET_STRING_dup(ski) :
	    key_identifier(inter, sha1);
	if (akid->keyid != NULL)
		e = X509V3_EXT_i2d(NID_authority_key_identifier, 0, akid);
	AUTHORITY_KEYID_free(akid);
	return e;
}

static bool
build_leaf_extensions(struct ca *ca)
{
	X509V3_CTX v3;

	X509V3_set_ctx(&v3, ca->intermediate, NULL, NULL, NULL, 0);
	ca->basic_constraints = X509V3_EXT_nconf_nid(NULL, &v3,
	    NID_basic_constraints, "critical,CA:FALSE");
	ca->key_usage_rsa = X509V3_EXT_nconf_nid(NULL, &v3, NID_key_usage,
	    "critical,digitalSignature,keyEncipherment");
	ca->key_usage_ec = X509V3_EXT_nconf_nid(NULL, &v3, NID_key_usage,
	    "critical,digitalSignature");
	ca->ext_key_usage = X509V3_EXT_nconf_nid(NULL, &v3, NID_ext_key_usage,
	    "serverAuth,clientAuth");
	ca->authority_key_id = authority_key_id_ext(ca->intermediate,
	    ca->sha1);
	return ca->basic_constraints != NULL && ca->key_usage_rsa != NULL &&
	    ca->key_usage_ec != NULL && ca->ext_key_usage != NULL &&
	    ca->authority_key_id != NULL;
}

/* Takes the three objects (NULL is left behind), checks and builds. */
static int
ca_build(X509 **root, X509 **inter, EVP_PKEY **key,
    const struct ca_labels *l, struct ca **out, char **reterr_msg)
{
	_cleanup_(ca_freep) struct ca *ca = xcalloc(1, sizeof(*ca));
	_cleanup_free_ char *inter_pem = NULL;
	int r;

	ca->root = TAKE_PTR(*root);
	ca->intermediate = TAKE_PTR(*inter);
	ca->key = TAKE_PTR(*key);
	if ((r = check_ca_key(ca->key, ca->intermediate, l, reterr_msg)) < 0 ||
	    (r = check_ca_flags(ca->root, ca->intermediate, l,
	    reterr_msg)) < 0 ||
	    (r = check_chains_to_root(ca->root, ca->intermediate, l,
	    reterr_msg)) < 0)
		return r;
	if (!asn1_time_epoch(X509_get0_notAfter(ca->intermediate),
	    &ca->not_after)) {
		*reterr_msg = xasprintf("The intermediate certificate %s has "
		    "an unreadable NotAfter date.", l->intermediate);
		return -EINVAL;
	}
	ca->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	ca->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	ca->root_pem = x509_to_pem(ca->root);
	inter_pem = x509_to_pem(ca->intermediate);
	if (ca->sha256 == NULL || ca->sha1 == NULL || ca->root_pem == NULL ||
	    inter_pem == NULL || !build_leaf_extensions(ca))
		return ossl_fail(reterr_msg, "Could not prepare the CA");
	ca->chain_pem = xasprintf("%s%s", inter_pem, ca->root_pem);
	ERR_clear_error();
	*out = TAKE_PTR(ca);
	return 0;
}

/* The first certificate of a PEM text. */
static int
parse_cert(const void *pem, size_t len, const char *label, X509 **out,
    char **reterr_msg)
{
	_cleanup_bio_ BIO *bio = NULL;

	if (pem == NULL || len == 0 || len > INT_MAX ||
	    (bio = BIO_new_mem_buf(pem, (int)len)) == NULL ||
	    (*out = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		_cleanup_free_ char *err = ossl_error_string();
		*reterr_msg = xasprintf("Could not read a PEM certificate from "
		    "%s: %s.", label, err);
		return -EINVAL;
	}
	return 0;
}

int
ca_load(const char *root_pem, const char *intermediate_pem,
    const unsigned char *intermediate_key_der, size_t len, struct ca **out,
    char **reterr_msg)
{
	_cleanup_x509_ X509 *root = NULL, *inter = NULL;
	_cleanup_evp_pkey_ EVP_PKEY *key = NULL;
	int r;

	if ((r = parse_cert(root_pem, root_pem ? strlen(root_pem) : 0,
	    stored_labels.root, &root, reterr_msg)) < 0 ||
	    (r = parse_cert(intermediate_pem, intermediate_pem ?
	    strlen(intermediate_pem) : 0, stored_labels.intermediate, &inter,
	    reterr_msg)) < 0)
		return r;
	if (pkey_from_pkcs8_der(intermediate_key_der, len, &key) < 0) {
		*reterr_msg = xstrdup("The stored intermediate key is not an "
		    "unencrypted PKCS#8 private key.");
		return -EINVAL;
	}
	return ca_build(&root, &inter, &key, &stored_labels, out, reterr_msg);
}

/* The whole file (at most CA_FILE_MAX bytes) into a buffer. */
static int
read_file(const char *path, unsigned char **data, size_t *len,
    char **reterr_msg)
{
	struct stat st;
	unsigned char *buf;
	ssize_t n;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		*reterr_msg = xasprintf("Could not open %s: %s", path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > CA_FILE_MAX) {
		close(fd);
		*reterr_msg = xasprintf("%s is not a regular file of 1 byte "
		    "to %d bytes.", path, CA_FILE_MAX);
		return -EINVAL;
	}
	buf = xmalloc((size_t)st.st_size);
	while (got < (size_t)st.st_size &&
	    ((n = read(fd, buf + got, (size_t)st.st_size - got)) > 0 ||
	    (n < 0 && errno == EINTR)))
		got += n > 0 ? (size_t)n : 0;
	close(fd);
	if (got == 0) {
		free(buf);
		*reterr_msg = xasprintf("Could not read %s: %s", path,
		    strerror(errno));
		return -EIO;
	}
	*data = buf;
	*len = got;
	return 0;
}

/* A passphrase callback that has none: an encrypted key fails to load
 * rather than prompting on a terminal. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

static int
parse_key_file(const char *path, EVP_PKEY **out, char **reterr_msg)
{
	unsigned char *data = NULL;
	size_t len = 0;
	BIO *bio;
	int r;

	if ((r = read_file(path, &data, &len, reterr_msg)) < 0)
		return r;
	bio = len <= INT_MAX ? BIO_new_mem_buf(data, (int)len) : NULL;
	*out = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase,
	    NULL) : NULL;
	BIO_free(bio);
	if (*out == NULL) {
		bool encrypted = memmem(data, len, "ENCRYPTED", 9) != NULL;
		_cleanup_free_ char *err = ossl_error_string();

		*reterr_msg = encrypted ? xasprintf("The private key %s is "
		    "encrypted; certfleet needs it unencrypted (`openssl pkey "
		    "-in %s -out key.pem`, kept mode 0600).", path, path) :
		    xasprintf("Could not read a PEM private key from %s: %s.",
		    path, err);
		r = -EINVAL;
	}
	secret_free(data, len);
	return r;
}

static int
parse_cert_file(const char *path, X509 **out, char **reterr_msg)
{
	_cleanup_free_ unsigned char *data = NULL;
	size_t len = 0;
	int r;

	if ((r = read_file(path, &data, &len, reterr_msg)) < 0)
		return r;
	return parse_cert(data, len, path, out, reterr_msg);
}

int
ca_load_files(const char *intermediate_cert_path,
    const char *intermediate_key_path, const char *root_cert_path,
    struct ca **out, char **reterr_msg)
{
	_cleanup_x509_ X509 *root = NULL, *inter = NULL;
	_cleanup_evp_pkey_ EVP_PKEY *key = NULL;
	const struct ca_labels labels = {
		.root = root_cert_path,
		.intermediate = intermediate_cert_path,
		.key = intermediate_key_path,
	};
	int r;

	if ((r = parse_cert_file(intermediate_cert_path, &inter,
	    reterr_msg)) < 0 ||
	    (r = parse_key_file(intermediate_key_path, &key, reterr_msg)) < 0 ||
	    (r = parse_cert_file(root_cert_path, &root, reterr_msg)) < 0)
		return r;
	return ca_build(&root, &inter, &key, &labels, out, reterr_msg);
}

void
ca_free(struct ca *ca)
{
	if (ca == NULL)
		return;
	X509_free(ca->root);
	X509_free(ca->intermediate);
	EVP_PKEY_free(ca->key);
	EVP_MD_free(ca->sha256);
	EVP_MD_free(ca->sha1);
	free(ca->root_pem);
	free(ca->chain_pem);
	X509_EXTENSION_free(ca->basic_constraints);
	X509_EXTENSION_free(ca->key_usage_rsa);
	X509_EXTENSION_free(ca->key_usage_ec);
	X509_EXTENSION_free(ca->ext_key_usage);
	X509_EXTENSION_free(ca->authority_key_id);
	free(ca);
}

const char *
ca_root_pem(const struct ca *ca)
{
	return ca->root_pem;
}

const char *
ca_chain_pem(const struct ca *ca)
{
	return ca->chain_pem;
}

/* ---- issuing ------------------------------------------------------ */

void
issue_params_init(struct issue_params *p)
{
	memset(p, 0, sizeof(*p));
	p->backdate = CA_DEFAULT_BACKDATE;
	p->validity = CA_DEFAULT_LEAF_VALIDITY;
}

static int
check_leaf_key(EVP_PKEY *pub, char **reterr_msg)
{
	enum key_algorithm alg;

	if (pub == NULL) {
		*reterr_msg = xstrdup("No public key to certify.");
		return -EINVAL;
	}
	alg = key_algorithm_of_pkey(pub);
	if (alg == KEY_ALG_UNKNOWN || alg == KEY_ALG_RSA_1024) {
		_cleanup_free_ char *desc = pkey_describe(pub);
		*reterr_msg = xasprintf("certfleet does not certify %s keys.",
		    desc);
		return -EINVAL;
	}
	return 0;
}

static int
check_leaf_names(const struct issue_params *p, char **reterr_msg)
{
	if (p->names == NULL || p->n_names == 0) {
		*reterr_msg = xstrdup("A certificate needs at least one name.");
		return -EINVAL;
	}
	if (strlen(p->names[0]) > CN_MAX) {
		*reterr_msg = xasprintf("The first name %s is longer than %d "
		    "characters; it becomes the subject CN, which cannot be.",
		    p->names[0], CN_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < p->n_names; i++)
		if (!cert_is_dns_name(p->names[i])) {
			*reterr_msg = xasprintf("%s is not a DNS name.",
			    p->names[i] != NULL ? p->names[i] : "(null)");
			return -EINVAL;
		}
	return 0;
}

/* RFC 5280 4.1.2.2: positive, at most 20 octets of DER, and not zero. */
static bool
serial_ok(const unsigned char *serial, size_t len)
{
	bool zero = true;

	if (len == 0 || len > 20 || (len == 20 && (serial[0] & 0x80)))
		return false;
	for (size_t i = 0; i < len; i++)
		zero = zero && serial[i] == 0;
	return !zero;
}

static int
check_issue_params(const struct ca *ca, const struct issue_params *p,
    int64_t now, char **reterr_msg)
{
	int r;

	if ((r = check_leaf_key(p->public_key, reterr_msg)) < 0 ||
	    (r = check_leaf_names(p, reterr_msg)) < 0)
		return r;
	if (p->backdate < 0 || p->backdate > VALIDITY_MAX ||
	    p->validity <= 0 || p->validity > VALIDITY_MAX) {
		*reterr_msg = xstrdup("The back-dating margin must be at least "
		    "0 and the validity more than 0 (each at most 100 "
		    "years).");
		return -EINVAL;
	}
	if (p->serial != NULL && !serial_ok(p->serial, p->serial_len)) {
		*reterr_msg = xstrdup("A serial number is 1 to 20 octets, not "
		    "zero, positive within 20 octets of DER.");
		return -EINVAL;
	}
	if (now >= ca->not_after) {
		char date[32];
		time_t t = (time_t)ca->not_after;
		struct tm tm;

		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ",
		    gmtime_r(&t, &tm));
		*reterr_msg = xasprintf("certfleet's intermediate CA expired "
		    "on %s; configure a new one to issue certificates.", date);
		return -EKEYEXPIRED;
	}
	return 0;
}

static bool
names_seen(const struct issue_params *p, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcasecmp(p->names[j], p->names[i]) == 0)
			return true;
	return false;
}

/* Subject CN = the first name; every distinct name a DNS SAN, in order. */
static bool
set_leaf_names(X509 *x, const struct issue_params *p)
{
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	bool ok = gens != NULL && X509_NAME_add_entry_by_NID(
	    X509_get_subject_name(x), NID_commonName, MBSTRING_ASC,
	    (const unsigned char *)p->names[0], -1, -1, 0);

	for (size_t i = 0; ok && i < p->n_names; i++) {
		GENERAL_NAME *gen;
		ASN1_IA5STRING *ia5;

		if (names_seen(p, i))
			continue;
		gen = GENERAL_NAME_new();
		ia5 = ASN1_IA5STRING_new();
		ok = gen != NULL && ia5 != NULL &&
		    ASN1_STRING_set(ia5, p->names[i], -1);
		if (ok) {
			GENERAL_NAME_set0_value(gen, GEN_DNS, TAKE_PTR(ia5));
			ok = sk_GENERAL_NAME_push(gens, gen) > 0;
		}
		if (!ok) {
			ASN1_IA5STRING_free(ia5);
			GENERAL_NAME_free(gen);
		}
	}
	ok = ok && X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
	    X509V3_ADD_DEFAULT) == 1;
	GENERAL_NAMES_free(gens);
	return ok;
}

/*
 * An EC leaf's subjectPublicKeyInfo straight from the key's parameters:
 * X509_set_pubkey builds an encoder and a decoder for every call, which in
 * OpenSSL 3.0 costs more than the ECDSA signature itself. The result is the
 * same DER ({id-ecPublicKey, named curve}, the encoded point). RSA keys, and
 * EC keys without a named group, take X509_set_pubkey: an RSA leaf's key
 * generation dwarfs that cost.
 */
static bool
set_leaf_pubkey(X509 *x, EVP_PKEY *pub)
{
	char group[64];
	unsigned char *point = NULL;
	size_t len;
	int nid;

	if (!EVP_PKEY_is_a(pub, "EC") ||
	    !EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), NULL) ||
	    (nid = OBJ_sn2nid(group)) == NID_undef ||
	    (len = EVP_PKEY_get1_encoded_public_key(pub, &point)) == 0 ||
	    len > INT_MAX) {
		OPENSSL_free(point);
		ERR_clear_error();
		return X509_set_pubkey(x, pub) == 1;
	}
	/* On success the X509_PUBKEY owns point; the objects are static. */
	if (!X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x),
	    OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
	    OBJ_nid2obj(nid), point, (int)len)) {
		OPENSSL_free(point);
		return false;
	}
	return true;
}

static bool
add_leaf_extensions(const struct ca *ca, X509 *x, EVP_PKEY *pub)
{
	/* keyEncipherment only where the key can do it: RSA key transport. */
	X509_EXTENSION *ku = EVP_PKEY_is_a(pub, "RSA") ? ca->key_usage_rsa :
	    ca->key_usage_ec;

	/* X509_add_ext copies: the shared extensions are only read. */
	return X509_add_ext(x, ca->basic_constraints, -1) &&
	    X509_add_ext(x, ku, -1) &&
	    X509_add_ext(x, ca->ext_key_usage, -1) &&
	    add_subject_key_id(x, ca->sha1) &&
	    X509_add_ext(x, ca->authority_key_id, -1);
}

int
ca_issue(const struct ca *ca, const struct issue_params *p, char **cert_pem,
    char **reterr_msg)
{
	return ca_issue_with_info(ca, p, cert_pem, NULL, reterr_msg);
}

int
ca_issue_with_info(const struct ca *ca, const struct issue_params *p,
    char **cert_pem, struct cert_info **info, char **reterr_msg)
{
	_cleanup_x509_ X509 *x = NULL;
	int64_t now = clock_or(p->now), not_after;
	int r;

	if ((r = check_issue_params(ca, p, now, reterr_msg)) < 0)
		return r;
	/* A leaf that outlived its issuer would not verify after that. */
	not_after = now + p->validity;
	if (not_after > ca->not_after)
		not_after = ca->not_after;
	x = X509_new();
	if (x == NULL || !X509_set_version(x, X509_VERSION_3) ||
	    !(p->serial != NULL ?
		given_serial(x, p->serial, p->serial_len) : random_serial(x)) ||
	    !set_validity(x, now - p->backdate, not_after) ||
	    !set_leaf_pubkey(x, p->public_key) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ca->intermediate)) ||
	    !set_leaf_names(x, p) ||
	    !add_leaf_extensions(ca, x, p->public_key) ||
	    !sign_x509(x, ca->key, ca->sha256) ||
	    (*cert_pem = x509_to_pem(x)) == NULL)
		return ossl_fail(reterr_msg, "Could not issue the certificate");
	/* The leaf's key as given: set_leaf_pubkey left none decoded in x. */
	if (info != NULL && (r = cert_info_from_x509_key(x, p->public_key,
	    info, reterr_msg)) < 0) {
		free(*cert_pem);
		*cert_pem = NULL;
		return r;
	}
	return 0;
}

int
ca_issued_info(const char *cert_pem, struct cert_info **out,
    char **reterr_msg)
{
	_cleanup_x509_ X509 *x = NULL;
	int r;

	if ((r = parse_cert(cert_pem, cert_pem ? strlen(cert_pem) : 0,
	    "the issued certificate", &x, reterr_msg)) < 0)
		return r;
	return cert_info_from_x509(x, out, reterr_msg);
}
