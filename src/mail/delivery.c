/*
 * delivery.c: one message to one recipient, through an SMTP relay with
 * libcurl on the event loop, or into the spool folder.
 *
 * Relay mode classifies the outcome the way an MTA would: a 5xx reply to
 * MAIL FROM, RCPT TO or the message data is permanent; 4xx replies, a relay
 * that cannot be reached, timeouts, TLS and authentication failures are
 * temporary (the last three are the relay's or our configuration's fault,
 * not the recipient's, and must not lose the message). The relay's own
 * reply text is kept from the response lines curl passes to the header
 * callback, because curl's error buffer holds only "RCPT failed: 550".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common/xmalloc.h"
#include "loop/curl_loop.h"
#include "mail/delivery.h"
#include "mail/spool.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define DEFAULT_TIMEOUT_MS 60000
/* Room for the relay's error reply in the reason. */
#define REPLY_MAX 512

/* One relay delivery in flight; the easy handle's done argument. */
struct delivery {
	char *message;		/* our copy of the message */
	size_t len, off;	/* its size and how much curl has read */
	struct curl_slist *rcpts;
	mail_delivery_done_fn done;
	void *arg;
	char errbuf[CURL_ERROR_SIZE];
	/* The reply being received, and the last complete reply of 4xx or
	 * 5xx (a QUIT's "221" after a failure must not replace it). */
	char reply[REPLY_MAX], err_reply[REPLY_MAX];
	size_t reply_len;
	bool reply_open;	/* a multi-line reply is being received */
};

/* A plain envelope address: ASCII, no space, no brackets, one '@' or more. */
static bool
is_plain_address(const char *a)
{
	const char *p;

	if (a == NULL || *a == '\0' || strchr(a, '@') == NULL)
		return false;
	for (p = a; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>')
			return false;
	}
	return strlen(a) <= 254;
}

static void
delivery_free(struct delivery *d)
{
	if (d == NULL)
		return;
	/* the message may hold an approval link: wipe it */
	secret_free(d->message, d->len);
	curl_slist_free_all(d->rcpts);
	free(d);
}

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct delivery *d = arg;
	size_t n = size * nitems;

	if (n > d->len - d->off)
		n = d->len - d->off;
	memcpy(buf, d->message + d->off, n);
	d->off += n;
	return n;
}

/* Appends one response line (without CRLF) to the reply being received. */
static void
reply_add_line(struct delivery *d, const char *line, size_t n)
{
	size_t room;

	if (!d->reply_open)
		d->reply_len = 0;
	room = sizeof(d->reply) - 1 - d->reply_len;
	if (d->reply_len > 0 && room > 0) {
		d->reply[d->reply_len++] = ' ';
		room--;
	}
	if (n > room)
		n = room;
	memcpy(d->reply + d->reply_len, line, n);
	d->reply_len += n;
	d->reply[d->reply_len] = '\0';
}

/* curl hands SMTP server replies to the header callback, line by line. */
static size_t
header_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct delivery *d = arg;
	size_t n = size * nitems, i;

	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	for (i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = ' ';
	reply_add_line(d, buf, n);
	/* "250-..." continues a reply; "250 ..." or "250" ends it */
	d->reply_open = n > 3 && buf[3] == '-';
	if (!d->reply_open && (d->reply[0] == '4' || d->reply[0] == '5'))
		memcpy(d->err_reply, d->reply, sizeof(d->err_reply));
	return size * nitems;
}

/* Failures that are not about this message or recipient. */
static bool
is_relay_trouble(CURLcode result)
{
	switch (result) {
	case CURLE_SEND_ERROR:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_RECV_ERROR:
		return false;
	default:
		return true;
	}
}

static enum mail_result
classify(CURL *easy, CURLcode result)
{
	long code = 0;

	if (result == CURLE_OK)
		return MAIL_DELIVERED;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 500 && code <= 599 && !is_relay_trouble(result))
		return MAIL_PERMANENT;
	return MAIL_TEMPORARY;
}

