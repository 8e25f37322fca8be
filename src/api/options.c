/*
 * options.c: UpdateCertificateOptions and ExportCertificate.
 *
 * certfleet never lets a private key leave the daemon through the control
 * API: certfleetd writes it to the key file of a binding (CertFleet.
 * CreateBinding) on the host that serves the certificate. So
 * ExportCertificate is refused for every certificate that exists, and
 * Export cannot be ENABLED. The transparency logging preference of a
 * certificate certfleet issues can change while it is pending or issued,
 * as in ACM; it is recorded and shown by DescribeCertificate (certfleet's
 * CA submits nothing to transparency logs).
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/input.h"
#include "common/xmalloc.h"
#include "store/options.h"
#include "store/store.h"

/* PassphraseBlob's lengths in the model. */
#define PASSPHRASE_MIN 4
#define PASSPHRASE_MAX 128

#define NO_EXPORT							\
	"certfleet never exports private keys; certfleetd writes a "	\
	"certificate's key to the key file of a binding on the host that " \
	"serves it (CertFleet.CreateBinding)"

static const char *const on_off[] = { "ENABLED", "DISABLED", NULL };

struct options_request {
	const char *arn;
	const char *ct;			/* NULL: not given */
	const char *export_option;	/* NULL: not given */
};

/* ---- UpdateCertificateOptions --------------------------------------- */

static int
decode_update(struct api_call *call, struct options_request *o)
{
	const json_t *opts;
	struct input in, sub;

	input_init(&in, call);
	o->arn = input_arn(&in, "CertificateArn");
	opts = input_object(&in, "Options", true);
	if (opts != NULL) {
		input_init_nested(&sub, &in, opts, "options");
		o->ct = input_enum(&sub,
		    "CertificateTransparencyLoggingPreference", false, on_off);
		o->export_option = input_enum(&sub, "Export", false, on_off);
		input_merge(&in, &sub);
	}
	return input_finish(&in);
}

static int
fail_update(struct api_call *call, int rc, const char *arn, const char *err)
{
	switch (rc) {
	case -ENOENT:
		return fail_not_found(call, arn);
	case -EPERM:
		return api_fail(call, "InvalidStateException", "%s", err);
	case -EINVAL:
		return api_fail(call, "ValidationException", "%s", err);
	default:
		return api_fail_store(call, rc, err);
	}
}

int
handle_update_certificate_options(struct api_call *call, PGconn *conn)
{
	_cleanup_free_ char *err = NULL;
	struct options_request o = { 0 };
	int rc;

	if (decode_update(call, &o) < 0)
		return -1;
	/* Refused whatever the certificate: no certificate is exportable. */
	if (o.export_option != NULL && strcmp(o.export_option, "ENABLED") == 0)
		return api_fail(call, "ValidationException", "Export cannot be "
		    "ENABLED: " NO_EXPORT ".");
	rc = store_cert_options_update(conn, o.arn, o.ct, o.export_option,
	    &err);
	if (rc < 0)
		return fail_update(call, rc, o.arn, err);
	return api_ok(call, NULL);
}

/* ---- ExportCertificate ----------------------------------------------- */

static int
decode_export(struct api_call *call, const char **arn)
{
	unsigned char *passphrase;
	size_t len = 0;
	struct input in;

	input_init(&in, call);
	*arn = input_arn(&in, "CertificateArn");
	passphrase = input_blob(&in, "Passphrase", true, PASSPHRASE_MIN,
	    PASSPHRASE_MAX, &len);
	/* Checked for the model's sake only: nothing is ever encrypted. */
	secret_free(passphrase, len);
	return input_finish(&in);
}

int
handle_export_certificate(struct api_call *call, PGconn *conn)
{
	_cleanup_free_ char *err = NULL;
	struct store_cert *cert = NULL;
	const char *arn;
	bool imported;
	int rc;

	if (decode_export(call, &arn) < 0)
		return -1;
	if ((rc = store_cert_get(conn, arn, &cert, &err)) < 0)
		return rc == -ENOENT ? fail_not_found(call, arn) :
		    api_fail_store(call, rc, err);
	imported = strcmp(cert->type, "IMPORTED") == 0;
	store_cert_free(cert);
	return api_fail(call, "ValidationException", "Certificate %s cannot "
	    "be exported: " NO_EXPORT ". %s GetCertificate returns the "
	    "certificate and its chain.", arn, imported ?
	    "The key of an imported certificate is the one you imported." :
	    "Create a binding to have its key written where it is used.");
}
