/*
 * deploy_files.c: writes a binding's files for one certificate version
 * (see deploy_files.h). Each file is replaced atomically, so a consumer
 * that reloads at any moment reads either the old file or the new one,
 * never half of one; the private key's PEM lives only in wiped memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/xmalloc.h"
#include "renewal/deploy_files.h"

static void
set_msg(char **reterr_msg, const char *fmt, ...) _printf_(2, 3);

static void
set_msg(char **reterr_msg, const char *fmt, ...)
{
	va_list ap;

	if (reterr_msg == NULL)
		return;
	free(*reterr_msg);
	va_start(ap, fmt);
	if (vasprintf(reterr_msg, fmt, ap) < 0)
		*reterr_msg = NULL;
	va_end(ap);
}

static int
write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int
fsync_folder(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		r = -errno;
	close(fd);
	return r;
}

/* Fills an open temporary file: ownership and mode first, then data. */
static int
fill_temp(int fd, const void *data, size_t len, uid_t uid, gid_t gid,
    mode_t mode, const char **what)
{
	int r;

	*what = "fchown";
	if (fchown(fd, uid, gid) != 0)
		return -errno;
	*what = "fchmod";
	if (fchmod(fd, mode) != 0)
		return -errno;
	*what = "write";
	if ((r = write_all(fd, data, len)) < 0)
		return r;
	*what = "fsync";
	return fsync(fd) == 0 ? 0 : -errno;
}

int
deploy_write_atomic(const char *path, const void *data, size_t len,
    uid_t uid, gid_t gid, mode_t mode, char **reterr_msg)
{
	_cleanup_free_ char *copy = xstrdup(path);
	_cleanup_free_ char *copy2 = xstrdup(path);
	_cleanup_free_ char *tmp = NULL;
	const char *dir = dirname(copy);
	const char *what = "mkstemp";
	int fd, r;

	tmp = xasprintf("%s/.%s.certfleet-XXXXXX", dir, basename(copy2));
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		set_msg(reterr_msg, "cannot create a file in %s: %s", dir,
		    strerror(-r));
		return r;
	}
	r = fill_temp(fd, data, len, uid, gid, mode, &what);
	if (close(fd) != 0 && r == 0) {
		r = -errno;
		what = "close";
	}
	if (r == 0 && rename(tmp, path) != 0) {
		r = -errno;
		what = "rename";
	}
	if (r < 0) {
		unlink(tmp);
		set_msg(reterr_msg, "%s: %s failed: %s", path, what,
		    strerror(-r));
		return r;
	}
	if ((r = fsync_folder(dir)) < 0)
		set_msg(reterr_msg, "%s: fsync of the folder failed: %s",
		    path, strerror(-r));
	return r;
}

static bool
numeric(const char *s)
{
	return *s != '\0' && strspn(s, "0123456789") == strlen(s);
}

int
deploy_lookup_user(const char *name, uid_t *uid, char **reterr_msg)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (numeric(name)) {
		*uid = (uid_t)strtoul(name, NULL, 10);
		return 0;
	}
	if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) != 0 ||
	    res == NULL) {
		set_msg(reterr_msg, "no such user '%s' on this host", name);
		return -ENOENT;
	}
	*uid = pw.pw_uid;
	return 0;
}

int
deploy_lookup_group(const char *name, gid_t *gid, char **reterr_msg)
{
	struct group gr, *res = NULL;
	char buf[16384];

	if (numeric(name)) {
		*gid = (gid_t)strtoul(name, NULL, 10);
		return 0;
	}
	if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) != 0 ||
	    res == NULL) {
		set_msg(reterr_msg, "no such group '%s' on this host", name);
		return -ENOENT;
	}
	*gid = gr.gr_gid;
	return 0;
}

static const char *
member(const json_t *t, const char *key)
{
	const char *s = json_string_value(json_object_get(t, key));

	return s ? s : "";
}

bool
deploy_targets_need_key(const char *targets_json)
{
	json_t *targets = json_loads(targets_json, 0, NULL);
	const json_t *t;
	size_t i;
	bool need = false;

	json_array_foreach(targets, i, t)
		if (strcmp(member(t, "content"), "KEY") == 0)
			need = true;
	json_decref(targets);
	return need;
}