static void
on_done(CURL *easy, CURLcode result, void *arg)
{
	struct delivery *d = arg;
	enum mail_result r = classify(easy, result);
	const char *what;
	char *reason = NULL;

	if (r != MAIL_DELIVERED) {
		what = d->errbuf[0] != '\0' ? d->errbuf :
		    curl_easy_strerror(result);
		if (result == CURLE_ABORTED_BY_CALLBACK)
			what = "delivery cancelled";
		if (d->err_reply[0] != '\0')
			reason = xasprintf("%s (relay said: %s)", what,
			    d->err_reply);
		else
			reason = xstrdup(what);
	}
	d->done(r, reason, d->arg);
	free(reason);
	curl_easy_cleanup(easy);
	delivery_free(d);
}

static int64_t
or_default(int64_t v, int64_t def)
{
	return v > 0 ? v : def;
}

static CURL *
relay_easy(const struct mail_delivery_settings *s, const char *from,
    struct delivery *d)
{
	CURL *e = curl_easy_init();

	if (e == NULL)
		return NULL;
	curl_easy_setopt(e, CURLOPT_URL, s->relay_url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USE_SSL,
	    s->require_tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
	if (s->ca_file != NULL && *s->ca_file != '\0')
		curl_easy_setopt(e, CURLOPT_CAINFO, s->ca_file);
	if (s->username != NULL && *s->username != '\0') {
		curl_easy_setopt(e, CURLOPT_USERNAME, s->username);
		curl_easy_setopt(e, CURLOPT_PASSWORD,
		    s->password != NULL ? s->password : "");
	}
	curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(e, CURLOPT_MAIL_RCPT, d->rcpts);
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)d->len);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(e, CURLOPT_READDATA, d);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, d);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, d->errbuf);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)or_default(
	    s->connect_timeout_ms, DEFAULT_CONNECT_TIMEOUT_MS));
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
	    (long)or_default(s->timeout_ms, DEFAULT_TIMEOUT_MS));
	return e;
}

static int
deliver_relay(struct curl_loop *loop, const struct mail_delivery_settings *s,
    const char *from, const char *rcpt, const char *message, size_t len,
    mail_delivery_done_fn done, void *arg)
{
	struct delivery *d = xcalloc(1, sizeof(*d));
	CURL *e;

	d->message = xmalloc(len > 0 ? len : 1);
	memcpy(d->message, message, len);
	d->len = len;
	d->done = done;
	d->arg = arg;
	d->rcpts = curl_slist_append(NULL, rcpt);
	if (d->rcpts == NULL || (e = relay_easy(s, from, d)) == NULL) {
		delivery_free(d);
		return -ENOMEM;
	}
	curl_loop_add(loop, e, on_done, d);
	return 0;
}

static int
deliver_spool(const struct mail_delivery_settings *s, const char *message,
    size_t len, mail_delivery_done_fn done, void *arg)
{
	_cleanup_free_ char *reason = NULL;
	int r;

	if (s->spool_directory == NULL || *s->spool_directory == '\0')
		return -EINVAL;
	r = mail_spool_write(s->spool_directory, message, len, &reason);
	if (r == -EINVAL)
		return r;
	/* a full or read-only disk can be fixed: retry later */
	if (r < 0)
		done(MAIL_TEMPORARY, reason, arg);
	else
		done(MAIL_DELIVERED, NULL, arg);
	return 0;
}

int
mail_deliver(struct curl_loop *loop, const struct mail_delivery_settings *s,
    const char *from, const char *rcpt, const char *message, size_t len,
    mail_delivery_done_fn done, void *arg)
{
	if (s == NULL || done == NULL || message == NULL ||
	    !is_plain_address(from) || !is_plain_address(rcpt))
		return -EINVAL;
	if (s->relay_url == NULL || *s->relay_url == '\0')
		return deliver_spool(s, message, len, done, arg);
	if (loop == NULL)
		return -EINVAL;
	return deliver_relay(loop, s, from, rcpt, message, len, done, arg);
}
