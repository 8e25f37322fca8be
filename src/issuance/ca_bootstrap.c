/*
 * ca_bootstrap.c: loads, creates or adopts certfleet's CA at start-up (see
 * ca_bootstrap.h). Everything runs on one database thread: creating an RSA
 * CA takes a noticeable fraction of a second, which the loop must not
 * wait for, and the lock that keeps two daemons from creating two CAs is
 * a transaction-scoped advisory lock held across the check and the insert.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "issuance/ca_bootstrap.h"
#include "loop/dbpool.h"
#include "pki/ca.h"
#include "pki/certinfo.h"
#include "pki/keygen.h"
#include "pki/keyseal.h"
#include "pki/ossl.h"
#include "store/issuance.h"
#include "store/store.h"

struct bootstrap_job {
	/* Copied from the daemon at start: the job never touches ctx. */
	const unsigned char *master_key;	/* lives as long as ctx */
	char *root_path, *inter_path, *key_path;	/* "" = none */
	char *root_file;			/* <state>/ca-root.pem */
	enum key_algorithm key_algorithm;
	ca_bootstrap_done_fn done;
	void *arg;
	/* out */
	struct ca *ca;
	char *err;
	const char *how;		/* "loaded", "created", "configured" */
};

static void
job_free(struct bootstrap_job *j)
{
	free(j->root_path);
	free(j->inter_path);
	free(j->key_path);
	free(j->root_file);
	free(j->err);
	ca_free(j->ca);
	free(j);
}

int
ca_write_public_file(const char *path, const char *pem, char **reterr_msg)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp-%ld", path, (long)getpid());
	size_t len = strlen(pem);
	int fd, r = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		*reterr_msg = xasprintf("cannot create %s: %s", tmp,
		    strerror(-r));
		return r;
	}
	/* The umask must not make the public root unreadable. */
	if (fchmod(fd, 0644) < 0 || write(fd, pem, len) != (ssize_t)len ||
	    fsync(fd) < 0)
		r = errno != 0 ? -errno : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		*reterr_msg = xasprintf("cannot write %s: %s", path,
		    strerror(-r));
		unlink(tmp);
	}
	return r;
}

/* ---- sealing and loading ------------------------------------------- */

/* A row filled here (store_ca_free frees the struct too). */
static void
row_clear(struct store_ca *row)
{
	free(row->name);
	free(row->certificate_pem);
	free(row->chain_pem);
	free(row->sealed_key);
	free(row->fingerprint_sha256);
	memset(row, 0, sizeof(*row));
}

static int
seal_ca_key(const unsigned char *master, const char *name,
    const unsigned char *der, size_t len, struct store_ca *row,
    char **reterr_msg)
{
	_cleanup_free_ char *aad = xasprintf("ca:%s", name);

	return key_seal(master, aad, der, len, &row->sealed_key,
	    &row->sealed_key_len, reterr_msg);
}

/* Name, PEM, fingerprint and dates of a CA row from its certificate. */
static int
row_from_pem(struct store_ca *row, const char *name, const char *pem,
    size_t pem_len, const char *chain, char **reterr_msg)
{
	struct cert_info *info = NULL;
	int r;

	row->name = xstrdup(name);
	row->certificate_pem = xstrndup(pem, pem_len);
	row->chain_pem = chain ? xstrdup(chain) : NULL;
	if ((r = ca_issued_info(row->certificate_pem, &info, reterr_msg)) < 0)
		return r;
	row->fingerprint_sha256 = xstrdup(info->fingerprint_sha256);
	row->not_before = info->not_before;
	row->not_after = info->not_after;
	cert_info_free(info);
	return 0;
}

/* The signing context from a stored row: unseal, load, wipe. */
static int
load_row(const struct bootstrap_job *j, const struct store_ca *row,
    struct ca **out, char **reterr_msg)
{
	_cleanup_free_ char *aad = xasprintf("ca:%s", row->name);
	_cleanup_free_ char *why = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	int r;

