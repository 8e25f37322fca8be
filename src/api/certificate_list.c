/*
 * certificate_list.c: ListCertificates.
 *
 * Pages are keyset pages over the certificates' creation sequence, so a
 * NextToken stays correct while certificates are added and deleted between
 * calls: it carries the last sequence number seen and the sort order, and
 * nothing that could go stale. As ACM does, a request without
 * Includes.keyTypes lists only RSA_1024 and RSA_2048 certificates.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/input.h"
#include "common/acm_model.h"
#include "common/base64.h"
#include "common/xmalloc.h"
#include "store/store.h"

#define DEFAULT_PAGE 1000
#define TOKEN_PREFIX "cf1:"

static const char *const default_key_types[] = { "RSA_1024", "RSA_2048",
	NULL };

/* A NULL-terminated vector of strings borrowed from a JSON array. */
static char **
enum_list(struct input *in, const json_t *arr, const char *member,
    const char *const *allowed)
{
	size_t n = json_array_size(arr);
	char **out = xcalloc(n + 1, sizeof(*out));
	_cleanup_free_ char *where = NULL;
	const json_t *v;
	size_t i;

	json_array_foreach(arr, i, v) {
		free(where);
		where = xasprintf("%s.%zu.member", member, i + 1);
		if (!json_is_string(v)) {
			input_fatal(in, "SerializationException",
			    "%s must be a list of strings", member);
			break;
		}
		if (model_check_enum(json_string_value(v), where, allowed,
		    &in->errors) == 0)
			out[i] = (char *)json_string_value(v);
	}
	return out;
}

static char **
filter_list(struct input *in, const json_t *obj, const char *member,
    const char *path, const char *const *allowed)
{
	const json_t *arr = json_object_get(obj, member);

	if (arr == NULL || json_is_null(arr))
		return NULL;
	if (!json_is_array(arr)) {
		input_fatal(in, "SerializationException", "%s must be a list",
		    member);
		return NULL;
	}
	return enum_list(in, arr, path, allowed);
}

static char *
token_encode(int64_t seq, bool descending)
{
	_cleanup_free_ char *raw = xasprintf("%s%lld:%c", TOKEN_PREFIX,
	    (long long)seq, descending ? 'D' : 'A');

	return base64_encode(raw, strlen(raw));
}

static int
token_decode(const char *token, bool descending, int64_t *seq)
{
	_cleanup_free_ unsigned char *raw = NULL;
	size_t len;
	long long n;
	char order, end;

	if (base64_decode(token, strlen(token), &raw, &len) < 0)
		return -EINVAL;
	raw = xrealloc(raw, len + 1);
	raw[len] = '\0';
	if (strncmp((char *)raw, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0 ||
	    sscanf((char *)raw + strlen(TOKEN_PREFIX), "%lld:%c%c", &n, &order,
	    &end) != 2 || n < 0 || order != (descending ? 'D' : 'A'))
		return -EINVAL;
	*seq = n;
	return 0;
}

struct list_request {
	struct store_list_query q;
	char **statuses, **key_types, **key_usages, **ekus;
};

static void
list_request_clear(struct list_request *r)
{
	free(r->statuses);
	free(r->key_types);
	free(r->key_usages);
	free(r->ekus);
}

static void
decode_includes(struct input *in, struct list_request *r)
{
	const json_t *inc = input_object(in, "Includes", false);

	if (inc == NULL)
		return;
	r->key_types = filter_list(in, inc, "keyTypes", "includes.keyTypes",
	    acm_key_algorithms);
	r->key_usages = filter_list(in, inc, "keyUsage", "includes.keyUsage",
	    acm_key_usage_names);
	r->ekus = filter_list(in, inc, "extendedKeyUsage",
	    "includes.extendedKeyUsage", acm_extended_key_usage_names);
}

static int
decode_list(struct api_call *call, struct model_rules const *rules,
    struct list_request *r)
{
	struct input in;
	const json_t *statuses;
	const char *order, *token;
	int64_t max = DEFAULT_PAGE;
	_cleanup_free_ char *where = NULL;

	input_init(&in, call);
	if ((statuses = input_array(&in, "CertificateStatuses", false, 0,
	    SIZE_MAX)) != NULL)
		r->statuses = enum_list(&in, statuses, "certificateStatuses",
		    acm_certificate_statuses);
	decode_includes(&in, r);
	input_int(&in, "MaxItems", false, 1, 1000, &max);
	input_enum(&in, "SortBy", false, acm_sort_by);
	order = input_enum(&in, "SortOrder", false, acm_sort_order);
	token = input_string(&in, "NextToken", false, 1, 10000);
	if (token != NULL) {
		where = input_where(&in, "NextToken");
		model_check_next_token(rules, token, where, &in.errors);
	}
	if (input_finish(&in) < 0)
		return -1;
	r->q.descending = order != NULL && strcmp(order, "DESCENDING") == 0;
	r->q.max_items = (int)max;
	if (token != NULL &&
	    token_decode(token, r->q.descending, &r->q.after_seq) < 0)
		return api_fail(call, "InvalidArgsException",
		    "The NextToken is not valid: pass the NextToken of the "
		    "previous response, with the same SortOrder");
	r->q.statuses = r->statuses && r->statuses[0] ? r->statuses : NULL;
	r->q.key_types = r->key_types && r->key_types[0] ?
	    r->key_types : (char **)default_key_types;
	r->q.key_usages = r->key_usages && r->key_usages[0] ?
	    r->key_usages : NULL;
	r->q.extended_key_usages = r->ekus && r->ekus[0] ? r->ekus : NULL;
	return 0;
}

static json_t *
names_json(char *const *items, size_t max, bool *more)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; items && items[i] && i < max; i++)
		json_array_append_new(a, json_string(items[i]));
	*more = items && items[i] != NULL;
	return a;
}

