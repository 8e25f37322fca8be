/*
 * test_ca.c: certfleet's CA (src/pki/ca.c): the root and intermediate it
 * creates, every field of an issued leaf for each key type under an EC and
 * an RSA CA, chain verification (in-process, with the openssl command line,
 * and through ImportCertificate's checker), serial uniqueness, loading
 * stored material and operator files (and refusing bad ones), and issuing
 * from four threads at once.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "common/xmalloc.h"
#include "pki/ca.h"
#include "pki/certinfo.h"
#include "pki/import_check.h"
#include "pki/keygen.h"
#include "pki_fixtures.h"

#define DAY INT64_C(86400)

static const enum key_algorithm leaf_algs[] = {
	KEY_ALG_RSA_2048, KEY_ALG_RSA_3072, KEY_ALG_RSA_4096,
	KEY_ALG_EC_P256, KEY_ALG_EC_P384,
};

/* Two CAs and one key per leaf algorithm, made once in the group setup. */
struct world {
	struct ca_material *ec_m, *rsa_m;
	struct ca *ec, *rsa;
	EVP_PKEY *leaf_keys[ELEMENTSOF(leaf_algs)];
	int64_t created; /* when the CAs were made */
};

static struct world *W;

static const char *const www_names[] = {
	"www.example.com", "example.com", "*.example.com",
};

static struct ca_material *
create(enum key_algorithm alg, int64_t now)
{
	struct ca_create_params p = {
		.name = "test", .key_algorithm = alg, .now = now,
	};
	struct ca_material *m = NULL;
	char *msg = NULL;

	assert_int_equal(ca_create(&p, &m, &msg), 0);
	assert_null(msg);
	return m;
}

static struct ca *
load(const struct ca_material *m)
{
	struct ca *ca = NULL;
	char *msg = NULL;

	assert_int_equal(ca_load(m->root_pem, m->intermediate_pem,
	    m->intermediate_key_der, m->intermediate_key_len, &ca, &msg), 0);
	assert_null(msg);
	return ca;
}

static int
world_setup(void **state)
{
	W = xcalloc(1, sizeof(*W));
	W->created = (int64_t)time(NULL);
	W->ec_m = create(KEY_ALG_UNKNOWN, W->created); /* the default: EC */
	W->rsa_m = create(KEY_ALG_RSA_2048, W->created);
	W->ec = load(W->ec_m);
	W->rsa = load(W->rsa_m);
	for (size_t i = 0; i < ELEMENTSOF(leaf_algs); i++) {
		char *msg = NULL;

		if (keygen_generate(leaf_algs[i], &W->leaf_keys[i], &msg) != 0)
			return -1;
	}
	return 0;
}

static int
world_teardown(void **state)
{
	ca_material_free(W->ec_m);
	ca_material_free(W->rsa_m);
	ca_free(W->ec);
	ca_free(W->rsa);
	for (size_t i = 0; i < ELEMENTSOF(leaf_algs); i++)
		EVP_PKEY_free(W->leaf_keys[i]);
	free(W);
	return 0;
}

/* ---- helpers ------------------------------------------------------ */

static X509 *
pem_cert(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);

	BIO_free(bio);
	assert_non_null(x);
	return x;
}

static STACK_OF(X509) *
pem_certs(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	STACK_OF(X509) *sk = sk_X509_new_null();
	X509 *x;

	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		sk_X509_push(sk, x);
	ERR_clear_error();
	BIO_free(bio);
	return sk;
}

static X509 *
issue_at(const struct ca *ca, EVP_PKEY *key, const char *const *names,
    size_t n, int64_t now, int64_t backdate, int64_t validity)
{
	struct issue_params p;
	char *pem = NULL, *msg = NULL;
	X509 *x;

	issue_params_init(&p);
	p.public_key = key;
	p.names = names;
	p.n_names = n;
	p.now = now;
	if (backdate >= 0)
		p.backdate = backdate;
	if (validity > 0)
		p.validity = validity;
	assert_int_equal(ca_issue(ca, &p, &pem, &msg), 0);
	assert_null(msg);
	x = pem_cert(pem);
	free(pem);
	return x;
}

static X509 *
issue(const struct ca *ca, EVP_PKEY *key, int64_t now)
{
	return issue_at(ca, key, www_names, ELEMENTSOF(www_names), now, -1, 0);
}

/* X509_verify_cert, strict RFC 5280, as a TLS server for a host name. */
static int
verify(const struct ca *ca, X509 *leaf, int64_t now, const char *host)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509 *root = pem_cert(ca_root_pem(ca));
	STACK_OF(X509) *chain = pem_certs(ca_chain_pem(ca));
	X509_VERIFY_PARAM *param;
	int err;

	assert_true(X509_STORE_add_cert(store, root));
	assert_true(X509_STORE_CTX_init(ctx, store, leaf, chain));
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, (time_t)now);
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
	X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
	if (host != NULL)
		X509_VERIFY_PARAM_set1_host(param, host, 0);
	err = X509_verify_cert(ctx) == 1 ? X509_V_OK :
	    X509_STORE_CTX_get_error(ctx);
	if (err == X509_V_OK)
		assert_int_equal(sk_X509_num(X509_STORE_CTX_get0_chain(ctx)), 3);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(root);
	sk_X509_pop_free(chain, X509_free);
	ERR_clear_error();
	return err;
}

