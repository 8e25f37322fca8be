/*
 * input.h: reading an action's request members against ACM's model.
 *
 * Checks accumulate, as AWS reports them ("2 validation errors detected:
 * ..."): read every member, then call input_finish(), which turns collected
 * violations into one ValidationException. A member of the wrong JSON type
 * is a SerializationException at once; a malformed ARN an
 * InvalidArnException.
 */
#ifndef CERTFLEET_API_INPUT_H
#define CERTFLEET_API_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/model_rules.h"

struct api_call;

struct input {
	struct api_call *call;
	const json_t *obj;		/* the object members are read from */
	const char *path;		/* AWS path prefix, "" at top level */
	struct model_errors errors;
	const char *fatal_type;		/* SerializationException, ... */
	char *fatal_message;
};

void input_init(struct input *in, struct api_call *call);
/* Reads members of a nested object: path like "tags.1.member". */
void input_init_nested(struct input *in, const struct input *parent,
    const json_t *obj, const char *path);
/* 0 when every check passed; else records the exception, returns -1. */
int input_finish(struct input *in);
/* Moves a nested reader's findings into its parent. */
void input_merge(struct input *parent, struct input *child);

/* A string member; NULL when absent (recorded if required) or invalid. */
const char *input_string(struct input *in, const char *member, bool required,
    size_t min, size_t max);
/* A string member that must be one of allowed (NULL-terminated). */
const char *input_enum(struct input *in, const char *member, bool required,
    const char *const *allowed);
/* A certificate ARN: required; malformed means InvalidArnException. */
const char *input_arn(struct input *in, const char *member);
/* An integer member; false when absent or invalid. */
bool input_int(struct input *in, const char *member, bool required,
    int64_t min, int64_t max, int64_t *out);
/* A base64 blob, decoded; NULL when absent or invalid. Caller frees. */
unsigned char *input_blob(struct input *in, const char *member, bool required,
    size_t min, size_t max, size_t *len);
/* An array or object member, type-checked; borrowed. */
const json_t *input_array(struct input *in, const char *member,
    bool required, size_t min, size_t max);
const json_t *input_object(struct input *in, const char *member,
    bool required);
/* The AWS path of member in this reader ("certificateArn", "tags.1..."). */
char *input_where(const struct input *in, const char *member);
/* Records a fatal exception of the given type (first one wins). */
void input_fatal(struct input *in, const char *type, const char *fmt, ...)
	_printf_(3, 4);

#endif
