/*
 * arn.c: ACM ARNs. The model's pattern for the Arn shape is
 *   arn:[\w+=/,.@-]+:acm:[\w+=/,.@-]*:[0-9]+:[\w+=,.@-]+(/[\w+=,.@-]+)*
 * None of its character classes contains ':', so the ARN splits on exactly
 * five colons and each field is checked against its class here, without a
 * regex engine; the unit tests hold this against the compiled pattern in
 * model_rules.c.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "common/arn.h"
#include "common/xmalloc.h"

/* "\w" here is ASCII, as in the Java regexes the AWS model is written for. */
static bool
is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/* [\w+=,.@-], the class of a resource segment; with_slash adds '/'. */
static bool
is_arn_char(char c, bool with_slash)
{
	return is_word(c) || strchr("+=,.@-", c) != NULL ||
	    (with_slash && c == '/');
}

static bool
span_all(const char *s, size_t n, bool with_slash)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0' || !is_arn_char(s[i], with_slash))
			return false;
	return true;
}

static bool
span_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Copies n bytes into a field of size cap; false when it does not fit. */
static bool
copy_field(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		return false;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return true;
}

/* Splits on ':' into exactly six fields; false for any other count. */
static bool
split_fields(const char *arn, const char *f[6], size_t len[6])
{
	const char *p = arn;

	for (int i = 0; i < 6; i++) {
		const char *c = i < 5 ? strchr(p, ':') : NULL;

		f[i] = p;
		len[i] = c ? (size_t)(c - p) : strlen(p);
		if (i < 5 && c == NULL)
			return false;
		p = c ? c + 1 : p;
	}
	return strchr(f[5], ':') == NULL;
}

/* The resource: TYPE/ID, TYPE one of ours, ID one pattern segment. */
static bool
parse_resource(const char *r, size_t n, struct arn_parts *out)
{
	const char *slash = memchr(r, '/', n);
	size_t tlen, ilen;

	if (slash == NULL)
		return false;
	tlen = (size_t)(slash - r);
	ilen = n - tlen - 1;
	if (tlen == 0 || ilen == 0 || !span_all(r, tlen, false) ||
	    !span_all(slash + 1, ilen, false))
		return false;
	if (!copy_field(out->resource_type, sizeof(out->resource_type), r,
		tlen) ||
	    !copy_field(out->resource_id, sizeof(out->resource_id), slash + 1,
		ilen))
		return false;
	return strcmp(out->resource_type, "certificate") == 0 ||
	    strcmp(out->resource_type, "binding") == 0;
}

static bool
arn_valid(const char *arn, struct arn_parts *out)
{
	const char *f[6];
	size_t len[6], total = strlen(arn);

	if (total < ARN_MIN_LENGTH || total > ARN_MAX_LENGTH)
		return false;
	if (!split_fields(arn, f, len))
		return false;
	if (len[0] != 3 || strncmp(f[0], "arn", 3) != 0 || len[1] == 0 ||
	    !span_all(f[1], len[1], true) || len[2] != 3 ||
	    strncmp(f[2], "acm", 3) != 0 || !span_all(f[3], len[3], true) ||
	    len[4] == 0 || !span_digits(f[4], len[4]))
		return false;
	if (!copy_field(out->partition, sizeof(out->partition), f[1], len[1]) ||
	    !copy_field(out->region, sizeof(out->region), f[3], len[3]) ||
	    !copy_field(out->account, sizeof(out->account), f[4], len[4]))
		return false;
	return parse_resource(f[5], len[5], out);
}

int
arn_parse(const char *arn, struct arn_parts *out, char **reterr_msg)
{
	struct arn_parts parts = { 0 };

	if (arn != NULL && arn_valid(arn, &parts)) {
		*out = parts;
		return 0;
	}
	if (reterr_msg)
		*reterr_msg = xasprintf("String '%s' is not a valid ARN.",
		    arn ? arn : "");
	return -EINVAL;
}

char *
arn_build(const char *partition, const char *region, const char *account,
    const char *resource_type, const char *uuid)
{
	return xasprintf("arn:%s:acm:%s:%s:%s/%s", partition, region, account,
	    resource_type, uuid);
}

static void
uuid_format(const unsigned char b[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0x0f];
	}
	out[o] = '\0';
}

void
uuid_v7(char out[37])
{
	unsigned char b[16];
	struct timespec ts;
	uint64_t ms;

	if (RAND_bytes(b, sizeof(b)) != 1)
		abort();
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (40 - 8 * i));
	b[6] = (b[6] & 0x0f) | 0x70; /* version 7 */
	b[8] = (b[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	uuid_format(b, out);
}

void
uuid_v4(char out[37])
{
	unsigned char b[16];

	/*
	 * OpenSSL's DRBG does not fail once seeded; if it ever does, no
	 * resource can be named safely, which we treat like out-of-memory.
	 */
	if (RAND_bytes(b, sizeof(b)) != 1)
		abort();
	b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	uuid_format(b, out);
}