static bool
strv_eq(char **v, size_t n, const char *const *want, size_t n_want)
{
	if (n != n_want)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], want[i]) != 0)
			return false;
	return true;
}

static const ASN1_OCTET_STRING *
ext_critical(X509 *x, int nid, bool critical)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	assert_true(i >= 0);
	assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(x, i)),
	    critical ? 1 : 0);
	return X509_EXTENSION_get_data(X509_get_ext(x, i));
}

static void
assert_positive_128_bit_serial(X509 *x)
{
	const ASN1_INTEGER *ai = X509_get0_serialNumber(x);
	BIGNUM *bn = ASN1_INTEGER_to_BN(ai, NULL);
	int der_len = i2d_ASN1_INTEGER((ASN1_INTEGER *)ai, NULL);

	assert_non_null(bn);
	assert_false(BN_is_negative(bn));
	assert_false(BN_is_zero(bn));
	assert_true(BN_num_bits(bn) <= 128);
	assert_true(der_len - 2 <= 20); /* tag and length, then <= 20 octets */
	BN_free(bn);
}

static void
assert_key_ids(X509 *leaf, X509 *inter)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(leaf);
	const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(leaf);

	ext_critical(leaf, NID_subject_key_identifier, false);
	ext_critical(leaf, NID_authority_key_identifier, false);
	assert_true(X509_pubkey_digest(leaf, EVP_sha1(), md, &md_len));
	assert_non_null(ski);
	assert_int_equal(ASN1_STRING_length(ski), (int)md_len);
	assert_memory_equal(ASN1_STRING_get0_data(ski), md, md_len);
	assert_non_null(aki);
	assert_int_equal(ASN1_OCTET_STRING_cmp(aki,
	    X509_get0_subject_key_id(inter)), 0);
}

static void
assert_leaf_extensions(X509 *leaf, bool rsa)
{
	BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(leaf, NID_basic_constraints,
	    NULL, NULL);

	ext_critical(leaf, NID_basic_constraints, true);
	assert_non_null(bc);
	assert_false(bc->ca);
	assert_null(bc->pathlen);
	BASIC_CONSTRAINTS_free(bc);
	ext_critical(leaf, NID_key_usage, true);
	assert_int_equal(X509_get_key_usage(leaf), rsa ?
	    (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT) :
	    KU_DIGITAL_SIGNATURE);
	ext_critical(leaf, NID_ext_key_usage, false);
	assert_int_equal(X509_get_extended_key_usage(leaf),
	    XKU_SSL_SERVER | XKU_SSL_CLIENT);
	ext_critical(leaf, NID_subject_alt_name, false);
}

/* The subjectPublicKeyInfo is byte for byte what OpenSSL encodes. */
static void
assert_same_spki(X509 *leaf, EVP_PKEY *key)
{
	unsigned char *a = NULL, *b = NULL;
	int na = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), &a);
	int nb = i2d_PUBKEY(key, &b);

	assert_true(na > 0);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, (size_t)na);
	OPENSSL_free(a);
	OPENSSL_free(b);
}

/* Every field of a leaf issued for www_names at now with the defaults. */
static void
assert_leaf(X509 *leaf, const struct ca *ca, EVP_PKEY *key,
    enum key_algorithm alg, int64_t now)
{
	static const char *const rsa_ku[] = { "DIGITAL_SIGNATURE",
		"KEY_ENCIPHERMENT" };
	static const char *const ec_ku[] = { "DIGITAL_SIGNATURE" };
	static const char *const eku[] = { "TLS_WEB_SERVER_AUTHENTICATION",
		"TLS_WEB_CLIENT_AUTHENTICATION" };
	X509 *inter = pem_cert(ca_chain_pem(ca));
	bool rsa = EVP_PKEY_is_a(key, "RSA");
	bool rsa_ca = EVP_PKEY_is_a(X509_get0_pubkey(inter), "RSA");
	struct cert_info *info = NULL;
	char *msg = NULL;

