/*
 * certificates.c: ImportCertificate, DescribeCertificate, GetCertificate
 * and DeleteCertificate.
 *
 * An import is checked completely (src/pki) before anything is written; the
 * private key is sealed with the certificate's ARN bound to it and the
 * plaintext wiped at once. Nothing here ever puts a key in a response.
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/input.h"
#include "common/acm_model.h"
#include "common/arn.h"
#include "common/xmalloc.h"
#include "pki/certinfo.h"
#include "pki/import_check.h"
#include "pki/keyseal.h"
#include "store/describe.h"
#include "store/store.h"

/* Model limits of ImportCertificateRequest's blobs. */
#define CERTIFICATE_MAX 32768
#define PRIVATE_KEY_MAX 5120
#define CHAIN_MAX 2097152

int
fail_not_found(struct api_call *call, const char *arn)
{
	return api_fail(call, "ResourceNotFoundException",
	    "Could not find certificate %s.", arn);
}

/* ---- ImportCertificate --------------------------------------------- */

struct import_request {
	const char *arn;		/* re-import target, or NULL */
	unsigned char *cert, *key, *chain;
	size_t cert_len, key_len, chain_len;
	struct store_tag *tags;
	size_t n_tags;
};

static void
import_request_clear(struct import_request *r)
{
	free(r->cert);
	secret_free(r->key, r->key_len);
	free(r->chain);
	store_tags_free(r->tags, r->n_tags);
}

static int
import_decode(struct api_call *call, struct import_request *r)
{
	struct input in;

	input_init(&in, call);
	if (json_object_get(call->input, "CertificateArn") != NULL)
		r->arn = input_arn(&in, "CertificateArn");
	r->cert = input_blob(&in, "Certificate", true, 1, CERTIFICATE_MAX,
	    &r->cert_len);
	r->key = input_blob(&in, "PrivateKey", true, 1, PRIVATE_KEY_MAX,
	    &r->key_len);
	r->chain = input_blob(&in, "CertificateChain", false, 1, CHAIN_MAX,
	    &r->chain_len);
	r->tags = tags_from_input(&in, "Tags", false, &r->n_tags);
	if (input_finish(&in) < 0)
		return -1;
	if (r->arn != NULL && json_object_get(call->input, "Tags") != NULL)
		return api_fail(call, "ValidationException",
		    "Tagging is not permitted on re-import.");
	return 0;
}

/* Borrows every field from the checked material; nothing to free. */
static void
version_from_material(struct store_cert_version *v,
    const struct import_material *m)
{
	const struct cert_info *info = m->info;

	v->certificate_pem = m->certificate_pem;
	v->chain_pem = m->chain_pem;
	v->serial = info->serial;
	v->subject = info->subject;
	v->issuer = info->issuer;
	v->domain_name = info->domain_name;
	v->names = info->names;
	v->not_before = info->not_before;
	v->not_after = info->not_after;
	v->key_algorithm = (char *)key_algorithm_name(info->key_algorithm);
	v->signature_algorithm = info->signature_algorithm;
	v->key_usages = info->key_usages;
	v->extended_key_usages = info->extended_key_usages;
	v->fingerprint_sha256 = (char *)info->fingerprint_sha256;
}

/*
 * ACM keeps a re-imported certificate's key type and size: a new key of
 * another algorithm would surprise every consumer of the ARN.
 */
static int
check_same_key_type(struct api_call *call, PGconn *conn, const char *arn,
    const struct import_material *m)
{
	struct store_cert *cur = NULL;
	_cleanup_free_ char *err = NULL;
	const char *now = key_algorithm_name(m->info->key_algorithm);
	int rc;

	rc = store_cert_get(conn, arn, &cur, &err);
	if (rc == -ENOENT)
		return fail_not_found(call, arn);
	if (rc < 0)
		return api_fail_store(call, rc, err);
	rc = 0;
	if (strcmp(cur->type, "IMPORTED") != 0)
		rc = api_fail(call, "ValidationException",
		    "Certificate %s was not imported; only imported "
		    "certificates can be re-imported.", arn);
	else if (cur->cur.key_algorithm != NULL &&
	    strcmp(cur->cur.key_algorithm, now) != 0)
		rc = api_fail(call, "ValidationException",
		    "The certificate's key algorithm (%s) differs from the "
		    "certificate being re-imported (%s); a re-import keeps "
		    "the key type and size.", now, cur->cur.key_algorithm);
	store_cert_free(cur);
	return rc;
}

