/*
 * renewal.c: the renewal scheduler's and the expiry events' side of the
 * certificates table (see renewal.h). The scan's trick is that every
 * reason to wait (a lease, a backoff, a validation pending) is written as
 * next_due_at, so "what is due" is one range of one partial index.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/xmalloc.h"
#include "store/db.h"
#include "store/renewal.h"
#include "store/store.h"

#define MS "* interval '1 millisecond'"

/* The due time of c: window w = min(renew_before, lifetime / 3), moved
 * earlier by up to w / 10 at random so certificates issued together do not
 * come due together. $1 is renew_before in milliseconds. */
#define DUE_EXPR                                                             \
	"c.not_after - least($1::bigint " MS ","                              \
	" (c.not_after - coalesce(c.not_before, c.issued_at, c.created_at))"  \
	" / 3) * (1 + random() / 10)"

#define DUE_CASE                                                             \
	"CASE WHEN c.type = 'AMAZON_ISSUED' AND c.status = 'ISSUED'"          \
	" AND c.not_after IS NOT NULL AND EXISTS (SELECT 1 FROM bindings b"   \
	" WHERE b.certificate_id = c.id) THEN greatest(" DUE_EXPR ","         \
	" c.backoff_until) END"

#define SQL_REFRESH                                                          \
	"WITH d AS (SELECT id FROM certificates WHERE renewal_due_dirty"      \
	" AND renewal_state IS NULL LIMIT $2 FOR UPDATE SKIP LOCKED)"         \
	"UPDATE certificates c SET renewal_due_dirty = false,"                \
	" next_due_at = " DUE_CASE " FROM d WHERE c.id = d.id"

/*
 * A claim starts a renewal (column 9 says why) or resumes one (NULL): a
 * backoff that ran out is a retry, and the claim consumes it (clears
 * backoff_until) so that a later takeover of the same attempt is not
 * counted again; a row RenewCertificate made due is marked by its
 * RenewalStatus, PENDING_AUTO_RENEWAL with no renewal in progress.
 */
#define SQL_CLAIM                                                            \
	"WITH due AS (SELECT id FROM certificates WHERE type = 'AMAZON_ISSUED'" \
	" AND status = 'ISSUED' AND next_due_at <= now()"                     \
	" AND (lease_expires_at IS NULL OR lease_expires_at <= now())"        \
	" ORDER BY next_due_at LIMIT $3 FOR UPDATE SKIP LOCKED),"             \
	"old AS (SELECT c.id, c.renewal_state, c.renewal_status,"             \
	"  c.backoff_until IS NOT NULL AND (c.renewal_state IS NULL"          \
	"  OR c.lease_owner IS NULL) AS retry FROM certificates c, due"       \
	" WHERE c.id = due.id)"                                               \
	"UPDATE certificates c SET lease_owner = $1,"                         \
	" backoff_until = CASE WHEN old.retry THEN NULL"                      \
	"  ELSE c.backoff_until END,"                                         \
	" lease_expires_at = now() + $2::bigint " MS ","                      \
	" next_due_at = now() + $2::bigint " MS ","                           \
	" renewal_state = coalesce(old.renewal_state, 'CHECKING'),"           \
	" renewal_status = CASE WHEN old.renewal_state IS NULL"               \
	"  THEN 'PENDING_AUTO_RENEWAL' ELSE c.renewal_status END,"            \
	" renewal_status_reason = CASE WHEN old.renewal_state IS NULL"        \
	"  THEN NULL ELSE c.renewal_status_reason END,"                       \
	" renewal_updated_at = CASE WHEN old.renewal_state IS NULL"           \
	"  THEN now() ELSE c.renewal_updated_at END,"                         \
	" renewal_deadline = CASE WHEN old.renewal_state IS NULL"             \
	"  THEN now() + $2::bigint " MS " ELSE c.renewal_deadline END"         \
	" FROM old WHERE c.id = old.id"                                       \
	" RETURNING c.id, c.arn, c.renewal_state, c.current_version,"         \
	" coalesce(c.renewal_version, 0), c.failure_count,"                   \
	" coalesce(c.renewal_deadline <= now(), false), c.domain_name,"       \
	" array_to_json(c.names), CASE WHEN old.retry THEN 'retry'"           \
	"  WHEN old.renewal_state IS NOT NULL THEN NULL"                      \
	"  WHEN old.renewal_status = 'PENDING_AUTO_RENEWAL' THEN 'requested'" \
	"  ELSE 'due' END"

