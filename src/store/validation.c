/*
 * validation.c: the database side of email validation: claiming names
 * whose contacts must be found (FOR UPDATE SKIP LOCKED plus a lease, so
 * daemons sharing the database split the work and a crashed daemon's
 * claims run out), recording what was found (addresses, token hashes and
 * outbox rows in one transaction), and approving a name with a token.
 *
 * The approval that leaves no name pending writes the issuance intent in
 * the same transaction, so a crash between approval and issuance loses
 * nothing: the issuer finds the intent.
 *
 * Renewals use the same path: a name whose automatic check failed
 * (domain_validations.renewal_status PENDING_VALIDATION while the
 * certificate's renewal_state is VALIDATING) is claimed like a requested
 * one, its tokens are RENEWAL tokens, and their approval sets the name's
 * renewal_status and, once no name is left waiting, makes the certificate
 * due at once so the scheduler resumes the renewal.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "common/xmalloc.h"
#include "store/db.h"
#include "store/store.h"

#define SQL_CLAIM                                                             \
	"UPDATE domain_validations d SET discovery_lease_owner = $1,"          \
	" discovery_lease_expires_at = now() + $2::bigint *"                   \
	"  interval '1 millisecond'"                                           \
	" FROM (SELECT dv.certificate_id, dv.domain_name, c.arn,"              \
	"  c.domain_name AS requested FROM domain_validations dv"              \
	"  JOIN certificates c ON c.id = dv.certificate_id"                    \
	"  WHERE dv.discovery_state = 'PENDING'"                               \
	"  AND dv.discovery_next_at <= now()"                                  \
	"  AND (dv.discovery_lease_expires_at IS NULL"                         \
	"   OR dv.discovery_lease_expires_at < now())"                         \
	"  AND c.status = 'PENDING_VALIDATION'"                                \
	"  ORDER BY dv.discovery_next_at LIMIT $3"                             \
	"  FOR UPDATE OF dv SKIP LOCKED) s"                                    \
	" WHERE d.certificate_id = s.certificate_id"                           \
	" AND d.domain_name = s.domain_name"                                   \
	" RETURNING d.certificate_id, s.arn, s.requested, d.domain_name,"      \
	" d.validation_domain, d.validation_domain_given, d.discovery_attempts"

/*
 * Names of renewals waiting for approval whose emails were not sent since
 * their check failed (renewal_checked_at), or whose look-up is due again.
 * The partial index on renewal_state finds the certificates. A row taken
 * from DONE or FAILED starts a look-up of its own: PENDING, no attempts.
 */
#define SQL_CLAIM_RENEWAL                                                     \
	"UPDATE domain_validations d SET discovery_lease_owner = $1,"          \
	" discovery_lease_expires_at = now() + $2::bigint *"                   \
	"  interval '1 millisecond', discovery_state = 'PENDING',"             \
	" discovery_attempts = CASE WHEN s.discovery_state = 'PENDING'"        \
	"  THEN d.discovery_attempts ELSE 0 END,"                              \
	" discovery_error = CASE WHEN s.discovery_state = 'PENDING'"           \
	"  THEN d.discovery_error END"                                         \
	" FROM (SELECT dv.certificate_id, dv.domain_name, dv.discovery_state," \
	"  c.arn, c.domain_name AS requested FROM certificates c"              \
	"  JOIN domain_validations dv ON dv.certificate_id = c.id"             \
	"  WHERE c.renewal_state = 'VALIDATING' AND c.status = 'ISSUED'"       \
	"  AND dv.renewal_status = 'PENDING_VALIDATION'"                       \
	"  AND CASE WHEN dv.discovery_state = 'PENDING'"                       \
	"   THEN dv.discovery_next_at <= now()"                                \
	"   ELSE dv.updated_at < dv.renewal_checked_at END"                    \
	"  AND (dv.discovery_lease_expires_at IS NULL"                         \
	"   OR dv.discovery_lease_expires_at < now())"                         \
	"  ORDER BY dv.renewal_checked_at LIMIT $3"                            \
	"  FOR UPDATE OF dv SKIP LOCKED) s"                                    \
	" WHERE d.certificate_id = s.certificate_id"                           \
	" AND d.domain_name = s.domain_name"                                   \
	" RETURNING d.certificate_id, s.arn, s.requested, d.domain_name,"      \
	" d.validation_domain, d.validation_domain_given, d.discovery_attempts"