static int
import_store(struct api_call *call, PGconn *conn, const char *arn,
    bool reimport, const struct import_request *r,
    const struct import_material *m)
{
	struct store_cert_version v = { 0 };
	_cleanup_free_ char *err = NULL;
	int rc;

	version_from_material(&v, m);
	if (reimport && check_same_key_type(call, conn, arn, m) < 0)
		return -1;
	if (key_seal(call->env->master_key, arn, m->private_key_der,
	    m->private_key_len, &v.sealed_key, &v.sealed_key_len, &err) < 0)
		return api_fail_store(call, -EIO, err);
	if (reimport)
		rc = store_cert_reimport(conn, arn, &v, &err);
	else
		rc = store_cert_import(conn, arn, &v, r->tags, r->n_tags,
		    call->limits.imported_certificates, &err);
	free(v.sealed_key);
	if (rc == -ENOENT)
		return fail_not_found(call, arn);
	if (rc == -ENOSPC)
		return api_fail(call, "LimitExceededException",
		    "Imported certificate limit of %d reached: delete unused "
		    "certificates or raise [limits] imported_certificates",
		    call->limits.imported_certificates);
	if (rc < 0)
		return api_fail_store(call, rc, err);
	return 0;
}

int
handle_import_certificate(struct api_call *call, PGconn *conn)
{
	struct import_request r = { 0 };
	struct import_material *m = NULL;
	_cleanup_free_ char *err = NULL;
	_cleanup_free_ char *new_arn = NULL;
	char uuid[37];
	const char *arn;
	int rc = -1;

	if (import_decode(call, &r) < 0)
		goto out;
	if (pki_check_import(r.cert, r.cert_len, r.key, r.key_len, r.chain,
	    r.chain_len, call->now, &m, &err) < 0) {
		api_fail(call, "ValidationException", "%s", err);
		goto out;
	}
	if (r.arn == NULL) {
		uuid_v4(uuid);
		new_arn = arn_build(call->env->partition, call->env->region,
		    call->env->account, "certificate", uuid);
	}
	arn = r.arn ? r.arn : new_arn;
	if (import_store(call, conn, arn, r.arn != NULL, &r, m) < 0)
		goto out;
	rc = api_ok(call, json_pack("{s:s}", "CertificateArn", arn));
out:
	import_material_free(m);
	import_request_clear(&r);
	return rc;
}

/* ---- DescribeCertificate --------------------------------------------- */

static json_t *
string_array(char *const *items)
{
	json_t *a = json_array();

	for (size_t i = 0; items && items[i]; i++)
		json_array_append_new(a, json_string(items[i]));
	return a;
}

static json_t *
key_usages_json(char *const *names)
{
	json_t *a = json_array();

	for (size_t i = 0; names && names[i]; i++)
		json_array_append_new(a, json_pack("{s:s}", "Name", names[i]));
	return a;
}

static json_t *
extended_key_usages_json(char *const *names)
{
	json_t *a = json_array();
	const char *oid;
	json_t *o;

	for (size_t i = 0; names && names[i]; i++) {
		o = json_pack("{s:s}", "Name", names[i]);
		if ((oid = acm_extended_key_usage_oid(names[i])) != NULL)
			json_object_set_new(o, "OID", json_string(oid));
		json_array_append_new(a, o);
	}
	return a;
}

static void
set_time(json_t *o, const char *key, int64_t t)
{
	if (t > 0)
		json_object_set_new(o, key, json_integer(t));
}

static void
set_string(json_t *o, const char *key, const char *s)
{
	if (s != NULL)
		json_object_set_new(o, key, json_string(s));
}