#define SQL_HEARTBEAT                                                        \
	"UPDATE certificates SET lease_expires_at = now() + $2::bigint " MS "," \
	" next_due_at = now() + $2::bigint " MS                               \
	" WHERE id = ANY ($3::bigint[]) AND lease_owner = $1 RETURNING id"

#define SQL_SET_STATE                                                        \
	"UPDATE certificates SET renewal_state = $3,"                         \
	" renewal_deadline = now() + $4::bigint " MS ","                      \
	" renewal_detail = coalesce($5, renewal_detail)"                      \
	" WHERE id = $2 AND lease_owner = $1 RETURNING 1"

/* An intent abandoned for this version (the CA refused, say) is reset. */
#define SQL_ISSUE                                                            \
	"WITH c AS (SELECT id, current_version,"                              \
	" coalesce(renewal_version, current_version + 1) AS v"                \
	" FROM certificates WHERE id = $2 AND lease_owner = $1 FOR UPDATE),"  \
	"i AS (INSERT INTO issuance_intents (certificate_id, purpose, version," \
	" serial) SELECT id, 'RENEWAL', v, $3 FROM c"                         \
	" WHERE c.current_version < c.v"                                      \
	" ON CONFLICT (certificate_id, version) DO UPDATE SET"                \
	" state = 'PREPARED', serial = EXCLUDED.serial, lease_owner = NULL,"  \
	" lease_expires_at = NULL, last_error = NULL, updated_at = now()"     \
	" WHERE issuance_intents.state = 'ABANDONED')"                        \
	"UPDATE certificates x SET renewal_state = 'ISSUING',"                \
	" renewal_version = c.v, renewal_deadline = now() + $4::bigint " MS   \
	" FROM c WHERE x.id = c.id RETURNING c.v"

#define SQL_ISSUED                                                           \
	"SELECT c.current_version >= $2, i.state FROM certificates c"         \
	" LEFT JOIN issuance_intents i ON i.certificate_id = c.id"            \
	"  AND i.version = $2 WHERE c.id = $1"

#define SQL_BINDINGS                                                         \
	"SELECT b.id, b.host_name, b.endpoint_address, b.endpoint_port,"      \
	" b.server_name, coalesce(b.deployed_version, 0), b.deploy_status,"   \
	" b.deploy_error, (SELECT v.fingerprint_sha256 FROM"                  \
	"  certificate_versions v WHERE v.certificate_id = c.id"              \
	"  AND v.version = c.current_version)"                                \
	" FROM certificates c JOIN bindings b ON b.certificate_id = c.id"     \
	" WHERE c.id = $1 ORDER BY b.id"

#define SQL_LOCAL_DEPLOYS                                                    \
	"SELECT b.id FROM certificates c JOIN bindings b"                     \
	" ON b.certificate_id = c.id WHERE c.renewal_state = 'DEPLOYING'"     \
	" AND b.host_name = $1 AND b.deployed_version IS DISTINCT FROM"       \
	" c.current_version"

/* A probe that saw the certificate, with no error, is the endpoint's last
 * success (the staleness figure of the metrics). */
#define SQL_PROBED                                                           \
	"UPDATE bindings SET probed_at = now(), probe_fingerprint_sha256 = $2," \
	" probe_error = $3, probe_succeeded_at = CASE WHEN $3::text IS NULL"   \
	" AND coalesce($2::text, '') <> '' THEN now()"                        \
	" ELSE probe_succeeded_at END"                                        \
	" WHERE id = $1"

#define SQL_DONE                                                             \
	"WITH n AS (UPDATE domain_validations SET renewal_status = 'SUCCESS'," \
	" renewal_checked_at = now() WHERE certificate_id = $2)"              \
	"UPDATE certificates c SET renewal_status = 'SUCCESS',"               \
	" renewal_status_reason = NULL, renewal_updated_at = now(),"          \
	" renewal_state = NULL, renewal_deadline = NULL,"                     \
	" renewal_version = NULL, renewal_detail = NULL, failure_count = 0,"  \
	" backoff_until = NULL, lease_owner = NULL, lease_expires_at = NULL," \
	" renewal_due_dirty = false, next_due_at = " DUE_CASE                 \
	" WHERE c.id = $2 AND c.lease_owner = $3 RETURNING 1"

