/*
 * test_pki_import.c: every ImportCertificate rule of src/pki/import_check.c
 * and the ACM-style facts of src/pki/certinfo.c, on certificates made in
 * process (pki_fixtures.c) at a fixed "now".
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/xmalloc.h"
#include "pki/certinfo.h"
#include "pki/import_check.h"
#include "pki_fixtures.h"

/* Keys and certificates shared by all tests, made once in the group setup. */
struct world {
	EVP_PKEY *rsa1024, *rsa2048, *rsa3072, *rsa4096, *rsa1536;
	EVP_PKEY *ec256, *ec384, *ec521, *ec224, *ed25519, *other;
	EVP_PKEY *root_key, *inter_key;
	X509 *root, *inter, *leaf, *self;
	char *root_pem, *inter_pem, *leaf_pem, *self_pem;
	char *leaf_key_pem; /* rsa2048, PKCS#8 */
};

static struct world *W;

static int
world_setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	size_t len;

	w->rsa1024 = fixture_key("RSA", 1024, NULL);
	w->rsa1536 = fixture_key("RSA", 1536, NULL);
	w->rsa2048 = fixture_key("RSA", 2048, NULL);
	w->rsa3072 = fixture_key("RSA", 3072, NULL);
	w->rsa4096 = fixture_key("RSA", 4096, NULL);
	w->ec256 = fixture_key("EC", 0, "P-256");
	w->ec384 = fixture_key("EC", 0, "P-384");
	w->ec521 = fixture_key("EC", 0, "P-521");
	w->ec224 = fixture_key("EC", 0, "P-224");
	w->ed25519 = fixture_key("ED25519", 0, NULL);
	w->other = fixture_key("EC", 0, "P-256");
	w->root_key = fixture_key("EC", 0, "P-384");
	w->inter_key = fixture_key("EC", 0, "P-256");
	w->root = fixture_cert(&(struct fixture_cert_opts){ .cn = "Test Root CA",
	    .org = "Example Corp", .key = w->root_key, .ca = true,
	    .md = EVP_sha384() });
	w->inter = fixture_cert(&(struct fixture_cert_opts){
	    .cn = "Test Intermediate CA", .org = "Example Corp",
	    .key = w->inter_key, .issuer = w->root, .issuer_key = w->root_key,
	    .ca = true, .md = EVP_sha384() });
	w->leaf = fixture_cert(&(struct fixture_cert_opts){
	    .cn = "www.example.com", .org = "Example Corp",
	    .sans = "DNS:www.example.com,DNS:example.com,DNS:WWW.example.com,"
		    "IP:192.0.2.1,DNS:*.api.example.com",
	    .key = w->rsa2048, .issuer = w->inter, .issuer_key = w->inter_key,
	    .key_usage = "critical,digitalSignature,keyEncipherment",
	    .ext_key_usage = "serverAuth,clientAuth,1.2.3.4.5",
	    .serial = 0x0a1b2c });
	w->self = fixture_cert(&(struct fixture_cert_opts){
	    .cn = "self.example.com", .sans = "DNS:alt.example.com",
	    .key = w->rsa2048 });
	w->root_pem = fixture_cert_pem(w->root, &len);
	w->inter_pem = fixture_cert_pem(w->inter, &len);
	w->leaf_pem = fixture_cert_pem(w->leaf, &len);
	w->self_pem = fixture_cert_pem(w->self, &len);
	w->leaf_key_pem = fixture_key_pem(w->rsa2048, &len);
	W = w;
	*state = w;
	return 0;
}

static int
world_teardown(void **state)
{
	struct world *w = *state;
	EVP_PKEY *keys[] = { w->rsa1024, w->rsa1536, w->rsa2048, w->rsa3072,
		w->rsa4096, w->ec256, w->ec384, w->ec521, w->ec224, w->ed25519,
		w->other, w->root_key, w->inter_key };

	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		EVP_PKEY_free(keys[i]);
	X509_free(w->root);
	X509_free(w->inter);
	X509_free(w->leaf);
	X509_free(w->self);
	free(w->root_pem);
	free(w->inter_pem);
	free(w->leaf_pem);
	free(w->self_pem);
	free(w->leaf_key_pem);
	free(w);
	return 0;
}

