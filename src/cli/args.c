/*
 * args.c: option values to JSON, the AWS CLI way: which words are
 * shorthand (shorthand.c), which are JSON (jansson), how scalars and blobs
 * are read, plus botocore-style validation and the request skeleton.
 *
 * Option values can come from files, and a file may hold a private key:
 * buffers that held file contents are wiped before they are freed, and no
 * message here quotes a file's contents or a blob value.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/args.h"
#include "common/base64.h"
#include "common/xmalloc.h"

/* A buffer that may hold a secret: wiped on scope exit. */
struct secret {
	char *data;
	size_t len;
};

static void
secret_clear(struct secret *s)
{
	secret_free(s->data, s->len);
	s->data = NULL;
	s->len = 0;
}
#define _cleanup_secret_ _cleanup_(secret_clear)

/* botocore's xform_name: "(.)([A-Z][a-z]+)", then "([a-z0-9])([A-Z])". */
char *
args_kebab(const char *name)
{
	size_t n = strlen(name), o = 0;
	_cleanup_free_ char *s1 = xmalloc(2 * n + 1);
	char *out = xmalloc(4 * n + 1);

	for (size_t i = 0; i < n;) {
		if (i + 2 < n && isupper((unsigned char)name[i + 1]) &&
		    islower((unsigned char)name[i + 2])) {
			s1[o++] = name[i];
			s1[o++] = '-';
			s1[o++] = name[i + 1];
			for (i += 2; i < n && islower((unsigned char)name[i]); i++)
				s1[o++] = name[i];
		} else
			s1[o++] = name[i++];
	}
	s1[o] = '\0';
	n = o;
	o = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s1[i];

		if (i + 1 < n && (islower(c) || isdigit(c)) &&
		    isupper((unsigned char)s1[i + 1])) {
			out[o++] = (char)c;
			out[o++] = '-';
			out[o++] = (char)tolower((unsigned char)s1[i + 1]);
			i += 2;
		} else {
			out[o++] = (char)tolower(c);
			i++;
		}
	}
	out[o] = '\0';
	return out;
}

const char *
shape_type_name(enum shape_type type)
{
	static const char *const names[] = {
		[SHAPE_STRING] = "string",   [SHAPE_INTEGER] = "integer",
		[SHAPE_BOOLEAN] = "boolean", [SHAPE_BLOB] = "blob",
		[SHAPE_LIST] = "list",	     [SHAPE_STRUCT] = "structure",
	};

	return names[type];
}

