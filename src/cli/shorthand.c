/*
 * shorthand.c: the AWS CLI shorthand syntax ("Key=Env,Value=Prod",
 * "keyTypes=[RSA_2048,EC_prime256v1]", "Options={A=b}"). The parser is a
 * port of awscli's ShorthandParser: the same character classes, the same
 * backtracking on "a=b,c=d" (the "c" is not a list item but the next key),
 * the same error texts with a caret under the failing position. It works by
 * syntax only; args_shorthand_coerce() then applies the shape, as awscli's
 * BackCompatVisitor does.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/args.h"
#include "common/xmalloc.h"

/* Parser state over one word; err is set by the first failure. */
struct sh {
	const char *s;
	size_t len;
	size_t i;
	bool resolve;	/* "key@=": values name files to read */
	char *err;
};

static bool
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

/* awscli's _START_WORD: anything but blanks, quotes, ',', '=', '[', '{'. */
static bool
is_start(unsigned char c)
{
	return c >= 0x80 || c == '!' || (c >= '#' && c <= '&') ||
	    (c >= '(' && c <= '+') || (c >= '-' && c <= '<') ||
	    (c >= '>' && c <= 'Z') || (c >= '\\' && c <= 'z') || c >= '|';
}

/* _FIRST_FOLLOW_CHARS: blanks allowed; no quotes, ',', ']' or '}'. */
static bool
is_first_follow(unsigned char c)
{
	return is_ws(c) || c >= 0x80 || c == '!' || (c >= '#' && c <= '&') ||
	    (c >= '(' && c <= '+') || (c >= '-' && c <= '\\') ||
	    (c >= '^' && c <= '|') || c >= '~';
}

/* _SECOND_FOLLOW_CHARS: blanks allowed; no quotes, ',' or '='. */
static bool
is_second_follow(unsigned char c)
{
	return is_ws(c) || c >= 0x80 || c == '!' || (c >= '#' && c <= '&') ||
	    (c >= '(' && c <= '+') || (c >= '-' && c <= '<') || c >= '>';
}

static int
sh_current(const struct sh *p)
{
	return p->i < p->len ? (unsigned char)p->s[p->i] : EOF;
}

static void
sh_ws(struct sh *p)
{
	while (p->i < p->len && is_ws((unsigned char)p->s[p->i]))
		p->i++;
}

/* The input with a caret under position at, as awscli prints it. */
static char *
sh_location(const struct sh *p, size_t at)
{
	size_t spaces = at, line_end = p->len;
	_cleanup_free_ char *pad = NULL;

	for (size_t k = at; k > 0; k--)
		if (p->s[k - 1] == '\n') {
			spaces = at - k;
			break;
		}
	for (size_t k = at; k < p->len; k++)
		if (p->s[k] == '\n') {
			line_end = k;
			break;
		}
	pad = xmalloc(spaces + 1);
	memset(pad, ' ', spaces);
	pad[spaces] = '\0';
	return xasprintf("%.*s\n%s^%s", (int)line_end, p->s, pad,
	    p->s + line_end);
}

static int
sh_fail(struct sh *p, const char *expected, const char *actual)
{
	_cleanup_free_ char *loc = sh_location(p, p->i);

	free(p->err);
	p->err = xasprintf("Expected: '%s', received: '%s' for input:\n%s",
	    expected, actual, loc);
	return -EINVAL;
}

static int
sh_expect(struct sh *p, char c, bool ws)
{
	char expected[2] = { c, '\0' }, actual[2] = { 0 };

	if (ws)
		sh_ws(p);
	if (p->i >= p->len)
		return sh_fail(p, expected, "EOF");
	if (p->s[p->i] != c) {
		actual[0] = p->s[p->i];
		return sh_fail(p, expected, actual);
	}
	p->i++;
	if (ws)
		sh_ws(p);
	return 0;
}

/* Length of (\\,|[start])(\\,|[follow])* at s. */
static size_t
match_word(const char *s, size_t n, bool (*follow)(unsigned char))
{
	size_t i;

	if (n >= 2 && s[0] == '\\' && s[1] == ',')
		i = 2;
	else if (n >= 1 && is_start((unsigned char)s[0]))
		i = 1;
	else
		return 0;
	while (i < n) {
		if (i + 1 < n && s[i] == '\\' && s[i + 1] == ',')
			i += 2;
		else if (follow((unsigned char)s[i]))
			i++;
		else
			break;
	}
	return i;
}

/* Replaces every "from" (two characters) with the character to. */
static char *
unescape_pair(const char *s, size_t n, const char *from, char to)
{
	char *out = xmalloc(n + 1);
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && s[i] == from[0] && s[i + 1] == from[1]) {
			out[o++] = to;
			i++;
		} else
			out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