	assert_int_equal(cert_info_from_x509(leaf, &info, &msg), 0);
	assert_int_equal(X509_get_version(leaf), X509_VERSION_3);
	assert_string_equal(info->subject, "CN=www.example.com");
	assert_string_equal(info->issuer, "CN=test Intermediate CA,O=certfleet");
	assert_string_equal(info->domain_name, "www.example.com");
	assert_true(strv_eq(info->names, info->n_names, www_names,
	    ELEMENTSOF(www_names)));
	assert_int_equal(info->not_before, now - CA_DEFAULT_BACKDATE);
	assert_int_equal(info->not_after, now + CA_DEFAULT_LEAF_VALIDITY);
	assert_int_equal(info->key_algorithm, alg);
	assert_string_equal(info->signature_algorithm, rsa_ca ?
	    "SHA256WITHRSA" : "SHA256WITHECDSA");
	assert_true(rsa ? strv_eq(info->key_usages, info->n_key_usages,
	    rsa_ku, 2) : strv_eq(info->key_usages, info->n_key_usages, ec_ku,
	    1));
	assert_true(strv_eq(info->extended_key_usages,
	    info->n_extended_key_usages, eku, 2));
	assert_false(info->is_ca);
	assert_false(info->self_signed);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(leaf), key), 1);
	assert_same_spki(leaf, key);
	assert_int_equal(X509_verify(leaf, X509_get0_pubkey(inter)), 1);
	assert_positive_128_bit_serial(leaf);
	assert_leaf_extensions(leaf, rsa);
	assert_key_ids(leaf, inter);
	assert_int_equal(verify(ca, leaf, now, "www.example.com"), X509_V_OK);
	assert_int_equal(verify(ca, leaf, now, "sub.example.com"), X509_V_OK);
	assert_int_equal(verify(ca, leaf, now, "other.example.org"),
	    X509_V_ERR_HOSTNAME_MISMATCH);
	cert_info_free(info);
	X509_free(inter);
}

static char *
tmpdir(void)
{
	char *dir = xstrdup("/tmp/test_ca.XXXXXX");

	assert_non_null(mkdtemp(dir));
	return dir;
}

static char *
write_file(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void
rm_dir(char *dir)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(dir);
}

static char *
key_pem(EVP_PKEY *k)
{
	size_t len;

	return fixture_key_pem_traditional(k, &len);
}

static EVP_PKEY *
der_key(const unsigned char *der, size_t len)
{
	EVP_PKEY *k = NULL;

	assert_int_equal(pkey_from_pkcs8_der(der, len, &k), 0);
	return k;
}

/* ---- creating the CA ---------------------------------------------- */

static void
assert_ca_cert(X509 *x, const char *subject, int pathlen, uint32_t ku,
    int64_t validity)
{
	struct cert_info *info = NULL;
	char *msg = NULL;
	BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints,
	    NULL, NULL);

	assert_int_equal(cert_info_from_x509(x, &info, &msg), 0);
	assert_string_equal(info->subject, subject);
	assert_true(info->is_ca);
	assert_int_equal(info->not_before, W->created - CA_DEFAULT_BACKDATE);
	assert_int_equal(info->not_after, W->created + validity);
	ext_critical(x, NID_basic_constraints, true);
	assert_non_null(bc);
	assert_true(bc->ca);
	if (pathlen < 0)
		assert_null(bc->pathlen);
	else
		assert_int_equal(ASN1_INTEGER_get(bc->pathlen), pathlen);
	BASIC_CONSTRAINTS_free(bc);
	ext_critical(x, NID_key_usage, true);
	assert_int_equal(X509_get_key_usage(x), ku);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_positive_128_bit_serial(x);
	cert_info_free(info);
}

static void
assert_ca_material(const struct ca_material *m, const char *key_type)
{
	X509 *root = pem_cert(m->root_pem), *inter = pem_cert(
	    m->intermediate_pem);
	EVP_PKEY *root_key = der_key(m->root_key_der, m->root_key_len);
	EVP_PKEY *inter_key = der_key(m->intermediate_key_der,
	    m->intermediate_key_len);

	assert_ca_cert(root, "CN=test Root CA,O=certfleet", -1,
	    KU_KEY_CERT_SIGN | KU_CRL_SIGN, CA_DEFAULT_ROOT_VALIDITY);
	assert_ca_cert(inter, "CN=test Intermediate CA,O=certfleet", 0,
	    KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN,
	    CA_DEFAULT_INTERMEDIATE_VALIDITY);
	assert_int_equal(X509_self_signed(root, 1), 1);
	assert_int_equal(X509_verify(inter, X509_get0_pubkey(root)), 1);
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(
	    inter), X509_get0_subject_key_id(root)), 0);
	assert_int_equal(X509_check_private_key(root, root_key), 1);
	assert_int_equal(X509_check_private_key(inter, inter_key), 1);
	assert_true(EVP_PKEY_is_a(inter_key, key_type));
	assert_true(EVP_PKEY_is_a(root_key, key_type));
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(inter_key);
	X509_free(root);
	X509_free(inter);
}

static void
creates_ec_root_and_intermediate_by_default(void **state)
{
	assert_ca_material(W->ec_m, "EC");
}

static void
creates_rsa_root_and_intermediate(void **state)
{
	assert_ca_material(W->rsa_m, "RSA");
}

