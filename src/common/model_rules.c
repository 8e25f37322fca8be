/*
 * model_rules.c: ACM's shape constraints, checked the way the AWS service
 * framework checks them before an action runs. The patterns are copied
 * verbatim from the service model (so messages quote exactly what AWS
 * quotes) and compiled with PCRE2 in UTF mode, anchored at both ends since
 * the model's patterns must match the whole value. \w stays ASCII (no
 * PCRE2_UCP) as in the Java regexes the model is written for; \p{L} and
 * friends are Unicode properties regardless. \uXXXX escapes (NextToken)
 * need PCRE2_EXTRA_ALT_BSUX.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "common/log.h"
#include "common/model_rules.h"
#include "common/xmalloc.h"

enum rule_id {
	RULE_ARN,
	RULE_TAG,
	RULE_DOMAIN,
	RULE_TOKEN,
	RULE_NEXT_TOKEN,
	RULE_MAX,
};

struct rule {
	const char *pattern; /* as in the model, and as quoted in messages */
	size_t min, max;     /* length bounds in characters */
};

static const struct rule rules_table[RULE_MAX] = {
	[RULE_ARN] = { "arn:[\\w+=/,.@-]+:acm:[\\w+=/,.@-]*:[0-9]+:"
		       "[\\w+=,.@-]+(/[\\w+=,.@-]+)*",
	    20, 2048 },
	[RULE_TAG] = { "[\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@]*", 0, 0 },
	[RULE_DOMAIN] = { "(\\*\\.)?(((?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9])\\.)+"
			  "((?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9])",
	    1, 253 },
	[RULE_TOKEN] = { "\\w+", 1, 32 },
	[RULE_NEXT_TOKEN] = { "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]*", 1,
	    10000 },
};

struct model_rules {
	pcre2_code *code[RULE_MAX];
};

static pcre2_code *
compile_one(const char *pattern, pcre2_compile_context *cctx)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	pcre2_code *code;
	int err;

	code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_ANCHORED | PCRE2_ENDANCHORED, &err, &off, cctx);
	if (code == NULL) {
		pcre2_get_error_message(err, msg, sizeof(msg));
		log_debug("model pattern %s at offset %zu: %s", pattern,
		    (size_t)off, (const char *)msg);
	}
	return code;
}

struct model_rules *
model_rules_new(void)
{
	struct model_rules *r = xcalloc(1, sizeof(*r));
	pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);

	if (cctx == NULL ||
	    pcre2_set_compile_extra_options(cctx, PCRE2_EXTRA_ALT_BSUX) != 0)
		goto fail;
	for (int i = 0; i < RULE_MAX; i++)
		if ((r->code[i] = compile_one(rules_table[i].pattern, cctx)) ==
		    NULL)
			goto fail;
	pcre2_compile_context_free(cctx);
	return r;
fail:
	pcre2_compile_context_free(cctx);
	model_rules_free(r);
	return NULL;
}

void
model_rules_free(struct model_rules *r)
{
	if (r == NULL)
		return;
	for (int i = 0; i < RULE_MAX; i++)
		pcre2_code_free(r->code[i]);
	free(r);
}

void
model_errors_clear(struct model_errors *e)
{
	if (e == NULL)
		return;
	free(e->text);
	e->text = NULL;
	e->count = 0;
}

void
model_errors_add(struct model_errors *e, const char *value, const char *where,
    const char *constraint)
{
	_cleanup_free_ char *item = NULL;
	char *joined;

	if (value)
		item = xasprintf("Value '%s' at '%s' failed to satisfy "
				 "constraint: %s",
		    value, where, constraint);
	else
		item = xasprintf("Value null at '%s' failed to satisfy "
				 "constraint: %s",
		    where, constraint);
	joined = e->text ? xasprintf("%s; %s", e->text, item) : TAKE_PTR(item);
	free(e->text);
	e->text = joined;
	e->count++;
}

char *
model_errors_message(const struct model_errors *e)
{
	if (e == NULL || e->count == 0)
		return NULL;
	return xasprintf("%zu validation error%s detected: %s", e->count,
	    e->count == 1 ? "" : "s", e->text);
}

