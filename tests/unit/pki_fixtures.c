/*
 * pki_fixtures.c: builds the certificates and files the pki tests import:
 * keys of every size and curve ACM knows (and some it does not), leaf, CA and
 * intermediate certificates with chosen dates and extensions, and the same
 * material in DER, PKCS#12 and PKCS#7 form.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "pki_fixtures.h"

#define PASSPHRASE "correct horse"

static void *
must(void *p)
{
	if (p == NULL)
		abort();
	return p;
}

static void
check(int ok)
{
	if (ok <= 0)
		abort();
}

EVP_PKEY *
fixture_key(const char *type, int bits, const char *curve)
{
	if (strcmp(type, "RSA") == 0)
		return must(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits));
	if (strcmp(type, "EC") == 0)
		return must(EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve));
	return must(EVP_PKEY_Q_keygen(NULL, NULL, type));
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = must(X509V3_EXT_conf_nid(NULL, &ctx, nid, value));
	check(X509_add_ext(x, ext, -1));
	X509_EXTENSION_free(ext);
}

static void
set_names(X509 *x, const struct fixture_cert_opts *o)
{
	X509_NAME *name = X509_get_subject_name(x);

	check(X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC,
	    (const unsigned char *)"US", -1, -1, 0));
	if (o->org != NULL)
		check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
		    (const unsigned char *)o->org, -1, -1, 0));
	if (o->cn != NULL)
		check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
		    (const unsigned char *)o->cn, -1, -1, 0));
	check(X509_set_issuer_name(x, o->issuer != NULL ?
	    X509_get_subject_name(o->issuer) : name));
}

static void
set_serial(X509 *x, long serial)
{
	unsigned char rnd[16];
	BIGNUM *bn;

	if (serial != 0) {
		check(ASN1_INTEGER_set(X509_get_serialNumber(x), serial));
		return;
	}
	check(RAND_bytes(rnd, sizeof(rnd)));
	rnd[0] &= 0x7f;
	rnd[0] |= 0x10;
	bn = must(BN_bin2bn(rnd, sizeof(rnd), NULL));
	must(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
	BN_free(bn);
}

static void
set_extensions(X509 *x, const struct fixture_cert_opts *o)
{
	X509 *issuer = o->issuer != NULL ? o->issuer : x;

	add_ext(x, issuer, NID_basic_constraints,
	    o->ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	add_ext(x, issuer, NID_subject_key_identifier, "hash");
	add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
	if (o->key_usage != NULL)
		add_ext(x, issuer, NID_key_usage, o->key_usage);
	else if (o->ca)
		add_ext(x, issuer, NID_key_usage,
		    "critical,keyCertSign,cRLSign,digitalSignature");
	if (o->ext_key_usage != NULL)
		add_ext(x, issuer, NID_ext_key_usage, o->ext_key_usage);
	if (o->sans != NULL)
		add_ext(x, issuer, NID_subject_alt_name, o->sans);
}

X509 *
fixture_cert(const struct fixture_cert_opts *o)
{
	X509 *x = must(X509_new());
	EVP_PKEY *signer = o->issuer_key != NULL ? o->issuer_key : o->key;
	int64_t nb = o->not_before != 0 ? o->not_before : FIXTURE_NOW - FIXTURE_DAY;
	int64_t na = o->not_after != 0 ? o->not_after : FIXTURE_NOW + 90 * FIXTURE_DAY;
	const EVP_MD *md = o->md != NULL ? o->md : EVP_sha256();

	check(X509_set_version(x, 2));
	set_serial(x, o->serial);
	must(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb));
	must(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na));
	check(X509_set_pubkey(x, o->key));
	set_names(x, o);
	set_extensions(x, o);
	if (EVP_PKEY_is_a(signer, "ED25519"))
		md = NULL;
	check(X509_sign(x, signer, md));
	return x;
}

static char *
bio_take(BIO *bio, size_t *len)
{
	char *data;
	long n = BIO_get_mem_data(bio, &data);
	char *out = must(malloc((size_t)n + 1));

	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	*len = (size_t)n;
	BIO_free(bio);
	return out;
}

char *
fixture_cert_pem(X509 *x, size_t *len)
{
	BIO *bio = must(BIO_new(BIO_s_mem()));

	check(PEM_write_bio_X509(bio, x));
	return bio_take(bio, len);
}

char *
fixture_key_pem(EVP_PKEY *k, size_t *len)
{
	BIO *bio = must(BIO_new(BIO_s_mem()));

	check(PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL));
	return bio_take(bio, len);
}

char *
fixture_key_pem_traditional(EVP_PKEY *k, size_t *len)
{
	BIO *bio = must(BIO_new(BIO_s_mem()));

	check(PEM_write_bio_PrivateKey_traditional(bio, k, NULL, NULL, 0,
	    NULL, NULL));
	return bio_take(bio, len);
}

char *
fixture_key_pem_encrypted(EVP_PKEY *k, size_t *len)
{
	BIO *bio = must(BIO_new(BIO_s_mem()));

	check(PEM_write_bio_PKCS8PrivateKey(bio, k, EVP_aes_256_cbc(),
	    PASSPHRASE, (int)strlen(PASSPHRASE), NULL, NULL));
	return bio_take(bio, len);
}

char *
fixture_key_pem_encrypted_traditional(EVP_PKEY *k, size_t *len)
{
	BIO *bio = must(BIO_new(BIO_s_mem()));

	check(PEM_write_bio_PrivateKey_traditional(bio, k, EVP_aes_256_cbc(),
	    (unsigned char *)PASSPHRASE, (int)strlen(PASSPHRASE), NULL, NULL));
	return bio_take(bio, len);
}

unsigned char *
fixture_cert_der(X509 *x, size_t *len)
{
	unsigned char *der = NULL, *out;
	int n = i2d_X509(x, &der);

	check(n);
	out = must(malloc((size_t)n));
	memcpy(out, der, (size_t)n);
	OPENSSL_free(der);
	*len = (size_t)n;
	return out;
}

unsigned char *
fixture_key_der(EVP_PKEY *k, size_t *len)
{
	BIO *bio = must(BIO_new(BIO_s_mem()));

	check(i2d_PKCS8PrivateKey_bio(bio, k, NULL, NULL, 0, NULL, NULL));
	return (unsigned char *)bio_take(bio, len);
}

unsigned char *
fixture_pkcs12(X509 *x, EVP_PKEY *k, size_t *len)
{
	PKCS12 *p12 = must(PKCS12_create(PASSPHRASE, "test", k, x, NULL, 0, 0,
	    0, 0, 0));
	BIO *bio = must(BIO_new(BIO_s_mem()));

	check(i2d_PKCS12_bio(bio, p12));
	PKCS12_free(p12);
	return (unsigned char *)bio_take(bio, len);
}

static PKCS7 *
make_pkcs7(X509 *a, X509 *b)
{
	PKCS7 *p7 = must(PKCS7_new());

	check(PKCS7_set_type(p7, NID_pkcs7_signed));
	check(PKCS7_content_new(p7, NID_pkcs7_data));
	check(PKCS7_add_certificate(p7, a));
	if (b != NULL)
		check(PKCS7_add_certificate(p7, b));
	return p7;
}

unsigned char *
fixture_pkcs7_der(X509 *a, X509 *b, size_t *len)
{
	PKCS7 *p7 = make_pkcs7(a, b);
	BIO *bio = must(BIO_new(BIO_s_mem()));

	check(i2d_PKCS7_bio(bio, p7));
	PKCS7_free(p7);
	return (unsigned char *)bio_take(bio, len);
}

char *
fixture_pkcs7_pem(X509 *a, X509 *b, size_t *len)
{
	PKCS7 *p7 = make_pkcs7(a, b);
	BIO *bio = must(BIO_new(BIO_s_mem()));

	check(PEM_write_bio_PKCS7(bio, p7));
	PKCS7_free(p7);
	return bio_take(bio, len);
}

char *
fixture_concat(const char *first, ...)
{
	va_list ap;
	size_t len = 0;
	char *out;

	va_start(ap, first);
	for (const char *s = first; s != NULL; s = va_arg(ap, const char *))
		len += strlen(s);
	va_end(ap);
	out = must(malloc(len + 1));
	out[0] = '\0';
	len = 0;
	va_start(ap, first);
	for (const char *s = first; s != NULL; s = va_arg(ap, const char *)) {
		memcpy(out + len, s, strlen(s) + 1);
		len += strlen(s);
	}
	va_end(ap);
	return out;
}