/* The row, if our lease on it still holds; locks it and its certificate.
 * The second column: the name waits for a renewal's approval. */
#define SQL_OWNED                                                          \
	"SELECT c.status, c.status = 'ISSUED' AND"                          \
	" c.renewal_state IS NOT DISTINCT FROM 'VALIDATING' AND"            \
	" d.renewal_status IS NOT DISTINCT FROM 'PENDING_VALIDATION'"       \
	" FROM domain_validations d JOIN certificates c"                    \
	" ON c.id = d.certificate_id WHERE d.certificate_id = $1"           \
	" AND d.domain_name = $2 AND d.discovery_lease_owner = $3"          \
	" AND d.discovery_state = 'PENDING' FOR UPDATE OF d, c"

/* $1 id, $2 name, $3 emails, $4 recipients, $5 nonces (hex), $6 hashes
 * (hex), $7 message ids, $8 sender, $9 token lifetime ms, $10 vd,
 * $11 the tokens' purpose (ISSUE, RENEWAL) */
#define SQL_DONE                                                             \
	"WITH d AS (UPDATE domain_validations SET discovery_state = 'DONE',"  \
	"  emails = $3::text[], sent_at = now(), send_count = send_count + 1," \
	"  discovery_lease_owner = NULL, discovery_lease_expires_at = NULL,"  \
	"  discovery_error = NULL, updated_at = now()"                        \
	"  WHERE certificate_id = $1 AND domain_name = $2),"                  \
	"t AS (INSERT INTO approval_tokens (token_hash, certificate_id,"      \
	"  validation_domain, domain_name, recipients, expires_at, purpose)"  \
	"  SELECT decode(u.h, 'hex'), $1, $10, $2, ARRAY[u.r],"               \
	"  now() + $9::bigint * interval '1 millisecond', $11"                \
	"  FROM unnest($4::text[], $6::text[]) AS u(r, h))"                   \
	"INSERT INTO mail_outbox (message_id, certificate_id, kind, sender,"  \
	" recipients, domain_name, validation_domain, token_nonce)"           \
	" SELECT u.m, $1, 'VALIDATION', $8, ARRAY[u.r], $2, $10,"             \
	" decode(u.n, 'hex')"                                                 \
	" FROM unnest($4::text[], $5::text[], $7::text[]) AS u(r, n, m)"

#define SQL_NO_CONTACTS                                                      \
	"WITH d AS (UPDATE domain_validations SET discovery_state = 'FAILED'," \
	"  status = 'FAILED', failure_reason = 'NO_AVAILABLE_CONTACTS',"      \
	"  discovery_lease_owner = NULL, discovery_lease_expires_at = NULL,"  \
	"  discovery_error = $3, updated_at = now()"                          \
	"  WHERE certificate_id = $1 AND domain_name = $2)"                   \
	"UPDATE certificates SET status = 'FAILED',"                          \
	" failure_reason = 'NO_AVAILABLE_CONTACTS', failure_detail = $3,"     \
	" updated_at = now() WHERE id = $1 AND status = 'PENDING_VALIDATION'"

/* A renewal's name with nobody to ask: the certificate stays ISSUED (its
 * current version goes on being served); the name cannot be approved, so
 * the renewal cannot complete: the name's renewal status is FAILED and the
 * certificate due now, for the scheduler to end the renewal FAILED with
 * NO_AVAILABLE_CONTACTS (store_renewal_pending_names) and notify. */
