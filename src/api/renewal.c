/*
 * renewal.c: RenewCertificate (managed renewal now) and the RenewalSummary
 * of DescribeCertificate. The action only makes the certificate due: the
 * scheduler of whichever daemon claims it does the work.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/input.h"
#include "common/xmalloc.h"
#include "store/renewal.h"

int
handle_renew_certificate(struct api_call *call, PGconn *conn)
{
	_cleanup_free_ char *err = NULL;
	const char *arn;
	struct input in;
	int rc;

	input_init(&in, call);
	arn = input_arn(&in, "CertificateArn");
	if (input_finish(&in) < 0)
		return -1;
	rc = store_renewal_request(conn, arn, &err);
	if (rc == -ENOENT)
		return fail_not_found(call, arn);
	if (rc == -EPERM)
		return api_fail(call, "ValidationException", "%s", err);
	if (rc == -EBUSY)
		return api_fail(call, "RequestInProgressException", "%s", err);
	if (rc < 0)
		return api_fail_store(call, rc, err);
	call->kicks |= API_KICK_RENEWAL;
	return api_ok(call, NULL);
}

void
describe_renewal_summary(const struct store_renewal_summary *s,
    json_t *detail)
{
	json_t *o, *dvos;

	if (s->status == NULL)
		return;
	dvos = json_array();
	for (size_t i = 0; i < s->n_names; i++)
		json_array_append_new(dvos, domain_validation_json(
		    s->names[i].domain_name, s->names[i].validation_domain,
		    s->names[i].status, "EMAIL", s->names[i].emails));
	o = json_pack("{s:s, s:o, s:I}", "RenewalStatus", s->status,
	    "DomainValidationOptions", dvos, "UpdatedAt",
	    (json_int_t)s->updated_at);
	if (s->reason != NULL)
		json_object_set_new(o, "RenewalStatusReason",
		    json_string(s->reason));
	json_object_set_new(detail, "RenewalSummary", o);
}
