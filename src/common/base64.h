/*
 * base64.h: standard base64 (RFC 4648, section 4, with padding), the way the
 * AWS JSON protocol carries blob members such as Certificate and PrivateKey.
 */
#ifndef CERTFLEET_COMMON_BASE64_H
#define CERTFLEET_COMMON_BASE64_H

#include <stddef.h>

#include "common/cleanup.h"

/* NUL-terminated, no line breaks, padded; never NULL (aborts on OOM). */
char *base64_encode(const void *data, size_t len);

/*
 * Strict decoder: the text length must be a multiple of 4, only the
 * standard alphabet is allowed (no whitespace, no URL-safe alphabet), '='
 * only as the last one or two characters, and the unused bits before the
 * padding must be zero. Every AWS SDK pads, so missing padding is an error.
 * On success *out (free with free(), or secret_free() for secrets) holds
 * *out_len bytes plus a terminating NUL that is not counted. -EINVAL otherwise.
 */
int base64_decode(const char *text, size_t text_len, unsigned char **out,
    size_t *out_len) _wur_;

#endif