static void
create_refuses_bad_parameters(void **state)
{
	const struct ca_create_params bad[] = {
		{ .name = NULL },
		{ .name = "" },
		{ .name = "a name that is far too long to fit in a subject CN, really" },
		{ .name = "tab\there" },
		{ .name = "bad utf-8 \xff" },
		{ .name = "ok", .key_algorithm = KEY_ALG_RSA_1024 },
		{ .name = "ok", .root_validity = DAY,
		    .intermediate_validity = 2 * DAY },
		{ .name = "ok", .root_validity = -1 },
	};

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		struct ca_material *m = NULL;
		char *msg = NULL;

		assert_int_equal(ca_create(&bad[i], &m, &msg), -EINVAL);
		assert_null(m);
		assert_non_null(msg);
		free(msg);
	}
}

static void
chain_is_intermediate_then_root(void **state)
{
	STACK_OF(X509) *chain = pem_certs(ca_chain_pem(W->ec));
	X509 *root = pem_cert(W->ec_m->root_pem);
	X509 *inter = pem_cert(W->ec_m->intermediate_pem);

	assert_int_equal(sk_X509_num(chain), 2);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 0), inter), 0);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 1), root), 0);
	assert_string_equal(ca_root_pem(W->ec), W->ec_m->root_pem);
	sk_X509_pop_free(chain, X509_free);
	X509_free(root);
	X509_free(inter);
}

/* ---- issuing ------------------------------------------------------ */

static void
issues_every_key_type_under_ec_and_rsa_cas(void **state)
{
	const struct ca *cas[] = { W->ec, W->rsa };
	int64_t now = (int64_t)time(NULL);

	for (size_t c = 0; c < ELEMENTSOF(cas); c++)
		for (size_t i = 0; i < ELEMENTSOF(leaf_algs); i++) {
			X509 *leaf = issue(cas[c], W->leaf_keys[i], now);

			assert_leaf(leaf, cas[c], W->leaf_keys[i],
			    leaf_algs[i], now);
			X509_free(leaf);
		}
}

static void
issue_honours_backdate_and_validity(void **state)
{
	int64_t now = (int64_t)time(NULL);
	X509 *leaf = issue_at(W->ec, W->leaf_keys[3], www_names, 1, now, 0,
	    3600);
	struct cert_info *info = NULL;
	char *msg = NULL;

	assert_int_equal(cert_info_from_x509(leaf, &info, &msg), 0);
	assert_int_equal(info->not_before, now);
	assert_int_equal(info->not_after, now + 3600);
	assert_int_equal(info->n_names, 1);
	cert_info_free(info);
	X509_free(leaf);
	/* The default clock: within a few seconds of now. */
	leaf = issue_at(W->ec, W->leaf_keys[3], www_names, 1, 0, 7200, 0);
	assert_int_equal(cert_info_from_x509(leaf, &info, &msg), 0);
	assert_true(info->not_before >= now - 7200 &&
	    info->not_before <= now - 7200 + 60);
	cert_info_free(info);
	X509_free(leaf);
}

static void
leaf_never_outlives_its_intermediate(void **state)
{
	int64_t now = (int64_t)time(NULL);
	X509 *leaf = issue_at(W->ec, W->leaf_keys[3], www_names, 1, now, -1,
	    30 * 366 * DAY);
	X509 *inter = pem_cert(W->ec_m->intermediate_pem);

	assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(leaf),
	    X509_get0_notAfter(inter)), 0);
	X509_free(leaf);
	X509_free(inter);
}

static void
duplicate_names_appear_once(void **state)
{
	static const char *const names[] = { "a.example.com", "b.example.com",
		"A.EXAMPLE.COM", "b.example.com" };
	static const char *const want[] = { "a.example.com", "b.example.com" };
	X509 *leaf = issue_at(W->ec, W->leaf_keys[3], names, 4, 0, -1, 0);
	GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name,
	    NULL, NULL);

	assert_int_equal(sk_GENERAL_NAME_num(gens), 2);
	for (int i = 0; i < 2; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		assert_int_equal(g->type, GEN_DNS);
		assert_string_equal(ASN1_STRING_get0_data(g->d.dNSName),
		    want[i]);
	}
	GENERAL_NAMES_free(gens);
	X509_free(leaf);
}

static int
issue_fails(const struct ca *ca, EVP_PKEY *key, const char *const *names,
    size_t n, int64_t now, int64_t backdate, int64_t validity)
{
	struct issue_params p = {
		.public_key = key, .names = names, .n_names = n, .now = now,
		.backdate = backdate, .validity = validity,
	};
	char *pem = NULL, *msg = NULL;
	int r = ca_issue(ca, &p, &pem, &msg);

	assert_true(r < 0);
	assert_null(pem);
	assert_non_null(msg);
	free(msg);
	return r;
}