/* Jitter: the wait is between half and all of min(max, min * 2^n). */
#define BACKOFF_EXPR                                                         \
	"now() + least($4::bigint, $3::bigint * power(2, least("              \
	" c.failure_count, 30))) * (0.5 + random() / 2) " MS

#define SQL_BACKOFF                                                          \
	"UPDATE certificates c SET failure_count = c.failure_count + 1,"      \
	" backoff_until = " BACKOFF_EXPR ", next_due_at = " BACKOFF_EXPR ","   \
	" lease_owner = NULL, lease_expires_at = NULL, renewal_detail = $5"   \
	" WHERE c.id = $2 AND c.lease_owner = $1 RETURNING 1"

#define SQL_RELEASE                                                          \
	"UPDATE certificates SET lease_owner = NULL, lease_expires_at = NULL," \
	" next_due_at = now() WHERE id = ANY ($2::bigint[])"                  \
	" AND lease_owner = $1"

#define SQL_NAME_RESULT                                                      \
	"UPDATE domain_validations SET renewal_status = CASE WHEN $3"         \
	" THEN 'SUCCESS' ELSE 'PENDING_VALIDATION' END,"                      \
	" renewal_checked_at = now(), renewal_detail = $4,"                   \
	" renewal_passed_at = CASE WHEN $3 THEN now()"                        \
	" ELSE renewal_passed_at END"                                         \
	" WHERE certificate_id = $1 AND domain_name = $2"

#define SQL_VALIDATE                                                         \
	"UPDATE certificates SET renewal_state = 'VALIDATING',"               \
	" renewal_status = 'PENDING_VALIDATION', renewal_updated_at = now()," \
	" renewal_deadline = now() + $3::bigint " MS ","                      \
	" next_due_at = now() + $3::bigint " MS ","                           \
	" lease_owner = NULL, lease_expires_at = NULL"                        \
	" WHERE id = $2 AND lease_owner = $1 RETURNING 1"

/* Names waiting, names that failed (nobody to ask) and the first of
 * those with its reason. */
#define SQL_PENDING_NAMES                                                    \
	"SELECT count(*) FILTER (WHERE renewal_status = 'PENDING_VALIDATION')," \
	" count(*) FILTER (WHERE renewal_status = 'FAILED'),"                 \
	" min(domain_name || ': ' || coalesce(renewal_detail, 'failed'))"     \
	"  FILTER (WHERE renewal_status = 'FAILED')"                          \
	" FROM domain_validations WHERE certificate_id = $1"

#define SQL_WAIT                                                             \
	"UPDATE certificates SET next_due_at = renewal_deadline,"             \
	" lease_owner = NULL, lease_expires_at = NULL"                        \
	" WHERE id = $2 AND lease_owner = $1 RETURNING 1"

#define SQL_FAIL                                                             \
	"UPDATE certificates c SET renewal_status = 'FAILED',"                \
	" renewal_status_reason = $5, renewal_detail = $6,"                   \
	" renewal_updated_at = now(), renewal_state = NULL,"                  \
	" renewal_deadline = NULL, renewal_version = NULL,"                   \
	" failure_count = c.failure_count + 1,"                               \
	" backoff_until = " BACKOFF_EXPR ", next_due_at = " BACKOFF_EXPR ","   \
	" lease_owner = NULL, lease_expires_at = NULL"                        \
	" WHERE c.id = $2 AND c.lease_owner = $1 RETURNING 1"

#define SQL_REQUEST                                                          \
	"SELECT c.id, c.type, c.status, effective_status(c.status,"           \
	" c.not_after), c.renewal_state, EXISTS (SELECT 1 FROM bindings b"    \
	" WHERE b.certificate_id = c.id) FROM certificates c"                 \
	" WHERE c.arn = $1 FOR UPDATE"

/* PENDING_AUTO_RENEWAL at once, as ACM shows after RenewCertificate; the
 * claim reads it as "requested". */
#define SQL_REQUEST_DUE                                                      \
	"UPDATE certificates SET next_due_at = now(), backoff_until = NULL,"  \
	" renewal_due_dirty = false, renewal_status = 'PENDING_AUTO_RENEWAL'," \
	" renewal_status_reason = NULL, renewal_updated_at = now()"           \
	" WHERE id = $1"