/* A finished scalar: from a file when "key@=" asked for it. */
static json_t *
sh_scalar(struct sh *p, char *text)
{
	_cleanup_free_ char *owned = text;
	char *data = NULL;
	size_t len = 0;
	bool binary;
	json_t *v;
	int r;

	if (p->resolve) {
		r = args_paramfile(owned, &data, &len, &binary, &p->err);
		if (r < 0)
			return NULL;
		if (r > 0) {
			v = json_stringn(data, len);
			secret_free(data, len);
			if (v == NULL)
				p->err = xasprintf("Contents of %s are not "
						   "UTF-8 text", owned);
			return v;
		}
	}
	v = json_string(owned);
	if (v == NULL)
		p->err = xstrdup("Shorthand values must be UTF-8 text");
	return v;
}

/* A bare value: "\," becomes ",", trailing blanks go. */
static json_t *
sh_bare(struct sh *p, size_t n)
{
	char *v = unescape_pair(p->s + p->i, n, "\\,", ',');
	size_t l = strlen(v);

	p->i += n;
	while (l > 0 && is_ws((unsigned char)v[l - 1]))
		v[--l] = '\0';
	return sh_scalar(p, v);
}

/*
 * A quoted value: '(?:\\'|[^'])*'. Should the greedy scan find no closing
 * quote, the regex would backtrack to the last \' and close there.
 */
static json_t *
sh_quoted(struct sh *p)
{
	char q = p->s[p->i], esc[3] = { '\\', q, '\0' };
	size_t i = p->i + 1, last_pair = 0;
	_cleanup_free_ char *a = NULL, *b = NULL;
	char name[24];

	while (i < p->len) {
		if (p->s[i] == '\\' && i + 1 < p->len && p->s[i + 1] == q) {
			last_pair = i;
			i += 2;
		} else if (p->s[i] != q)
			i++;
		else
			break;
	}
	if (i >= p->len) {
		if (last_pair == 0) {
			snprintf(name, sizeof(name), "<%s quoted>",
			    q == '"' ? "double" : "singled");
			return sh_fail(p, name, "<none>"), NULL;
		}
		i = last_pair + 1;
	}
	a = unescape_pair(p->s + p->i + 1, i - p->i - 1, esc, q);
	b = unescape_pair(a, strlen(a), "\\\\", '\\');
	p->i = i + 1;
	return sh_scalar(p, TAKE_PTR(b));
}

static json_t *
sh_first_value(struct sh *p)
{
	int c = sh_current(p);

	if (c == '\'' || c == '"')
		return sh_quoted(p);
	return sh_bare(p, match_word(p->s + p->i, p->len - p->i,
			      is_first_follow));
}

static json_t *
sh_second_value(struct sh *p)
{
	int c = sh_current(p);
	size_t n;

	if (c == '\'' || c == '"')
		return sh_quoted(p);
	n = match_word(p->s + p->i, p->len - p->i, is_second_follow);
	if (n == 0)
		return sh_fail(p, "<second>", "<none>"), NULL;
	return sh_bare(p, n);
}

static json_t *sh_explicit_list(struct sh *p);
static json_t *sh_hash_literal(struct sh *p);

static json_t *
sh_explicit_value(struct sh *p)
{
	if (sh_current(p) == '[')
		return sh_explicit_list(p);
	if (sh_current(p) == '{')
		return sh_hash_literal(p);
	return sh_first_value(p);
}

static json_t *
sh_explicit_list(struct sh *p)
{
	_cleanup_json_ json_t *list = json_array();

	if (sh_expect(p, '[', true) < 0)
		return NULL;
	while (sh_current(p) != ']') {
		json_t *v = sh_explicit_value(p);

		if (v == NULL)
			return NULL;
		json_array_append_new(list, v);
		sh_ws(p);
		if (sh_current(p) != ']') {
			if (sh_expect(p, ',', false) < 0)
				return NULL;
			sh_ws(p);
		}
	}
	if (sh_expect(p, ']', false) < 0)
		return NULL;
	return TAKE_PTR(list);
}

static const char *
sh_key(struct sh *p, size_t *n)
{
	size_t start = p->i;

	while (p->i < p->len && (isalnum((unsigned char)p->s[p->i]) ||
				    strchr("-_.#/:", p->s[p->i])))
		p->i++;
	*n = p->i - start;
	return p->s + start;
}

/* The optional '@' of "key@=value", then '='. */
static int
sh_assign(struct sh *p)
{
	sh_ws(p);
	p->resolve = false;
	if (sh_current(p) == '@') {
		p->i++;
		p->resolve = true;
	}
	return sh_expect(p, '=', true);
}

static json_t *
sh_hash_literal(struct sh *p)
{
	_cleanup_json_ json_t *obj = json_object();

	if (sh_expect(p, '{', true) < 0)
		return NULL;
	while (sh_current(p) != '}') {
		_cleanup_free_ char *key = NULL;
		size_t kn;
		const char *k = sh_key(p, &kn);
		json_t *v;

		key = xstrndup(k, kn);
		if (sh_assign(p) < 0 || (v = sh_explicit_value(p)) == NULL)
			return NULL;
		sh_ws(p);
		if (sh_current(p) != '}') {
			if (sh_expect(p, ',', false) < 0) {
				json_decref(v);
				return NULL;
			}
			sh_ws(p);
		}
		json_object_set_new(obj, key, v);
	}
	if (sh_expect(p, '}', false) < 0)
		return NULL;
	return TAKE_PTR(obj);
}

