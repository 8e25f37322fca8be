/*
 * keyseal.c: envelope encryption of private keys with AES-256-GCM, and the
 * master key file it starts from. See keyseal.h for the blob format.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/xmalloc.h"
#include "pki/keyseal.h"
#include "pki/ossl.h"

#define NONCE_LEN 12
#define TAG_LEN 16
#define DATA_KEY_LEN 32

#define OFF_WRAP_NONCE 1
#define OFF_WRAPPED (OFF_WRAP_NONCE + NONCE_LEN)
#define OFF_WRAP_TAG (OFF_WRAPPED + DATA_KEY_LEN)
#define OFF_DATA_NONCE (OFF_WRAP_TAG + TAG_LEN)
#define OFF_DATA (OFF_DATA_NONCE + NONCE_LEN)

/* ---- master key file ---- */

static int
read_exact(int fd, unsigned char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EINVAL;
		done += (size_t)n;
	}
	return 0;
}

static int
write_exact(int fd, const unsigned char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

static int
master_key_load(int fd, const char *path, unsigned char key[MASTER_KEY_LEN],
    char **reterr_msg)
{
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0) {
		r = -errno;
		*reterr_msg = xasprintf("%s: %s", path, strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		*reterr_msg = xasprintf("Master key %s is not a regular file",
		    path);
		return -EINVAL;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		*reterr_msg = xasprintf("Master key %s is accessible by group "
		    "or others (mode %04o); run `chmod 600 %s`", path,
		    (unsigned)(st.st_mode & 07777), path);
		return -EINVAL;
	}
	if (st.st_size != MASTER_KEY_LEN) {
		*reterr_msg = xasprintf("Master key %s must be exactly %d "
		    "bytes, but it is %lld bytes", path, MASTER_KEY_LEN,
		    (long long)st.st_size);
		return -EINVAL;
	}
	if ((r = read_exact(fd, key, MASTER_KEY_LEN)) < 0) {
		OPENSSL_cleanse(key, MASTER_KEY_LEN);
		*reterr_msg = xasprintf("Could not read master key %s: %s",
		    path, r == -EINVAL ? "short read" : strerror(-r));
		return r;
	}
	return 0;
}

static int
fsync_dir_of(const char *path)
{
	_cleanup_free_ char *copy = xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Writes 32 fresh random bytes to a private temporary file beside path. */
static int
master_key_write_temp(const char *tmp_template, char **tmp_path,
    char **reterr_msg)
{
	unsigned char key[MASTER_KEY_LEN];
	char *tmp = xstrdup(tmp_template);
	int fd, r = 0;

	/* mkostemp creates with O_EXCL and mode 0600. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		*reterr_msg = xasprintf("Could not create %s: %s", tmp,
		    strerror(-r));
		free(tmp);
		return r;
	}
	if (RAND_priv_bytes(key, sizeof(key)) != 1) {
		ERR_clear_error();
		r = -EIO;
	} else if ((r = write_exact(fd, key, sizeof(key))) == 0 &&
	    (fchmod(fd, 0600) < 0 || fsync(fd) < 0)) {
		r = -errno;
	}
	OPENSSL_cleanse(key, sizeof(key));
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0) {
		*reterr_msg = xasprintf("Could not write a new master key to "
		    "%s: %s", tmp, r == -EIO ? "no random bytes" :
		    strerror(-r));
		unlink(tmp);
		free(tmp);
		return r;
	}
	*tmp_path = tmp;
	return 0;
}

static int
master_key_create(const char *path, char **reterr_msg)
{
	_cleanup_free_ char *template = xasprintf("%s.new.XXXXXX", path);
	_cleanup_free_ char *tmp = NULL;
	int r;

	if ((r = master_key_write_temp(template, &tmp, reterr_msg)) < 0)
		return r;
	/* link(2), unlike rename(2), never replaces a key someone else made. */
	r = link(tmp, path) < 0 ? -errno : 0;
	unlink(tmp);
	if (r == -EEXIST)
		return 0;
	if (r < 0) {
		*reterr_msg = xasprintf("Could not create master key %s: %s",
		    path, strerror(-r));
		return r;
	}
	if ((r = fsync_dir_of(path)) < 0) {
		*reterr_msg = xasprintf("Could not sync the folder of master "
		    "key %s: %s", path, strerror(-r));
		return r;
	}
	return 0;
}

int
master_key_load_or_create(const char *path, unsigned char key[MASTER_KEY_LEN],
    char **reterr_msg)
{
	int fd, r;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if ((r = master_key_create(path, reterr_msg)) < 0)
			return r;
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		r = -errno;
		*reterr_msg = xasprintf("Could not open master key %s: %s",
		    path, strerror(-r));
		return r;
	}
	r = master_key_load(fd, path, key, reterr_msg);
	close(fd);
	return r;
}

/* ---- AES-256-GCM ---- */

/* The GCM AAD: the format version, then the caller's string. */
static unsigned char *
make_aad(const char *aad, size_t *len)
{
	size_t n = strlen(aad);
	unsigned char *buf = xmalloc(n + 1);

	buf[0] = KEYSEAL_VERSION;
	memcpy(buf + 1, aad, n);
	*len = n + 1;
	return buf;
}

static int
gcm_encrypt(const unsigned char key[32], const unsigned char *aad,
    size_t aad_len, const unsigned char *in, size_t len,
    unsigned char nonce[NONCE_LEN], unsigned char *out,
    unsigned char tag[TAG_LEN])
{
	_cleanup_cipher_ctx_ EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n;

	if (ctx == NULL || RAND_bytes(nonce, NONCE_LEN) != 1 ||
	    !EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) ||
	    !EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) ||
	    (len > 0 && !EVP_EncryptUpdate(ctx, out, &n, in, (int)len)) ||
	    !EVP_EncryptFinal_ex(ctx, out + len, &n) ||
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag))
		return -EIO;
	return 0;
}