/* Past NotAfter: EXPIRED. In the window: an event unless one was recorded
 * less than an interval ago for the same NotAfter; the next event one
 * interval on, never past NotAfter. $1 interval ms, $2 limit. */
#define SQL_EXPIRY                                                           \
	"WITH due AS (SELECT id, not_after, not_after <= now() AS expired"    \
	" FROM certificates WHERE status = 'ISSUED'"                          \
	" AND next_expiry_event_at <= now() ORDER BY next_expiry_event_at"    \
	" LIMIT $2 FOR UPDATE SKIP LOCKED),"                                  \
	"ev AS (INSERT INTO expiry_events AS e (certificate_id,"              \
	" last_notified_on, last_notified_at, not_after)"                     \
	" SELECT id, current_date, now(), not_after FROM due"                 \
	" WHERE NOT expired"                                                  \
	" ON CONFLICT (certificate_id) DO UPDATE SET"                         \
	" last_notified_on = EXCLUDED.last_notified_on,"                      \
	" last_notified_at = EXCLUDED.last_notified_at,"                      \
	" not_after = EXCLUDED.not_after"                                     \
	" WHERE e.not_after <> EXCLUDED.not_after"                            \
	" OR e.last_notified_at <= now() - $1::bigint " MS                    \
	" RETURNING certificate_id),"                                         \
	"upd AS (UPDATE certificates c SET"                                   \
	" status = CASE WHEN due.expired THEN 'EXPIRED' ELSE c.status END,"    \
	" next_expiry_event_at = CASE WHEN due.expired THEN NULL ELSE"        \
	" least(coalesce(CASE WHEN c.id IN (SELECT certificate_id FROM ev)"   \
	"  THEN now() END, (SELECT x.last_notified_at FROM expiry_events x"   \
	"  WHERE x.certificate_id = c.id AND x.not_after = c.not_after),"     \
	"  now()) + $1::bigint " MS ", c.not_after) END,"                     \
	" next_due_at = CASE WHEN due.expired THEN NULL ELSE c.next_due_at"   \
	" END FROM due WHERE c.id = due.id"                                   \
	" RETURNING c.id, c.arn, c.domain_name, epoch_s(c.not_after),"        \
	" due.expired)"                                                       \
	"SELECT upd.* FROM upd WHERE upd.expired OR upd.id IN"                \
	" (SELECT certificate_id FROM ev)"

#define SQL_NOTICE                                                           \
	"INSERT INTO mail_outbox (message_id, certificate_id, kind, sender,"  \
	" recipients, body) VALUES ($1, $2, $3, $4, ARRAY[$5::text], $6)"

static int
exec(PGconn *conn, const char *sql, const struct store_params *p,
    PGresult **out, char **reterr_msg)
{
	return store_exec_sql(conn, sql, p, out, reterr_msg);
}

/* An UPDATE ... WHERE lease_owner = owner RETURNING 1 that matched. */
static int
exec_owned(PGconn *conn, const char *sql, const struct store_params *p,
    char **reterr_msg)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	if ((r = exec(conn, sql, p, &res, reterr_msg)) < 0)
		return r;
	if (PQntuples(res) == 0) {
		store_set_msg(reterr_msg, "the renewal's lease was lost");
		return -ESTALE;
	}
	return 0;
}

static char *
ids_literal(const int64_t *ids, size_t n)
{
	char **v = xcalloc(n + 1, sizeof(*v));
	char *lit;

	for (size_t i = 0; i < n; i++)
		v[i] = xasprintf("%lld", (long long)ids[i]);
	lit = store_array_literal((const char *const *)v, n);
	strv_free(v);
	return lit;
}

int
store_renewal_refresh_due(PGconn *conn, int64_t renew_before_ms, int limit,
    size_t *n, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	*n = 0;
	sp_int(&p, renew_before_ms);
	sp_int(&p, limit);
	if ((r = exec(conn, SQL_REFRESH, &p, &res, reterr_msg)) < 0)
		return r;
	*n = (size_t)strtoul(PQcmdTuples(res), NULL, 10);
	return 0;
}

void
store_renewals_free(struct store_renewal *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].arn);
		free(v[i].state);
		free(v[i].started);
		strv_free(v[i].names);
	}
	free(v);
}

