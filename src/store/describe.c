/*
 * describe.c: DescribeCertificate's read. The certificate's row, the
 * request's options and the validation and renewal state of each of its
 * names come back from PostgreSQL in one statement (one row per name, the
 * certificate's columns repeated), since a round trip costs the control
 * API far more than the repeated columns do.
 */
#include <errno.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "common/xmalloc.h"
#include "store/db.h"
#include "store/describe.h"

/* Columns after STORE_CERT_COLUMNS. */
enum {
	COL_VALIDATION_METHOD = STORE_CERT_NCOLUMNS,
	COL_CT_LOGGING,
	COL_EXPORT,
	COL_MANAGED_BY,
	COL_FAILURE_DETAIL,
	COL_RENEWAL_STATUS,
	COL_RENEWAL_REASON,
	COL_RENEWAL_UPDATED,
	COL_NAME,		/* NULL: the certificate has no names here */
	COL_VALIDATION_DOMAIN,
	COL_NAME_STATUS,
	COL_NAME_METHOD,
	COL_NAME_EMAILS,
	COL_NAME_RENEWAL_STATUS,
};

#define SQL_DESCRIBE							\
	"SELECT " STORE_CERT_COLUMNS("NULL, NULL") ","			\
	" c.validation_method, c.ct_logging, c.export_option,"		\
	" c.managed_by, c.failure_detail, c.renewal_status,"		\
	" c.renewal_status_reason, epoch_s(c.renewal_updated_at),"	\
	" d.domain_name, d.validation_domain, d.status,"		\
	" d.validation_method, array_to_json(d.emails),"		\
	" coalesce(d.renewal_status, 'PENDING_VALIDATION')"		\
	" FROM certificates c LEFT JOIN certificate_versions v"		\
	"  ON v.certificate_id = c.id AND v.version = c.current_version" \
	" LEFT JOIN domain_validations d ON d.certificate_id = c.id"	\
	" WHERE c.arn = $1 ORDER BY d.position, d.domain_name"

const struct store_stmt store_describe_stmts[] = {
	{ "cert_describe", SQL_DESCRIBE },
	{ NULL, NULL },
};

static struct store_request_info *
request_from(const PGresult *res, size_t n_names)
{
	struct store_request_info *info = xcalloc(1, sizeof(*info));

	info->validation_method = res_str(res, 0, COL_VALIDATION_METHOD);
	info->ct_logging = res_str(res, 0, COL_CT_LOGGING);
	info->export_option = res_str(res, 0, COL_EXPORT);
	info->managed_by = res_str(res, 0, COL_MANAGED_BY);
	info->failure_detail = res_str(res, 0, COL_FAILURE_DETAIL);
	info->validations = xcalloc(n_names ? n_names : 1,
	    sizeof(*info->validations));
	for (size_t i = 0; i < n_names; i++) {
		struct store_domain_validation *v = &info->validations[i];

		v->domain_name = res_str(res, (int)i, COL_NAME);
		v->validation_domain = res_str(res, (int)i,
		    COL_VALIDATION_DOMAIN);
		v->status = res_str(res, (int)i, COL_NAME_STATUS);
		v->method = res_str(res, (int)i, COL_NAME_METHOD);
		v->emails = res_strv(res, (int)i, COL_NAME_EMAILS);
	}
	info->n_validations = n_names;
	return info;
}

static struct store_renewal_summary *
renewal_from(const PGresult *res, size_t n_names)
{
	struct store_renewal_summary *s = xcalloc(1, sizeof(*s));

	s->status = res_str(res, 0, COL_RENEWAL_STATUS);
	s->reason = res_str(res, 0, COL_RENEWAL_REASON);
	s->updated_at = res_i64(res, 0, COL_RENEWAL_UPDATED);
	s->names = xcalloc(n_names ? n_names : 1, sizeof(*s->names));
	for (size_t i = 0; i < n_names; i++) {
		struct store_renewal_name *n = &s->names[i];

		n->domain_name = res_str(res, (int)i, COL_NAME);
		n->validation_domain = res_str(res, (int)i,
		    COL_VALIDATION_DOMAIN);
		n->status = res_str(res, (int)i, COL_NAME_RENEWAL_STATUS);
		n->emails = res_strv(res, (int)i, COL_NAME_EMAILS);
	}
	s->n_names = n_names;
	return s;
}

int
store_cert_describe(PGconn *conn, const char *arn,
    struct store_cert_description *out, char **reterr_msg)
{
	_cleanup_pgresult_ PGresult *res = NULL;
	size_t n_names;
	int r;

	*out = (struct store_cert_description){ 0 };
	if ((r = store_exec_arn(conn, "cert_describe", arn, &res,
	    reterr_msg)) < 0)
		return r;
	/* A certificate without names still gives one row, of NULLs. */
	n_names = PQgetisnull(res, 0, COL_NAME) ? 0 : (size_t)PQntuples(res);
	out->cert = store_cert_from_row(res);
	out->request = request_from(res, n_names);
	out->renewal = renewal_from(res, n_names);
	return 0;
}

void
store_cert_description_clear(struct store_cert_description *d)
{
	store_cert_free(d->cert);
	store_request_info_free(d->request);
	store_renewal_summary_free(d->renewal);
	*d = (struct store_cert_description){ 0 };
}