size_t
model_utf8_length(const char *s)
{
	size_t n = 0;

	/* Counts every byte that does not continue a sequence. */
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

int
model_check_length(const char *value, const char *where, size_t min,
    size_t max, struct model_errors *e)
{
	size_t n = model_utf8_length(value);
	char constraint[96];

	if (n < min)
		snprintf(constraint, sizeof(constraint),
		    "Member must have length greater than or equal to %zu",
		    min);
	else if (n > max)
		snprintf(constraint, sizeof(constraint),
		    "Member must have length less than or equal to %zu", max);
	else
		return 0;
	model_errors_add(e, value, where, constraint);
	return -EINVAL;
}

int
model_check_enum(const char *value, const char *where,
    const char *const *allowed, struct model_errors *e)
{
	_cleanup_free_ char *set = NULL;
	_cleanup_free_ char *constraint = NULL;

	for (size_t i = 0; allowed[i]; i++) {
		if (strcmp(value, allowed[i]) == 0)
			return 0;
	}
	for (size_t i = 0; allowed[i]; i++) {
		char *next = set ? xasprintf("%s, %s", set, allowed[i]) :
				   xstrdup(allowed[i]);

		free(set);
		set = next;
	}
	constraint = xasprintf("Member must satisfy enum value set: [%s]",
	    set ? set : "");
	model_errors_add(e, value, where, constraint);
	return -EINVAL;
}

/* True when the whole value matches; a match data per call keeps it thread-safe. */
static bool
rule_matches(const struct model_rules *r, enum rule_id id, const char *value)
{
	pcre2_match_data *md;
	int rc;

	md = pcre2_match_data_create_from_pattern(r->code[id], NULL);
	if (md == NULL)
		return false;
	rc = pcre2_match(r->code[id], (PCRE2_SPTR)value, strlen(value), 0, 0,
	    md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

static int
check_rule(const struct model_rules *r, enum rule_id id, size_t min,
    size_t max, const char *value, const char *where, struct model_errors *e)
{
	_cleanup_free_ char *constraint = NULL;
	int ret;

	ret = model_check_length(value, where, min, max, e);
	if (!rule_matches(r, id, value)) {
		constraint = xasprintf("Member must satisfy regular expression "
				       "pattern: %s",
		    rules_table[id].pattern);
		model_errors_add(e, value, where, constraint);
		ret = -EINVAL;
	}
	return ret;
}

int
model_check_arn(const struct model_rules *r, const char *value,
    const char *where, struct model_errors *e)
{
	return check_rule(r, RULE_ARN, rules_table[RULE_ARN].min,
	    rules_table[RULE_ARN].max, value, where, e);
}

int
model_check_tag_key(const struct model_rules *r, const char *value,
    const char *where, struct model_errors *e)
{
	return check_rule(r, RULE_TAG, 1, 128, value, where, e);
}

int
model_check_tag_value(const struct model_rules *r, const char *value,
    const char *where, struct model_errors *e)
{
	return check_rule(r, RULE_TAG, 0, 256, value, where, e);
}

int
model_check_domain_name(const struct model_rules *r, const char *value,
    const char *where, struct model_errors *e)
{
	return check_rule(r, RULE_DOMAIN, rules_table[RULE_DOMAIN].min,
	    rules_table[RULE_DOMAIN].max, value, where, e);
}

int
model_check_idempotency_token(const struct model_rules *r, const char *value,
    const char *where, struct model_errors *e)
{
	return check_rule(r, RULE_TOKEN, rules_table[RULE_TOKEN].min,
	    rules_table[RULE_TOKEN].max, value, where, e);
}

int
model_check_next_token(const struct model_rules *r, const char *value,
    const char *where, struct model_errors *e)
{
	return check_rule(r, RULE_NEXT_TOKEN, rules_table[RULE_NEXT_TOKEN].min,
	    rules_table[RULE_NEXT_TOKEN].max, value, where, e);
}

int
model_check_tag_key_reserved(const char *key, char **reterr_msg)
{
	if (strncasecmp(key, "aws:", 4) != 0)
		return 0;
	if (reterr_msg)
		*reterr_msg = xstrdup("Tags beginning with aws: are reserved");
	return -EINVAL;
}
