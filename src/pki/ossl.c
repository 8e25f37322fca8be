/*
 * ossl.c: OpenSSL error queue and memory BIO helpers for the pki module.
 */
#include <string.h>

#include <openssl/err.h>

#include "common/xmalloc.h"
#include "pki/ossl.h"

char *
ossl_error_string(void)
{
	char *msg = NULL;
	unsigned long e;

	while ((e = ERR_get_error()) != 0) {
		const char *reason = ERR_reason_error_string(e);
		char buf[256];
		char *next;

		if (reason == NULL) {
			ERR_error_string_n(e, buf, sizeof(buf));
			reason = buf;
		}
		/* The same reason often repeats as it climbs the decoder stack. */
		if (msg != NULL && strstr(msg, reason) != NULL)
			continue;
		next = msg == NULL ? xstrdup(reason) :
		    xasprintf("%s; %s", msg, reason);
		free(msg);
		msg = next;
	}
	return msg != NULL ? msg : xstrdup("unknown error");
}

char *
ossl_bio_to_string(BIO *bio)
{
	char *data = NULL;
	long n = BIO_get_mem_data(bio, &data);

	if (n <= 0 || data == NULL)
		return xstrdup("");
	return xstrndup(data, (size_t)n);
}

char *
ossl_name_string(const X509_NAME *name)
{
	_cleanup_bio_ BIO *bio = BIO_new(BIO_s_mem());

	if (bio == NULL)
		return NULL;
	/* RFC 2253 flags, but keep UTF-8 as UTF-8 rather than \XX escapes. */
	if (X509_NAME_print_ex(bio, name, 0,
	    XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
		return NULL;
	return ossl_bio_to_string(bio);
}