#define SQL_NO_CONTACTS_RENEWAL                                              \
	"WITH d AS (UPDATE domain_validations SET discovery_state = 'FAILED',"\
	"  renewal_status = 'FAILED', discovery_lease_owner = NULL,"          \
	"  discovery_lease_expires_at = NULL, discovery_error = $3,"          \
	"  renewal_detail = $3, updated_at = now()"                           \
	"  WHERE certificate_id = $1 AND domain_name = $2)"                   \
	"UPDATE certificates SET next_due_at = now() WHERE id = $1"           \
	" AND renewal_state = 'VALIDATING'"

#define SQL_RETRY                                                            \
	"UPDATE domain_validations SET discovery_attempts ="                  \
	" discovery_attempts + 1, discovery_next_at = now() + $3::bigint *"   \
	" interval '1 millisecond', discovery_error = $4,"                    \
	" discovery_lease_owner = NULL, discovery_lease_expires_at = NULL,"   \
	" updated_at = now()"                                                 \
	" WHERE certificate_id = $1 AND domain_name = $2"

/* Columns 10-12: a RENEWAL token counts only while the renewal waits for
 * validation, and only if sent after its name's check failed (a token of
 * an earlier renewal approves nothing now). */
#define SQL_TOKEN                                                            \
	"SELECT t.certificate_id, c.arn, c.domain_name, t.domain_name,"       \
	" t.validation_domain, t.used_at IS NOT NULL, t.expires_at <= now()," \
	" c.status, coalesce(d.status, 'FAILED'), encode(t.token_hash, 'hex')," \
	" t.purpose = 'RENEWAL', c.status = 'ISSUED' AND c.renewal_state"     \
	" IS NOT DISTINCT FROM 'VALIDATING' AND t.created_at >="              \
	" coalesce(d.renewal_checked_at, 'infinity'),"                        \
	" coalesce(d.renewal_status, 'FAILED')"                               \
	" FROM approval_tokens t JOIN certificates c ON c.id = t.certificate_id" \
	" LEFT JOIN domain_validations d ON d.certificate_id = t.certificate_id" \
	"  AND d.domain_name = t.domain_name"                                 \
	" WHERE t.token_hash = decode($1, 'hex')"

#define SQL_APPROVE                                                          \
	"WITH t AS (UPDATE approval_tokens SET used_at = now(), used_by = $3" \
	"  WHERE token_hash = decode($4, 'hex'))"                             \
	"UPDATE domain_validations SET status = 'SUCCESS',"                   \
	" validated_at = now(), updated_at = now()"                           \
	" WHERE certificate_id = $1 AND domain_name = $2"

#define SQL_APPROVE_RENEWAL                                                  \
	"WITH t AS (UPDATE approval_tokens SET used_at = now(), used_by = $3" \
	"  WHERE token_hash = decode($4, 'hex'))"                             \
	"UPDATE domain_validations SET renewal_status = 'SUCCESS',"           \
	" updated_at = now()"                                                 \
	" WHERE certificate_id = $1 AND domain_name = $2"

/* No name of the renewal left waiting: due now, so the scheduler claims
 * it and goes on to ISSUING. */
#define SQL_RESUME_RENEWAL                                                   \
	"UPDATE certificates SET next_due_at = now() WHERE id = $1"           \
	" AND renewal_state = 'VALIDATING' AND NOT EXISTS (SELECT 1"          \
	" FROM domain_validations WHERE certificate_id = $1"                  \
	" AND renewal_status = 'PENDING_VALIDATION') RETURNING 1"

#define SQL_INTENT                                                           \
	"INSERT INTO issuance_intents (certificate_id, purpose, version,"     \
	" serial) SELECT $1, 'ISSUE', 1, $2 WHERE NOT EXISTS ("               \
	" SELECT 1 FROM domain_validations WHERE certificate_id = $1"         \
	" AND status <> 'SUCCESS')"                                           \
	" ON CONFLICT (certificate_id, version) DO NOTHING RETURNING id"

