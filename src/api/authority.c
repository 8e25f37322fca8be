/*
 * authority.c: CertFleet.GetCertificateAuthorityCertificate, the trust
 * anchor for the fleet: certfleet's signing (intermediate) certificate and
 * the root above it, named as ACM Private CA's action of the same name
 * answers them ("Certificate", "CertificateChain"). The same root is in
 * <state_directory>/ca-root.pem.
 */
#include <errno.h>
#include <stdlib.h>

#include <jansson.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/input.h"
#include "store/issuance.h"

int
handle_get_certificate_authority_certificate(struct api_call *call,
    PGconn *conn)
{
	_cleanup_free_ char *err = NULL;
	_cleanup_free_ char *cert = NULL;
	_cleanup_free_ char *chain = NULL;
	struct input in;
	int rc;

	input_init(&in, call);
	if (input_finish(&in) < 0)
		return -1;
	rc = store_ca_get_active_pem(conn, &cert, &chain, &err);
	if (rc == -ENOENT)
		return api_fail(call, "ResourceNotFoundException",
		    "certfleet's certificate authority does not exist yet.");
	if (rc < 0)
		return api_fail_store(call, rc, err);
	return api_ok(call, json_pack("{s:s, s:s}", "Certificate", cert,
	    "CertificateChain", chain ? chain : ""));
}