/* The names with the domain name first, once. */
static char **
names_first(char *domain, char **names)
{
	size_t n = strv_len(names);
	char **out;

	if (domain == NULL || strv_contains(names, domain)) {
		free(domain);
		return names;
	}
	out = xcalloc(n + 2, sizeof(*out));
	out[0] = domain;
	memcpy(out + 1, names, n * sizeof(*out));
	free(names);
	return out;
}

int
store_renewal_claim(PGconn *conn, const char *owner, int64_t lease_ms,
    int limit, struct store_renewal **out, size_t *n, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	struct store_renewal *v;
	int r;

	*out = NULL;
	*n = 0;
	sp_text(&p, owner);
	sp_int(&p, lease_ms);
	sp_int(&p, limit);
	if ((r = exec(conn, SQL_CLAIM, &p, &res, reterr_msg)) < 0)
		return r;
	if (PQntuples(res) == 0)
		return 0;
	v = xcalloc((size_t)PQntuples(res), sizeof(*v));
	for (int i = 0; i < PQntuples(res); i++) {
		v[i].id = res_i64(res, i, 0);
		v[i].arn = res_str(res, i, 1);
		v[i].state = res_str(res, i, 2);
		v[i].current_version = (int)res_i64(res, i, 3);
		v[i].renewal_version = (int)res_i64(res, i, 4);
		v[i].failure_count = (int)res_i64(res, i, 5);
		v[i].overdue = res_bool(res, i, 6);
		v[i].names = names_first(res_str(res, i, 7),
		    res_strv(res, i, 8));
		v[i].started = res_str(res, i, 9);
	}
	*out = v;
	*n = (size_t)PQntuples(res);
	return 0;
}

int
store_renewal_heartbeat(PGconn *conn, const char *owner, int64_t lease_ms,
    const int64_t *ids, size_t n, bool *lost, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	_cleanup_free_ char *lit = ids_literal(ids, n);
	int r;

	sp_text(&p, owner);
	sp_int(&p, lease_ms);
	sp_text(&p, lit);
	if ((r = exec(conn, SQL_HEARTBEAT, &p, &res, reterr_msg)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		lost[i] = true;
		for (int j = 0; j < PQntuples(res); j++)
			if (res_i64(res, j, 0) == ids[i])
				lost[i] = false;
	}
	return 0;
}

int
store_renewal_set_state(PGconn *conn, const char *owner, int64_t id,
    const char *state, int64_t deadline_ms, const char *detail,
    char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };

	sp_text(&p, owner);
	sp_int(&p, id);
	sp_text(&p, state);
	sp_int(&p, deadline_ms);
	sp_text(&p, detail);
	return exec_owned(conn, SQL_SET_STATE, &p, reterr_msg);
}

int
store_renewal_issue(PGconn *conn, const char *owner, int64_t id,
    const char *serial, int64_t deadline_ms, int *version, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	sp_text(&p, owner);
	sp_int(&p, id);
	sp_text(&p, serial);
	sp_int(&p, deadline_ms);
	if ((r = exec(conn, SQL_ISSUE, &p, &res, reterr_msg)) < 0)
		return r;
	if (PQntuples(res) == 0) {
		store_set_msg(reterr_msg, "the renewal's lease was lost");
		return -ESTALE;
	}
	*version = (int)res_i64(res, 0, 0);
	return 0;
}

int
store_renewal_issued(PGconn *conn, int64_t id, int version, bool *done,
    char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	*done = false;
	sp_int(&p, id);
	sp_int(&p, version);
	if ((r = exec(conn, SQL_ISSUED, &p, &res, reterr_msg)) < 0)
		return r;
	if (PQntuples(res) == 0)
		return -ENOENT;
	*done = res_bool(res, 0, 0);
	if (!*done && !PQgetisnull(res, 0, 1) &&
	    strcmp(PQgetvalue(res, 0, 1), "ABANDONED") == 0) {
		store_set_msg(reterr_msg, "the renewal's issuance was abandoned");
		return -EPIPE;
	}
	return 0;
}

void
store_renewal_bindings_free(struct store_renewal_binding *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].host_name);
		free(v[i].address);
		free(v[i].server_name);
		free(v[i].deploy_status);
		free(v[i].deploy_error);
	}
	free(v);
}