/* ---- contact discovery ------------------------------------------------- */

void
store_discovery_items_free(struct store_discovery_item *items, size_t n)
{
	for (size_t i = 0; items && i < n; i++) {
		free(items[i].arn);
		free(items[i].requested_domain);
		free(items[i].domain_name);
		free(items[i].validation_domain);
	}
	free(items);
}

/* Runs one claim query and appends what it took to *items. */
static int
claim_some(PGconn *conn, const char *sql, bool renewal, const char *owner,
    int64_t lease_ms, int max, struct store_discovery_item **items,
    size_t *n_items, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	struct store_discovery_item *it;
	size_t n, base = *n_items;
	int r;

	sp_text(&p, owner);
	sp_int(&p, lease_ms);
	sp_int(&p, max);
	if ((r = store_exec_sql(conn, sql, &p, &res, reterr_msg)) < 0)
		return r;
	n = (size_t)PQntuples(res);
	if (n == 0)
		return 0;
	*items = xrealloc(*items, (base + n) * sizeof(**items));
	for (size_t i = 0; i < n; i++) {
		it = &(*items)[base + i];
		memset(it, 0, sizeof(*it));
		it->certificate_id = res_i64(res, (int)i, 0);
		it->arn = res_str(res, (int)i, 1);
		it->requested_domain = res_str(res, (int)i, 2);
		it->domain_name = res_str(res, (int)i, 3);
		it->validation_domain = res_str(res, (int)i, 4);
		it->validation_domain_given = res_bool(res, (int)i, 5);
		it->attempts = (int)res_i64(res, (int)i, 6);
		it->renewal = renewal;
	}
	*n_items = base + n;
	return 0;
}

/* Names of requests first, then names of renewals with the room left. */
int
store_discovery_claim(PGconn *conn, const char *owner, int64_t lease_ms,
    int max, struct store_discovery_item **out, size_t *n_out,
    char **reterr_msg)
{
	struct store_discovery_item *items = xcalloc(1, sizeof(*items));
	size_t n = 0;
	int r;

	*out = NULL;
	*n_out = 0;
	r = claim_some(conn, SQL_CLAIM, false, owner, lease_ms, max, &items,
	    &n, reterr_msg);
	if (r == 0 && n < (size_t)max)
		r = claim_some(conn, SQL_CLAIM_RENEWAL, true, owner,
		    lease_ms, max - (int)n, &items, &n, reterr_msg);
	/* Rows claimed before a failure are left to their lease. */
	if (r < 0) {
		store_discovery_items_free(items, n);
		return r;
	}
	*out = items;
	*n_out = n;
	return 0;
}

/* -ESTALE when the lease went to another daemon or the request (or the
 * renewal's wait for this name) ended; *renewal: the name is a renewal's. */
static int
check_owned(PGconn *conn, int64_t id, const char *name, const char *owner,
    bool *renewal, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	sp_int(&p, id);
	sp_text(&p, name);
	sp_text(&p, owner);
	if ((r = store_exec_sql(conn, SQL_OWNED, &p, &res, reterr_msg)) < 0)
		return r;
	*renewal = PQntuples(res) == 1 && res_bool(res, 0, 1);
	if (PQntuples(res) != 1 || (!*renewal &&
	    strcmp(PQgetvalue(res, 0, 0), "PENDING_VALIDATION") != 0)) {
		store_set_msg(reterr_msg, "the claim on %s was lost or the "
		    "request ended", name);
		return -ESTALE;
	}
	return 0;
}

