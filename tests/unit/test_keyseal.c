/*
 * test_keyseal.c: sealing private keys at rest (src/pki/keyseal.c): the
 * round trip, that a wrong AAD, master key or any flipped byte refuses to
 * open, and the master key file's creation and permission checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/xmalloc.h"
#include "pki/keyseal.h"

#define ARN "arn:aws:acm:us-east-1:123456789012:certificate/" \
	"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0#3"

static const unsigned char master_a[MASTER_KEY_LEN] = { 1, 2, 3, 4, 5 };
static const unsigned char master_b[MASTER_KEY_LEN] = { 1, 2, 3, 4, 6 };
static const unsigned char secret[] = "-----BEGIN PRIVATE KEY-----\nfake";

static void
seal(const unsigned char *master, const char *aad, const unsigned char *plain,
    size_t len, unsigned char **sealed, size_t *sealed_len)
{
	char *msg = NULL;

	assert_int_equal(key_seal(master, aad, plain, len, sealed, sealed_len,
	    &msg), 0);
	assert_null(msg);
}

static int
unseal(const unsigned char *master, const char *aad,
    const unsigned char *sealed, size_t sealed_len)
{
	unsigned char *plain = NULL;
	size_t plain_len = 0;
	char *msg = NULL;
	int r = key_unseal(master, aad, sealed, sealed_len, &plain, &plain_len,
	    &msg);

	if (r == 0) {
		assert_null(msg);
		secret_free(plain, plain_len);
	} else {
		assert_null(plain);
		assert_non_null(msg);
		free(msg);
	}
	return r;
}

static void
test_seal_round_trip(void **state)
{
	unsigned char *sealed, *plain;
	size_t sealed_len, plain_len;
	char *msg = NULL;

	seal(master_a, ARN, secret, sizeof(secret), &sealed, &sealed_len);
	assert_int_equal(sealed_len, sizeof(secret) + KEYSEAL_OVERHEAD);
	assert_int_equal(KEYSEAL_OVERHEAD, 89);
	assert_int_equal(sealed[0], 1);
	/* The plaintext does not appear in the blob. */
	assert_null(memmem(sealed, sealed_len, "PRIVATE KEY", 11));
	assert_int_equal(key_unseal(master_a, ARN, sealed, sealed_len, &plain,
	    &plain_len, &msg), 0);
	assert_int_equal(plain_len, sizeof(secret));
	assert_memory_equal(plain, secret, sizeof(secret));
	secret_free(plain, plain_len);
	free(sealed);
}

static void
test_seal_of_empty_plaintext_round_trips(void **state)
{
	unsigned char *sealed;
	size_t sealed_len;

	seal(master_a, ARN, (const unsigned char *)"", 0, &sealed, &sealed_len);
	assert_int_equal(sealed_len, KEYSEAL_OVERHEAD);
	assert_int_equal(unseal(master_a, ARN, sealed, sealed_len), 0);
	free(sealed);
}

static void
test_each_seal_uses_fresh_key_and_nonces(void **state)
{
	unsigned char *s1, *s2;
	size_t l1, l2;

	seal(master_a, ARN, secret, sizeof(secret), &s1, &l1);
	seal(master_a, ARN, secret, sizeof(secret), &s2, &l2);
	assert_int_equal(l1, l2);
	/* Wrap nonce, wrapped key, data nonce and ciphertext all differ. */
	assert_memory_not_equal(s1 + 1, s2 + 1, 12);
	assert_memory_not_equal(s1 + 13, s2 + 13, 32);
	assert_memory_not_equal(s1 + 61, s2 + 61, 12);
	assert_memory_not_equal(s1 + 73, s2 + 73, sizeof(secret));
	free(s1);
	free(s2);
}

static void
test_wrong_aad_fails(void **state)
{
	unsigned char *sealed;
	size_t sealed_len;

	seal(master_a, ARN, secret, sizeof(secret), &sealed, &sealed_len);
	assert_int_equal(unseal(master_a, ARN "x", sealed, sealed_len),
	    -EBADMSG);
	assert_int_equal(unseal(master_a, "", sealed, sealed_len), -EBADMSG);
	/* Another version of the same certificate. */
	assert_int_equal(unseal(master_a, "arn:aws:acm:us-east-1:123456789012:"
	    "certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0#4", sealed,
	    sealed_len), -EBADMSG);
	free(sealed);
}

static void
test_wrong_master_key_fails(void **state)
{
	unsigned char *sealed;
	size_t sealed_len;

	seal(master_a, ARN, secret, sizeof(secret), &sealed, &sealed_len);
	assert_int_equal(unseal(master_b, ARN, sealed, sealed_len), -EBADMSG);
	free(sealed);
}

static void
test_every_tampered_byte_fails(void **state)
{
	unsigned char *sealed;
	size_t sealed_len;

	seal(master_a, ARN, secret, sizeof(secret), &sealed, &sealed_len);
	for (size_t i = 0; i < sealed_len; i++) {
		sealed[i] ^= 0x01;
		if (unseal(master_a, ARN, sealed, sealed_len) != -EBADMSG)
			fail_msg("flipping byte %zu went unnoticed", i);
		sealed[i] ^= 0x01;
	}
	assert_int_equal(unseal(master_a, ARN, sealed, sealed_len), 0);
	free(sealed);
}

