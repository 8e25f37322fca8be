/*
 * outbox.c: the mail queue's rows. A sender claims due rows with a lease
 * (FOR UPDATE SKIP LOCKED, so daemons sharing the database never send one
 * row together), and records each outcome: sent, retry later, or failed
 * for good. A row whose lease ran out (its daemon died mid-send) is
 * claimed again and sent with the same Message-ID.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/xmalloc.h"
#include "store/db.h"
#include "store/store.h"

/* The last column is the status a validation email's worth depends on: a
 * renewal waiting for the email's name counts as PENDING_VALIDATION. */
#define SQL_CLAIM                                                            \
	"UPDATE mail_outbox o SET state = 'SENDING', lease_owner = $1,"       \
	" lease_expires_at = now() + $2::bigint * interval '1 millisecond',"  \
	" attempts = o.attempts + 1"                                          \
	" FROM (SELECT id FROM mail_outbox WHERE state IN ('PENDING',"        \
	"  'SENDING') AND next_attempt_at <= now() AND (lease_expires_at"     \
	"  IS NULL OR lease_expires_at < now()) ORDER BY next_attempt_at"     \
	"  LIMIT $3 FOR UPDATE SKIP LOCKED) s WHERE o.id = s.id"              \
	" RETURNING o.id, o.message_id, o.kind, o.sender, o.recipients[1],"   \
	" o.body, o.domain_name, o.validation_domain,"                        \
	" encode(o.token_nonce, 'hex'), epoch_s(o.created_at), o.attempts,"   \
	" (SELECT c.arn FROM certificates c WHERE c.id = o.certificate_id),"  \
	" (SELECT c.domain_name FROM certificates c"                          \
	"  WHERE c.id = o.certificate_id),"                                   \
	" (SELECT CASE WHEN c.status = 'ISSUED' AND o.kind = 'VALIDATION'"    \
	"  AND c.renewal_state = 'VALIDATING' AND EXISTS (SELECT 1 FROM"      \
	"  domain_validations d WHERE d.certificate_id = c.id"                \
	"  AND d.domain_name = o.domain_name"                                 \
	"  AND d.renewal_status = 'PENDING_VALIDATION')"                      \
	"  THEN 'PENDING_VALIDATION' ELSE c.status END"                       \
	"  FROM certificates c WHERE c.id = o.certificate_id)"

#define SQL_SENT                                                             \
	"UPDATE mail_outbox SET state = 'SENT', sent_at = now(),"             \
	" token_nonce = NULL, lease_owner = NULL, lease_expires_at = NULL,"   \
	" last_error = NULL WHERE id = $1 AND state <> 'SENT'"                \
	" RETURNING (SELECT c.arn FROM certificates c"                        \
	"  WHERE c.id = certificate_id)"

#define SQL_RETRY                                                            \
	"UPDATE mail_outbox SET state = 'PENDING', next_attempt_at = now() +" \
	" $2::bigint * interval '1 millisecond', last_error = $3,"            \
	" lease_owner = NULL, lease_expires_at = NULL"                        \
	" WHERE id = $1 AND state = 'SENDING'"

#define SQL_FAIL                                                             \
	"UPDATE mail_outbox SET state = 'FAILED', last_error = $2,"           \
	" token_nonce = NULL, lease_owner = NULL, lease_expires_at = NULL"    \
	" WHERE id = $1 AND state <> 'SENT'"                                  \
	" RETURNING certificate_id, kind, domain_name"

/*
 * Every validation email of a name failed for good: nobody can approve
 * it, so the request ends FAILED with OTHER (ACM's reason for failures
 * that fit no other).
 */
#define SQL_FAIL_REQUEST                                                     \
	"WITH d AS (UPDATE domain_validations SET status = 'FAILED',"         \
	"  failure_reason = 'OTHER', updated_at = now()"                      \
	"  WHERE certificate_id = $1 AND domain_name = $2"                    \
	"  AND status = 'PENDING_VALIDATION' AND NOT EXISTS ("                \
	"  SELECT 1 FROM mail_outbox WHERE certificate_id = $1"               \
	"  AND domain_name = $2 AND kind = 'VALIDATION'"                      \
	"  AND state <> 'FAILED') RETURNING 1)"                               \
	"UPDATE certificates SET status = 'FAILED', failure_reason = 'OTHER',"\
	" failure_detail = $3, updated_at = now()"                            \
	" WHERE id = $1 AND status = 'PENDING_VALIDATION'"                    \
	" AND EXISTS (SELECT 1 FROM d) RETURNING arn"

/* Serialises the failures of one request's emails, so that the last one
 * sees every other as committed. */