/* "a,b,c" after '=': one value, or a list when commas follow. */
static json_t *
sh_csv_value(struct sh *p)
{
	_cleanup_json_ json_t *first = sh_first_value(p), *list = NULL;

	if (first == NULL)
		return NULL;
	sh_ws(p);
	if (sh_current(p) != ',')
		return TAKE_PTR(first);
	if (sh_expect(p, ',', true) < 0)
		return NULL;
	list = json_array();
	json_array_append(list, first);
	for (;;) {
		json_t *v = sh_second_value(p);

		if (v != NULL) {
			sh_ws(p);
			if (p->i >= p->len) {
				json_array_append_new(list, v);
				break;
			}
			if (sh_expect(p, ',', true) == 0) {
				json_array_append_new(list, v);
				continue;
			}
			json_decref(v);
		}
		/* Not a list item: "c=d" begins the next key. */
		if (p->i >= p->len)
			return NULL;
		free(p->err);
		p->err = NULL;
		while (p->i > 0 && p->s[p->i] != ',')
			p->i--;
		break;
	}
	if (json_array_size(list) == 1)
		return TAKE_PTR(first);
	return TAKE_PTR(list);
}

static json_t *
sh_values(struct sh *p)
{
	if (p->i >= p->len)
		return json_string("");
	if (sh_current(p) == '[')
		return sh_explicit_list(p);
	if (sh_current(p) == '{')
		return sh_hash_literal(p);
	return sh_csv_value(p);
}

int
args_shorthand_parse(const char *text, json_t **ret, char **reterr_msg)
{
	struct sh p = { .s = text, .len = strlen(text) };
	_cleanup_json_ json_t *obj = json_object();
	size_t last = 0;

	for (bool first = true; first || p.i < p.len; first = false) {
		_cleanup_free_ char *key = NULL;
		size_t kn;
		const char *k;
		json_t *v;

		if (!first && sh_expect(&p, ',', true) < 0)
			break;
		k = sh_key(&p, &kn);
		key = xstrndup(k, kn);
		if (sh_assign(&p) < 0 || (v = sh_values(&p)) == NULL)
			break;
		if (json_object_get(obj, key)) {
			json_decref(v);
			p.i = last + 1;
			_cleanup_free_ char *loc = sh_location(&p, p.i);
			p.err = xasprintf("Second instance of key \"%s\" "
					  "encountered for input:\n%s\nThis is "
					  "often because there is a preceding "
					  "\",\" instead of a space.",
			    key, loc);
			break;
		}
		json_object_set_new(obj, key, v);
		last = p.i;
	}
	if (p.err) {
		*reterr_msg = p.err;
		return -EINVAL;
	}
	*ret = TAKE_PTR(obj);
	return 0;
}

/* Shape-driven fix-ups. */

static int coerce(json_t **v, const struct shape *s, const char *name,
    char **reterr_msg);

static int
coerce_struct(json_t *obj, const struct shape *s, char **reterr_msg)
{
	if (!json_is_object(obj))
		return 0;
	for (const struct shape_member *m = s->members; m->name; m++) {
		json_t *x = json_object_get(obj, m->name);
		int r;

		if (x == NULL)
			continue;
		json_incref(x);
		r = coerce(&x, m->shape, m->name, reterr_msg);
		json_object_set_new(obj, m->name, x);
		if (r < 0)
			return r;
	}
	return 0;
}

static int
coerce(json_t **v, const struct shape *s, const char *name,
    char **reterr_msg)
{
	json_int_t n;

	switch (s->type) {
	case SHAPE_STRUCT:
		return coerce_struct(*v, s, reterr_msg);
	case SHAPE_LIST:
		if (!json_is_array(*v)) {
			json_t *list = json_array();

			json_array_append_new(list, *v);
			*v = list;
		}
		for (size_t i = 0; i < json_array_size(*v); i++) {
			json_t *x = json_incref(json_array_get(*v, i));
			int r = coerce(&x, s->member, name, reterr_msg);

			json_array_set_new(*v, i, x);
			if (r < 0)
				return r;
		}
		return 0;
	case SHAPE_INTEGER:
		if (!json_is_string(*v))
			return 0;
		if (args_parse_integer(json_string_value(*v), &n) < 0) {
			*reterr_msg = xasprintf("Invalid integer value for %s: "
						"'%s'",
			    name, json_string_value(*v));
			return -EINVAL;
		}
		json_decref(*v);
		*v = json_integer(n);
		return 0;
	case SHAPE_BOOLEAN:
		if (json_is_string(*v) &&
		    strcasecmp(json_string_value(*v), "true") == 0) {
			json_decref(*v);
			*v = json_true();
		} else if (json_is_string(*v) &&
		    strcasecmp(json_string_value(*v), "false") == 0) {
			json_decref(*v);
			*v = json_false();
		}
		return 0;
	case SHAPE_STRING:
	case SHAPE_BLOB:
		return 0;
	}
	return 0;
}

int
args_shorthand_coerce(json_t **value, const struct shape *shape,
    char **reterr_msg)
{
	return coerce(value, shape, "value", reterr_msg);
}