static void
test_truncated_or_extended_blob_fails(void **state)
{
	unsigned char *sealed;
	size_t sealed_len;

	seal(master_a, ARN, secret, sizeof(secret), &sealed, &sealed_len);
	assert_int_equal(unseal(master_a, ARN, sealed, sealed_len - 1),
	    -EBADMSG);
	assert_int_equal(unseal(master_a, ARN, sealed, KEYSEAL_OVERHEAD - 1),
	    -EBADMSG);
	assert_int_equal(unseal(master_a, ARN, sealed, 0), -EBADMSG);
	sealed = xrealloc(sealed, sealed_len + 1);
	sealed[sealed_len] = 0;
	assert_int_equal(unseal(master_a, ARN, sealed, sealed_len + 1),
	    -EBADMSG);
	free(sealed);
}

/* ---- master key file ---- */

struct tmpdir {
	char path[64];
};

static int
tmpdir_setup(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));

	snprintf(t->path, sizeof(t->path), "/tmp/keyseal-test.XXXXXX");
	if (mkdtemp(t->path) == NULL)
		return -1;
	*state = t;
	return 0;
}

static int
tmpdir_teardown(void **state)
{
	struct tmpdir *t = *state;
	char *cmd = xasprintf("rm -rf '%s'", t->path);

	if (system(cmd) != 0)
		return -1;
	free(cmd);
	free(t);
	return 0;
}

static void
write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
test_master_key_is_created_0600_and_reloaded(void **state)
{
	struct tmpdir *t = *state;
	_cleanup_free_ char *path = xasprintf("%s/master.key", t->path);
	unsigned char k1[MASTER_KEY_LEN], k2[MASTER_KEY_LEN];
	static const unsigned char zero[MASTER_KEY_LEN];
	char *msg = NULL;
	struct stat st;

	assert_int_equal(master_key_load_or_create(path, k1, &msg), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, MASTER_KEY_LEN);
	assert_memory_not_equal(k1, zero, MASTER_KEY_LEN);
	assert_int_equal(master_key_load_or_create(path, k2, &msg), 0);
	assert_memory_equal(k1, k2, MASTER_KEY_LEN);
	/* No temporary file is left behind. */
	_cleanup_free_ char *cmd = xasprintf("test $(ls -A '%s' | wc -l) = 1",
	    t->path);
	assert_int_equal(system(cmd), 0);
}

static void
test_master_key_readable_by_others_is_refused(void **state)
{
	struct tmpdir *t = *state;
	_cleanup_free_ char *path = xasprintf("%s/open.key", t->path);
	unsigned char key[MASTER_KEY_LEN] = { 0 };
	char *msg = NULL;

	write_file(path, key, sizeof(key), 0644);
	assert_int_equal(master_key_load_or_create(path, key, &msg), -EINVAL);
	_cleanup_free_ char *want = xasprintf("chmod 600 %s", path);
	assert_non_null(strstr(msg, want));
	free(msg);
	msg = NULL;
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(master_key_load_or_create(path, key, &msg), -EINVAL);
	free(msg);
	msg = NULL;
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(master_key_load_or_create(path, key, &msg), 0);
}

static void
test_master_key_of_wrong_size_is_refused(void **state)
{
	struct tmpdir *t = *state;
	_cleanup_free_ char *path = xasprintf("%s/short.key", t->path);
	unsigned char key[MASTER_KEY_LEN + 1] = { 0 };
	char *msg = NULL;

	write_file(path, key, 16, 0600);
	assert_int_equal(master_key_load_or_create(path, key, &msg), -EINVAL);
	assert_non_null(strstr(msg, "exactly 32 bytes"));
	free(msg);
	msg = NULL;
	write_file(path, key, 33, 0600);
	assert_int_equal(master_key_load_or_create(path, key, &msg), -EINVAL);
	free(msg);
	msg = NULL;
	write_file(path, key, 0, 0600);
	assert_int_equal(master_key_load_or_create(path, key, &msg), -EINVAL);
	free(msg);
}

static void
test_master_key_in_missing_folder_fails(void **state)
{
	struct tmpdir *t = *state;
	_cleanup_free_ char *path = xasprintf("%s/nope/master.key", t->path);
	unsigned char key[MASTER_KEY_LEN];
	char *msg = NULL;

	assert_int_equal(master_key_load_or_create(path, key, &msg), -ENOENT);
	assert_non_null(msg);
	free(msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_round_trip),
		cmocka_unit_test(test_seal_of_empty_plaintext_round_trips),
		cmocka_unit_test(test_each_seal_uses_fresh_key_and_nonces),
		cmocka_unit_test(test_wrong_aad_fails),
		cmocka_unit_test(test_wrong_master_key_fails),
		cmocka_unit_test(test_every_tampered_byte_fails),
		cmocka_unit_test(test_truncated_or_extended_blob_fails),
		cmocka_unit_test_setup_teardown(
		    test_master_key_is_created_0600_and_reloaded,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_master_key_readable_by_others_is_refused,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_master_key_of_wrong_size_is_refused,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_master_key_in_missing_folder_fails,
		    tmpdir_setup, tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