	r = key_unseal(j->master_key, aad, row->sealed_key,
	    row->sealed_key_len, &der, &len, &why);
	if (r < 0) {
		*reterr_msg = xasprintf("cannot open the key of the stored CA "
		    "'%s' (%s): is this the master key it was sealed with?",
		    row->name, why ? why : strerror(-r));
		return -EBADMSG;
	}
	r = ca_load(row->chain_pem, row->certificate_pem, der, len, out,
	    reterr_msg);
	secret_free(der, len);
	return r;
}

/* ---- certfleet's own CA ----------------------------------------------- */

static int
insert_created(PGconn *conn, const struct bootstrap_job *j,
    const struct ca_material *m, char **reterr_msg)
{
	_cleanup_free_ char *root_name = xasprintf("%s root",
	    CA_BOOTSTRAP_NAME);
	struct store_ca root = { 0 }, inter = { 0 };
	int r;

	if ((r = row_from_pem(&root, root_name, m->root_pem,
	    strlen(m->root_pem), NULL, reterr_msg)) < 0 ||
	    (r = seal_ca_key(j->master_key, root_name, m->root_key_der,
	    m->root_key_len, &root, reterr_msg)) < 0 ||
	    (r = row_from_pem(&inter, CA_BOOTSTRAP_NAME, m->intermediate_pem,
	    strlen(m->intermediate_pem), m->root_pem, reterr_msg)) < 0 ||
	    (r = seal_ca_key(j->master_key, CA_BOOTSTRAP_NAME,
	    m->intermediate_key_der, m->intermediate_key_len, &inter,
	    reterr_msg)) < 0)
		goto out;
	if ((r = store_ca_insert(conn, &root, false, reterr_msg)) == 0)
		r = store_ca_insert(conn, &inter, true, reterr_msg);
out:
	row_clear(&root);
	row_clear(&inter);
	return r;
}

static int
create_ca(PGconn *conn, struct bootstrap_job *j, char **reterr_msg)
{
	struct ca_create_params p = {
		.name = CA_BOOTSTRAP_NAME,
		.key_algorithm = j->key_algorithm,
	};
	struct ca_material *m = NULL;
	int r;

	if ((r = ca_create(&p, &m, reterr_msg)) < 0)
		return r;
	r = insert_created(conn, j, m, reterr_msg);
	if (r == 0)
		r = ca_load(m->root_pem, m->intermediate_pem,
		    m->intermediate_key_der, m->intermediate_key_len, &j->ca,
		    reterr_msg);
	ca_material_free(m);
	return r;
}

/* Loads the active CA, or creates one, under the CA lock. */
static int
load_or_create(PGconn *conn, struct bootstrap_job *j, char **reterr_msg)
{
	struct store_ca *row = NULL;
	int r;

	if ((r = store_begin(conn, reterr_msg)) < 0)
		return r;
	if ((r = store_ca_lock(conn, reterr_msg)) < 0)
		goto fail;
	r = store_ca_get_active(conn, &row, reterr_msg);
	if (r == -ENOENT) {
		free(*reterr_msg);
		*reterr_msg = NULL;
		j->how = "created";
		if ((r = create_ca(conn, j, reterr_msg)) < 0)
			goto fail;
		return store_commit(conn, reterr_msg);
	}
	if (r < 0)
		goto fail;
	store_rollback(conn);	/* read only: just release the lock */
	j->how = "loaded";
	r = load_row(j, row, &j->ca, reterr_msg);
	store_ca_free(row);
	return r;
fail:
	store_rollback(conn);
	return r;
}

/* ---- the operator's CA ------------------------------------------------ */

/* The key file again, as plaintext PKCS#8 to seal (ca_load_files checked
 * it already). */
static int
read_key_der(const char *path, unsigned char **der, size_t *len,
    char **reterr_msg)
{
	_cleanup_bio_ BIO *bio = BIO_new_file(path, "r");
	_cleanup_evp_pkey_ EVP_PKEY *key = NULL;

	if (bio != NULL)
		key = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"");
	if (key == NULL || pkey_to_pkcs8_der(key, der, len) < 0) {
		_cleanup_free_ char *why = ossl_error_string();

		*reterr_msg = xasprintf("%s: cannot read the key: %s", path,
		    why);
		return -EINVAL;
	}
	return 0;
}