/* The text of a non-key target, malloc'd. */
static char *
public_text(const char *content, const struct deploy_content *c)
{
	const char *chain = c->chain_pem ? c->chain_pem : "";
	size_t cl = strlen(c->certificate_pem);
	bool nl = cl > 0 && c->certificate_pem[cl - 1] != '\n';

	if (strcmp(content, "CERTIFICATE") == 0)
		return xstrdup(c->certificate_pem);
	if (strcmp(content, "CHAIN") == 0)
		return xstrdup(chain);
	if (strcmp(content, "FULLCHAIN") == 0)
		return xasprintf("%s%s%s", c->certificate_pem, nl ? "\n" : "",
		    chain);
	return NULL;
}

/* PKCS#8 PEM of the key in a wiped-on-free memory BIO. */
static BIO *
key_pem(const struct deploy_content *c, char **reterr_msg)
{
	const unsigned char *p = c->key_der;
	EVP_PKEY *pkey;
	BIO *bio;

	if (p == NULL) {
		set_msg(reterr_msg, "the private key is not available");
		return NULL;
	}
	pkey = d2i_AutoPrivateKey(NULL, &p, (long)c->key_der_len);
	if (pkey == NULL) {
		set_msg(reterr_msg, "the stored private key does not parse");
		return NULL;
	}
	bio = BIO_new(BIO_s_secmem());
	if (bio == NULL || PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0,
	    NULL, NULL) != 1) {
		BIO_free(bio);
		bio = NULL;
		set_msg(reterr_msg, "cannot encode the private key");
	}
	EVP_PKEY_free(pkey);
	return bio;
}

static int
write_key(const char *path, const struct deploy_content *c, uid_t uid,
    gid_t gid, mode_t mode, char **reterr_msg)
{
	BIO *bio = key_pem(c, reterr_msg);
	char *data;
	long len;
	int r;

	if (bio == NULL)
		return -EINVAL;
	len = BIO_get_mem_data(bio, &data);
	r = deploy_write_atomic(path, data, (size_t)len, uid, gid, mode,
	    reterr_msg);
	OPENSSL_cleanse(data, (size_t)len);
	BIO_free(bio);
	return r;
}

static int
write_target(const json_t *t, const struct deploy_content *c,
    char **reterr_msg)
{
	const char *content = member(t, "content");
	const char *path = member(t, "path");
	_cleanup_free_ char *text = NULL;
	unsigned long mode = strtoul(member(t, "mode"), NULL, 8) & 0777;
	uid_t uid;
	gid_t gid;
	int r;

	if ((r = deploy_lookup_user(member(t, "owner"), &uid,
	    reterr_msg)) < 0 ||
	    (r = deploy_lookup_group(member(t, "group"), &gid,
	    reterr_msg)) < 0)
		return r;
	if (strcmp(content, "KEY") == 0)
		return write_key(path, c, uid, gid, (mode_t)mode, reterr_msg);
	text = public_text(content, c);
	if (text == NULL) {
		set_msg(reterr_msg, "%s: unknown content '%s'", path, content);
		return -EINVAL;
	}
	return deploy_write_atomic(path, text, strlen(text), uid, gid,
	    (mode_t)mode, reterr_msg);
}

int
deploy_write_targets(const char *targets_json,
    const struct deploy_content *c, char **reterr_msg)
{
	json_t *targets = json_loads(targets_json, 0, NULL);
	const json_t *t;
	size_t i;
	int r = 0;

	if (!json_is_array(targets)) {
		json_decref(targets);
		set_msg(reterr_msg, "the binding's file targets do not parse");
		return -EINVAL;
	}
	json_array_foreach(targets, i, t)
		if ((r = write_target(t, c, reterr_msg)) < 0)
			break;
	json_decref(targets);
	return r;
}

/* Whether path holds exactly text. */
static bool
file_holds(const char *path, const char *text)
{
	size_t len = strlen(text);
	_cleanup_free_ char *buf = xmalloc(len + 2);
	FILE *f = fopen(path, "re");
	size_t got;

	if (f == NULL)
		return false;
	got = fread(buf, 1, len + 1, f);
	fclose(f);
	return got == len && memcmp(buf, text, len) == 0;
}

bool
deploy_targets_intact(const char *targets_json,
    const struct deploy_content *c)
{
	json_t *targets = json_loads(targets_json, 0, NULL);
	const json_t *t;
	struct stat st;
	size_t i;
	bool ok = json_is_array(targets);

	json_array_foreach(targets, i, t) {
		_cleanup_free_ char *text = public_text(member(t, "content"),
		    c);
		const char *path = member(t, "path");

		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
		    (text != NULL && !file_holds(path, text)))
			ok = false;
	}
	json_decref(targets);
	return ok;
}