static void
issue_refuses_bad_parameters(void **state)
{
	static const char *const long_first[] = {
		"a-first-name-that-is-far-too-long-for-a-subject-cn.www.example.com",
	};
	static const char *const not_dns[] = { "www.example.com",
		"exa mple.com" };
	EVP_PKEY *rsa1024 = fixture_key("RSA", 1024, NULL);
	EVP_PKEY *ed = fixture_key("ED25519", 0, NULL);
	EVP_PKEY *k = W->leaf_keys[3];
	const int64_t v = CA_DEFAULT_LEAF_VALIDITY;

	assert_int_equal(issue_fails(W->ec, NULL, www_names, 1, 0, 0, v),
	    -EINVAL);
	assert_int_equal(issue_fails(W->ec, rsa1024, www_names, 1, 0, 0, v),
	    -EINVAL);
	assert_int_equal(issue_fails(W->ec, ed, www_names, 1, 0, 0, v),
	    -EINVAL);
	assert_int_equal(issue_fails(W->ec, k, www_names, 0, 0, 0, v),
	    -EINVAL);
	assert_int_equal(issue_fails(W->ec, k, long_first, 1, 0, 0, v),
	    -EINVAL);
	assert_int_equal(issue_fails(W->ec, k, not_dns, 2, 0, 0, v), -EINVAL);
	assert_int_equal(issue_fails(W->ec, k, www_names, 1, 0, -1, v),
	    -EINVAL);
	assert_int_equal(issue_fails(W->ec, k, www_names, 1, 0, 0, 0),
	    -EINVAL);
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(ed);
}

static void
expired_intermediate_refuses_to_issue(void **state)
{
	struct ca_create_params p = {
		.name = "old", .now = (int64_t)time(NULL) - 10 * DAY,
		.root_validity = 5 * DAY, .intermediate_validity = 2 * DAY,
	};
	struct ca_material *m = NULL;
	struct ca *ca = NULL;
	char *msg = NULL;

	assert_int_equal(ca_create(&p, &m, &msg), 0);
	ca = load(m); /* an expired CA still loads */
	assert_int_equal(issue_fails(ca, W->leaf_keys[3], www_names, 1, 0,
	    0, DAY), -EKEYEXPIRED);
	ca_free(ca);
	ca_material_free(m);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

#define SERIAL_ISSUES 1000

static void
serials_are_unique_over_1000_issues(void **state)
{
	char **serials = xcalloc(SERIAL_ISSUES, sizeof(char *));
	int top_bit = 0;

	for (int i = 0; i < SERIAL_ISSUES; i++) {
		X509 *leaf = issue(W->ec, W->leaf_keys[3], 0);
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf),
		    NULL);

		assert_positive_128_bit_serial(leaf);
		top_bit += BN_num_bits(bn) == 128;
		serials[i] = BN_bn2hex(bn);
		BN_free(bn);
		X509_free(leaf);
	}
	qsort(serials, SERIAL_ISSUES, sizeof(char *), cmp_str);
	for (int i = 1; i < SERIAL_ISSUES; i++)
		assert_string_not_equal(serials[i - 1], serials[i]);
	/* All 128 bits are random: about half have the top one set. */
	assert_in_range(top_bit, 350, 650);
	for (int i = 0; i < SERIAL_ISSUES; i++)
		OPENSSL_free(serials[i]);
	free(serials);
}

static void
issued_info_spells_the_serial_as_acm(void **state)
{
	struct issue_params p;
	struct cert_info *info = NULL;
	char *pem = NULL, *msg = NULL;

	issue_params_init(&p);
	p.public_key = W->leaf_keys[0];
	p.names = www_names;
	p.n_names = ELEMENTSOF(www_names);
	assert_int_equal(ca_issue(W->rsa, &p, &pem, &msg), 0);
	assert_int_equal(ca_issued_info(pem, &info, &msg), 0);
	/* "0a:1b:..": up to 16 octets of lower-case hex (leading 0 octets
	 * are dropped, as in every serial ACM shows). */
	assert_true(strlen(info->serial) <= 16 * 3 - 1);
	assert_int_equal((strlen(info->serial) + 1) % 3, 0);
	for (const char *s = info->serial; *s != '\0'; s++)
		assert_non_null(strchr("0123456789abcdef:", *s));
	assert_string_equal(info->domain_name, "www.example.com");
	assert_int_equal(info->key_algorithm, KEY_ALG_RSA_2048);
	cert_info_free(info);
	assert_int_equal(ca_issued_info("garbage", &info, &msg), -EINVAL);
	free(msg);
	free(pem);
}

/* A retry after a crash reuses its intent's serial: the leaf carries the
 * octets given, and bad serials are refused. */
static void
issues_with_the_serial_given(void **state)
{
	static const unsigned char serial[16] = { 0x80, 0x01, 0x02, 0x03,
		0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
		0x0e, 0xff };
	static const unsigned char zero[2] = { 0, 0 };
	static const unsigned char too_long[21] = { 1 };
	struct issue_params p;
	struct cert_info *info = NULL;
	char *pem = NULL, *msg = NULL;

	issue_params_init(&p);
	p.public_key = W->leaf_keys[0];
	p.names = www_names;
	p.n_names = ELEMENTSOF(www_names);
	p.serial = serial;
	p.serial_len = sizeof(serial);
	assert_int_equal(ca_issue(W->ec, &p, &pem, &msg), 0);
	assert_int_equal(ca_issued_info(pem, &info, &msg), 0);
	assert_string_equal(info->serial,
	    "80:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:ff");
	cert_info_free(info);
	free(pem);
	pem = NULL;
	p.serial = zero;
	p.serial_len = sizeof(zero);
	assert_int_equal(ca_issue(W->ec, &p, &pem, &msg), -EINVAL);
	free(msg);
	msg = NULL;
	p.serial = too_long;
	p.serial_len = sizeof(too_long);
	assert_int_equal(ca_issue(W->ec, &p, &pem, &msg), -EINVAL);
	assert_null(pem);
	free(msg);
}

