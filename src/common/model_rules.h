/*
 * model_rules.h: the length and pattern constraints of ACM's service model
 * for the strings the API accepts, reported in the words AWS uses:
 *
 *   1 validation error detected: Value 'x' at 'tags.1.member.key' failed to
 *   satisfy constraint: Member must satisfy regular expression pattern: ...
 *
 * AWS lists every violation of a request in one ValidationException, so the
 * checks append to a struct model_errors that the caller turns into the
 * message once all fields are checked. The patterns are compiled once by
 * model_rules_new(); matching is safe from many threads at once.
 */
#ifndef CERTFLEET_COMMON_MODEL_RULES_H
#define CERTFLEET_COMMON_MODEL_RULES_H

#include <stddef.h>

#include "common/cleanup.h"

struct model_rules;

/* Violations found so far; zero-initialise it (MODEL_ERRORS_INIT). */
struct model_errors {
	size_t count;
	char *text; /* "Value ... constraint: ...; Value ..." or NULL */
};
#define MODEL_ERRORS_INIT { 0, NULL }

/* NULL only if a built-in pattern fails to compile, which is a bug. */
struct model_rules *model_rules_new(void);
void model_rules_free(struct model_rules *r);

/* Frees the collected text and resets the count. */
void model_errors_clear(struct model_errors *e);
static inline void
model_errors_clearp(struct model_errors *e)
{
	model_errors_clear(e);
}
#define _cleanup_model_errors_ _cleanup_(model_errors_clearp)

/*
 * Appends "Value '<value>' at '<where>' failed to satisfy constraint:
 * <constraint>"; a NULL value is written "Value null at '<where>' ...", as
 * AWS does for "Member must not be null".
 */
void model_errors_add(struct model_errors *e, const char *value,
    const char *where, const char *constraint);

/*
 * The ValidationException message: "1 validation error detected: A" or
 * "N validation errors detected: A; B; ...". malloc'd; NULL when none.
 */
char *model_errors_message(const struct model_errors *e);

/* Unicode characters in a UTF-8 string, the unit of the model's lengths. */
size_t model_utf8_length(const char *s);

/*
 * Each check below returns 0, or -EINVAL after appending its violations
 * (length first, then pattern) to e. `where` is the member's path in AWS
 * style: "certificateArn", "tags.1.member.key", "domainName",
 * "subjectAlternativeNames.2.member", "idempotencyToken", "nextToken".
 */

/*
 * "Member must have length greater than or equal to <min>" /
 * "Member must have length less than or equal to <max>".
 */
int model_check_length(const char *value, const char *where, size_t min,
    size_t max, struct model_errors *e);

/* "Member must satisfy enum value set: [A, B, C]"; allowed is NULL-terminated. */
int model_check_enum(const char *value, const char *where,
    const char *const *allowed, struct model_errors *e);

/* Arn: 20..2048, arn:[\w+=/,.@-]+:acm:[\w+=/,.@-]*:[0-9]+:[\w+=,.@-]+(/[\w+=,.@-]+)* */
int model_check_arn(const struct model_rules *r, const char *value,
    const char *where, struct model_errors *e);
/* TagKey: 1..128, [\p{L}\p{Z}\p{N}_.:\/=+\-@]* */
int model_check_tag_key(const struct model_rules *r, const char *value,
    const char *where, struct model_errors *e);
/* TagValue: 0..256, same pattern as TagKey. */
int model_check_tag_value(const struct model_rules *r, const char *value,
    const char *where, struct model_errors *e);
/* DomainNameString: 1..253, labels of letters, digits and inner hyphens, optional "*." */
int model_check_domain_name(const struct model_rules *r, const char *value,
    const char *where, struct model_errors *e);
/* IdempotencyToken: 1..32, \w+ */
int model_check_idempotency_token(const struct model_rules *r,
    const char *value, const char *where, struct model_errors *e);
/* NextToken: 1..10000, [\u0009\u000A\u000D\u0020-\u00FF]* */
int model_check_next_token(const struct model_rules *r, const char *value,
    const char *where, struct model_errors *e);

/*
 * The service-level rule on tag keys, checked after the model's: a key
 * starting with "aws:" in any case is refused with -EINVAL and the
 * InvalidTagException message "Tags beginning with aws: are reserved".
 */
int model_check_tag_key_reserved(const char *key, char **reterr_msg) _wur_;

#endif