const struct shape_member *
shape_find_member(const struct shape_member *m, const char *name)
{
	for (; m && m->name; m++)
		if (strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

/* Reads all of fd; the buffer grows by copying so no stale copy survives. */
static int
read_all(int fd, struct secret *out)
{
	size_t cap = 4096;

	out->data = xmalloc(cap);
	out->len = 0;
	for (;;) {
		ssize_t r;

		if (out->len + 1 == cap) {
			char *bigger = xmalloc(cap * 2);

			memcpy(bigger, out->data, out->len);
			secret_free(out->data, cap);
			out->data = bigger;
			cap *= 2;
		}
		r = read(fd, out->data + out->len, cap - 1 - out->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		out->len += (size_t)r;
	}
	out->data[out->len] = '\0';
	return 0;
}

int
args_paramfile(const char *value, char **data, size_t *len, bool *binary,
    char **reterr_msg)
{
	_cleanup_free_ char *path = NULL;
	struct secret buf = { 0 };
	const char *p;
	int fd, r;

	if (strncmp(value, "fileb://", 8) == 0) {
		p = value + 8;
		*binary = true;
	} else if (strncmp(value, "file://", 7) == 0) {
		p = value + 7;
		*binary = false;
	} else
		return 0;
	if (strncmp(p, "~/", 2) == 0 && getenv("HOME"))
		path = xasprintf("%s/%s", getenv("HOME"), p + 2);
	else
		path = xstrdup(p);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		*reterr_msg = xasprintf("Unable to load paramfile %s: %s",
		    value, strerror(-r));
		return r;
	}
	r = read_all(fd, &buf);
	close(fd);
	if (r < 0) {
		secret_clear(&buf);
		*reterr_msg = xasprintf("Unable to load paramfile %s: %s",
		    value, strerror(-r));
		return r;
	}
	*data = buf.data;
	*len = buf.len;
	return 1;
}

int
args_parse_integer(const char *s, json_int_t *ret)
{
	char *end;
	long long v;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return -EINVAL;
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0')
		return -EINVAL;
	*ret = (json_int_t)v;
	return 0;
}

/* ---- one option's words ---- */

static bool
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

static bool
starts_with_after_blanks(const char *s, char c)
{
	while (is_ws((unsigned char)*s))
		s++;
	return *s == c;
}

static int
json_text(const char *text, size_t len, json_t **ret, char **reterr_msg)
{
	json_error_t e;

	*ret = json_loadb(text, len, 0, &e);
	if (*ret == NULL) {
		*reterr_msg = xasprintf("Invalid JSON: %s\nJSON received: %.*s",
		    e.text, (int)len, text);
		return -EINVAL;
	}
	return 0;
}

/* Bytes as a base64 JSON string; the intermediate text is wiped. */
static json_t *
blob_json(const void *data, size_t len)
{
	char *encoded = base64_encode(data, len);
	size_t elen = strlen(encoded);
	json_t *v = json_stringn(encoded, elen);

	secret_free(encoded, elen);
	return v;
}

/* Blob text that is not fileb://: base64 (v2 default) or raw bytes. */
static int
blob_value(const char *text, size_t len, enum binary_format bf, json_t **ret,
    char **reterr_msg)
{
	struct secret clean _cleanup_secret_ = { 0 };
	unsigned char *bytes;
	size_t nbytes;

	if (bf == BINARY_RAW_IN_BASE64_OUT) {
		*ret = blob_json(text, len);
		return 0;
	}
	clean.data = xmalloc(len + 1);
	for (size_t i = 0; i < len; i++)
		if (!is_ws((unsigned char)text[i]))
			clean.data[clean.len++] = text[i];
	clean.data[clean.len] = '\0';
	if (base64_decode(clean.data, clean.len, &bytes, &nbytes) < 0) {
		*reterr_msg = xstrdup("Invalid base64: a blob value must be "
				      "base64 text; use fileb://PATH to send "
				      "a file's bytes");
		return -EINVAL;
	}
	secret_free(bytes, nbytes);
	*ret = json_stringn(clean.data, clean.len);
	return 0;
}

/* A scalar from text already read (word or file contents). */
static int
scalar_convert(const struct shape *s, const char *text, size_t len,
    bool binary, enum binary_format bf, const char *word, json_t **ret,
    char **reterr_msg)
{
	json_int_t n;

	switch (s->type) {
	case SHAPE_BLOB:
		if (!binary)
			return blob_value(text, len, bf, ret, reterr_msg);
		*ret = blob_json(text, len);
		return 0;
	case SHAPE_INTEGER:
		if (args_parse_integer(text, &n) < 0) {
			*reterr_msg = xasprintf("invalid int value: '%s'", word);
			return -EINVAL;
		}
		*ret = json_integer(n);
		return 0;
	case SHAPE_BOOLEAN:
		if (strcasecmp(text, "true") != 0 &&
		    strcasecmp(text, "false") != 0) {
			*reterr_msg = xasprintf("invalid boolean value: '%s'",
			    word);
			return -EINVAL;
		}
		*ret = json_boolean(strcasecmp(text, "true") == 0);
		return 0;
	default:
		*ret = json_stringn(text, len);
		if (*ret == NULL) {
			*reterr_msg = xasprintf("The value of %s is not UTF-8 "
						"text",
			    word);
			return -EINVAL;
		}
		return 0;
	}
}

static int
scalar_value(const struct shape *s, const char *word, enum binary_format bf,
    json_t **ret, char **reterr_msg)
{
	struct secret file _cleanup_secret_ = { 0 };
	bool binary = false;
	int r;

	r = args_paramfile(word, &file.data, &file.len, &binary, reterr_msg);
	if (r < 0)
		return r;
	if (r == 0)
		return scalar_convert(s, word, strlen(word), false, bf, word,
		    ret, reterr_msg);
	return scalar_convert(s, file.data, file.len, binary, bf, word, ret,
	    reterr_msg);
}

static bool
shape_is_complex(const struct shape *s)
{
	return s->type == SHAPE_LIST || s->type == SHAPE_STRUCT;
}

/* Structure: JSON when it starts with '{', shorthand otherwise. */
static int
struct_text(const struct shape *s, const char *text, json_t **ret,
    char **reterr_msg)
{
	_cleanup_json_ json_t *v = NULL;
	int r;

	if (starts_with_after_blanks(text, '{'))
		return json_text(text, strlen(text), ret, reterr_msg);
	if (starts_with_after_blanks(text, '[')) {
		*reterr_msg = xasprintf("Invalid JSON:\n%s", text);
		return -EINVAL;
	}
	r = args_shorthand_parse(text, &v, reterr_msg);
	if (r < 0)
		return r;
	r = args_shorthand_coerce(&v, s, reterr_msg);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(v);
	return 0;
}

static int
list_value(const struct shape *s, const char *const *words, size_t n,
    enum binary_format bf, json_t **ret, char **reterr_msg)
{
	_cleanup_json_ json_t *list = json_array();
	const struct shape *m = s->member;
	bool json_like = starts_with_after_blanks(words[0], '[') ||
	    (shape_is_complex(m) && starts_with_after_blanks(words[0], '{'));

	if (n == 1 && starts_with_after_blanks(words[0], '['))
		return json_text(words[0], strlen(words[0]), ret, reterr_msg);
	for (size_t i = 0; i < n; i++) {
		json_t *v = NULL;
		int r;

		if (!shape_is_complex(m))
			r = scalar_value(m, words[i], bf, &v, reterr_msg);
		else if (json_like && !starts_with_after_blanks(words[i], '{')) {
			*reterr_msg = xasprintf("Invalid JSON:\n%s", words[i]);
			r = -EINVAL;
		} else if (json_like)
			r = json_text(words[i], strlen(words[i]), &v,
			    reterr_msg);
		else
			r = args_shorthand_parse(words[i], &v, reterr_msg);
		if (r < 0)
			return r;
		json_array_append_new(list, v);
	}
	if (shape_is_complex(m) && !json_like) {
		int r = args_shorthand_coerce(&list, s, reterr_msg);

		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(list);
	return 0;
}

int
args_value(const struct shape *shape, const char *const *words, size_t n,
    enum binary_format bf, json_t **ret, char **reterr_msg)
{
	struct secret file _cleanup_secret_ = { 0 };
	bool binary = false;
	const char *one;
	int r;

	if (n == 0) {
		*reterr_msg = xstrdup("expected at least one argument");
		return -EINVAL;
	}
	if (!shape_is_complex(shape)) {
		if (n != 1) {
			*reterr_msg = xstrdup("expected one argument");
			return -EINVAL;
		}
		return scalar_value(shape, words[0], bf, ret, reterr_msg);
	}
	/* As awscli: a single word naming a file is replaced by its text. */
	if (n == 1) {
		r = args_paramfile(words[0], &file.data, &file.len, &binary,
		    reterr_msg);
		if (r < 0)
			return r;
		if (r > 0 && strlen(file.data) != file.len) {
			*reterr_msg = xasprintf("The contents of %s are not "
						"text",
			    words[0]);
			return -EINVAL;
		}
	}
	one = file.data ? file.data : words[0];
	if (shape->type == SHAPE_STRUCT) {
		if (n != 1) {
			*reterr_msg = xstrdup("expected one argument");
			return -EINVAL;
		}
		return struct_text(shape, one, ret, reterr_msg);
	}
	if (file.data)
		return list_value(shape, &one, 1, bf, ret, reterr_msg);
	return list_value(shape, words, n, bf, ret, reterr_msg);
}

/* ---- validation ---- */

static const char *
json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "structure";
	case JSON_ARRAY:
		return "list";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "real";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

static bool
type_matches(const json_t *v, enum shape_type t)
{
	switch (t) {
	case SHAPE_STRING:
	case SHAPE_BLOB:
		return json_is_string(v);
	case SHAPE_INTEGER:
		return json_is_integer(v);
	case SHAPE_BOOLEAN:
		return json_is_boolean(v);
	case SHAPE_LIST:
		return json_is_array(v);
	case SHAPE_STRUCT:
		return json_is_object(v);
	}
	return false;
}

static void validate_members(FILE *f, const json_t *obj,
    const struct shape_member *members, const char *path);

static void
validate_value(FILE *f, const json_t *v, const struct shape *s,
    const char *path)
{
	if (!type_matches(v, s->type)) {
		_cleanup_free_ char *text = NULL;

		/* Blob values may be keys: never quote them. */
		if (s->type != SHAPE_BLOB && !json_is_string(v))
			text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		fprintf(f, "\nInvalid type for parameter %s, value: %s, type: "
			   "%s, valid types: %s",
		    path, text ? text : "(not shown)", json_type_name(v),
		    shape_type_name(s->type));
		return;
	}
	if (s->type == SHAPE_STRUCT)
		validate_members(f, v, s->members, path);
	if (s->type == SHAPE_LIST)
		for (size_t i = 0; i < json_array_size(v); i++) {
			_cleanup_free_ char *sub = xasprintf("%s[%zu]", path,
			    i);

			validate_value(f, json_array_get(v, i), s->member, sub);
		}
}

static void
validate_members(FILE *f, const json_t *obj,
    const struct shape_member *members, const char *path)
{
	const char *where = *path ? path : "input";
	const char *key;
	json_t *v;

	for (const struct shape_member *m = members; m->name; m++)
		if (m->required && json_object_get(obj, m->name) == NULL)
			fprintf(f, "\nMissing required parameter in %s: \"%s\"",
			    where, m->name);
	json_object_foreach((json_t *)obj, key, v) {
		const struct shape_member *m = shape_find_member(members, key);
		_cleanup_free_ char *sub = NULL;

		if (m == NULL) {
			fprintf(f, "\nUnknown parameter in %s: \"%s\", must be "
				   "one of: ",
			    where, key);
			for (const struct shape_member *k = members; k->name;
			     k++)
				fprintf(f, "%s%s", k == members ? "" : ", ",
				    k->name);
			continue;
		}
		sub = *path ? xasprintf("%s.%s", path, key) : xstrdup(key);
		validate_value(f, v, m->shape, sub);
	}
}

int
args_validate(const json_t *request, const struct shape_member *members,
    char **reterr_msg)
{
	_cleanup_free_ char *report = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&report, &len);
	if (f == NULL)
		return -errno;
	if (!json_is_object(request))
		fputs("\nThe request must be a JSON object", f);
	else
		validate_members(f, request, members, "");
	fclose(f);
	if (len == 0)
		return 0;
	*reterr_msg = xasprintf("Parameter validation failed:%s", report);
	return -EINVAL;
}

/* ---- skeleton ---- */

static json_t *
skeleton_value(const struct shape *s)
{
	json_t *v;

	switch (s->type) {
	case SHAPE_INTEGER:
		return json_integer(0);
	case SHAPE_BOOLEAN:
		return json_true();
	case SHAPE_LIST:
		v = json_array();
		json_array_append_new(v, skeleton_value(s->member));
		return v;
	case SHAPE_STRUCT:
		return args_skeleton(s->members);
	default:
		return json_string("");
	}
}

json_t *
args_skeleton(const struct shape_member *members)
{
	json_t *obj = json_object();

	for (const struct shape_member *m = members; m->name; m++)
		json_object_set_new(obj, m->name, skeleton_value(m->shape));
	return obj;
}