static int
record_mails(PGconn *conn, const struct store_discovery_result *d,
    bool renewal, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	const char **rcpt = xcalloc(d->n_mails + 1, sizeof(char *));
	const char **nonce = xcalloc(d->n_mails + 1, sizeof(char *));
	const char **hash = xcalloc(d->n_mails + 1, sizeof(char *));
	const char **mid = xcalloc(d->n_mails + 1, sizeof(char *));
	int r;

	for (size_t i = 0; i < d->n_mails; i++) {
		rcpt[i] = d->mails[i].recipient;
		nonce[i] = d->mails[i].nonce_hex;
		hash[i] = d->mails[i].token_hash_hex;
		mid[i] = d->mails[i].message_id;
	}
	sp_int(&p, d->certificate_id);
	sp_text(&p, d->domain_name);
	sp_array(&p, (const char *const *)d->emails, strv_len(d->emails));
	sp_array(&p, rcpt, d->n_mails);
	sp_array(&p, nonce, d->n_mails);
	sp_array(&p, hash, d->n_mails);
	sp_array(&p, mid, d->n_mails);
	sp_text(&p, d->sender);
	sp_int(&p, d->token_lifetime_ms);
	sp_text(&p, d->validation_domain);
	sp_text(&p, renewal ? "RENEWAL" : "ISSUE");
	r = store_exec_sql(conn, SQL_DONE, &p, NULL, reterr_msg);
	free(rcpt);
	free(nonce);
	free(hash);
	free(mid);
	return r;
}

int
store_discovery_done(PGconn *conn, const char *owner,
    const struct store_discovery_result *d, char **reterr_msg)
{
	bool own, renewal;
	int r;

	if ((r = store_tx_enter(conn, &own, reterr_msg)) < 0)
		return r;
	r = check_owned(conn, d->certificate_id, d->domain_name, owner,
	    &renewal, reterr_msg);
	if (r == 0)
		r = record_mails(conn, d, renewal, reterr_msg);
	return store_tx_leave(conn, own, r, reterr_msg);
}

/* sql_renewal: the statement for a renewal's name (NULL: the same). */
static int
simple_update(PGconn *conn, const char *owner, int64_t id, const char *name,
    const char *sql, const char *sql_renewal, struct store_params *p,
    char **reterr_msg)
{
	bool own, renewal;
	int r;

	if ((r = store_tx_enter(conn, &own, reterr_msg)) < 0)
		return r;
	r = check_owned(conn, id, name, owner, &renewal, reterr_msg);
	if (r == 0)
		r = store_exec_sql(conn, renewal && sql_renewal ? sql_renewal :
		    sql, p, NULL, reterr_msg);
	return store_tx_leave(conn, own, r, reterr_msg);
}

int
store_discovery_no_contacts(PGconn *conn, const char *owner, int64_t id,
    const char *name, const char *detail, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };

	sp_int(&p, id);
	sp_text(&p, name);
	sp_text(&p, detail);
	return simple_update(conn, owner, id, name, SQL_NO_CONTACTS,
	    SQL_NO_CONTACTS_RENEWAL, &p, reterr_msg);
}

int
store_discovery_retry(PGconn *conn, const char *owner, int64_t id,
    const char *name, int64_t delay_ms, const char *why, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };

	sp_int(&p, id);
	sp_text(&p, name);
	sp_int(&p, delay_ms);
	sp_text(&p, why);
	return simple_update(conn, owner, id, name, SQL_RETRY, NULL, &p,
	    reterr_msg);
}

/* ---- approval ------------------------------------------------------------ */

void
store_token_info_clear(struct store_token_info *t)
{
	if (t == NULL)
		return;
	free(t->arn);
	free(t->requested_domain);
	free(t->domain_name);
	free(t->validation_domain);
	memset(t, 0, sizeof(*t));
}

/* A request's token goes by the certificate's status and the name's
 * status; a renewal's by the renewal's wait and the name's renewal_status. */
