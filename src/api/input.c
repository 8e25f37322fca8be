/*
 * input.c: member-by-member decoding of request objects, with AWS's
 * wording for every violation (see input.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/input.h"
#include "common/arn.h"
#include "common/base64.h"
#include "common/xmalloc.h"

void
input_init(struct input *in, struct api_call *call)
{
	*in = (struct input){ .call = call, .obj = call->input, .path = "" };
}

void
input_init_nested(struct input *in, const struct input *parent,
    const json_t *obj, const char *path)
{
	*in = (struct input){ .call = parent->call, .obj = obj, .path = path };
}

void
input_fatal(struct input *in, const char *type, const char *fmt, ...)
{
	va_list ap;

	if (in->fatal_type != NULL)
		return;
	in->fatal_type = type;
	va_start(ap, fmt);
	if (vasprintf(&in->fatal_message, fmt, ap) < 0)
		in->fatal_message = NULL;
	va_end(ap);
}

void
input_merge(struct input *parent, struct input *child)
{
	if (child->fatal_type != NULL && parent->fatal_type == NULL) {
		parent->fatal_type = child->fatal_type;
		parent->fatal_message = TAKE_PTR(child->fatal_message);
	}
	if (child->errors.count > 0) {
		if (parent->errors.text == NULL) {
			parent->errors = child->errors;
			child->errors = (struct model_errors)MODEL_ERRORS_INIT;
		} else {
			char *t = xasprintf("%s; %s", parent->errors.text,
			    child->errors.text);

			free(parent->errors.text);
			parent->errors.text = t;
			parent->errors.count += child->errors.count;
		}
	}
	free(child->fatal_message);
	child->fatal_message = NULL;
	model_errors_clear(&child->errors);
}

int
input_finish(struct input *in)
{
	_cleanup_free_ char *msg = NULL;
	int r = 0;

	if (in->fatal_type != NULL) {
		api_fail(in->call, in->fatal_type, "%s",
		    in->fatal_message ? in->fatal_message : "");
		r = -1;
	} else if (in->errors.count > 0) {
		msg = model_errors_message(&in->errors);
		api_fail(in->call, "ValidationException", "%s", msg);
		r = -1;
	}
	free(in->fatal_message);
	in->fatal_message = NULL;
	model_errors_clear(&in->errors);
	return r;
}

char *
input_where(const struct input *in, const char *member)
{
	char *w = in->path[0] ? xasprintf("%s.%s", in->path, member) :
	    xstrdup(member);
	char *last = strrchr(w, '.');

	/* AWS writes member names in lower camel case. */
	last = last ? last + 1 : w;
	*last = (char)tolower((unsigned char)*last);
	return w;
}

static const json_t *
member_of_type(struct input *in, const char *member, bool required,
    json_type type, const char *type_name)
{
	const json_t *v = json_object_get(in->obj, member);
	_cleanup_free_ char *where = NULL;

	if (v == NULL || json_is_null(v)) {
		if (required) {
			where = input_where(in, member);
			model_errors_add(&in->errors, NULL, where,
			    "Member must not be null");
		}
		return NULL;
	}
	if (json_typeof(v) != type) {
		input_fatal(in, "SerializationException",
		    "%s must be %s", member, type_name);
		return NULL;
	}
	return v;
}

const char *
input_string(struct input *in, const char *member, bool required, size_t min,
    size_t max)
{
	const json_t *v = member_of_type(in, member, required, JSON_STRING,
	    "a string");
	_cleanup_free_ char *where = NULL;

	if (v == NULL)
		return NULL;
	where = input_where(in, member);
	if (model_check_length(json_string_value(v), where, min, max,
	    &in->errors) < 0)
		return NULL;
	return json_string_value(v);
}

const char *
input_enum(struct input *in, const char *member, bool required,
    const char *const *allowed)
{
	const char *s = input_string(in, member, required, 0, SIZE_MAX);
	_cleanup_free_ char *where = NULL;

	if (s == NULL)
		return NULL;
	where = input_where(in, member);
	if (model_check_enum(s, where, allowed, &in->errors) < 0)
		return NULL;
	return s;
}

const char *
input_arn(struct input *in, const char *member)
{
	/* Outside the model's lengths it is a ValidationException, as AWS
	 * checks lengths first; inside them, a malformed ARN is ACM's own
	 * InvalidArnException. */
	const char *s = input_string(in, member, true, ARN_MIN_LENGTH,
	    ARN_MAX_LENGTH);
	_cleanup_free_ char *err = NULL;
	struct arn_parts parts;

	if (s == NULL)
		return NULL;
	if (arn_parse(s, &parts, &err) < 0) {
		input_fatal(in, "InvalidArnException", "%s", err);
		return NULL;
	}
	return s;
}

bool
input_int(struct input *in, const char *member, bool required, int64_t min,
    int64_t max, int64_t *out)
{
	const json_t *v = member_of_type(in, member, required, JSON_INTEGER,
	    "an integer");
	_cleanup_free_ char *where = NULL;
	_cleanup_free_ char *constraint = NULL;
	char value[32];
	json_int_t n;

	if (v == NULL)
		return false;
	n = json_integer_value(v);
	if (n < min || n > max) {
		where = input_where(in, member);
		snprintf(value, sizeof(value), "%lld", (long long)n);
		constraint = n < min ?
		    xasprintf("Member must have value greater than or equal "
		    "to %lld", (long long)min) :
		    xasprintf("Member must have value less than or equal "
		    "to %lld", (long long)max);
		model_errors_add(&in->errors, value, where, constraint);
		return false;
	}
	*out = n;
	return true;
}

unsigned char *
input_blob(struct input *in, const char *member, bool required, size_t min,
    size_t max, size_t *len)
{
	const json_t *v = member_of_type(in, member, required, JSON_STRING,
	    "a base64-encoded string");
	_cleanup_free_ char *where = NULL;
	_cleanup_free_ char *constraint = NULL;
	unsigned char *out = NULL;

	if (v == NULL)
		return NULL;
	if (base64_decode(json_string_value(v), json_string_length(v), &out,
	    len) < 0) {
		input_fatal(in, "SerializationException",
		    "%s is not valid base64: blobs travel base64-encoded in "
		    "the AWS JSON protocol", member);
		return NULL;
	}
	if (*len < min || *len > max) {
		where = input_where(in, member);
		constraint = *len < min ?
		    xasprintf("Member must have length greater than or equal "
		    "to %zu", min) :
		    xasprintf("Member must have length less than or equal "
		    "to %zu", max);
		/* Never echo a blob: it may hold a private key. */
		model_errors_add(&in->errors, "<blob>", where, constraint);
		secret_free(out, *len);
		return NULL;
	}
	return out;
}

const json_t *
input_array(struct input *in, const char *member, bool required, size_t min,
    size_t max)
{
	const json_t *v = member_of_type(in, member, required, JSON_ARRAY,
	    "a list");
	_cleanup_free_ char *where = NULL;
	_cleanup_free_ char *constraint = NULL;
	size_t n;

	if (v == NULL)
		return NULL;
	n = json_array_size(v);
	if (n < min || n > max) {
		where = input_where(in, member);
		constraint = n < min ?
		    xasprintf("Member must have length greater than or equal "
		    "to %zu", min) :
		    xasprintf("Member must have length less than or equal "
		    "to %zu", max);
		model_errors_add(&in->errors, "[...]", where, constraint);
		return NULL;
	}
	return v;
}

const json_t *
input_object(struct input *in, const char *member, bool required)
{
	return member_of_type(in, member, required, JSON_OBJECT,
	    "a structure");
}
