/*
 * keygen.c: key pairs for issued certificates, and the PKCS#8 DER form they
 * are sealed in.
 *
 * EVP_PKEY_Q_keygen builds its own EVP_PKEY_CTX on every call, so worker
 * threads never share a context; OpenSSL 3 guards its provider and method
 * caches itself. RSA keys use the default public exponent 65537.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/xmalloc.h"
#include "pki/keygen.h"
#include "pki/ossl.h"

/* The OpenSSL parameters of an algorithm we issue; false for the others. */
static bool
keygen_spec(enum key_algorithm alg, const char **type, unsigned int *bits,
    const char **group)
{
	*bits = 0;
	*group = NULL;
	switch (alg) {
	case KEY_ALG_RSA_2048:
		*bits = 2048;
		break;
	case KEY_ALG_RSA_3072:
		*bits = 3072;
		break;
	case KEY_ALG_RSA_4096:
		*bits = 4096;
		break;
	case KEY_ALG_EC_P256:
		*group = "prime256v1";
		break;
	case KEY_ALG_EC_P384:
		*group = "secp384r1";
		break;
	default:
		return false;
	}
	*type = *bits != 0 ? "RSA" : "EC";
	return true;
}

int
keygen_generate(enum key_algorithm alg, EVP_PKEY **out, char **reterr_msg)
{
	const char *type, *group;
	unsigned int bits;
	EVP_PKEY *k = NULL;

	if (!keygen_spec(alg, &type, &bits, &group)) {
		const char *name = key_algorithm_name(alg);
		*reterr_msg = xasprintf("certfleet does not issue keys of "
		    "type %s: choose RSA_2048, RSA_3072, RSA_4096, "
		    "EC_prime256v1 or EC_secp384r1.", name ? name : "UNKNOWN");
		return -EINVAL;
	}
	k = bits != 0 ? EVP_PKEY_Q_keygen(NULL, NULL, type, (size_t)bits) :
	    EVP_PKEY_Q_keygen(NULL, NULL, type, group);
	if (k == NULL) {
		_cleanup_free_ char *err = ossl_error_string();
		*reterr_msg = xasprintf("Could not generate a %s key: %s",
		    key_algorithm_name(alg), err);
		return -EIO;
	}
	*out = k;
	return 0;
}

int
pkey_to_pkcs8_der(EVP_PKEY *k, unsigned char **der, size_t *len)
{
	PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(k);
	unsigned char *buf = NULL, *p;
	int n, r = -EIO;

	if (p8 == NULL)
		return -EIO;
	/* Encoded into a buffer of ours so that secret_free can wipe it. */
	n = i2d_PKCS8_PRIV_KEY_INFO(p8, NULL);
	if (n <= 0)
		goto out;
	buf = p = xmalloc((size_t)n);
	if (i2d_PKCS8_PRIV_KEY_INFO(p8, &p) != n) {
		secret_free(buf, (size_t)n);
		goto out;
	}
	*der = buf;
	*len = (size_t)n;
	r = 0;
out:
	PKCS8_PRIV_KEY_INFO_free(p8); /* its key octets are wiped on free */
	return r;
}

int
pkey_from_pkcs8_der(const unsigned char *der, size_t len, EVP_PKEY **out)
{
	const unsigned char *p = der;
	PKCS8_PRIV_KEY_INFO *p8;
	EVP_PKEY *k;

	if (der == NULL || len == 0 || len > LONG_MAX)
		return -EINVAL;
	p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len);
	if (p8 == NULL) {
		ERR_clear_error();
		return -EINVAL;
	}
	/* Trailing bytes mean the buffer is not what we stored. */
	k = p == der + len ? EVP_PKCS82PKEY(p8) : NULL;
	PKCS8_PRIV_KEY_INFO_free(p8);
	if (k == NULL) {
		ERR_clear_error(); /* the caller's error is -EINVAL, not these */
		return -EINVAL;
	}
	*out = k;
	return 0;
}