int
store_renewal_bindings(PGconn *conn, int64_t id,
    struct store_renewal_binding **out, size_t *n, char **fingerprint,
    char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	struct store_renewal_binding *v;
	int r;

	*out = NULL;
	*n = 0;
	*fingerprint = NULL;
	sp_int(&p, id);
	if ((r = exec(conn, SQL_BINDINGS, &p, &res, reterr_msg)) < 0)
		return r;
	if (PQntuples(res) == 0)
		return 0;
	v = xcalloc((size_t)PQntuples(res), sizeof(*v));
	for (int i = 0; i < PQntuples(res); i++) {
		v[i].id = res_i64(res, i, 0);
		v[i].host_name = res_str(res, i, 1);
		v[i].address = res_str(res, i, 2);
		v[i].port = (int)res_i64(res, i, 3);
		v[i].server_name = res_str(res, i, 4);
		v[i].deployed_version = (int)res_i64(res, i, 5);
		v[i].deploy_status = res_str(res, i, 6);
		v[i].deploy_error = res_str(res, i, 7);
	}
	*fingerprint = res_str(res, 0, 8);
	*out = v;
	*n = (size_t)PQntuples(res);
	return 0;
}

int
store_renewal_local_deploys(PGconn *conn, const char *host_name,
    int64_t **ids, size_t *n, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	*ids = NULL;
	*n = 0;
	sp_text(&p, host_name);
	if ((r = exec(conn, SQL_LOCAL_DEPLOYS, &p, &res, reterr_msg)) < 0)
		return r;
	if (PQntuples(res) == 0)
		return 0;
	*ids = xcalloc((size_t)PQntuples(res), sizeof(**ids));
	for (int i = 0; i < PQntuples(res); i++)
		(*ids)[i] = res_i64(res, i, 0);
	*n = (size_t)PQntuples(res);
	return 0;
}

int
store_renewal_probed(PGconn *conn, int64_t binding_id,
    const char *fingerprint, const char *error, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };

	sp_int(&p, binding_id);
	sp_text(&p, fingerprint);
	sp_text(&p, error);
	return exec(conn, SQL_PROBED, &p, NULL, reterr_msg);
}

int
store_renewal_done(PGconn *conn, const char *owner, int64_t id,
    int64_t renew_before_ms, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };

	sp_int(&p, renew_before_ms);
	sp_int(&p, id);
	sp_text(&p, owner);
	return exec_owned(conn, SQL_DONE, &p, reterr_msg);
}

int
store_renewal_backoff(PGconn *conn, const char *owner, int64_t id,
    int64_t min_ms, int64_t max_ms, const char *detail, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };

	sp_text(&p, owner);
	sp_int(&p, id);
	sp_int(&p, min_ms);
	sp_int(&p, max_ms);
	sp_text(&p, detail);
	return exec_owned(conn, SQL_BACKOFF, &p, reterr_msg);
}

int
store_renewal_release(PGconn *conn, const char *owner, const int64_t *ids,
    size_t n, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_free_ char *lit = ids_literal(ids, n);

	sp_text(&p, owner);
	sp_text(&p, lit);
	return exec(conn, SQL_RELEASE, &p, NULL, reterr_msg);
}

int
store_renewal_name_result(PGconn *conn, int64_t id, const char *name,
    bool ok, const char *detail, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };

	sp_int(&p, id);
	sp_text(&p, name);
	sp_text(&p, ok ? "true" : "false");
	sp_text(&p, detail);
	return exec(conn, SQL_NAME_RESULT, &p, NULL, reterr_msg);
}

int
store_renewal_validate(PGconn *conn, const char *owner, int64_t id,
    int64_t timeout_ms, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };

	sp_text(&p, owner);
	sp_int(&p, id);
	sp_int(&p, timeout_ms);
	return exec_owned(conn, SQL_VALIDATE, &p, reterr_msg);
}

int
store_notice_queue(PGconn *conn, int64_t certificate_id,
    const struct store_notice *notice, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };

	sp_text(&p, notice->message_id);
	sp_int(&p, certificate_id);
	sp_text(&p, notice->kind);
	sp_text(&p, notice->sender);
	sp_text(&p, notice->recipient);
	sp_text(&p, notice->body);
	return exec(conn, SQL_NOTICE, &p, NULL, reterr_msg);
}