static json_t *
certificate_detail(const struct store_cert *c)
{
	const struct store_cert_version *v = &c->cur;
	json_t *d = json_object();

	set_string(d, "CertificateArn", c->arn);
	set_string(d, "DomainName", v->domain_name);
	json_object_set_new(d, "SubjectAlternativeNames",
	    string_array(v->names));
	set_string(d, "Serial", v->serial);
	set_string(d, "Subject", v->subject);
	set_string(d, "Issuer", v->issuer);
	if (strcmp(c->type, "IMPORTED") != 0)
		set_time(d, "CreatedAt", c->created_at);
	set_time(d, "IssuedAt", c->issued_at);
	set_time(d, "ImportedAt", c->imported_at);
	set_string(d, "Status", c->status);
	set_time(d, "NotBefore", v->not_before);
	set_time(d, "NotAfter", v->not_after);
	set_string(d, "KeyAlgorithm", v->key_algorithm);
	set_string(d, "SignatureAlgorithm", v->signature_algorithm);
	json_object_set_new(d, "InUseBy", string_array(c->in_use_by));
	set_string(d, "FailureReason", c->failure_reason);
	set_string(d, "Type", c->type);
	json_object_set_new(d, "KeyUsages", key_usages_json(v->key_usages));
	json_object_set_new(d, "ExtendedKeyUsages",
	    extended_key_usages_json(v->extended_key_usages));
	set_string(d, "RenewalEligibility", c->renewal_eligibility);
	return d;
}

/* Reads the CertificateArn member and the certificate it names. */
static int
load_certificate(struct api_call *call, PGconn *conn, struct store_cert **out)
{
	_cleanup_free_ char *err = NULL;
	struct input in;
	const char *arn;
	int rc;

	input_init(&in, call);
	arn = input_arn(&in, "CertificateArn");
	if (input_finish(&in) < 0)
		return -1;
	rc = store_cert_get(conn, arn, out, &err);
	if (rc == -ENOENT)
		return fail_not_found(call, arn);
	if (rc < 0)
		return api_fail_store(call, rc, err);
	return 0;
}

int
handle_describe_certificate(struct api_call *call, PGconn *conn)
{
	_cleanup_free_ char *err = NULL;
	struct store_cert_description desc;
	struct input in;
	const char *arn;
	json_t *d;
	int rc;

	input_init(&in, call);
	arn = input_arn(&in, "CertificateArn");
	if (input_finish(&in) < 0)
		return -1;
	rc = store_cert_describe(conn, arn, &desc, &err);
	if (rc == -ENOENT)
		return fail_not_found(call, arn);
	if (rc < 0)
		return api_fail_store(call, rc, err);
	d = certificate_detail(desc.cert);
	describe_request_details(desc.request,
	    strcmp(desc.cert->type, "IMPORTED") == 0, d);
	describe_renewal_summary(desc.renewal, d);
	store_cert_description_clear(&desc);
	return api_ok(call, json_pack("{s:o}", "Certificate", d));
}

/* ---- GetCertificate -------------------------------------------------- */

int
handle_get_certificate(struct api_call *call, PGconn *conn)
{
	struct store_cert *c = NULL;
	json_t *out;

	if (load_certificate(call, conn, &c) < 0)
		return -1;
	if (c->cur.certificate_pem == NULL) {
		api_fail(call, "RequestInProgressException",
		    "Certificate %s is still being issued (status %s).",
		    c->arn, c->status);
		store_cert_free(c);
		return -1;
	}
	out = json_pack("{s:s}", "Certificate", c->cur.certificate_pem);
	set_string(out, "CertificateChain", c->cur.chain_pem);
	store_cert_free(c);
	return api_ok(call, out);
}

/* ---- DeleteCertificate ----------------------------------------------- */

int
handle_delete_certificate(struct api_call *call, PGconn *conn)
{
	_cleanup_free_ char *err = NULL;
	struct input in;
	const char *arn;
	int rc;

	input_init(&in, call);
	arn = input_arn(&in, "CertificateArn");
	if (input_finish(&in) < 0)
		return -1;
	rc = store_cert_delete(conn, arn, &err);
	if (rc == -ENOENT)
		return fail_not_found(call, arn);
	if (rc == -EBUSY)
		return api_fail(call, "ResourceInUseException",
		    "Certificate %s is in use: delete its bindings first.",
		    arn);
	if (rc < 0)
		return api_fail_store(call, rc, err);
	return api_ok(call, NULL);
}