#define SQL_LOCK_CERT                                                      \
	"SELECT 1 FROM certificates WHERE id = (SELECT certificate_id"      \
	" FROM mail_outbox WHERE id = $1) FOR UPDATE"

void
store_outbox_items_free(struct store_outbox_item *items, size_t n)
{
	for (size_t i = 0; items && i < n; i++) {
		struct store_outbox_item *m = &items[i];

		free(m->message_id);
		free(m->kind);
		free(m->sender);
		free(m->recipient);
		free(m->body);
		free(m->domain_name);
		free(m->validation_domain);
		free(m->nonce_hex);
		free(m->arn);
		free(m->requested_domain);
		free(m->certificate_status);
	}
	free(items);
}

static void
item_from_row(const PGresult *res, int i, struct store_outbox_item *m)
{
	m->id = res_i64(res, i, 0);
	m->message_id = res_str(res, i, 1);
	m->kind = res_str(res, i, 2);
	m->sender = res_str(res, i, 3);
	m->recipient = res_str(res, i, 4);
	m->body = res_str(res, i, 5);
	m->domain_name = res_str(res, i, 6);
	m->validation_domain = res_str(res, i, 7);
	m->nonce_hex = res_str(res, i, 8);
	m->created_at = res_i64(res, i, 9);
	m->attempts = (int)res_i64(res, i, 10);
	m->arn = res_str(res, i, 11);
	m->requested_domain = res_str(res, i, 12);
	m->certificate_status = res_str(res, i, 13);
}

int
store_outbox_claim(PGconn *conn, const char *owner, int64_t lease_ms,
    int max, struct store_outbox_item **out, size_t *n_out,
    char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	struct store_outbox_item *items;
	size_t n;
	int r;

	*out = NULL;
	*n_out = 0;
	sp_text(&p, owner);
	sp_int(&p, lease_ms);
	sp_int(&p, max);
	if ((r = store_exec_sql(conn, SQL_CLAIM, &p, &res, reterr_msg)) < 0)
		return r;
	n = (size_t)PQntuples(res);
	items = xcalloc(n ? n : 1, sizeof(*items));
	for (size_t i = 0; i < n; i++)
		item_from_row(res, (int)i, &items[i]);
	*out = items;
	*n_out = n;
	return 0;
}

int
store_outbox_sent(PGconn *conn, int64_t id, bool *changed,
    char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	sp_int(&p, id);
	if ((r = store_exec_sql(conn, SQL_SENT, &p, &res, reterr_msg)) < 0)
		return r;
	*changed = PQntuples(res) == 1;
	return 0;
}

int
store_outbox_retry(PGconn *conn, int64_t id, int64_t delay_ms,
    const char *why, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };

	sp_int(&p, id);
	sp_int(&p, delay_ms);
	sp_text(&p, why);
	return store_exec_sql(conn, SQL_RETRY, &p, NULL, reterr_msg);
}

static int
fail_request_if_hopeless(PGconn *conn, const PGresult *row, const char *why,
    char **failed_arn, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	_cleanup_free_ char *detail = NULL;
	int r;

	if (PQgetisnull(row, 0, 0) ||
	    strcmp(PQgetvalue(row, 0, 1), "VALIDATION") != 0 ||
	    PQgetisnull(row, 0, 2))
		return 0;
	detail = xasprintf("No validation email for %s could be delivered: "
	    "%s", PQgetvalue(row, 0, 2), why);
	sp_int(&p, res_i64(row, 0, 0));
	sp_text(&p, PQgetvalue(row, 0, 2));
	sp_text(&p, detail);
	r = store_exec_sql(conn, SQL_FAIL_REQUEST, &p, &res, reterr_msg);
	if (r == 0 && PQntuples(res) == 1)
		*failed_arn = res_str(res, 0, 0);
	return r;
}

int
store_outbox_fail(PGconn *conn, int64_t id, const char *why,
    char **failed_arn, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	bool own;
	int r;

	*failed_arn = NULL;
	if ((r = store_tx_enter(conn, &own, reterr_msg)) < 0)
		return r;
	sp_int(&p, id);
	r = store_exec_sql(conn, SQL_LOCK_CERT, &p, NULL, reterr_msg);
	sp_text(&p, why);
	if (r == 0)
		r = store_exec_sql(conn, SQL_FAIL, &p, &res, reterr_msg);
	if (r == 0 && PQntuples(res) == 1)
		r = fail_request_if_hopeless(conn, res, why, failed_arn,
		    reterr_msg);
	return store_tx_leave(conn, own, r, reterr_msg);
}
