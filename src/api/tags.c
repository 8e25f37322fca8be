/*
 * tags.c: AddTagsToCertificate, ListTagsForCertificate and
 * RemoveTagsFromCertificate, and the Tags decoder ImportCertificate shares.
 *
 * Keys are case sensitive; a key beginning with "aws:" is reserved, as in
 * ACM; at most [limits] tags_per_certificate tags (50) per certificate.
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/input.h"
#include "common/xmalloc.h"
#include "store/store.h"

#define TAGS_MAX 50	/* TagList's length in the model */

static bool
tag_from_json(struct input *in, const json_t *item, size_t index,
    struct store_tag *tag)
{
	_cleanup_free_ char *path = xasprintf("tags.%zu.member", index + 1);
	_cleanup_free_ char *reserved = NULL;
	_cleanup_free_ char *where = NULL;
	const char *key, *value;
	struct input sub;
	bool ok;

	if (!json_is_object(item)) {
		input_fatal(in, "SerializationException",
		    "each tag must be a structure with Key and Value");
		return false;
	}
	input_init_nested(&sub, in, item, path);
	key = input_string(&sub, "Key", true, 1, 128);
	value = input_string(&sub, "Value", false, 0, 256);
	if (key != NULL) {
		where = input_where(&sub, "Key");
		model_check_tag_key(in->call->env->rules, key, where,
		    &sub.errors);
	}
	if (value != NULL) {
		free(where);
		where = input_where(&sub, "Value");
		model_check_tag_value(in->call->env->rules, value, where,
		    &sub.errors);
	}
	ok = key != NULL && sub.errors.count == 0 && sub.fatal_type == NULL;
	if (ok && model_check_tag_key_reserved(key, &reserved) < 0) {
		input_fatal(&sub, "InvalidTagException", "%s", reserved);
		ok = false;
	}
	input_merge(in, &sub);
	if (ok) {
		tag->key = xstrdup(key);
		tag->value = value ? xstrdup(value) : NULL;
	}
	return ok;
}

struct store_tag *
tags_from_input(struct input *in, const char *member, bool required,
    size_t *n)
{
	const json_t *arr = input_array(in, member, required, 1, TAGS_MAX);
	struct store_tag *tags;
	const json_t *item;
	size_t i, count = 0;

	*n = 0;
	if (arr == NULL)
		return NULL;
	tags = xcalloc(json_array_size(arr) + 1, sizeof(*tags));
	json_array_foreach(arr, i, item)
		if (tag_from_json(in, item, i, &tags[count]))
			count++;
	*n = count;
	return tags;
}

/* Reads CertificateArn and Tags; both required. */
static int
decode_tag_request(struct api_call *call, const char **arn,
    struct store_tag **tags, size_t *n)
{
	struct input in;

	input_init(&in, call);
	*arn = input_arn(&in, "CertificateArn");
	*tags = tags_from_input(&in, "Tags", true, n);
	return input_finish(&in);
}

static int
fail_tags(struct api_call *call, int rc, const char *arn, const char *err)
{
	if (rc == -ENOENT)
		return fail_not_found(call, arn);
	if (rc == -E2BIG)
		return api_fail(call, "TooManyTagsException",
		    "A certificate can have at most %d tags; remove some "
		    "before adding more.", call->limits.tags_per_certificate);
	return api_fail_store(call, rc, err);
}

int
handle_add_tags_to_certificate(struct api_call *call, PGconn *conn)
{
	_cleanup_free_ char *err = NULL;
	struct store_tag *tags = NULL;
	const char *arn;
	size_t n = 0;
	int rc = -1;

	if (decode_tag_request(call, &arn, &tags, &n) < 0)
		goto out;
	rc = store_tags_add(conn, arn, tags, n,
	    call->limits.tags_per_certificate, &err);
	rc = rc < 0 ? fail_tags(call, rc, arn, err) : api_ok(call, NULL);
out:
	store_tags_free(tags, n);
	return rc;
}

int
handle_remove_tags_from_certificate(struct api_call *call, PGconn *conn)
{
	_cleanup_free_ char *err = NULL;
	struct store_tag *tags = NULL;
	const char *arn;
	size_t n = 0;
	int rc = -1;

	if (decode_tag_request(call, &arn, &tags, &n) < 0)
		goto out;
	rc = store_tags_remove(conn, arn, tags, n, &err);
	rc = rc < 0 ? fail_tags(call, rc, arn, err) : api_ok(call, NULL);
out:
	store_tags_free(tags, n);
	return rc;
}

int
handle_list_tags_for_certificate(struct api_call *call, PGconn *conn)
{
	_cleanup_free_ char *err = NULL;
	struct store_tag *tags = NULL;
	struct input in;
	const char *arn;
	json_t *list, *t;
	size_t n = 0;
	int rc;

	input_init(&in, call);
	arn = input_arn(&in, "CertificateArn");
	if (input_finish(&in) < 0)
		return -1;
	if ((rc = store_tags_list(conn, arn, &tags, &n, &err)) < 0)
		return fail_tags(call, rc, arn, err);
	list = json_array();
	for (size_t i = 0; i < n; i++) {
		t = json_pack("{s:s}", "Key", tags[i].key);
		if (tags[i].value != NULL)
			json_object_set_new(t, "Value",
			    json_string(tags[i].value));
		json_array_append_new(list, t);
	}
	store_tags_free(tags, n);
	return api_ok(call, json_pack("{s:o}", "Tags", list));
}
