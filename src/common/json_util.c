/*
 * json_util.c: typed member look-ups over jansson objects.
 */
#include "common/json_util.h"

static json_t *
member(const json_t *obj, const char *key)
{
	if (!json_is_object(obj))
		return NULL;
	return json_object_get(obj, key);
}

const char *
json_get_string(const json_t *obj, const char *key)
{
	json_t *v = member(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

bool
json_get_int(const json_t *obj, const char *key, int64_t *out)
{
	json_t *v = member(obj, key);

	if (!json_is_integer(v))
		return false;
	*out = (int64_t)json_integer_value(v);
	return true;
}

bool
json_get_bool(const json_t *obj, const char *key, bool *out)
{
	json_t *v = member(obj, key);

	if (!json_is_boolean(v))
		return false;
	*out = json_is_true(v);
	return true;
}

void
json_util_make_utf8(char *s)
{
	json_t *valid;

	if (s == NULL)
		return;
	/* jansson checks UTF-8 when it makes a string. */
	if ((valid = json_string(s)) != NULL) {
		json_decref(valid);
		return;
	}
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}