/* The facts handed back with the leaf are those read from its PEM. */
static void
issue_with_info_matches_issued_info(void **state)
{
	struct issue_params p;
	struct cert_info *a = NULL, *b = NULL;
	char *pem = NULL, *msg = NULL;

	/* An RSA and an EC leaf (their public keys are set differently). */
	for (size_t k = 0; k < ELEMENTSOF(leaf_algs); k++) {
		issue_params_init(&p);
		p.public_key = W->leaf_keys[k];
		p.names = www_names;
		p.n_names = ELEMENTSOF(www_names);
		assert_int_equal(ca_issue_with_info(W->ec, &p, &pem, &a, &msg),
		    0);
		assert_int_equal(ca_issued_info(pem, &b, &msg), 0);
		assert_string_equal(a->serial, b->serial);
		assert_string_equal(a->fingerprint_sha256,
		    b->fingerprint_sha256);
		assert_string_equal(a->subject, b->subject);
		assert_int_equal(a->not_after, b->not_after);
		assert_int_equal(a->n_names, b->n_names);
		assert_int_equal(a->key_algorithm, b->key_algorithm);
		assert_int_not_equal(a->key_algorithm, KEY_ALG_UNKNOWN);
		cert_info_free(a);
		cert_info_free(b);
		free(pem);
	}
}

/* ---- verification from outside ------------------------------------ */

static void
openssl_command_line_verifies_leaf_and_chain(void **state)
{
	const struct ca *cas[] = { W->ec, W->rsa };

	for (size_t c = 0; c < ELEMENTSOF(cas); c++) {
		char *dir = tmpdir(), *pem = NULL, *msg = NULL, *cmd;
		struct issue_params p;

		issue_params_init(&p);
		p.public_key = W->leaf_keys[c == 0 ? 0 : 3];
		p.names = www_names;
		p.n_names = ELEMENTSOF(www_names);
		assert_int_equal(ca_issue(cas[c], &p, &pem, &msg), 0);
		free(write_file(dir, "root.pem", ca_root_pem(cas[c])));
		free(write_file(dir, "chain.pem", ca_chain_pem(cas[c])));
		free(write_file(dir, "cert.pem", pem));
		cmd = xasprintf("cd '%s' && openssl verify -CAfile root.pem "
		    "-untrusted chain.pem cert.pem >out.txt 2>&1 && grep -qx "
		    "'cert.pem: OK' out.txt && openssl verify -CAfile root.pem "
		    "-untrusted chain.pem -purpose sslserver -x509_strict "
		    "-verify_hostname www.example.com cert.pem >/dev/null 2>&1",
		    dir);
		assert_int_equal(system(cmd), 0);
		free(cmd);
		free(pem);
		rm_dir(dir);
	}
}

static void
import_checker_accepts_issued_leaf_and_chain(void **state)
{
	struct import_material *im = NULL;
	struct issue_params p;
	char *pem = NULL, *msg = NULL, *kpem;
	const char *chain = ca_chain_pem(W->rsa);
	size_t klen;

	issue_params_init(&p);
	p.public_key = W->leaf_keys[3];
	p.names = www_names;
	p.n_names = ELEMENTSOF(www_names);
	assert_int_equal(ca_issue(W->rsa, &p, &pem, &msg), 0);
	kpem = fixture_key_pem(W->leaf_keys[3], &klen);
	assert_int_equal(pki_check_import(pem, strlen(pem), kpem, klen, chain,
	    strlen(chain), (int64_t)time(NULL), &im, &msg), 0);
	assert_null(msg);
	assert_string_equal(im->info->domain_name, "www.example.com");
	assert_int_equal(im->info->key_algorithm, KEY_ALG_EC_P256);
	import_material_free(im);
	secret_free(kpem, klen);
	free(pem);
}

/* ---- loading ------------------------------------------------------ */

