/*
 * test_keygen.c: key generation for issued certificates (src/pki/keygen.c):
 * every algorithm certfleet issues gives a key of that type and size, the
 * others are refused, the PKCS#8 DER form round-trips and refuses anything
 * else, and generation runs on several threads at once.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "common/xmalloc.h"
#include "pki/certinfo.h"
#include "pki/keygen.h"

static EVP_PKEY *
generate(enum key_algorithm alg)
{
	EVP_PKEY *k = NULL;
	char *msg = NULL;

	assert_int_equal(keygen_generate(alg, &k, &msg), 0);
	assert_null(msg);
	assert_non_null(k);
	return k;
}

static void
assert_generates(enum key_algorithm alg, const char *type, int bits)
{
	EVP_PKEY *k = generate(alg);

	assert_int_equal(key_algorithm_of_pkey(k), alg);
	assert_true(EVP_PKEY_is_a(k, type));
	assert_int_equal(EVP_PKEY_get_bits(k), bits);
	EVP_PKEY_free(k);
}

static void
generates_rsa_keys_of_each_size(void **state)
{
	assert_generates(KEY_ALG_RSA_2048, "RSA", 2048);
	assert_generates(KEY_ALG_RSA_3072, "RSA", 3072);
	assert_generates(KEY_ALG_RSA_4096, "RSA", 4096);
}

static void
generates_ec_keys_on_p256_and_p384(void **state)
{
	assert_generates(KEY_ALG_EC_P256, "EC", 256);
	assert_generates(KEY_ALG_EC_P384, "EC", 384);
}

static void
two_keys_differ(void **state)
{
	EVP_PKEY *a = generate(KEY_ALG_EC_P256);
	EVP_PKEY *b = generate(KEY_ALG_EC_P256);

	assert_int_not_equal(EVP_PKEY_eq(a, b), 1);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}

static void
refuses_algorithms_certfleet_does_not_issue(void **state)
{
	const enum key_algorithm refused[] = {
		KEY_ALG_UNKNOWN, KEY_ALG_RSA_1024, KEY_ALG_EC_P521, 99,
	};

	for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
		EVP_PKEY *k = NULL;
		char *msg = NULL;

		assert_int_equal(keygen_generate(refused[i], &k, &msg),
		    -EINVAL);
		assert_null(k);
		assert_non_null(msg);
		assert_non_null(strstr(msg, "RSA_2048"));
		free(msg);
	}
}

static void
pkcs8_der_round_trips(void **state)
{
	const enum key_algorithm algs[] = { KEY_ALG_RSA_2048, KEY_ALG_EC_P256,
		KEY_ALG_EC_P384 };

	for (size_t i = 0; i < ELEMENTSOF(algs); i++) {
		EVP_PKEY *k = generate(algs[i]), *back = NULL;
		unsigned char *der = NULL;
		size_t len = 0;

		assert_int_equal(pkey_to_pkcs8_der(k, &der, &len), 0);
		assert_true(len > 32);
		assert_int_equal(der[0], 0x30); /* a DER SEQUENCE */
		assert_int_equal(pkey_from_pkcs8_der(der, len, &back), 0);
		assert_int_equal(EVP_PKEY_eq(k, back), 1);
		assert_int_equal(key_algorithm_of_pkey(back), algs[i]);
		secret_free(der, len);
		EVP_PKEY_free(k);
		EVP_PKEY_free(back);
	}
}

static void
pkcs8_der_refuses_truncated_trailing_and_garbage(void **state)
{
	EVP_PKEY *k = generate(KEY_ALG_EC_P256), *back = NULL;
	unsigned char *der = NULL, *longer;
	const unsigned char garbage[] = "not a key at all";
	size_t len = 0;

	assert_int_equal(pkey_to_pkcs8_der(k, &der, &len), 0);
	assert_int_equal(pkey_from_pkcs8_der(der, len - 1, &back), -EINVAL);
	longer = xmalloc(len + 1);
	memcpy(longer, der, len);
	longer[len] = 0;
	assert_int_equal(pkey_from_pkcs8_der(longer, len + 1, &back), -EINVAL);
	assert_int_equal(pkey_from_pkcs8_der(garbage, sizeof(garbage), &back),
	    -EINVAL);
	assert_int_equal(pkey_from_pkcs8_der(NULL, 0, &back), -EINVAL);
	assert_int_equal(pkey_from_pkcs8_der(der, 0, &back), -EINVAL);
	assert_null(back);
	secret_free(longer, len + 1);
	secret_free(der, len);
	EVP_PKEY_free(k);
}

#define THREADS 4
#define KEYS_PER_THREAD 50

static void *
generate_many(void *arg)
{
	int *failures = arg;

	for (int i = 0; i < KEYS_PER_THREAD; i++) {
		EVP_PKEY *k = NULL;
		char *msg = NULL;

		if (keygen_generate(i % 10 == 0 ? KEY_ALG_RSA_2048 :
		    KEY_ALG_EC_P256, &k, &msg) != 0 || k == NULL)
			(*failures)++;
		free(msg);
		EVP_PKEY_free(k);
	}
	return NULL;
}

static void
generates_on_four_threads_at_once(void **state)
{
	pthread_t t[THREADS];
	int failures[THREADS] = { 0 };

	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, generate_many,
		    &failures[i]), 0);
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(failures[i], 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(generates_rsa_keys_of_each_size),
		cmocka_unit_test(generates_ec_keys_on_p256_and_p384),
		cmocka_unit_test(two_keys_differ),
		cmocka_unit_test(refuses_algorithms_certfleet_does_not_issue),
		cmocka_unit_test(pkcs8_der_round_trips),
		cmocka_unit_test(pkcs8_der_refuses_truncated_trailing_and_garbage),
		cmocka_unit_test(generates_on_four_threads_at_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
