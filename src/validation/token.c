/*
 * token.c: deriving, rendering and hashing approval tokens (see token.h).
 * OpenSSL does the cryptography; the base64url text is written here
 * because it is one table lookup per 6 bits and must not carry padding.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "validation/token.h"

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
token_key_derive(const unsigned char *master, size_t master_len,
    unsigned char key[TOKEN_KEY_LEN])
{
	static const char info[] = "certfleet approval tokens";
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[4];
	int ok;

	EVP_KDF_free(kdf);
	if (kctx == NULL)
		return -1;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)master, master_len);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)info, sizeof(info) - 1);
	params[3] = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(kctx, key, TOKEN_KEY_LEN, params);
	EVP_KDF_CTX_free(kctx);
	return ok == 1 ? 0 : -1;
}

int
token_nonce_new(unsigned char nonce[TOKEN_NONCE_LEN])
{
	return RAND_bytes(nonce, TOKEN_NONCE_LEN) == 1 ? 0 : -1;
}

static void
encode(const unsigned char *in, size_t len, char *out)
{
	size_t o = 0;
	unsigned bits = 0, acc = 0;

	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64url[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		out[o++] = b64url[(acc << (6 - bits)) & 63];
	out[o] = '\0';
}

int
token_from_nonce(const unsigned char key[TOKEN_KEY_LEN],
    const unsigned char nonce[TOKEN_NONCE_LEN], char out[TOKEN_TEXT_SIZE])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;

	if (HMAC(EVP_sha256(), key, TOKEN_KEY_LEN, nonce, TOKEN_NONCE_LEN,
	    mac, &mac_len) == NULL || mac_len != 32)
		return -1;
	encode(mac, 32, out);
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}

void
token_hash(const char *token, unsigned char hash[TOKEN_HASH_LEN])
{
	SHA256((const unsigned char *)token, strlen(token), hash);
}

bool
token_well_formed(const char *token)
{
	if (token == NULL || strlen(token) != TOKEN_TEXT_LEN)
		return false;
	for (size_t i = 0; i < TOKEN_TEXT_LEN; i++)
		if (strchr(b64url, token[i]) == NULL || token[i] == '\0')
			return false;
	return true;
}
