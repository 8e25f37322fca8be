/*
 * json_util.h: the few jansson helpers the daemon and the CLI share: a
 * cleanup attribute for json_t locals and typed member look-ups that
 * answer "absent or of another type" with one NULL/false instead of a
 * json_is_* check at every call site.
 */
#ifndef CERTFLEET_COMMON_JSON_UTIL_H
#define CERTFLEET_COMMON_JSON_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "common/cleanup.h"

/* jansson's own json_decrefp, the cleanup behind its json_auto_t. */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* The string member `key` of obj, or NULL if obj is not an object, the member is absent or not a string. */
const char *json_get_string(const json_t *obj, const char *key);

/* Sets *out and returns true when member `key` is an integer; false otherwise (out untouched). */
bool json_get_int(const json_t *obj, const char *key, int64_t *out);

/* Sets *out and returns true when member `key` is a boolean. */
bool json_get_bool(const json_t *obj, const char *key, bool *out);

/*
 * Makes s valid UTF-8 in place, for text that ends up in JSON or in a
 * PostgreSQL text column (a client's User-Agent, a process name): if it
 * is not valid already, every byte outside printable ASCII becomes '?'.
 */
void json_util_make_utf8(char *s);

#endif