int
store_renewal_fail(PGconn *conn, const char *owner, int64_t id,
    const char *reason, const char *detail, int64_t min_ms, int64_t max_ms,
    const struct store_notice *notice, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	bool own;
	int r;

	if ((r = store_tx_enter(conn, &own, reterr_msg)) < 0)
		return r;
	sp_text(&p, owner);
	sp_int(&p, id);
	sp_int(&p, min_ms);
	sp_int(&p, max_ms);
	sp_text(&p, reason);
	sp_text(&p, detail);
	r = exec_owned(conn, SQL_FAIL, &p, reterr_msg);
	if (r == 0 && notice != NULL)
		r = store_notice_queue(conn, id, notice, reterr_msg);
	return store_tx_leave(conn, own, r, reterr_msg);
}

static int
request_locked(PGconn *conn, const char *arn, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 }, q = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	sp_text(&p, arn);
	if ((r = exec(conn, SQL_REQUEST, &p, &res, reterr_msg)) < 0 ||
	    (r = store_require_certificate(res, arn, reterr_msg)) < 0)
		return r;
	if (strcmp(PQgetvalue(res, 0, 1), "AMAZON_ISSUED") != 0 ||
	    strcmp(PQgetvalue(res, 0, 3), "ISSUED") != 0 ||
	    !res_bool(res, 0, 5)) {
		store_set_msg(reterr_msg, "Certificate %s is not eligible for "
		    "managed renewal: only certificates certfleet issued, "
		    "ISSUED and in use are renewed.", arn);
		return -EPERM;
	}
	if (!PQgetisnull(res, 0, 4)) {
		store_set_msg(reterr_msg, "A renewal of certificate %s is "
		    "already in progress.", arn);
		return -EBUSY;
	}
	sp_int(&q, res_i64(res, 0, 0));
	return exec(conn, SQL_REQUEST_DUE, &q, NULL, reterr_msg);
}

int
store_renewal_request(PGconn *conn, const char *arn, char **reterr_msg)
{
	bool own;
	int r;

	if ((r = store_tx_enter(conn, &own, reterr_msg)) < 0)
		return r;
	r = request_locked(conn, arn, reterr_msg);
	return store_tx_leave(conn, own, r, reterr_msg);
}

void
store_expiries_free(struct store_expiry *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].arn);
		free(v[i].domain_name);
	}
	free(v);
}

int
store_expiry_claim(PGconn *conn, int64_t interval_ms, int limit,
    struct store_expiry **out, size_t *n, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	struct store_expiry *v;
	int r;

	*out = NULL;
	*n = 0;
	sp_int(&p, interval_ms);
	sp_int(&p, limit);
	if ((r = exec(conn, SQL_EXPIRY, &p, &res, reterr_msg)) < 0)
		return r;
	if (PQntuples(res) == 0)
		return 0;
	v = xcalloc((size_t)PQntuples(res), sizeof(*v));
	for (int i = 0; i < PQntuples(res); i++) {
		v[i].id = res_i64(res, i, 0);
		v[i].arn = res_str(res, i, 1);
		v[i].domain_name = res_str(res, i, 2);
		v[i].not_after = res_i64(res, i, 3);
		v[i].expired = res_bool(res, i, 4);
	}
	*out = v;
	*n = (size_t)PQntuples(res);
	return 0;
}

int
store_renewal_pending_names(PGconn *conn, int64_t id, int *pending,
    int *failed, char **failed_detail, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	sp_int(&p, id);
	if ((r = exec(conn, SQL_PENDING_NAMES, &p, &res, reterr_msg)) < 0)
		return r;
	*pending = (int)res_i64(res, 0, 0);
	*failed = (int)res_i64(res, 0, 1);
	*failed_detail = res_str(res, 0, 2);
	return 0;
}

int
store_renewal_wait(PGconn *conn, const char *owner, int64_t id,
    char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 };

	sp_text(&p, owner);
	sp_int(&p, id);
	return exec_owned(conn, SQL_WAIT, &p, reterr_msg);
}

void
store_renewal_summary_free(struct store_renewal_summary *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n_names; i++) {
		free(s->names[i].domain_name);
		free(s->names[i].validation_domain);
		free(s->names[i].status);
		strv_free(s->names[i].emails);
	}
	free(s->names);
	free(s->status);
	free(s->reason);
	free(s);
}