/* Stores the operator's intermediate (once) and makes it the active CA. */
static int
adopt_operator_ca(PGconn *conn, const struct bootstrap_job *j,
    char **reterr_msg)
{
	const char *chain = ca_chain_pem(j->ca), *root = ca_root_pem(j->ca);
	struct store_ca row = { 0 };
	_cleanup_free_ char *name = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	int r;

	if ((r = row_from_pem(&row, "", chain, strlen(chain) - strlen(root),
	    root, reterr_msg)) < 0)
		goto out;
	r = store_ca_activate(conn, row.fingerprint_sha256, reterr_msg);
	if (r != -ENOENT)
		goto out;
	free(*reterr_msg);
	*reterr_msg = NULL;
	name = xasprintf("operator %.16s", row.fingerprint_sha256);
	free(row.name);
	row.name = xstrdup(name);
	if ((r = read_key_der(j->key_path, &der, &len, reterr_msg)) < 0 ||
	    (r = seal_ca_key(j->master_key, name, der, len, &row,
	    reterr_msg)) < 0 ||
	    (r = store_ca_insert(conn, &row, false, reterr_msg)) < 0)
		goto out;
	r = store_ca_activate(conn, row.fingerprint_sha256, reterr_msg);
out:
	secret_free(der, len);
	row_clear(&row);
	return r;
}

static int
use_operator_ca(PGconn *conn, struct bootstrap_job *j, char **reterr_msg)
{
	int r;

	j->how = "configured";
	r = ca_load_files(j->inter_path, j->key_path, j->root_path, &j->ca,
	    reterr_msg);
	if (r < 0)
		return r;
	if ((r = store_begin(conn, reterr_msg)) < 0)
		return r;
	if ((r = store_ca_lock(conn, reterr_msg)) < 0 ||
	    (r = adopt_operator_ca(conn, j, reterr_msg)) < 0) {
		store_rollback(conn);
		return r;
	}
	return store_commit(conn, reterr_msg);
}

/* ---- the job ------------------------------------------------------------ */

static int
bootstrap_work(PGconn *conn, void *arg)
{
	struct bootstrap_job *j = arg;
	int r;

	if (j->root_path[0] != '\0')
		r = use_operator_ca(conn, j, &j->err);
	else
		r = load_or_create(conn, j, &j->err);
	if (r == 0)
		r = ca_write_public_file(j->root_file, ca_root_pem(j->ca),
		    &j->err);
	if (r < 0) {
		ca_free(j->ca);
		j->ca = NULL;
	}
	return r;
}

static void
bootstrap_done(int rc, void *arg)
{
	struct bootstrap_job *j = arg;
	struct ca *ca = NULL;

	if (rc == 0) {
		log_info("certificate authority %s; root written to %s",
		    j->how, j->root_file);
		ca = TAKE_PTR(j->ca);
	}
	j->done(rc, ca, j->err ? j->err : rc == -ECONNRESET ?
	    "database connection lost" : "certificate authority failed",
	    j->arg);
	job_free(j);
}

void
ca_bootstrap_start(struct daemon_ctx *ctx, ca_bootstrap_done_fn done,
    void *arg)
{
	const struct config *cfg = ctx->cfg;
	struct bootstrap_job *j = xcalloc(1, sizeof(*j));

	j->master_key = ctx->master_key;
	j->root_path = xstrdup(cfg->ca_root_certificate);
	j->inter_path = xstrdup(cfg->ca_intermediate_certificate);
	j->key_path = xstrdup(cfg->ca_intermediate_key);
	j->root_file = xasprintf("%s/%s", cfg->state_directory, CA_ROOT_FILE);
	if (key_algorithm_from_name(cfg->ca_key_algorithm,
	    &j->key_algorithm) < 0)
		j->key_algorithm = CA_DEFAULT_KEY_ALGORITHM;
	j->done = done;
	j->arg = arg;
	dbpool_submit(ctx->pool, bootstrap_work, bootstrap_done, j);
}
