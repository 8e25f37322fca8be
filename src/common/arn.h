/*
 * arn.h: ACM resource names, arn:<partition>:acm:<region>:<account>:
 * certificate/<id> (and binding/<id>), built for new resources and parsed
 * from API input, plus the random UUIDs that name them.
 */
#ifndef CERTFLEET_COMMON_ARN_H
#define CERTFLEET_COMMON_ARN_H

#include "common/cleanup.h"

/* The model's length bounds for the Arn shape. */
#define ARN_MIN_LENGTH 20
#define ARN_MAX_LENGTH 2048

struct arn_parts {
	char partition[64];
	char region[64];	/* may be empty: the pattern allows it */
	char account[32];	/* digits only */
	char resource_type[32]; /* "certificate" or "binding" */
	char resource_id[64];	/* the part after the slash, usually a UUID */
};

/* Returns a malloc'd "arn:P:acm:R:A:TYPE/ID"; never NULL (OOM is fatal). */
char *arn_build(const char *partition, const char *region,
    const char *account, const char *resource_type, const char *uuid);

/*
 * Parses an ARN. Returns 0, or -EINVAL with *reterr_msg (when not NULL)
 * set to ACM's InvalidArnException text "String '<arn>' is not a valid
 * ARN." when the text is outside the Arn shape's length (20..2048) or
 * pattern, names another service than acm, or its resource is not
 * certificate/<id> or binding/<id> with a single non-empty id. Another
 * region or account parses fine: that is the caller's ResourceNotFound.
 */
int arn_parse(const char *arn, struct arn_parts *out, char **reterr_msg) _wur_;

/* Writes a random (version 4) lower-case UUID and its NUL. */
void uuid_v4(char out[37]);
/* A time-ordered UUID (version 7: milliseconds since the epoch, then
 * random bits), for keys that are inserted in time order: an index on
 * them grows at its right edge instead of everywhere. */
void uuid_v7(char out[37]);

#endif
