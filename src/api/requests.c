/*
 * requests.c: RequestCertificate and ResendValidationEmail, and what
 * DescribeCertificate shows of a request (DomainValidationOptions,
 * Options).
 *
 * A request is checked in the order AWS reports problems: the model
 * (types, lengths, enums: ValidationException), then the names' rules
 * (src/validation/names.h), then the service's own (unsupported
 * ValidationMethod, private CAs: InvalidParameterException; a
 * ValidationDomain that is not a parent: InvalidDomainValidationOptions-
 * Exception). A name that passes those but is refused by policy (public
 * suffix, deny list, reserved suffix) is stored FAILED with its
 * FailureReason, as ACM does. Contacts are found after the commit, on the
 * loop (src/validation/runner.c).
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/input.h"
#include "common/arn.h"
#include "common/json_wipe.h"
#include "common/model_rules.h"
#include "common/xmalloc.h"
#include "store/store.h"
#include "validation/names.h"

#define NAME_MAX_LEN 253
#define SANS_MAX 100

static const char *const validation_methods[] = { "EMAIL", "DNS", "HTTP",
	NULL };
static const char *const key_algorithms[] = { "RSA_1024", "RSA_2048",
	"RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1",
	"EC_secp521r1", NULL };
static const char *const supported_keys[] = { "RSA_2048", "RSA_3072",
	"RSA_4096", "EC_prime256v1", "EC_secp384r1", NULL };
static const char *const on_off[] = { "ENABLED", "DISABLED", NULL };
static const char *const managed_by[] = { "CLOUDFRONT", NULL };

struct dvo {
	const char *domain_name;	/* as sent */
	const char *validation_domain;
};

struct request_input {
	const char *domain_name;
	const char **sans;
	size_t n_sans;
	const char *method;
	const char *token;
	struct dvo *dvos;
	size_t n_dvos;
	const char *ct, *export_option;
	const char *ca_arn;
	const char *key_algorithm;
	const char *managed_by;
	struct store_tag *tags;
	size_t n_tags;
	/* after normalisation */
	char **names;
	size_t n_names;
	char **vds;			/* per name, NULL entries: none */
};

static void
request_input_clear(struct request_input *r)
{
	free(r->sans);
	free(r->dvos);
	store_tags_free(r->tags, r->n_tags);
	names_list_free(r->names);
	for (size_t i = 0; r->vds && i < r->n_names; i++)
		free(r->vds[i]);
	free(r->vds);
}

/* ---- decoding ----------------------------------------------------------- */

static void
decode_sans(struct input *in, struct request_input *r)
{
	const json_t *arr = input_array(in, "SubjectAlternativeNames", false, 1,
	    SANS_MAX);
	const json_t *item;
	size_t i;

	if (arr == NULL)
		return;
	r->sans = xcalloc(json_array_size(arr) + 1, sizeof(char *));
	json_array_foreach(arr, i, item) {
		_cleanup_free_ char *where = xasprintf(
		    "subjectAlternativeNames.%zu.member", i + 1);

		if (!json_is_string(item)) {
			input_fatal(in, "SerializationException",
			    "SubjectAlternativeNames must be a list of strings");
			return;
		}
		if (model_check_length(json_string_value(item), where, 1,
		    NAME_MAX_LEN, &in->errors) == 0)
			r->sans[r->n_sans++] = json_string_value(item);
	}
}

static void
decode_dvos(struct input *in, struct request_input *r)
{
	const json_t *arr = input_array(in, "DomainValidationOptions", false, 1,
	    SANS_MAX);
	const json_t *item;
	size_t i;

	if (arr == NULL)
		return;
	r->dvos = xcalloc(json_array_size(arr) + 1, sizeof(*r->dvos));
	json_array_foreach(arr, i, item) {
		_cleanup_free_ char *path = xasprintf(
		    "domainValidationOptions.%zu.member", i + 1);
		struct input sub;
		struct dvo d;

		if (!json_is_object(item)) {
			input_fatal(in, "SerializationException",
			    "each DomainValidationOption must be a structure "
			    "with DomainName and ValidationDomain");
			return;
		}
		input_init_nested(&sub, in, item, path);
		d.domain_name = input_string(&sub, "DomainName", true, 1,
		    NAME_MAX_LEN);
		d.validation_domain = input_string(&sub, "ValidationDomain",
		    true, 1, NAME_MAX_LEN);
		input_merge(in, &sub);
		if (d.domain_name != NULL && d.validation_domain != NULL)
			r->dvos[r->n_dvos++] = d;
	}
}

