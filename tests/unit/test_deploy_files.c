/*
 * test_deploy_files.c: writing a binding's files (src/renewal/
 * deploy_files.c): atomic replacement with the mode asked for and no
 * temporary file left behind, the full chain and the key converted to
 * PEM, a missing folder refused without a trace, unknown users and
 * groups, and the "intact" check used at start-up.
 */
#include <dirent.h>
#include <errno.h>
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
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/xmalloc.h"
#include "renewal/deploy_files.h"

#define CERT "-----BEGIN CERTIFICATE-----\nleaf\n-----END CERTIFICATE-----\n"
#define CHAIN "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n"

struct fixture {
	char dir[64];
	char *targets;
	unsigned char *der;
	int der_len;
};

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = xcalloc(1, 65536);

	assert_non_null(f);
	assert_true(fread(buf, 1, 65535, f) > 0);
	fclose(f);
	return buf;
}

static int
setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof(*fx));
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	char uid[16], gid[16];

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/cf-deploy-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
	snprintf(gid, sizeof(gid), "%u", (unsigned)getgid());
	fx->targets = xasprintf("[{\"content\":\"CERTIFICATE\",\"path\":"
	    "\"%s/c.pem\",\"owner\":\"%s\",\"group\":\"%s\",\"mode\":\"0644\"},"
	    "{\"content\":\"FULLCHAIN\",\"path\":\"%s/f.pem\",\"owner\":\"%s\","
	    "\"group\":\"%s\",\"mode\":\"0640\"},{\"content\":\"KEY\",\"path\":"
	    "\"%s/k.pem\",\"owner\":\"%s\",\"group\":\"%s\",\"mode\":\"0600\"}]",
	    fx->dir, uid, gid, fx->dir, uid, gid, fx->dir, uid, gid);
	assert_non_null(pkey);
	fx->der_len = i2d_PrivateKey(pkey, &fx->der);
	assert_true(fx->der_len > 0);
	EVP_PKEY_free(pkey);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	char *cmd = xasprintf("rm -rf %s", fx->dir);

	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(fx->targets);
	OPENSSL_free(fx->der);
	free(fx);
	return 0;
}

static size_t
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' || (strcmp(e->d_name, ".") != 0 &&
		    strcmp(e->d_name, "..") != 0))
			n++;
	closedir(d);
	return n;
}

static void
test_write_targets_modes_and_content(void **state)
{
	struct fixture *fx = *state;
	struct deploy_content c = { CERT, CHAIN, fx->der,
	    (size_t)fx->der_len };
	char *err = NULL, *path, *text;
	struct stat st;
	EVP_PKEY *pkey;
	FILE *f;

	assert_true(deploy_targets_need_key(fx->targets));
	assert_false(deploy_targets_intact(fx->targets, &c));
	assert_int_equal(deploy_write_targets(fx->targets, &c, &err), 0);
	assert_null(err);
	assert_int_equal(count_entries(fx->dir), 3);

	path = xasprintf("%s/f.pem", fx->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	text = slurp(path);
	assert_string_equal(text, CERT CHAIN);
	free(text);
	free(path);

	path = xasprintf("%s/k.pem", fx->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	f = fopen(path, "re");
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	assert_non_null(pkey);
	EVP_PKEY_free(pkey);
	fclose(f);
	free(path);

	assert_true(deploy_targets_intact(fx->targets, &c));
	c.certificate_pem = CHAIN;
	assert_false(deploy_targets_intact(fx->targets, &c));
}

static void
test_missing_folder_refused(void **state)
{
	struct fixture *fx = *state;
	char *err = NULL;
	char *path = xasprintf("%s/nope/x.pem", fx->dir);

	assert_int_equal(deploy_write_atomic(path, "x", 1, getuid(), getgid(),
	    0644, &err), -ENOENT);
	assert_non_null(strstr(err, "/nope"));
	free(err);
	free(path);
	assert_int_equal(count_entries(fx->dir), 0);
}

static void
test_replace_is_atomic_rename(void **state)
{
	struct fixture *fx = *state;
	char *path = xasprintf("%s/a.pem", fx->dir);
	char *err = NULL, *text;
	struct stat before, after;

	assert_int_equal(deploy_write_atomic(path, "one\n", 4, getuid(),
	    getgid(), 0600, &err), 0);
	assert_int_equal(stat(path, &before), 0);
	assert_int_equal(deploy_write_atomic(path, "two\n", 4, getuid(),
	    getgid(), 0644, &err), 0);
	assert_int_equal(stat(path, &after), 0);
	/* A new inode: readers holding the old file keep a whole one. */
	assert_true(before.st_ino != after.st_ino);
	assert_int_equal(after.st_mode & 0777, 0644);
	text = slurp(path);
	assert_string_equal(text, "two\n");
	free(text);
	free(path);
	assert_int_equal(count_entries(fx->dir), 1);
}

static void
test_unknown_user_and_group(void **state)
{
	char *err = NULL;
	uid_t uid;
	gid_t gid;

	(void)state;
	assert_int_equal(deploy_lookup_user("no-such-user-cf", &uid, &err),
	    -ENOENT);
	assert_non_null(strstr(err, "no-such-user-cf"));
	free(err);
	err = NULL;
	assert_int_equal(deploy_lookup_group("no-such-group-cf", &gid, &err),
	    -ENOENT);
	free(err);
	assert_int_equal(deploy_lookup_user("0", &uid, NULL), 0);
	assert_int_equal(uid, 0);
	assert_int_equal(deploy_lookup_group("root", &gid, NULL), 0);
	assert_int_equal(gid, 0);
}

static void
test_key_target_without_key_fails(void **state)
{
	struct fixture *fx = *state;
	struct deploy_content c = { CERT, NULL, NULL, 0 };
	char *err = NULL;

	assert_int_equal(deploy_write_targets(fx->targets, &c, &err),
	    -EINVAL);
	assert_non_null(err);
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_write_targets_modes_and_content, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_folder_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_is_atomic_rename,
		    setup, teardown),
		cmocka_unit_test(test_unknown_user_and_group),
		cmocka_unit_test_setup_teardown(
		    test_key_target_without_key_fails, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
