/*
 * args.h: turning the words that follow one command-line option into the
 * JSON value of a request member, the way the AWS CLI does it: plain
 * strings, integers, blobs from fileb:// (base64 in the JSON, as the AWS
 * JSON protocol carries blobs), file:// contents, lists, the AWS shorthand
 * syntax (Key=Env,Value=Prod, keyTypes=[A,B], {a=b}) and JSON text.
 *
 * A small shape model (string, integer, boolean, blob, list, structure)
 * drives the conversion and the client-side validation that botocore does:
 * required members, unknown members and types. Everything here is pure: no
 * output, no daemon, no global state.
 */
#ifndef CERTFLEET_CLI_ARGS_H
#define CERTFLEET_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "common/cleanup.h"

/* jansson's own json_decrefp (behind json_auto_t) frees a local. */
#ifndef _cleanup_json_
#define _cleanup_json_ _cleanup_(json_decrefp)
#endif

enum shape_type {
	SHAPE_STRING,
	SHAPE_INTEGER,
	SHAPE_BOOLEAN,
	SHAPE_BLOB,	/* bytes; base64 text in the JSON body */
	SHAPE_LIST,
	SHAPE_STRUCT,
};

struct shape_member;

struct shape {
	enum shape_type type;
	const struct shape *member;		/* SHAPE_LIST: element shape */
	const struct shape_member *members;	/* SHAPE_STRUCT: NULL name ends */
};

/*
 * A member of a structure. A command's options are the members of its
 * request structure, so the same record serves both.
 */
struct shape_member {
	const char *name;		/* JSON member name, e.g. "CertificateArn" */
	const struct shape *shape;
	bool required;
	const char *doc;		/* one line for --help; may be NULL */
};

/*
 * How blob values that are not fileb:// are read. AWS CLI v2's default,
 * BINARY_BASE64, takes them as base64 text; raw-in-base64-out takes their
 * bytes as they are.
 */
enum binary_format {
	BINARY_BASE64,
	BINARY_RAW_IN_BASE64_OUT,
};

/* "CertificateArn" -> "certificate-arn", as botocore's xform_name does. */
char *args_kebab(const char *name);

/* "string", "integer", "boolean", "blob", "list", "structure". */
const char *shape_type_name(enum shape_type type);

/* The member called name in a structure's NULL-terminated list, or NULL. */
const struct shape_member *shape_find_member(const struct shape_member *m,
    const char *name);

/*
 * Resolves "file://PATH" (text) and "fileb://PATH" (raw bytes); a leading
 * "~/" in PATH means $HOME. Returns 1 with the contents in *data (NUL-added,
 * *len bytes; free with secret_free(*data, *len)) and *binary set for
 * fileb://, 0 when value names no file, or a negative errno with a message
 * that names the path (never the contents).
 */
int args_paramfile(const char *value, char **data, size_t *len, bool *binary,
    char **reterr_msg) _wur_;

/* A whole-string decimal integer; -EINVAL for anything else or overflow. */
int args_parse_integer(const char *s, json_int_t *ret) _wur_;

/*
 * Parses one shorthand word ("Key=Env,Value=Prod") into a JSON object of
 * strings, arrays and objects, purely by syntax, like awscli's
 * ShorthandParser. "key@=file://x" takes the value from a file.
 */
int args_shorthand_parse(const char *text, json_t **ret, char **reterr_msg)
	_wur_;

/*
 * Adjusts a parsed shorthand value to its shape, like awscli's
 * BackCompatVisitor: a scalar where a list belongs becomes a one-element
 * list, strings where integers or booleans belong are converted.
 */
int args_shorthand_coerce(json_t **value, const struct shape *shape,
    char **reterr_msg) _wur_;

/*
 * The JSON value of an option of the given shape from the n words that
 * followed it. Errors come back with a message meant to follow
 * "Error parsing parameter '--x': ".
 */
int args_value(const struct shape *shape, const char *const *words, size_t n,
    enum binary_format bf, json_t **ret, char **reterr_msg) _wur_;

/*
 * Checks a request against its members as botocore's ParamValidator does.
 * Returns 0, or -EINVAL with the "Parameter validation failed:" report.
 */
int args_validate(const json_t *request, const struct shape_member *members,
    char **reterr_msg) _wur_;

/* The skeleton --generate-cli-skeleton prints: "" for strings, 0, [x]... */
json_t *args_skeleton(const struct shape_member *members);

#endif