static void
load_refuses_wrong_key_and_garbage(void **state)
{
	const struct ca_material *m = W->ec_m;
	static const unsigned char junk[] = "junk";
	struct ca *ca = NULL;
	char *msg = NULL;

	/* The root's key is not the intermediate's. */
	assert_int_equal(ca_load(m->root_pem, m->intermediate_pem,
	    m->root_key_der, m->root_key_len, &ca, &msg), -EINVAL);
	assert_non_null(strstr(msg, "does not match"));
	free(msg);
	assert_int_equal(ca_load(m->root_pem, m->intermediate_pem, junk,
	    sizeof(junk), &ca, &msg), -EINVAL);
	free(msg);
	assert_int_equal(ca_load("junk", m->intermediate_pem,
	    m->intermediate_key_der, m->intermediate_key_len, &ca, &msg),
	    -EINVAL);
	free(msg);
	/* Another CA's root. */
	assert_int_equal(ca_load(W->rsa_m->root_pem, m->intermediate_pem,
	    m->intermediate_key_der, m->intermediate_key_len, &ca, &msg),
	    -EINVAL);
	assert_non_null(strstr(msg, "does not verify"));
	free(msg);
	assert_null(ca);
}

/* Operator files made from a created CA; paths in a fresh folder. */
struct op_files {
	char *dir, *cert, *key, *root;
};

static void
op_files_write(struct op_files *f, const char *cert_pem, EVP_PKEY *key,
    const char *root_pem)
{
	char *kpem = key_pem(key);

	f->dir = tmpdir();
	f->cert = write_file(f->dir, "intermediate.pem", cert_pem);
	f->key = write_file(f->dir, "intermediate.key", kpem);
	f->root = write_file(f->dir, "root.pem", root_pem);
	free(kpem);
}

static void
op_files_remove(struct op_files *f)
{
	free(f->cert);
	free(f->key);
	free(f->root);
	rm_dir(f->dir);
}

static int
load_files(const struct op_files *f, char **msg)
{
	struct ca *ca = NULL;
	int r = ca_load_files(f->cert, f->key, f->root, &ca, msg);

	if (r == 0) {
		X509 *leaf = issue(ca, W->leaf_keys[0], 0);

		assert_int_equal(verify(ca, leaf, (int64_t)time(NULL),
		    "www.example.com"), X509_V_OK);
		X509_free(leaf);
		ca_free(ca);
	} else {
		assert_null(ca);
		assert_non_null(*msg);
	}
	return r;
}

static void
loads_operator_files_and_issues(void **state)
{
	EVP_PKEY *k = der_key(W->rsa_m->intermediate_key_der,
	    W->rsa_m->intermediate_key_len);
	struct op_files f;
	char *msg = NULL;

	op_files_write(&f, W->rsa_m->intermediate_pem, k, W->rsa_m->root_pem);
	assert_int_equal(load_files(&f, &msg), 0);
	assert_null(msg);
	op_files_remove(&f);
	EVP_PKEY_free(k);
}

static void
operator_files_with_mismatched_key_are_refused(void **state)
{
	EVP_PKEY *other = der_key(W->ec_m->intermediate_key_der,
	    W->ec_m->intermediate_key_len);
	struct op_files f;
	char *msg = NULL;

	op_files_write(&f, W->rsa_m->intermediate_pem, other,
	    W->rsa_m->root_pem);
	assert_int_equal(load_files(&f, &msg), -EINVAL);
	assert_non_null(strstr(msg, "does not match"));
	assert_non_null(strstr(msg, f.key));
	free(msg);
	op_files_remove(&f);
	EVP_PKEY_free(other);
}

static void
operator_intermediate_not_chaining_to_root_is_refused(void **state)
{
	EVP_PKEY *k = der_key(W->rsa_m->intermediate_key_der,
	    W->rsa_m->intermediate_key_len);
	struct op_files f;
	char *msg = NULL;

	op_files_write(&f, W->rsa_m->intermediate_pem, k, W->ec_m->root_pem);
	assert_int_equal(load_files(&f, &msg), -EINVAL);
	assert_non_null(strstr(msg, "does not verify against the root"));
	free(msg);
	op_files_remove(&f);
	EVP_PKEY_free(k);
}

static void
operator_leaf_as_intermediate_is_refused(void **state)
{
	X509 *leaf = issue(W->ec, W->leaf_keys[3], 0);
	size_t len;
	char *leaf_pem = fixture_cert_pem(leaf, &len), *msg = NULL;
	struct op_files f;

	op_files_write(&f, leaf_pem, W->leaf_keys[3], W->ec_m->root_pem);
	assert_int_equal(load_files(&f, &msg), -EINVAL);
	assert_non_null(strstr(msg, "not a CA certificate"));
	free(msg);
	op_files_remove(&f);
	/* The root given as its own intermediate. */
	EVP_PKEY *root_key = der_key(W->ec_m->root_key_der,
	    W->ec_m->root_key_len);
	op_files_write(&f, W->ec_m->root_pem, root_key, W->ec_m->root_pem);
	assert_int_equal(load_files(&f, &msg), -EINVAL);
	assert_non_null(strstr(msg, "the root itself"));
	free(msg);
	op_files_remove(&f);
	EVP_PKEY_free(root_key);
	free(leaf_pem);
	X509_free(leaf);
}