static enum store_token_state
token_state(const PGresult *res)
{
	bool renewal = res_bool(res, 0, 10);
	const char *name_status = PQgetvalue(res, 0, renewal ? 12 : 8);

	if (res_bool(res, 0, 5))
		return STORE_TOKEN_USED;
	if (res_bool(res, 0, 6))
		return STORE_TOKEN_EXPIRED;
	if (renewal ? !res_bool(res, 0, 11) :
	    strcmp(PQgetvalue(res, 0, 7), "PENDING_VALIDATION") != 0)
		return STORE_TOKEN_CLOSED;
	if (strcmp(name_status, "SUCCESS") == 0)
		return STORE_TOKEN_APPROVED;
	if (strcmp(name_status, "PENDING_VALIDATION") != 0)
		return STORE_TOKEN_CLOSED;
	return STORE_TOKEN_VALID;
}

static int
token_read(PGconn *conn, const char *hash_hex, bool lock,
    struct store_token_info *t, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	_cleanup_free_ char *sql = NULL;
	int r;

	memset(t, 0, sizeof(*t));
	sp_text(&p, hash_hex);
	sql = xasprintf("%s%s", SQL_TOKEN, lock ? " FOR UPDATE OF t, c" : "");
	if ((r = store_exec_sql(conn, sql, &p, &res, reterr_msg)) < 0)
		return r;
	if (PQntuples(res) != 1) {
		t->state = STORE_TOKEN_UNKNOWN;
		return 0;
	}
	/* The index found the row; compare the whole hash anyway, in
	 * constant time, so that nothing but an exact match ever counts. */
	if (strlen(hash_hex) != 64 || PQgetlength(res, 0, 9) != 64 ||
	    CRYPTO_memcmp(hash_hex, PQgetvalue(res, 0, 9), 64) != 0) {
		t->state = STORE_TOKEN_UNKNOWN;
		return 0;
	}
	t->certificate_id = res_i64(res, 0, 0);
	t->arn = res_str(res, 0, 1);
	t->requested_domain = res_str(res, 0, 2);
	t->domain_name = res_str(res, 0, 3);
	t->validation_domain = res_str(res, 0, 4);
	t->renewal = res_bool(res, 0, 10);
	t->state = token_state(res);
	return 0;
}

int
store_token_lookup(PGconn *conn, const char *hash_hex,
    struct store_token_info *t, char **reterr_msg)
{
	return token_read(conn, hash_hex, false, t, reterr_msg);
}

static int
approve_locked(PGconn *conn, const char *hash_hex, const char *client,
    const char *serial, struct store_token_info *t, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 }, pi = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	if ((r = token_read(conn, hash_hex, true, t, reterr_msg)) < 0)
		return r;
	if (t->state != STORE_TOKEN_VALID)
		return 0;
	sp_int(&p, t->certificate_id);
	sp_text(&p, t->domain_name);
	sp_text(&p, client);
	sp_text(&p, hash_hex);
	if ((r = store_exec_sql(conn, t->renewal ? SQL_APPROVE_RENEWAL :
	    SQL_APPROVE, &p, NULL, reterr_msg)) < 0)
		return r;
	sp_int(&pi, t->certificate_id);
	if (t->renewal) {
		/* The scheduler issues; the page only makes it due. */
		r = store_exec_sql(conn, SQL_RESUME_RENEWAL, &pi, &res,
		    reterr_msg);
	} else {
		sp_text(&pi, serial);
		r = store_exec_sql(conn, SQL_INTENT, &pi, &res, reterr_msg);
	}
	if (r < 0)
		return r;
	t->issue = PQntuples(res) == 1;
	return 0;
}

int
store_token_approve(PGconn *conn, const char *hash_hex, const char *client,
    const char *serial, struct store_token_info *t, char **reterr_msg)
{
	bool own;
	int r;

	if ((r = store_tx_enter(conn, &own, reterr_msg)) < 0)
		return r;
	r = approve_locked(conn, hash_hex, client, serial, t, reterr_msg);
	return store_tx_leave(conn, own, r, reterr_msg);
}