/* One import; the material (if any) is freed, the message returned. */
static int
import(const void *cert, size_t cert_len, const void *key, size_t key_len,
    const void *chain, size_t chain_len, char **msg)
{
	struct import_material *m = NULL;
	int r;

	*msg = NULL;
	r = pki_check_import(cert, cert_len, key, key_len, chain, chain_len,
	    FIXTURE_NOW, &m, msg);
	if (r == 0) {
		assert_non_null(m);
		assert_null(*msg);
	} else {
		assert_null(m);
		assert_non_null(*msg);
	}
	import_material_free(m);
	/* No library function may leave errors behind for the next caller. */
	assert_int_equal(ERR_peek_error(), 0);
	return r;
}

static int
import_str(const char *cert, const char *key, const char *chain, char **msg)
{
	return import(cert, strlen(cert), key, strlen(key), chain,
	    chain != NULL ? strlen(chain) : 0, msg);
}

#define assert_refused(r, msg, needle) do {                              \
		assert_int_equal((r), -EINVAL);                          \
		if (strstr((msg), (needle)) == NULL)                     \
			fail_msg("message \"%s\" lacks \"%s\"", (msg),   \
			    (needle));                                   \
	} while (0)

static void
refuse_str(const char *cert, const char *key, const char *chain,
    const char *needle)
{
	char *msg;
	int r = import_str(cert, key, chain, &msg);

	assert_refused(r, msg, needle);
	free(msg);
}

/* ---- accepted imports and what they yield ---- */

static void
test_self_signed_without_chain_is_accepted(void **state)
{
	struct import_material *m = NULL;
	char *msg = NULL;
	const unsigned char *p;
	EVP_PKEY *back;

	assert_int_equal(pki_check_import(W->self_pem, strlen(W->self_pem),
	    W->leaf_key_pem, strlen(W->leaf_key_pem), NULL, 0, FIXTURE_NOW,
	    &m, &msg), 0);
	assert_true(m->info->self_signed);
	assert_false(m->info->is_ca);
	assert_string_equal(m->info->domain_name, "self.example.com");
	assert_int_equal(m->info->n_names, 2);
	assert_string_equal(m->info->names[1], "alt.example.com");
	assert_null(m->info->names[2]);
	assert_int_equal(m->info->key_algorithm, KEY_ALG_RSA_2048);
	assert_string_equal(m->info->signature_algorithm, "SHA256WITHRSA");
	assert_string_equal(m->certificate_pem, W->self_pem);
	assert_null(m->chain_pem);
	/* The stored key is plaintext PKCS#8 DER of the same key. */
	p = m->private_key_der;
	back = d2i_AutoPrivateKey(NULL, &p, (long)m->private_key_len);
	assert_non_null(back);
	assert_int_equal(EVP_PKEY_eq(back, W->rsa2048), 1);
	assert_int_equal(m->private_key_der[0], 0x30);
	EVP_PKEY_free(back);
	import_material_free(m);
}

static void
test_leaf_with_intermediate_and_root_is_accepted(void **state)
{
	_cleanup_free_ char *chain = fixture_concat(W->inter_pem, W->root_pem,
	    NULL);
	struct import_material *m = NULL;
	char *msg = NULL;

	assert_int_equal(pki_check_import(W->leaf_pem, strlen(W->leaf_pem),
	    W->leaf_key_pem, strlen(W->leaf_key_pem), chain, strlen(chain),
	    FIXTURE_NOW, &m, &msg), 0);
	assert_false(m->info->self_signed);
	assert_string_equal(m->chain_pem, chain);
	assert_string_equal(m->info->signature_algorithm, "SHA256WITHECDSA");
	import_material_free(m);
}

static void
test_leaf_with_intermediate_only_is_accepted_as_partial_chain(void **state)
{
	char *msg;

	assert_int_equal(import_str(W->leaf_pem, W->leaf_key_pem,
	    W->inter_pem, &msg), 0);
}

static void
test_chain_with_text_around_blocks_is_accepted(void **state)
{
	/* openssl pkcs12 output puts "Bag Attributes" lines before blocks. */
	_cleanup_free_ char *chain = fixture_concat("Bag Attributes\n"
	    "    friendlyName: inter\n", W->inter_pem, "subject=/CN=Root\n",
	    W->root_pem, "\n\n", NULL);
	char *msg;

	assert_int_equal(import_str(W->leaf_pem, W->leaf_key_pem, chain,
	    &msg), 0);
}

