/*
 * certinfo.c: reads an X.509 certificate into struct cert_info, translating
 * OpenSSL's view (NIDs, bit masks, ASN1 strings) into ACM's names.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/xmalloc.h"
#include "pki/certinfo.h"
#include "pki/ossl.h"

static const char *const key_algorithm_names[] = {
	[KEY_ALG_RSA_1024] = "RSA_1024",
	[KEY_ALG_RSA_2048] = "RSA_2048",
	[KEY_ALG_RSA_3072] = "RSA_3072",
	[KEY_ALG_RSA_4096] = "RSA_4096",
	[KEY_ALG_EC_P256] = "EC_prime256v1",
	[KEY_ALG_EC_P384] = "EC_secp384r1",
	[KEY_ALG_EC_P521] = "EC_secp521r1",
};

const char *
key_algorithm_name(enum key_algorithm alg)
{
	if ((size_t)alg >= ELEMENTSOF(key_algorithm_names))
		return NULL;
	return key_algorithm_names[alg];
}

int
key_algorithm_from_name(const char *name, enum key_algorithm *out)
{
	for (size_t i = 0; i < ELEMENTSOF(key_algorithm_names); i++) {
		if (key_algorithm_names[i] != NULL && name != NULL &&
		    strcmp(key_algorithm_names[i], name) == 0) {
			*out = (enum key_algorithm)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Curve NID of an EC key, NID_undef if the group has no name. */
static int
pkey_curve_nid(const EVP_PKEY *pkey)
{
	char group[64];

	if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), NULL)) {
		ERR_clear_error();
		return NID_undef;
	}
	int nid = OBJ_sn2nid(group);
	if (nid == NID_undef)
		nid = EC_curve_nist2nid(group);
	return nid;
}

enum key_algorithm
key_algorithm_of_pkey(const EVP_PKEY *pkey)
{
	if (pkey == NULL)
		return KEY_ALG_UNKNOWN;
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		switch (EVP_PKEY_get_bits(pkey)) {
		case 1024: return KEY_ALG_RSA_1024;
		case 2048: return KEY_ALG_RSA_2048;
		case 3072: return KEY_ALG_RSA_3072;
		case 4096: return KEY_ALG_RSA_4096;
		default: return KEY_ALG_UNKNOWN;
		}
	}
	if (EVP_PKEY_is_a(pkey, "EC")) {
		switch (pkey_curve_nid(pkey)) {
		case NID_X9_62_prime256v1: return KEY_ALG_EC_P256;
		case NID_secp384r1: return KEY_ALG_EC_P384;
		case NID_secp521r1: return KEY_ALG_EC_P521;
		default: return KEY_ALG_UNKNOWN;
		}
	}
	return KEY_ALG_UNKNOWN;
}

char *
pkey_describe(const EVP_PKEY *pkey)
{
	const char *type = EVP_PKEY_get0_type_name(pkey);

	if (EVP_PKEY_is_a(pkey, "RSA"))
		return xasprintf("RSA %d-bit", EVP_PKEY_get_bits(pkey));
	if (EVP_PKEY_is_a(pkey, "EC")) {
		int nid = pkey_curve_nid(pkey);

		return xasprintf("EC %s", nid == NID_undef ?
		    "with an unnamed curve" : OBJ_nid2sn(nid));
	}
	return xstrdup(type != NULL ? type : "unknown key type");
}

bool
cert_is_dns_name(const char *s)
{
	size_t len, label = 0;

	if (s == NULL)
		return false;
	if (strncmp(s, "*.", 2) == 0)
		s += 2;
	len = strlen(s);
	if (len == 0 || len > 253)
		return false;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
		if (++label > 63)
			return false;
	}
	/* A trailing dot (fully qualified form) is fine; an empty name is not. */
	return true;
}

static char *
serial_string(X509 *x509)
{
	const ASN1_INTEGER *ai = X509_get0_serialNumber(x509);
	BIGNUM *bn = ASN1_INTEGER_to_BN(ai, NULL);
	unsigned char *bytes;
	char *out;
	int n;

	if (bn == NULL)
		return NULL;
	n = BN_num_bytes(bn);
	bytes = xmalloc(n > 0 ? (size_t)n : 1);
	BN_bn2bin(bn, bytes);
	if (n == 0) {
		bytes[0] = 0;
		n = 1;
	}
	out = xmalloc((size_t)n * 3 + 1);
	for (int i = 0; i < n; i++)
		snprintf(out + i * 3, 4, "%02x%s", bytes[i], i + 1 < n ? ":" : "");
	free(bytes);
	BN_free(bn);
	return out;
}