static void
decode_options(struct input *in, struct request_input *r)
{
	const json_t *o = input_object(in, "Options", false);
	struct input sub;

	r->ct = "ENABLED";
	r->export_option = "DISABLED";
	if (o == NULL)
		return;
	input_init_nested(&sub, in, o, "options");
	if (json_object_get(o, "CertificateTransparencyLoggingPreference"))
		r->ct = input_enum(&sub,
		    "CertificateTransparencyLoggingPreference", false, on_off);
	if (json_object_get(o, "Export"))
		r->export_option = input_enum(&sub, "Export", false, on_off);
	input_merge(in, &sub);
	if (r->export_option != NULL &&
	    strcmp(r->export_option, "ENABLED") == 0)
		input_fatal(in, "ValidationException",
		    "Options.Export ENABLED is not supported: certfleet never "
		    "exports a private key; it deploys the key to the files of "
		    "a binding instead (CertFleet.CreateBinding)");
}

static int
decode_request(struct api_call *call, struct request_input *r)
{
	struct input in;

	input_init(&in, call);
	r->domain_name = input_string(&in, "DomainName", true, 1,
	    NAME_MAX_LEN);
	decode_sans(&in, r);
	r->method = input_enum(&in, "ValidationMethod", false,
	    validation_methods);
	r->token = input_string(&in, "IdempotencyToken", false, 1, 32);
	if (r->token != NULL) {
		_cleanup_free_ char *where = input_where(&in,
		    "IdempotencyToken");

		model_check_idempotency_token(call->env->rules, r->token,
		    where, &in.errors);
	}
	decode_dvos(&in, r);
	decode_options(&in, r);
	r->ca_arn = input_string(&in, "CertificateAuthorityArn", false, 20,
	    2048);
	r->key_algorithm = input_enum(&in, "KeyAlgorithm", false,
	    key_algorithms);
	r->managed_by = input_enum(&in, "ManagedBy", false, managed_by);
	r->tags = tags_from_input(&in, "Tags", false, &r->n_tags);
	if (input_finish(&in) < 0)
		return -1;
	if (r->method == NULL)
		r->method = "EMAIL";
	if (r->key_algorithm == NULL)
		r->key_algorithm = "RSA_2048";
	return 0;
}

/* ---- the service's rules -------------------------------------------------- */

static int
fail_names(struct api_call *call, int rc, const char *err)
{
	switch (rc) {
	case -EINVAL:
		return api_fail(call, "ValidationException", "%s", err);
	case -E2BIG:
		return api_fail(call, "LimitExceededException", "%s", err);
	default:
		return api_fail(call, "InvalidParameterException", "%s", err);
	}
}