static void
test_traditional_rsa_key_is_accepted(void **state)
{
	size_t len;
	_cleanup_free_ char *key = fixture_key_pem_traditional(W->rsa2048,
	    &len);
	char *msg;

	assert_non_null(strstr(key, "BEGIN RSA PRIVATE KEY"));
	assert_int_equal(import_str(W->self_pem, key, NULL, &msg), 0);
}

static void
test_ec_key_with_ec_parameters_block_is_accepted(void **state)
{
	size_t len;
	X509 *x = fixture_cert(&(struct fixture_cert_opts){
	    .cn = "ec.example.com", .key = W->ec256 });
	_cleanup_free_ char *cert = fixture_cert_pem(x, &len);
	_cleanup_free_ char *trad = fixture_key_pem_traditional(W->ec256, &len);
	_cleanup_free_ char *key = fixture_concat("-----BEGIN EC PARAMETERS-----\n"
	    "BggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n", trad, NULL);
	char *msg;

	assert_int_equal(import_str(cert, key, NULL, &msg), 0);
	X509_free(x);
}

static char *
to_crlf(const char *s)
{
	char *out = xmalloc(strlen(s) * 2 + 1), *o = out;

	for (; *s != '\0'; s++) {
		if (*s == '\n')
			*o++ = '\r';
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

static void
test_crlf_line_endings_and_byte_order_mark_are_accepted(void **state)
{
	_cleanup_free_ char *cert = to_crlf(W->leaf_pem);
	_cleanup_free_ char *key = to_crlf(W->leaf_key_pem);
	_cleanup_free_ char *crlf_chain = to_crlf(W->inter_pem);
	_cleanup_free_ char *chain = fixture_concat("\xef\xbb\xbf", crlf_chain,
	    NULL);
	char *msg;

	assert_int_equal(import_str(cert, key, chain, &msg), 0);
}

static void
check_key_algorithm(EVP_PKEY *key, enum key_algorithm want,
    const char *want_name, const EVP_MD *md, const char *want_sig)
{
	size_t len;
	X509 *x = fixture_cert(&(struct fixture_cert_opts){
	    .cn = "alg.example.com", .key = key, .md = md });
	_cleanup_free_ char *cert = fixture_cert_pem(x, &len);
	_cleanup_free_ char *kpem = fixture_key_pem(key, &len);
	struct import_material *m = NULL;
	char *msg = NULL;

	assert_int_equal(pki_check_import(cert, strlen(cert), kpem,
	    strlen(kpem), NULL, 0, FIXTURE_NOW, &m, &msg), 0);
	assert_int_equal(m->info->key_algorithm, want);
	assert_string_equal(key_algorithm_name(m->info->key_algorithm),
	    want_name);
	assert_string_equal(m->info->signature_algorithm, want_sig);
	import_material_free(m);
	X509_free(x);
}

static void
test_every_supported_key_algorithm_is_accepted(void **state)
{
	check_key_algorithm(W->rsa1024, KEY_ALG_RSA_1024, "RSA_1024",
	    EVP_sha256(), "SHA256WITHRSA");
	check_key_algorithm(W->rsa2048, KEY_ALG_RSA_2048, "RSA_2048",
	    EVP_sha512(), "SHA512WITHRSA");
	check_key_algorithm(W->rsa3072, KEY_ALG_RSA_3072, "RSA_3072",
	    EVP_sha384(), "SHA384WITHRSA");
	check_key_algorithm(W->rsa4096, KEY_ALG_RSA_4096, "RSA_4096",
	    EVP_sha256(), "SHA256WITHRSA");
	check_key_algorithm(W->ec256, KEY_ALG_EC_P256, "EC_prime256v1",
	    EVP_sha256(), "SHA256WITHECDSA");
	check_key_algorithm(W->ec384, KEY_ALG_EC_P384, "EC_secp384r1",
	    EVP_sha384(), "SHA384WITHECDSA");
	check_key_algorithm(W->ec521, KEY_ALG_EC_P521, "EC_secp521r1",
	    EVP_sha512(), "SHA512WITHECDSA");
}

/* ---- refusals: formats ---- */

static void
test_der_certificate_is_refused_with_conversion_command(void **state)
{
	size_t len;
	_cleanup_free_ unsigned char *der = fixture_cert_der(W->self, &len);
	char *msg;
	int r = import(der, len, W->leaf_key_pem, strlen(W->leaf_key_pem),
	    NULL, 0, &msg);

	assert_refused(r, msg, "openssl x509 -inform der -in cert.der "
	    "-out cert.pem");
	free(msg);
}

static void
test_der_key_is_refused_with_conversion_command(void **state)
{
	size_t len;
	_cleanup_free_ unsigned char *der = fixture_key_der(W->rsa2048, &len);
	char *msg;
	int r = import(W->self_pem, strlen(W->self_pem), der, len, NULL, 0,
	    &msg);

	assert_refused(r, msg, "openssl pkey -inform der");
	free(msg);
}

static void
test_pkcs12_is_refused_in_every_field(void **state)
{
	size_t len;
	_cleanup_free_ unsigned char *p12 = fixture_pkcs12(W->self,
	    W->rsa2048, &len);
	char *msg;
	int r;

	r = import(p12, len, W->leaf_key_pem, strlen(W->leaf_key_pem), NULL,
	    0, &msg);
	assert_refused(r, msg, "openssl pkcs12 -in bundle.p12 -nokeys "
	    "-out cert.pem");
	assert_non_null(strstr(msg, "The certificate is a PKCS#12"));
	free(msg);
	r = import(W->self_pem, strlen(W->self_pem), p12, len, NULL, 0, &msg);
	assert_refused(r, msg, "-nocerts -nodes -out key.pem");
	assert_non_null(strstr(msg, "The private key is a PKCS#12"));
	free(msg);
}

static void
test_pkcs7_chain_is_refused_der_and_pem(void **state)
{
	size_t len, pem_len;
	_cleanup_free_ unsigned char *der = fixture_pkcs7_der(W->inter,
	    W->root, &len);
	_cleanup_free_ char *pem = fixture_pkcs7_pem(W->inter, W->root,
	    &pem_len);
	char *msg;
	int r;

	r = import(W->leaf_pem, strlen(W->leaf_pem), W->leaf_key_pem,
	    strlen(W->leaf_key_pem), der, len, &msg);
	assert_refused(r, msg, "openssl pkcs7 -inform der -print_certs "
	    "-in chain.p7b -out chain.pem");
	free(msg);
	refuse_str(W->leaf_pem, W->leaf_key_pem, pem,
	    "openssl pkcs7 -print_certs -in chain.p7b -out chain.pem");
}

static void
test_encrypted_pkcs8_key_is_refused_with_decrypt_command(void **state)
{
	size_t len;
	_cleanup_free_ char *key = fixture_key_pem_encrypted(W->rsa2048, &len);

	assert_non_null(strstr(key, "ENCRYPTED PRIVATE KEY"));
	refuse_str(W->self_pem, key, NULL,
	    "openssl pkey -in key.pem -out key-decrypted.pem");
}

static void
test_encrypted_traditional_key_is_refused_with_decrypt_command(void **state)
{
	size_t len;
	_cleanup_free_ char *key = fixture_key_pem_encrypted_traditional(
	    W->rsa2048, &len);

	assert_non_null(strstr(key, "Proc-Type: 4,ENCRYPTED"));
	refuse_str(W->self_pem, key, NULL,
	    "openssl pkey -in key.pem -out key-decrypted.pem");
}

static void
test_truncated_pem_is_refused(void **state)
{
	_cleanup_free_ char *cert = xstrndup(W->self_pem,
	    strlen(W->self_pem) / 2);

	refuse_str(cert, W->leaf_key_pem, NULL,
	    "Could not parse the certificate as PEM");
}

static void
test_garbled_base64_is_refused(void **state)
{
	_cleanup_free_ char *cert = xstrdup(W->self_pem);
	char *body = strchr(cert, '\n') + 1;

	memcpy(body + 10, "!!!!", 4);
	refuse_str(cert, W->leaf_key_pem, NULL,
	    "Could not parse the certificate as PEM");
}

static void
test_pem_of_garbage_der_is_refused(void **state)
{
	refuse_str("-----BEGIN CERTIFICATE-----\nAAECAwQFBgcICQ==\n"
	    "-----END CERTIFICATE-----\n", W->leaf_key_pem, NULL,
	    "Could not parse the certificate as PEM: certificate 1 of 1");
}

static void
test_text_without_pem_block_is_refused(void **state)
{
	refuse_str("hello, this is not a certificate\n", W->leaf_key_pem,
	    NULL, "no PEM block");
	refuse_str(W->self_pem, "not a key", NULL, "BEGIN PRIVATE KEY");
}

static void
test_empty_certificate_is_refused(void **state)
{
	char *msg;
	int r = import("", 0, W->leaf_key_pem, strlen(W->leaf_key_pem), NULL,
	    0, &msg);

	assert_refused(r, msg, "The certificate field is empty");
	free(msg);
}

static void
test_two_certificates_in_certificate_field_are_refused(void **state)
{
	_cleanup_free_ char *two = fixture_concat(W->leaf_pem, W->inter_pem,
	    NULL);

	refuse_str(two, W->leaf_key_pem, W->inter_pem,
	    "The certificate field contains more than one certificate. "
	    "You can specify only one certificate in this field.");
}

static void
test_two_keys_in_key_field_are_refused(void **state)
{
	size_t len;
	_cleanup_free_ char *k2 = fixture_key_pem(W->other, &len);
	_cleanup_free_ char *two = fixture_concat(W->leaf_key_pem, k2, NULL);

	refuse_str(W->self_pem, two, NULL,
	    "The private key field contains more than one private key");
}

static void
test_key_in_chain_field_is_refused(void **state)
{
	_cleanup_free_ char *chain = fixture_concat(W->inter_pem,
	    W->leaf_key_pem, NULL);

	refuse_str(W->leaf_pem, W->leaf_key_pem, chain,
	    "may contain only certificates, but it contains a private key");
}

static void
test_key_in_certificate_field_is_refused(void **state)
{
	refuse_str(W->leaf_key_pem, W->leaf_key_pem, NULL,
	    "The certificate field contains a private key");
}

static void
test_certificate_in_key_field_is_refused(void **state)
{
	refuse_str(W->self_pem, W->self_pem, NULL,
	    "The private key field contains a certificate");
}

/* ---- refusals: keys ---- */

static void
check_unsupported_key(EVP_PKEY *key, const char *desc)
{
	size_t len;
	X509 *x = fixture_cert(&(struct fixture_cert_opts){
	    .cn = "odd.example.com", .key = key });
	_cleanup_free_ char *cert = fixture_cert_pem(x, &len);
	_cleanup_free_ char *kpem = fixture_key_pem(key, &len);
	char *msg;
	int r = import_str(cert, kpem, NULL, &msg);

	assert_refused(r, msg, "unsupported type");
	assert_non_null(strstr(msg, desc));
	assert_non_null(strstr(msg, "1024, 2048, 3072 or 4096"));
	assert_non_null(strstr(msg, "P-256 (prime256v1), P-384 (secp384r1) "
	    "and P-521 (secp521r1)"));
	free(msg);
	X509_free(x);
}

static void
test_unsupported_key_types_are_refused_naming_supported_ones(void **state)
{
	check_unsupported_key(W->rsa1536, "RSA 1536-bit");
	check_unsupported_key(W->ec224, "EC secp224r1");
	check_unsupported_key(W->ed25519, "ED25519");
}

static void
test_mismatched_key_is_refused(void **state)
{
	size_t len;
	_cleanup_free_ char *k = fixture_key_pem(W->other, &len);

	refuse_str(W->self_pem, k, NULL,
	    "The private key does not match the certificate's public key");
	/* Same type and size (RSA 2048), different key. */
	EVP_PKEY *rsa = fixture_key("RSA", 2048, NULL);
	_cleanup_free_ char *k2 = fixture_key_pem(rsa, &len);
	refuse_str(W->self_pem, k2, NULL,
	    "The private key does not match the certificate's public key");
	EVP_PKEY_free(rsa);
}

/* ---- refusals: the certificate ---- */

static void
test_expired_certificate_is_refused_with_dates(void **state)
{
	size_t len;
	X509 *x = fixture_cert(&(struct fixture_cert_opts){
	    .cn = "old.example.com", .key = W->rsa2048,
	    .not_before = FIXTURE_NOW - 400 * FIXTURE_DAY,
	    .not_after = FIXTURE_NOW - 35 * FIXTURE_DAY });
	_cleanup_free_ char *cert = fixture_cert_pem(x, &len);
	char *msg;
	int r = import_str(cert, W->leaf_key_pem, NULL, &msg);

	assert_refused(r, msg, "The certificate has expired");
	assert_non_null(strstr(msg, "valid until 2025-11-27T00:00:00Z"));
	assert_non_null(strstr(msg, "now is 2026-01-01T00:00:00Z"));
	free(msg);
	X509_free(x);
}

static void
test_not_yet_valid_certificate_is_refused_with_dates(void **state)
{
	size_t len;
	X509 *x = fixture_cert(&(struct fixture_cert_opts){
	    .cn = "new.example.com", .key = W->rsa2048,
	    .not_before = FIXTURE_NOW + FIXTURE_DAY,
	    .not_after = FIXTURE_NOW + 30 * FIXTURE_DAY });
	_cleanup_free_ char *cert = fixture_cert_pem(x, &len);
	char *msg;
	int r = import_str(cert, W->leaf_key_pem, NULL, &msg);

	assert_refused(r, msg, "The certificate is not yet valid");
	assert_non_null(strstr(msg, "valid from 2026-01-02T00:00:00Z"));
	free(msg);
	X509_free(x);
}

static void
test_ca_certificate_is_refused_asking_for_the_leaf(void **state)
{
	size_t len;
	_cleanup_free_ char *k = fixture_key_pem(W->inter_key, &len);
	char *msg;
	int r = import_str(W->inter_pem, k, W->root_pem, &msg);

	assert_refused(r, msg, "is a CA certificate");
	assert_non_null(strstr(msg, "Import the leaf"));
	free(msg);
}

static void
test_certificate_without_dns_name_is_refused(void **state)
{
	size_t len;
	X509 *x = fixture_cert(&(struct fixture_cert_opts){
	    .cn = "Example Device 42", .sans = "IP:192.0.2.7,email:a@example.com",
	    .key = W->rsa2048 });
	_cleanup_free_ char *cert = fixture_cert_pem(x, &len);

	refuse_str(cert, W->leaf_key_pem, NULL,
	    "The certificate has no DNS name");
	X509_free(x);
}

/* ---- refusals: the chain ---- */

static void
test_missing_chain_is_refused_for_ca_signed_certificate(void **state)
{
	refuse_str(W->leaf_pem, W->leaf_key_pem, NULL,
	    "a certificate chain is required");
}

static void
test_chain_without_issuer_is_refused_naming_failure(void **state)
{
	char *msg;
	int r = import_str(W->leaf_pem, W->leaf_key_pem, W->root_pem, &msg);

	assert_refused(r, msg, "The certificate chain does not verify the "
	    "certificate: unable to get local issuer certificate");
	assert_non_null(strstr(msg, "depth 0"));
	assert_non_null(strstr(msg, "CN=www.example.com"));
	free(msg);
}

static void
test_unrelated_chain_is_refused(void **state)
{
	size_t len;
	EVP_PKEY *k = fixture_key("EC", 0, "P-256");
	X509 *other_ca = fixture_cert(&(struct fixture_cert_opts){
	    .cn = "Test Intermediate CA", .org = "Example Corp", .key = k,
	    .ca = true });
	_cleanup_free_ char *chain = fixture_cert_pem(other_ca, &len);

	/* Same name as the real issuer, wrong key: the signature fails. */
	refuse_str(W->leaf_pem, W->leaf_key_pem, chain,
	    "The certificate chain does not verify the certificate");
	X509_free(other_ca);
	EVP_PKEY_free(k);
}

static void
test_expired_intermediate_is_refused_naming_it(void **state)
{
	size_t len;
	X509 *old = fixture_cert(&(struct fixture_cert_opts){
	    .cn = "Test Intermediate CA", .org = "Example Corp",
	    .key = W->inter_key, .issuer = W->root, .issuer_key = W->root_key,
	    .ca = true, .not_before = FIXTURE_NOW - 400 * FIXTURE_DAY,
	    .not_after = FIXTURE_NOW - FIXTURE_DAY });
	_cleanup_free_ char *pem = fixture_cert_pem(old, &len);
	_cleanup_free_ char *chain = fixture_concat(pem, W->root_pem, NULL);
	char *msg;
	int r = import_str(W->leaf_pem, W->leaf_key_pem, chain, &msg);

	assert_refused(r, msg, "certificate has expired");
	assert_non_null(strstr(msg, "depth 1"));
	assert_non_null(strstr(msg, "Test Intermediate CA"));
	free(msg);
	X509_free(old);
}

static void
test_chain_for_self_signed_certificate_is_kept_unverified(void **state)
{
	struct import_material *m = NULL;
	char *msg = NULL;

	assert_int_equal(pki_check_import(W->self_pem, strlen(W->self_pem),
	    W->leaf_key_pem, strlen(W->leaf_key_pem), W->root_pem,
	    strlen(W->root_pem), FIXTURE_NOW, &m, &msg), 0);
	assert_string_equal(m->chain_pem, W->root_pem);
	import_material_free(m);
	/* It must still be PEM certificates only. */
	refuse_str(W->self_pem, W->leaf_key_pem, W->leaf_key_pem,
	    "may contain only certificates");
}

/* ---- certinfo ---- */

static void
test_cert_info_matches_acm_fields(void **state)
{
	struct cert_info *info = NULL;
	char *msg = NULL;

	assert_int_equal(cert_info_from_x509(W->leaf, &info, &msg), 0);
	assert_string_equal(info->serial, "0a:1b:2c");
	assert_string_equal(info->subject,
	    "CN=www.example.com,O=Example Corp,C=US");
	assert_string_equal(info->issuer,
	    "CN=Test Intermediate CA,O=Example Corp,C=US");
	assert_string_equal(info->domain_name, "www.example.com");
	assert_int_equal(info->n_names, 3);
	assert_string_equal(info->names[0], "www.example.com");
	assert_string_equal(info->names[1], "example.com");
	assert_string_equal(info->names[2], "*.api.example.com");
	assert_null(info->names[3]);
	assert_int_equal(info->not_before, FIXTURE_NOW - FIXTURE_DAY);
	assert_int_equal(info->not_after, FIXTURE_NOW + 90 * FIXTURE_DAY);
	assert_int_equal(info->n_key_usages, 2);
	assert_string_equal(info->key_usages[0], "DIGITAL_SIGNATURE");
	assert_string_equal(info->key_usages[1], "KEY_ENCIPHERMENT");
	assert_int_equal(info->n_extended_key_usages, 3);
	assert_string_equal(info->extended_key_usages[0],
	    "TLS_WEB_SERVER_AUTHENTICATION");
	assert_string_equal(info->extended_key_usages[1],
	    "TLS_WEB_CLIENT_AUTHENTICATION");
	assert_string_equal(info->extended_key_usages[2], "CUSTOM");
	assert_int_equal(strlen(info->fingerprint_sha256), 64);
	assert_int_equal(strspn(info->fingerprint_sha256, "0123456789abcdef"),
	    64);
	assert_false(info->is_ca);
	assert_false(info->self_signed);
	cert_info_free(info);
}

static void
test_cert_info_of_ca_root(void **state)
{
	struct cert_info *info = NULL;
	char *msg = NULL;

	assert_int_equal(cert_info_from_x509(W->root, &info, &msg), 0);
	assert_true(info->is_ca);
	assert_true(info->self_signed);
	assert_null(info->domain_name); /* "Test Root CA" is no DNS name */
	assert_int_equal(info->n_names, 0);
	assert_null(info->names[0]);
	assert_int_equal(info->key_algorithm, KEY_ALG_EC_P384);
	assert_string_equal(info->signature_algorithm, "SHA384WITHECDSA");
	assert_string_equal(info->key_usages[0], "DIGITAL_SIGNATURE");
	assert_string_equal(info->key_usages[1], "CERTIFICATE_SIGNING");
	assert_string_equal(info->key_usages[2], "CRL_SIGNING");
	assert_int_equal(info->n_extended_key_usages, 0);
	cert_info_free(info);
}

static void
test_cert_info_domain_falls_back_to_first_dns_san(void **state)
{
	X509 *x = fixture_cert(&(struct fixture_cert_opts){
	    .cn = "My Web Server", .sans = "DNS:b.example.com,DNS:a.example.com",
	    .key = W->ec256, .serial = 1 });
	struct cert_info *info = NULL;
	char *msg = NULL;

	assert_int_equal(cert_info_from_x509(x, &info, &msg), 0);
	assert_string_equal(info->domain_name, "b.example.com");
	assert_int_equal(info->n_names, 2);
	assert_string_equal(info->serial, "01");
	cert_info_free(info);
	X509_free(x);
}

static void
test_key_algorithm_names_round_trip(void **state)
{
	enum key_algorithm a;

	for (int i = KEY_ALG_RSA_1024; i <= KEY_ALG_EC_P521; i++) {
		assert_int_equal(key_algorithm_from_name(key_algorithm_name(i),
		    &a), 0);
		assert_int_equal(a, i);
	}
	assert_null(key_algorithm_name(KEY_ALG_UNKNOWN));
	assert_int_equal(key_algorithm_from_name("RSA_8192", &a), -EINVAL);
	assert_int_equal(key_algorithm_from_name("EC_secp224r1", &a), -EINVAL);
}

static void
test_dns_name_rules(void **state)
{
	assert_true(cert_is_dns_name("www.example.com"));
	assert_true(cert_is_dns_name("*.example.com"));
	assert_true(cert_is_dns_name("localhost"));
	assert_false(cert_is_dns_name("Example Root CA"));
	assert_false(cert_is_dns_name(""));
	assert_false(cert_is_dns_name("a..b"));
	assert_false(cert_is_dns_name("www.*.example.com"));
}

static void
test_free_functions_accept_null(void **state)
{
	cert_info_free(NULL);
	import_material_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self_signed_without_chain_is_accepted),
		cmocka_unit_test(test_leaf_with_intermediate_and_root_is_accepted),
		cmocka_unit_test(test_leaf_with_intermediate_only_is_accepted_as_partial_chain),
		cmocka_unit_test(test_chain_with_text_around_blocks_is_accepted),
		cmocka_unit_test(test_traditional_rsa_key_is_accepted),
		cmocka_unit_test(test_ec_key_with_ec_parameters_block_is_accepted),
		cmocka_unit_test(test_crlf_line_endings_and_byte_order_mark_are_accepted),
		cmocka_unit_test(test_every_supported_key_algorithm_is_accepted),
		cmocka_unit_test(test_der_certificate_is_refused_with_conversion_command),
		cmocka_unit_test(test_der_key_is_refused_with_conversion_command),
		cmocka_unit_test(test_pkcs12_is_refused_in_every_field),
		cmocka_unit_test(test_pkcs7_chain_is_refused_der_and_pem),
		cmocka_unit_test(test_encrypted_pkcs8_key_is_refused_with_decrypt_command),
		cmocka_unit_test(test_encrypted_traditional_key_is_refused_with_decrypt_command),
		cmocka_unit_test(test_truncated_pem_is_refused),
		cmocka_unit_test(test_garbled_base64_is_refused),
		cmocka_unit_test(test_pem_of_garbage_der_is_refused),
		cmocka_unit_test(test_text_without_pem_block_is_refused),
		cmocka_unit_test(test_empty_certificate_is_refused),
		cmocka_unit_test(test_two_certificates_in_certificate_field_are_refused),
		cmocka_unit_test(test_two_keys_in_key_field_are_refused),
		cmocka_unit_test(test_key_in_chain_field_is_refused),
		cmocka_unit_test(test_key_in_certificate_field_is_refused),
		cmocka_unit_test(test_certificate_in_key_field_is_refused),
		cmocka_unit_test(test_unsupported_key_types_are_refused_naming_supported_ones),
		cmocka_unit_test(test_mismatched_key_is_refused),
		cmocka_unit_test(test_expired_certificate_is_refused_with_dates),
		cmocka_unit_test(test_not_yet_valid_certificate_is_refused_with_dates),
		cmocka_unit_test(test_ca_certificate_is_refused_asking_for_the_leaf),
		cmocka_unit_test(test_certificate_without_dns_name_is_refused),
		cmocka_unit_test(test_missing_chain_is_refused_for_ca_signed_certificate),
		cmocka_unit_test(test_chain_without_issuer_is_refused_naming_failure),
		cmocka_unit_test(test_unrelated_chain_is_refused),
		cmocka_unit_test(test_expired_intermediate_is_refused_naming_it),
		cmocka_unit_test(test_chain_for_self_signed_certificate_is_kept_unverified),
		cmocka_unit_test(test_cert_info_matches_acm_fields),
		cmocka_unit_test(test_cert_info_of_ca_root),
		cmocka_unit_test(test_cert_info_domain_falls_back_to_first_dns_san),
		cmocka_unit_test(test_key_algorithm_names_round_trip),
		cmocka_unit_test(test_dns_name_rules),
		cmocka_unit_test(test_free_functions_accept_null),
	};

	return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