/* The last CN of the subject, as UTF-8; NULL if none. */
static char *
subject_cn(X509 *x509)
{
	const X509_NAME *name = X509_get_subject_name(x509);
	int idx = -1, last = -1;
	unsigned char *utf8 = NULL;
	char *out;
	int n;

	while ((idx = X509_NAME_get_index_by_NID(name, NID_commonName, idx)) >= 0)
		last = idx;
	if (last < 0)
		return NULL;
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(
	    X509_NAME_get_entry(name, last)));
	if (n < 0)
		return NULL;
	out = xstrndup((char *)utf8, (size_t)n);
	OPENSSL_free(utf8);
	return out;
}

static bool
names_contain(char **names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(names[i], s) == 0)
			return true;
	return false;
}

static void
names_add(char ***names, size_t *n, const char *s)
{
	if (names_contain(*names, *n, s))
		return;
	*names = xrealloc(*names, (*n + 2) * sizeof(char *));
	(*names)[(*n)++] = xstrdup(s);
	(*names)[*n] = NULL;
}

static void
collect_names(X509 *x509, struct cert_info *info)
{
	GENERAL_NAMES *sans = X509_get_ext_d2i(x509, NID_subject_alt_name,
	    NULL, NULL);
	char *cn = subject_cn(x509);

	info->names = xcalloc(1, sizeof(char *));
	if (cn != NULL && cert_is_dns_name(cn))
		names_add(&info->names, &info->n_names, cn);
	for (int i = 0; i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
		const ASN1_IA5STRING *dns;

		if (gn->type != GEN_DNS)
			continue;
		dns = gn->d.dNSName;
		/* An embedded NUL would make a different name than it shows. */
		if (memchr(dns->data, '\0', (size_t)dns->length) != NULL)
			continue;
		char *s = xstrndup((const char *)dns->data, (size_t)dns->length);
		if (cert_is_dns_name(s))
			names_add(&info->names, &info->n_names, s);
		free(s);
	}
	if (info->n_names > 0)
		info->domain_name = xstrdup(info->names[0]);
	GENERAL_NAMES_free(sans);
	free(cn);
	ERR_clear_error();
}

static int
asn1_time_epoch(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return -EINVAL;
	*out = (int64_t)timegm(&tm);
	return 0;
}

static const char *
digest_acm_name(int md_nid)
{
	switch (md_nid) {
	case NID_md5: return "MD5";
	case NID_sha1: return "SHA1";
	case NID_sha224: return "SHA224";
	case NID_sha256: return "SHA256";
	case NID_sha384: return "SHA384";
	case NID_sha512: return "SHA512";
	default: return NULL;
	}
}

static char *
signature_algorithm_string(X509 *x509)
{
	int sig_nid = X509_get_signature_nid(x509), md_nid, pk_nid;
	const char *md, *sn;

	if (OBJ_find_sigid_algs(sig_nid, &md_nid, &pk_nid) &&
	    (md = digest_acm_name(md_nid)) != NULL) {
		if (pk_nid == NID_rsaEncryption)
			return xasprintf("%sWITHRSA", md);
		if (pk_nid == NID_X9_62_id_ecPublicKey)
			return xasprintf("%sWITHECDSA", md);
	}
	/* Others (RSASSA-PSS, Ed25519...) by OpenSSL's short name, upper case. */
	sn = OBJ_nid2sn(sig_nid);
	char *s = xstrdup(sn != NULL ? sn : "UNKNOWN");
	for (char *p = s; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	return s;
}

static const struct {
	uint32_t bit;
	const char *name;
} key_usage_names[] = {
	{ KU_DIGITAL_SIGNATURE, "DIGITAL_SIGNATURE" },
	{ KU_NON_REPUDIATION, "NON_REPUDIATION" },
	{ KU_KEY_ENCIPHERMENT, "KEY_ENCIPHERMENT" },
	{ KU_DATA_ENCIPHERMENT, "DATA_ENCIPHERMENT" },
	{ KU_KEY_AGREEMENT, "KEY_AGREEMENT" },
	{ KU_KEY_CERT_SIGN, "CERTIFICATE_SIGNING" },
	{ KU_CRL_SIGN, "CRL_SIGNING" },
	{ KU_ENCIPHER_ONLY, "ENCIPHER_ONLY" },
	{ KU_DECIPHER_ONLY, "DECIPHER_ONLY" },
};

static void
collect_key_usages(X509 *x509, struct cert_info *info)
{
	uint32_t ku = X509_get_key_usage(x509);

	info->key_usages = xcalloc(1, sizeof(char *));
	if (!(X509_get_extension_flags(x509) & EXFLAG_KUSAGE))
		return;
	for (size_t i = 0; i < ELEMENTSOF(key_usage_names); i++)
		if (ku & key_usage_names[i].bit)
			names_add(&info->key_usages, &info->n_key_usages,
			    key_usage_names[i].name);
}

static const struct {
	int nid;
	const char *name;
} eku_names[] = {
	{ NID_server_auth, "TLS_WEB_SERVER_AUTHENTICATION" },
	{ NID_client_auth, "TLS_WEB_CLIENT_AUTHENTICATION" },
	{ NID_code_sign, "CODE_SIGNING" },
	{ NID_email_protect, "EMAIL_PROTECTION" },
	{ NID_time_stamp, "TIME_STAMPING" },
	{ NID_OCSP_sign, "OCSP_SIGNING" },
	{ NID_ipsecEndSystem, "IPSEC_END_SYSTEM" },
	{ NID_ipsecTunnel, "IPSEC_TUNNEL" },
	{ NID_ipsecUser, "IPSEC_USER" },
	{ NID_anyExtendedKeyUsage, "ANY" },
};

static const char *
eku_name(int nid)
{
	for (size_t i = 0; i < ELEMENTSOF(eku_names); i++)
		if (eku_names[i].nid == nid)
			return eku_names[i].name;
	return "CUSTOM";
}

static void
collect_extended_key_usages(X509 *x509, struct cert_info *info)
{
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x509, NID_ext_key_usage,
	    NULL, NULL);

	info->extended_key_usages = xcalloc(1, sizeof(char *));
	for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++)
		names_add(&info->extended_key_usages,
		    &info->n_extended_key_usages,
		    eku_name(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i))));
	EXTENDED_KEY_USAGE_free(eku);
	ERR_clear_error();
}