static void
put_time(json_t *o, const char *key, int64_t t)
{
	if (t > 0)
		json_object_set_new(o, key, json_integer(t));
}

static json_t *
summary_json(const struct store_cert_summary *s)
{
	json_t *o = json_object();
	bool more = false;

	json_object_set_new(o, "CertificateArn", json_string(s->arn));
	if (s->domain_name)
		json_object_set_new(o, "DomainName",
		    json_string(s->domain_name));
	json_object_set_new(o, "SubjectAlternativeNameSummaries",
	    names_json(s->names, 100, &more));
	json_object_set_new(o, "HasAdditionalSubjectAlternativeNames",
	    json_boolean(more));
	json_object_set_new(o, "Status", json_string(s->status));
	json_object_set_new(o, "Type", json_string(s->type));
	if (s->key_algorithm)
		json_object_set_new(o, "KeyAlgorithm",
		    json_string(s->key_algorithm));
	json_object_set_new(o, "KeyUsages", names_json(s->key_usages,
	    SIZE_MAX, &more));
	json_object_set_new(o, "ExtendedKeyUsages",
	    names_json(s->extended_key_usages, SIZE_MAX, &more));
	json_object_set_new(o, "InUse", json_boolean(s->in_use));
	if (s->renewal_eligibility)
		json_object_set_new(o, "RenewalEligibility",
		    json_string(s->renewal_eligibility));
	put_time(o, "NotBefore", s->not_before);
	put_time(o, "NotAfter", s->not_after);
	put_time(o, "CreatedAt", s->created_at);
	put_time(o, "IssuedAt", s->issued_at);
	put_time(o, "ImportedAt", s->imported_at);
	return o;
}

int
handle_list_certificates(struct api_call *call, PGconn *conn)
{
	struct list_request r = { 0 };
	struct store_cert_page *page = NULL;
	_cleanup_free_ char *err = NULL;
	json_t *out, *items;
	int rc = -1;

	if (decode_list(call, call->env->rules, &r) < 0)
		goto done;
	if ((rc = store_cert_list(conn, &r.q, &page, &err)) < 0) {
		rc = api_fail_store(call, rc, err);
		goto done;
	}
	items = json_array();
	for (size_t i = 0; i < page->n_items; i++)
		json_array_append_new(items, summary_json(&page->items[i]));
	out = json_pack("{s:o}", "CertificateSummaryList", items);
	if (page->more && page->n_items > 0) {
		_cleanup_free_ char *token = token_encode(
		    page->items[page->n_items - 1].seq, r.q.descending);

		json_object_set_new(out, "NextToken", json_string(token));
	}
	rc = api_ok(call, out);
done:
	store_cert_page_free(page);
	list_request_clear(&r);
	return rc;
}