static void
operator_files_missing_or_encrypted_are_refused(void **state)
{
	EVP_PKEY *k = der_key(W->ec_m->intermediate_key_der,
	    W->ec_m->intermediate_key_len);
	struct op_files f;
	char *msg = NULL, *enc;
	size_t len;

	op_files_write(&f, W->ec_m->intermediate_pem, k, W->ec_m->root_pem);
	assert_int_equal(ca_load_files(f.cert, "/nonexistent/key.pem",
	    f.root, &(struct ca *){ NULL }, &msg), -ENOENT);
	assert_non_null(strstr(msg, "/nonexistent/key.pem"));
	free(msg);
	enc = fixture_key_pem_encrypted(k, &len);
	free(write_file(f.dir, "intermediate.key", enc));
	assert_int_equal(load_files(&f, &msg), -EINVAL);
	assert_non_null(strstr(msg, "encrypted"));
	free(msg);
	free(enc);
	/* A PKCS#8 (not traditional) key file loads too. */
	enc = fixture_key_pem(k, &len);
	free(write_file(f.dir, "intermediate.key", enc));
	assert_int_equal(load_files(&f, &msg), 0);
	secret_free(enc, len);
	op_files_remove(&f);
	EVP_PKEY_free(k);
}

/* ---- threads ------------------------------------------------------ */

#define THREADS 4
#define ISSUES_PER_THREAD 200

struct worker {
	const struct ca *ca;
	EVP_PKEY *key;	/* each thread certifies its own key */
	char *pems[ISSUES_PER_THREAD];
	int failures;
};

static void *
issue_many(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < ISSUES_PER_THREAD; i++) {
		struct issue_params p;
		char *msg = NULL;

		issue_params_init(&p);
		p.public_key = w->key;
		p.names = www_names;
		p.n_names = ELEMENTSOF(www_names);
		if (ca_issue(w->ca, &p, &w->pems[i], &msg) != 0)
			w->failures++;
		free(msg);
	}
	return NULL;
}

static void
run_workers(const struct ca *ca)
{
	struct worker w[THREADS] = { 0 };
	pthread_t t[THREADS];
	char **serials = xcalloc(THREADS * ISSUES_PER_THREAD, sizeof(char *));
	int64_t now = (int64_t)time(NULL);
	size_t n = 0;

	for (int i = 0; i < THREADS; i++) {
		w[i].ca = ca;
		w[i].key = fixture_key("EC", 0, "P-256");
		assert_int_equal(pthread_create(&t[i], NULL, issue_many, &w[i]),
		    0);
	}
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(w[i].failures, 0);
		for (int j = 0; j < ISSUES_PER_THREAD; j++) {
			X509 *leaf = pem_cert(w[i].pems[j]);
			BIGNUM *bn;

			assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(leaf),
			    w[i].key), 1);
			assert_int_equal(verify(ca, leaf, now, NULL),
			    X509_V_OK);
			bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf),
			    NULL);
			serials[n++] = BN_bn2hex(bn);
			BN_free(bn);
			X509_free(leaf);
			free(w[i].pems[j]);
		}
		EVP_PKEY_free(w[i].key);
	}
	qsort(serials, n, sizeof(char *), cmp_str);
	for (size_t i = 1; i < n; i++)
		assert_string_not_equal(serials[i - 1], serials[i]);
	for (size_t i = 0; i < n; i++)
		OPENSSL_free(serials[i]);
	free(serials);
}

static void
issues_from_four_threads_at_once(void **state)
{
	run_workers(W->ec);
	run_workers(W->rsa);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(creates_ec_root_and_intermediate_by_default),
		cmocka_unit_test(creates_rsa_root_and_intermediate),
		cmocka_unit_test(create_refuses_bad_parameters),
		cmocka_unit_test(chain_is_intermediate_then_root),
		cmocka_unit_test(issues_every_key_type_under_ec_and_rsa_cas),
		cmocka_unit_test(issue_honours_backdate_and_validity),
		cmocka_unit_test(leaf_never_outlives_its_intermediate),
		cmocka_unit_test(duplicate_names_appear_once),
		cmocka_unit_test(issue_refuses_bad_parameters),
		cmocka_unit_test(expired_intermediate_refuses_to_issue),
		cmocka_unit_test(serials_are_unique_over_1000_issues),
		cmocka_unit_test(issued_info_spells_the_serial_as_acm),
		cmocka_unit_test(openssl_command_line_verifies_leaf_and_chain),
		cmocka_unit_test(import_checker_accepts_issued_leaf_and_chain),
		cmocka_unit_test(load_refuses_wrong_key_and_garbage),
		cmocka_unit_test(loads_operator_files_and_issues),
		cmocka_unit_test(operator_files_with_mismatched_key_are_refused),
		cmocka_unit_test(
		    operator_intermediate_not_chaining_to_root_is_refused),
		cmocka_unit_test(operator_leaf_as_intermediate_is_refused),
		cmocka_unit_test(operator_files_missing_or_encrypted_are_refused),
		cmocka_unit_test(issues_from_four_threads_at_once),
		cmocka_unit_test(issues_with_the_serial_given),
		cmocka_unit_test(issue_with_info_matches_issued_info),
	};

	return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