static int
fingerprint(X509 *x509, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!X509_digest(x509, EVP_sha256(), md, &n) || n != 32)
		return -EIO;
	for (unsigned int i = 0; i < n; i++)
		snprintf(hex + i * 2, 3, "%02x", md[i]);
	return 0;
}

static bool
is_self_signed(X509 *x509, EVP_PKEY *pub)
{
	bool r;

	if (pub == NULL || X509_NAME_cmp(X509_get_subject_name(x509),
	    X509_get_issuer_name(x509)) != 0)
		return false;
	r = X509_verify(x509, pub) == 1;
	ERR_clear_error();
	return r;
}

static void
free_strv(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

void
cert_info_free(struct cert_info *info)
{
	if (info == NULL)
		return;
	free(info->serial);
	free(info->subject);
	free(info->issuer);
	free(info->domain_name);
	free_strv(info->names);
	free(info->signature_algorithm);
	free_strv(info->key_usages);
	free_strv(info->extended_key_usages);
	free(info);
}

static void
cert_info_freep(struct cert_info **p)
{
	cert_info_free(*p);
}

int
cert_info_from_x509(X509 *x509, struct cert_info **out, char **reterr_msg)
{
	EVP_PKEY *pub;

	ERR_clear_error();
	pub = X509_get0_pubkey(x509);
	if (pub == NULL) {
		_cleanup_free_ char *err = ossl_error_string();
		*reterr_msg = xasprintf("Could not read the certificate's "
		    "public key: %s", err);
		return -EINVAL;
	}
	return cert_info_from_x509_key(x509, pub, out, reterr_msg);
}

int
cert_info_from_x509_key(X509 *x509, EVP_PKEY *pub, struct cert_info **out,
    char **reterr_msg)
{
	_cleanup_(cert_info_freep) struct cert_info *info = NULL;

	info = xcalloc(1, sizeof(*info));
	info->serial = serial_string(x509);
	info->subject = ossl_name_string(X509_get_subject_name(x509));
	info->issuer = ossl_name_string(X509_get_issuer_name(x509));
	if (info->serial == NULL || info->subject == NULL ||
	    info->issuer == NULL) {
		_cleanup_free_ char *err = ossl_error_string();
		*reterr_msg = xasprintf("Could not read the certificate's "
		    "serial number or names: %s", err);
		return -EINVAL;
	}
	if (asn1_time_epoch(X509_get0_notBefore(x509), &info->not_before) < 0 ||
	    asn1_time_epoch(X509_get0_notAfter(x509), &info->not_after) < 0) {
		ERR_clear_error();
		*reterr_msg = xstrdup("The certificate's validity dates "
		    "could not be read");
		return -EINVAL;
	}
	if (fingerprint(x509, info->fingerprint_sha256) < 0) {
		_cleanup_free_ char *err = ossl_error_string();
		*reterr_msg = xasprintf("Could not hash the certificate: %s",
		    err);
		return -EINVAL;
	}
	collect_names(x509, info);
	info->key_algorithm = key_algorithm_of_pkey(pub);
	info->signature_algorithm = signature_algorithm_string(x509);
	collect_key_usages(x509, info);
	collect_extended_key_usages(x509, info);
	/* X509_get_extension_flags caches extensions and sets EXFLAG_CA. */
	info->is_ca = (X509_get_extension_flags(x509) & EXFLAG_CA) != 0;
	info->self_signed = is_self_signed(x509, pub);
	ERR_clear_error();
	*out = TAKE_PTR(info);
	return 0;
}