static bool
in_list(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static int
check_service_rules(struct api_call *call, const struct request_input *r)
{
	if (strcmp(r->method, "EMAIL") != 0)
		return api_fail(call, "InvalidParameterException",
		    "ValidationMethod %s is not supported by certfleet: use "
		    "EMAIL (the approval link is sent to the domain's "
		    "administrative and registered contacts).", r->method);
	if (r->ca_arn != NULL)
		return api_fail(call, "InvalidParameterException",
		    "CertificateAuthorityArn is not supported: certfleet "
		    "issues from its own CA; omit the parameter.");
	if (!in_list(supported_keys, r->key_algorithm))
		return api_fail(call, "ValidationException",
		    "KeyAlgorithm %s cannot be requested; use one of "
		    "RSA_2048, RSA_3072, RSA_4096, EC_prime256v1, "
		    "EC_secp384r1.", r->key_algorithm);
	if ((int)r->n_tags > call->limits.tags_per_certificate)
		return api_fail(call, "TooManyTagsException",
		    "A certificate can have at most %d tags.",
		    call->limits.tags_per_certificate);
	return 0;
}

static int
normalize_names(struct api_call *call, struct request_input *r)
{
	_cleanup_free_ char *err = NULL;
	int rc;

	rc = names_normalize_list(r->domain_name,
	    (const char *const *)r->sans, r->n_sans,
	    (size_t)call->limits.domains_per_certificate, &r->names,
	    &r->n_names, &err);
	if (rc < 0)
		return fail_names(call, rc, err);
	r->vds = xcalloc(r->n_names + 1, sizeof(char *));
	return 0;
}

static ssize_t
name_index(const struct request_input *r, const char *name)
{
	for (size_t i = 0; i < r->n_names; i++)
		if (strcmp(r->names[i], name) == 0)
			return (ssize_t)i;
	return -1;
}

static int
apply_dvo(struct api_call *call, struct request_input *r,
    const struct dvo *d)
{
	_cleanup_free_ char *name = NULL, *vd = NULL, *err = NULL;
	ssize_t i;

	if (names_normalize(d->domain_name, &name, &err) < 0 ||
	    (i = name_index(r, name)) < 0)
		return api_fail(call, "InvalidDomainValidationOptionsException",
		    "DomainValidationOptions names %s, which is not one of "
		    "the requested names.", d->domain_name);
	if (r->vds[i] != NULL)
		return api_fail(call, "InvalidDomainValidationOptionsException",
		    "DomainValidationOptions names %s more than once.", name);
	free(err);
	err = NULL;
	if (names_normalize(d->validation_domain, &vd, &err) < 0 ||
	    vd[0] == '*' || !names_is_parent_or_self(vd, name))
		return api_fail(call, "InvalidDomainValidationOptionsException",
		    "ValidationDomain %s must be %s or one of its parent "
		    "domains.", d->validation_domain, name);
	r->vds[i] = TAKE_PTR(vd);
	return 0;
}

static int
apply_dvos(struct api_call *call, struct request_input *r)
{
	for (size_t i = 0; i < r->n_dvos; i++)
		if (apply_dvo(call, r, &r->dvos[i]) < 0)
			return -1;
	return 0;
}

/* The first policy failure among the names (and validation domains). */
static const char *
classify(struct api_call *call, const struct request_input *r,
    char **detail)
{
	const struct names_policy *p = call->env->names;
	const char *reason = NULL;

	if (p == NULL)
		return NULL;
	for (size_t i = 0; i < r->n_names; i++) {
		if (names_classify(p, r->names[i], &reason, detail) == 1)
			return reason;
		if (r->vds[i] != NULL &&
		    names_classify(p, r->vds[i], &reason, detail) == 1)
			return reason;
	}
	return NULL;
}

/* A digest of every parameter, for the idempotency check. */
static char *
request_hash(const struct request_input *r)
{
	json_t *o = json_object(), *names = json_array(), *vds = json_array();
	json_t *tags = json_object();
	unsigned char md[SHA256_DIGEST_LENGTH];
	char *text, *hex = xmalloc(2 * sizeof(md) + 1);

	for (size_t i = 0; i < r->n_names; i++) {
		json_array_append_new(names, json_string(r->names[i]));
		json_array_append_new(vds, r->vds[i] ?
		    json_string(r->vds[i]) : json_null());
	}
	for (size_t i = 0; i < r->n_tags; i++)
		json_object_set_new(tags, r->tags[i].key, r->tags[i].value ?
		    json_string(r->tags[i].value) : json_null());
	json_object_set_new(o, "names", names);
	json_object_set_new(o, "vds", vds);
	json_object_set_new(o, "tags", tags);
	json_object_set_new(o, "key", json_string(r->key_algorithm));
	json_object_set_new(o, "method", json_string(r->method));
	json_object_set_new(o, "ct", json_string(r->ct));
	json_object_set_new(o, "export", json_string(r->export_option));
	json_object_set_new(o, "managed", r->managed_by ?
	    json_string(r->managed_by) : json_null());
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	SHA256((const unsigned char *)text, strlen(text), md);
	json_text_free(text);
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return hex;
}

static int
store_request(struct api_call *call, PGconn *conn, struct request_input *r,
    char **ret_arn)
{
	_cleanup_free_ char *detail = NULL, *hash = request_hash(r);
	_cleanup_free_ char *err = NULL, *arn = NULL;
	struct store_request req;
	char uuid[37];
	int rc;

	uuid_v4(uuid);
	arn = arn_build(call->env->partition, call->env->region,
	    call->env->account, "certificate", uuid);
	req = (struct store_request){
		.arn = arn, .names = r->names,
		.validation_domains = (const char *const *)r->vds,
		.key_algorithm = r->key_algorithm,
		.validation_method = r->method, .ct_logging = r->ct,
		.export_option = r->export_option,
		.managed_by = r->managed_by, .tags = r->tags,
		.n_tags = r->n_tags, .idempotency_token = r->token,
		.request_hash = hash,
		.limit = call->limits.issued_certificates,
	};
	req.failure_reason = classify(call, r, &detail);
	req.failure_detail = detail;
	rc = store_request_insert(conn, &req, ret_arn, &err);
	if (rc == -ENOSPC)
		return api_fail(call, "LimitExceededException",
		    "Issued certificate limit of %d reached: delete unused "
		    "certificates or raise [limits] issued_certificates.",
		    call->limits.issued_certificates);
	if (rc == -EEXIST)
		return api_fail(call, "InvalidParameterException", "%s", err);
	if (rc < 0)
		return api_fail_store(call, rc, err);
	if (req.failure_reason == NULL && strcmp(*ret_arn, arn) == 0)
		call->kicks |= API_KICK_DISCOVERY;
	return 0;
}

int
handle_request_certificate(struct api_call *call, PGconn *conn)
{
	struct request_input r = { 0 };
	_cleanup_free_ char *arn = NULL;
	int rc = -1;

	if (decode_request(call, &r) == 0 && normalize_names(call, &r) == 0 &&
	    check_service_rules(call, &r) == 0 && apply_dvos(call, &r) == 0 &&
	    store_request(call, conn, &r, &arn) == 0)
		rc = api_ok(call, json_pack("{s:s}", "CertificateArn", arn));
	request_input_clear(&r);
	return rc;
}

/* ---- ResendValidationEmail ----------------------------------------------- */

int
handle_resend_validation_email(struct api_call *call, PGconn *conn)
{
	_cleanup_free_ char *domain = NULL, *vd = NULL, *err = NULL;
	const char *arn, *d, *v;
	struct input in;
	int rc;

	input_init(&in, call);
	arn = input_arn(&in, "CertificateArn");
	d = input_string(&in, "Domain", true, 1, NAME_MAX_LEN);
	v = input_string(&in, "ValidationDomain", true, 1, NAME_MAX_LEN);
	if (input_finish(&in) < 0)
		return -1;
	if ((rc = names_normalize(d, &domain, &err)) < 0)
		return fail_names(call, rc, err);
	free(err);
	err = NULL;
	if (names_normalize(v, &vd, &err) < 0 || vd[0] == '*' ||
	    !names_is_parent_or_self(vd, domain))
		return api_fail(call, "InvalidDomainValidationOptionsException",
		    "ValidationDomain %s must be %s or one of its parent "
		    "domains.", v, domain);
	free(err);
	err = NULL;
	rc = store_request_resend(conn, arn, domain, vd, &err);
	if (rc == -ENOENT)
		return fail_not_found(call, arn);
	if (rc == -EPERM)
		return api_fail(call, "InvalidStateException", "%s", err);
	if (rc == -ESRCH)
		return api_fail(call, "InvalidDomainValidationOptionsException",
		    "%s", err);
	if (rc < 0)
		return api_fail_store(call, rc, err);
	call->kicks |= API_KICK_DISCOVERY;
	return api_ok(call, NULL);
}

/* ---- DescribeCertificate ---------------------------------------------- */

json_t *
domain_validation_json(const char *domain_name, const char *validation_domain,
    const char *status, const char *method, char *const *emails)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "DomainName",
	    domain_name, "ValidationDomain", validation_domain,
	    "ValidationStatus", status, "ValidationMethod",
	    method ? method : "EMAIL");
	json_t *list = json_array();

	for (size_t i = 0; emails && emails[i]; i++)
		json_array_append_new(list, json_string(emails[i]));
	if (json_array_size(list) > 0)
		json_object_set_new(o, "ValidationEmails", list);
	else
		json_decref(list);
	return o;
}

void
describe_request_details(const struct store_request_info *info,
    bool imported, json_t *detail)
{
	json_t *dvos;

	json_object_set_new(detail, "Options", json_pack("{s:s}",
	    "CertificateTransparencyLoggingPreference",
	    info->ct_logging ? info->ct_logging : "ENABLED"));
	if (!imported && info->export_option != NULL)
		json_object_set_new(json_object_get(detail, "Options"),
		    "Export", json_string(info->export_option));
	if (info->managed_by != NULL)
		json_object_set_new(detail, "ManagedBy",
		    json_string(info->managed_by));
	if (!imported) {
		dvos = json_array();
		for (size_t i = 0; i < info->n_validations; i++)
			json_array_append_new(dvos, domain_validation_json(
			    info->validations[i].domain_name,
			    info->validations[i].validation_domain,
			    info->validations[i].status,
			    info->validations[i].method,
			    info->validations[i].emails));
		json_object_set_new(detail, "DomainValidationOptions", dvos);
	}
}
