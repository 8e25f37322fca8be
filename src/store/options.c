/*
 * options.c: UpdateCertificateOptions' write. The row is locked first so
 * that the state the change was allowed in is the state it is written in
 * (a request timing out, or a DeleteCertificate, cannot slip between).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <libpq-fe.h>

#include "store/db.h"
#include "store/options.h"
#include "store/store.h"

/* NO KEY UPDATE: like tag changes, blocks no foreign key checks. */
#define SQL_LOCK                                                       \
	"SELECT type, effective_status(status, not_after), export_option" \
	" FROM certificates WHERE arn = $1 FOR NO KEY UPDATE"

#define SQL_SET                                                         \
	"UPDATE certificates SET ct_logging = coalesce($2, ct_logging),"  \
	" updated_at = now() WHERE arn = $1"

enum { COL_TYPE, COL_STATUS, COL_EXPORT };

/* Pending or issued: the preference still has an issuance to apply to. */
static bool
status_can_issue(const char *status)
{
	return strcmp(status, "PENDING_VALIDATION") == 0 ||
	    strcmp(status, "ISSUED") == 0;
}

static int
check_row(const PGresult *res, const char *arn, const char *export_option,
    char **reterr_msg)
{
	const char *type = PQgetvalue(res, 0, COL_TYPE);
	const char *status = PQgetvalue(res, 0, COL_STATUS);
	const char *stored = PQgetvalue(res, 0, COL_EXPORT);

	if (strcmp(type, "AMAZON_ISSUED") != 0) {
		store_set_msg(reterr_msg, "The UpdateCertificateOptions "
		    "command is not permitted for %s certificate %s: options "
		    "apply to certificates certfleet issues.",
		    strcmp(type, "IMPORTED") == 0 ? "imported" : "private",
		    arn);
		return -EPERM;
	}
	if (!status_can_issue(status)) {
		store_set_msg(reterr_msg, "Certificate %s is %s: its options "
		    "can change only while it is PENDING_VALIDATION or "
		    "ISSUED.", arn, status);
		return -EPERM;
	}
	if (export_option != NULL && strcmp(export_option, stored) != 0) {
		store_set_msg(reterr_msg, "Export of certificate %s is %s and "
		    "cannot be changed after the certificate is created.", arn,
		    stored);
		return -EINVAL;
	}
	return 0;
}

static int
update_locked(PGconn *conn, const char *arn, const char *ct_logging,
    const char *export_option, char **reterr_msg)
{
	_cleanup_params_ struct store_params p = { 0 }, pu = { 0 };
	_cleanup_pgresult_ PGresult *res = NULL;
	int r;

	sp_text(&p, arn);
	if ((r = store_exec_sql(conn, SQL_LOCK, &p, &res, reterr_msg)) < 0 ||
	    (r = store_require_certificate(res, arn, reterr_msg)) < 0 ||
	    (r = check_row(res, arn, export_option, reterr_msg)) < 0)
		return r;
	sp_text(&pu, arn);
	sp_text(&pu, ct_logging);
	return store_exec_sql(conn, SQL_SET, &pu, NULL, reterr_msg);
}

int
store_cert_options_update(PGconn *conn, const char *arn,
    const char *ct_logging, const char *export_option, char **reterr_msg)
{
	bool own;
	int r;

	if ((r = store_tx_enter(conn, &own, reterr_msg)) < 0)
		return r;
	r = update_locked(conn, arn, ct_logging, export_option, reterr_msg);
	return store_tx_leave(conn, own, r, reterr_msg);
}