static int
gcm_decrypt(const unsigned char key[32], const unsigned char *aad,
    size_t aad_len, const unsigned char *in, size_t len,
    const unsigned char nonce[NONCE_LEN], const unsigned char tag[TAG_LEN],
    unsigned char *out)
{
	_cleanup_cipher_ctx_ EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n;

	if (ctx == NULL ||
	    !EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) ||
	    !EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) ||
	    (len > 0 && !EVP_DecryptUpdate(ctx, out, &n, in, (int)len)) ||
	    !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
	    (void *)tag))
		return -EIO;
	/* Final is where GCM checks the tag. */
	if (EVP_DecryptFinal_ex(ctx, out + len, &n) != 1)
		return -EBADMSG;
	return 0;
}

int
key_seal(const unsigned char master[MASTER_KEY_LEN], const char *aad,
    const unsigned char *plain, size_t plain_len, unsigned char **sealed,
    size_t *sealed_len, char **reterr_msg)
{
	unsigned char dk[DATA_KEY_LEN];
	_cleanup_free_ unsigned char *aadbuf = NULL, *buf = NULL;
	size_t aad_len, total = plain_len + KEYSEAL_OVERHEAD;
	int r = -EIO;

	if (aad == NULL || plain_len > INT_MAX - KEYSEAL_OVERHEAD ||
	    strlen(aad) > INT_MAX - 1) {
		*reterr_msg = xstrdup("key_seal: missing AAD or key too large");
		return -EINVAL;
	}
	aadbuf = make_aad(aad, &aad_len);
	buf = xmalloc(total);
	buf[0] = KEYSEAL_VERSION;
	ERR_clear_error();
	if (RAND_priv_bytes(dk, sizeof(dk)) == 1 &&
	    gcm_encrypt(master, aadbuf, aad_len, dk, sizeof(dk),
	    buf + OFF_WRAP_NONCE, buf + OFF_WRAPPED, buf + OFF_WRAP_TAG) == 0 &&
	    gcm_encrypt(dk, aadbuf, aad_len, plain, plain_len,
	    buf + OFF_DATA_NONCE, buf + OFF_DATA, buf + OFF_DATA + plain_len) ==
	    0)
		r = 0;
	OPENSSL_cleanse(dk, sizeof(dk));
	if (r < 0) {
		_cleanup_free_ char *err = ossl_error_string();
		*reterr_msg = xasprintf("Could not seal the private key: %s",
		    err);
		return r;
	}
	*sealed = TAKE_PTR(buf);
	*sealed_len = total;
	return 0;
}

int
key_unseal(const unsigned char master[MASTER_KEY_LEN], const char *aad,
    const unsigned char *sealed, size_t sealed_len, unsigned char **plain,
    size_t *plain_len, char **reterr_msg)
{
	unsigned char dk[DATA_KEY_LEN];
	_cleanup_free_ unsigned char *aadbuf = NULL;
	unsigned char *out;
	size_t aad_len, n;
	int r;

	if (aad == NULL || sealed == NULL || sealed_len < KEYSEAL_OVERHEAD ||
	    sealed_len > INT_MAX || sealed[0] != KEYSEAL_VERSION) {
		*reterr_msg = xstrdup("The sealed private key is truncated or "
		    "of an unknown format");
		return -EBADMSG;
	}
	n = sealed_len - KEYSEAL_OVERHEAD;
	aadbuf = make_aad(aad, &aad_len);
	out = xmalloc(n);
	ERR_clear_error();
	r = gcm_decrypt(master, aadbuf, aad_len, sealed + OFF_WRAPPED,
	    DATA_KEY_LEN, sealed + OFF_WRAP_NONCE, sealed + OFF_WRAP_TAG, dk);
	if (r == 0)
		r = gcm_decrypt(dk, aadbuf, aad_len, sealed + OFF_DATA, n,
		    sealed + OFF_DATA_NONCE, sealed + OFF_DATA + n, out);
	OPENSSL_cleanse(dk, sizeof(dk));
	ERR_clear_error();
	if (r < 0) {
		secret_free(out, n);
		*reterr_msg = xstrdup(r == -EBADMSG ? "The sealed private key "
		    "does not open: wrong master key, wrong certificate ARN or "
		    "version, or the data was altered" : "Could not unseal the "
		    "private key");
		return r;
	}
	*plain = out;
	*plain_len = n;
	return 0;
}
