/*
 * base64.c: RFC 4648 base64 over OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock.
 *
 * Those functions take int lengths, accept whitespace and report the padding
 * bytes as decoded zeros, so we validate the text first, work in chunks, and
 * subtract the padding ourselves.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/base64.h"
#include "common/xmalloc.h"

/* Multiples of 3 (encode) and 4 (decode) well below INT_MAX. */
#define ENCODE_CHUNK (3 * 16384)
#define DECODE_CHUNK (4 * 16384)

char *
base64_encode(const void *data, size_t len)
{
	const unsigned char *in = data;
	size_t outlen = (len + 2) / 3 * 4;
	char *out = xmalloc(outlen + 1);
	size_t done = 0, pos = 0;

	out[0] = '\0';
	while (done < len) {
		size_t n = len - done < ENCODE_CHUNK ? len - done : ENCODE_CHUNK;

		pos += (size_t)EVP_EncodeBlock((unsigned char *)out + pos,
		    in + done, (int)n);
		done += n;
	}
	out[pos] = '\0';
	return out;
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Checks alphabet, padding and zero trailing bits; returns the pad count. */
static int
b64_validate(const char *text, size_t len)
{
	size_t pad = 0;

	if (len % 4 != 0)
		return -EINVAL;
	if (len == 0)
		return 0;
	if (text[len - 1] == '=')
		pad = text[len - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < len - pad; i++)
		if (b64_value((unsigned char)text[i]) < 0)
			return -EINVAL;
	/* The last data character carries 4 (pad 2) or 2 (pad 1) unused bits. */
	if (pad == 2 && (b64_value((unsigned char)text[len - 3]) & 0x0f) != 0)
		return -EINVAL;
	if (pad == 1 && (b64_value((unsigned char)text[len - 2]) & 0x03) != 0)
		return -EINVAL;
	return (int)pad;
}

int
base64_decode(const char *text, size_t text_len, unsigned char **out,
    size_t *out_len)
{
	unsigned char *buf;
	size_t done = 0, pos = 0;
	int pad;

	pad = b64_validate(text, text_len);
	if (pad < 0)
		return pad;
	buf = xmalloc(text_len / 4 * 3 + 1);
	while (done < text_len) {
		size_t n = text_len - done < DECODE_CHUNK ? text_len - done :
		    DECODE_CHUNK;
		int r = EVP_DecodeBlock(buf + pos,
		    (const unsigned char *)text + done, (int)n);

		if (r < 0) {
			free(buf);
			return -EINVAL;
		}
		pos += (size_t)r;
		done += n;
	}
	pos -= (size_t)pad;
	buf[pos] = '\0';
	*out = buf;
	*out_len = pos;
	return 0;
}
