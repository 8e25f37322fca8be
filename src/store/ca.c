/*
 * ca.c: certfleet's own certificate authorities in certificate_authorities:
 * the lock that makes daemons starting together create one CA, reading
 * the active CA, adding a CA and switching the active one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/xmalloc.h"
#include "store/db.h"
#include "store/issuance.h"
#include "store/store.h"

/* Binary results: every column is text or bytea, so both read as bytes. */
#define SQL_ACTIVE                                                      \
	"SELECT name, certificate_pem, chain_pem, sealed_key,"           \
	" fingerprint_sha256, epoch_s(not_before)::text,"                \
	" epoch_s(not_after)::text"                                      \
	" FROM certificate_authorities WHERE active"

#define SQL_INSERT                                                       \
	"INSERT INTO certificate_authorities (name, certificate_pem,"     \
	" chain_pem, sealed_key, fingerprint_sha256, not_before, not_after," \
	" active) VALUES ($1, $2, $3, $4::bytea, $5,"                      \
	" to_timestamp($6::bigint), to_timestamp($7::bigint), $8::boolean)"

const struct store_stmt store_ca_stmts[] = {
	{ "ca_lock", "SELECT pg_advisory_xact_lock($1::integer, "
	    "$2::integer)" },
	{ "ca_active", SQL_ACTIVE },
	{ "ca_active_pem", "SELECT certificate_pem, chain_pem FROM "
	    "certificate_authorities WHERE active" },
	{ "ca_insert", SQL_INSERT },
	/* Others off first: the one-active index holds throughout. */
	{ "ca_deactivate_others", "UPDATE certificate_authorities "
	    "SET active = false WHERE active AND fingerprint_sha256 <> $1" },
	{ "ca_activate", "UPDATE certificate_authorities SET active = true "
	    "WHERE fingerprint_sha256 = $1 RETURNING id" },
	{ NULL, NULL },
};

void
store_ca_free(struct store_ca *ca)
{
	if (ca == NULL)
		return;
	free(ca->name);
	free(ca->certificate_pem);
	free(ca->chain_pem);
	free(ca->sealed_key);
	free(ca->fingerprint_sha256);
	free(ca);
}

int
store_ca_lock(PGconn *conn, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };

	sp_int(&p, STORE_LOCK_CLASS);
	sp_int(&p, STORE_LOCK_CA);
	return store_exec(conn, "ca_lock", &p, NULL, reterr_msg);
}

/* A bytea column of a binary result, copied. */
static unsigned char *
res_bytes(const PGresult *r, int row, int col, size_t *len)
{
	size_t n = (size_t)PQgetlength(r, row, col);
	unsigned char *b = xmalloc(n > 0 ? n : 1);

	memcpy(b, PQgetvalue(r, row, col), n);
	*len = n;
	return b;
}

int
store_ca_get_active(PGconn *conn, struct store_ca **out, char **reterr_msg)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	struct store_ca *ca;
	int r;

	*out = NULL;
	r = store_exec_binary(conn, "ca_active", NULL, &res, reterr_msg);
	if (r < 0)
		return r;
	if (PQntuples(res) != 1) {
		store_set_msg(reterr_msg, "no active certificate authority");
		return -ENOENT;
	}
	ca = xcalloc(1, sizeof(*ca));
	ca->name = res_str(res, 0, 0);
	ca->certificate_pem = res_str(res, 0, 1);
	ca->chain_pem = res_str(res, 0, 2);
	ca->sealed_key = res_bytes(res, 0, 3, &ca->sealed_key_len);
	ca->fingerprint_sha256 = res_str(res, 0, 4);
	ca->not_before = strtoll(PQgetvalue(res, 0, 5), NULL, 10);
	ca->not_after = strtoll(PQgetvalue(res, 0, 6), NULL, 10);
	*out = ca;
	return 0;
}

int
store_ca_get_active_pem(PGconn *conn, char **certificate_pem,
    char **chain_pem, char **reterr_msg)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	*certificate_pem = *chain_pem = NULL;
	r = store_exec(conn, "ca_active_pem", NULL, &res, reterr_msg);
	if (r < 0)
		return r;
	if (PQntuples(res) != 1) {
		store_set_msg(reterr_msg, "no active certificate authority");
		return -ENOENT;
	}
	*certificate_pem = res_str(res, 0, 0);
	*chain_pem = res_str(res, 0, 1);
	return 0;
}

int
store_ca_insert(PGconn *conn, const struct store_ca *ca, bool active,
    char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };

	sp_text(&p, ca->name);
	sp_text(&p, ca->certificate_pem);
	sp_text(&p, ca->chain_pem);
	sp_bytea(&p, ca->sealed_key, ca->sealed_key_len);
	sp_text(&p, ca->fingerprint_sha256);
	sp_int(&p, ca->not_before);
	sp_int(&p, ca->not_after);
	sp_text(&p, active ? "true" : "false");
	return store_exec(conn, "ca_insert", &p, NULL, reterr_msg);
}

int
store_ca_activate(PGconn *conn, const char *fingerprint_sha256,
    char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	bool own;
	int r;

	if ((r = store_tx_enter(conn, &own, reterr_msg)) < 0)
		return r;
	sp_text(&p, fingerprint_sha256);
	r = store_exec(conn, "ca_deactivate_others", &p, NULL, reterr_msg);
	if (r == 0)
		r = store_exec(conn, "ca_activate", &p, &res, reterr_msg);
	if (r == 0 && PQntuples(res) != 1) {
		store_set_msg(reterr_msg, "no certificate authority with "
		    "fingerprint %s", fingerprint_sha256);
		r = -ENOENT;
	}
	return store_tx_leave(conn, own, r, reterr_msg);
}
