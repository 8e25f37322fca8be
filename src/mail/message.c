/*
 * message.c: builds certfleet's emails as RFC 5322 messages.
 *
 * Choices: every line ends in CRLF; the body is 7bit when it is ASCII with
 * lines of at most 998 bytes, otherwise quoted-printable, so no relay needs
 * the 8BITMIME extension (libcurl does not ask for it); a non-ASCII Subject
 * becomes RFC 2047 "B" encoded words; the Date is written in UTC with fixed
 * English names, whatever the locale. Header values from the caller that
 * contain CR or LF are refused, so no caller can add a header.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common/base64.h"
#include "common/xmalloc.h"
#include "mail/message.h"

/* RFC 2047 section 2: an encoded word is at most 75 characters; with the
 * "=?UTF-8?B?" prefix and "?=" suffix that leaves 60 base64 characters,
 * 45 bytes of text. */
#define EW_MAX_BYTES 45
/* RFC 2045 section 6.7 rule 5: encoded lines are at most 76 characters. */
#define QP_LINE_MAX 76

static int
fail(char **reterr_msg, const char *fmt, ...) _printf_(2, 3);

static int
fail(char **reterr_msg, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (reterr_msg != NULL)
		*reterr_msg = msg != NULL ? msg : xstrdup("out of memory");
	else
		free(msg);
	return -EINVAL;
}

/* Printable ASCII, space and tab: what we accept in unstructured values. */
static bool
is_ascii_text(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x7f || (c < 0x20 && c != '\t'))
			return false;
	}
	return true;
}

static int
check_text(const char *what, const char *v, char **reterr_msg)
{
	if (v == NULL || *v == '\0')
		return fail(reterr_msg, "%s is missing", what);
	if (strpbrk(v, "\r\n") != NULL)
		return fail(reterr_msg, "%s contains a line break", what);
	if (!is_ascii_text(v))
		return fail(reterr_msg,
		    "%s must be printable ASCII", what);
	return 0;
}

/* RFC 5322 atext plus '.', as in a dot-atom msg-id. */
static bool
is_msgid_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL;
}

static int
check_message_id(const char *id, char **reterr_msg)
{
	const char *at, *p;

	if (id == NULL || *id == '\0')
		return fail(reterr_msg, "Message-ID is missing");
	for (p = id; *p != '\0'; p++)
		if (*p != '@' && !is_msgid_char((unsigned char)*p))
			return fail(reterr_msg,
			    "Message-ID contains a character not allowed");
	at = strchr(id, '@');
	if (at == NULL || at == id || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL)
		return fail(reterr_msg,
		    "Message-ID must be <left>@<right> with one '@'");
	if (strlen(id) > 250)
		return fail(reterr_msg, "Message-ID is too long");
	return 0;
}

static int
check_headers(const struct mail_headers *h, char **reterr_msg)
{
	int r;

	if ((r = check_text("From", h->from, reterr_msg)) < 0 ||
	    (r = check_text("To", h->to, reterr_msg)) < 0 ||
	    (r = check_message_id(h->message_id, reterr_msg)) < 0)
		return r;
	if (strlen(h->from) > 900 || strlen(h->to) > 900)
		return fail(reterr_msg, "From or To is too long");
	return 0;
}

/* Length of the UTF-8 sequence at s, or 0 when it is not well-formed. */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong forms, surrogates and code points above U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

static bool
is_utf8(const char *s)
{
	size_t n;

	while (*s != '\0') {
		if ((n = utf8_len((const unsigned char *)s)) == 0)
			return false;
		s += n;
	}
	return true;
}

static void
write_date(FILE *f, time_t t)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
		"Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
		"May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&t, &tm);
	fprintf(f, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Subject as RFC 2047 encoded words, one per folded line. */
static void
write_encoded_subject(FILE *f, const char *s)
{
	const char *start = s;
	size_t n;
	char *b64;

	fputs("Subject:", f);
	while (*start != '\0') {
		s = start;
		while (*s != '\0') {
			n = utf8_len((const unsigned char *)s);
			if ((size_t)(s - start) + n > EW_MAX_BYTES)
				break;
			s += n;
		}
		b64 = base64_encode(start, (size_t)(s - start));
		fprintf(f, " =?UTF-8?B?%s?=", b64);
		free(b64);
		start = s;
		if (*start != '\0')
			fputs("\r\n", f);
	}
	fputs("\r\n", f);
}

static int
write_subject(FILE *f, const char *subject, char **reterr_msg)
{
	if (subject == NULL || *subject == '\0')
		return fail(reterr_msg, "Subject is missing");
	if (strpbrk(subject, "\r\n") != NULL)
		return fail(reterr_msg, "Subject contains a line break");
	if (!is_utf8(subject))
		return fail(reterr_msg, "Subject is not valid UTF-8");
	/* "=?" in plain text would be read as an encoded word: encode it. */
	if (is_ascii_text(subject) && strstr(subject, "=?") == NULL &&
	    strlen("Subject: ") + strlen(subject) <= MAIL_LINE_MAX)
		fprintf(f, "Subject: %s\r\n", subject);
	else
		write_encoded_subject(f, subject);
	return 0;
}

/*
 * The body with every line ending in CRLF. A bare CR is refused: it is
 * either a mistake or an attempt to hide content from some readers.
 */
static int
normalise_body(const char *body, char **ret, size_t *ret_len,
    char **reterr_msg)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (!is_utf8(body))
		return fail(reterr_msg, "the body is not valid UTF-8");
	f = open_memstream(&out, &len);
	if (f == NULL)
		abort();
	for (; *body != '\0'; body++) {
		if (*body == '\r' && body[1] == '\n')
			continue;
		if (*body == '\r') {
			fclose(f);
			free(out);
			return fail(reterr_msg, "the body contains a bare CR");
		}
		if (*body == '\n')
			fputs("\r\n", f);
		else
			fputc(*body, f);
	}
	fflush(f);
	if (len == 0 || out[len - 1] != '\n')
		fputs("\r\n", f);
	fclose(f);
	*ret = out;
	*ret_len = len;
	return 0;
}

/* Whether a CRLF body can go as 7bit: ASCII and short lines. */
static bool
is_7bit(const char *body, size_t len)
{
	size_t i, col = 0;

	for (i = 0; i < len; i++) {
		if ((unsigned char)body[i] >= 0x80)
			return false;
		if (body[i] == '\r')
			continue;
		if (body[i] == '\n')
			col = 0;
		else if (++col > MAIL_LINE_MAX)
			return false;
	}
	return true;
}

/* Writes one quoted-printable token, folding with a soft break first. */
static void
qp_put(FILE *f, const char *tok, size_t *col)
{
	size_t n = strlen(tok);

	if (*col + n > QP_LINE_MAX - 1) {
		fputs("=\r\n", f);
		*col = 0;
	}
	fputs(tok, f);
	*col += n;
}

/* RFC 2045 section 6.7 over a CRLF body; hard line breaks stay CRLF. */
static void
write_qp(FILE *f, const char *body, size_t len)
{
	size_t i, col = 0;
	unsigned char c;
	char tok[4];
	bool eol;

	for (i = 0; i < len; i++) {
		c = (unsigned char)body[i];
		if (c == '\r' && i + 1 < len && body[i + 1] == '\n') {
			fputs("\r\n", f);
			i++;
			col = 0;
			continue;
		}
		eol = i + 1 >= len || body[i + 1] == '\r';
		if ((c >= 33 && c <= 126 && c != '=') ||
		    ((c == ' ' || c == '\t') && !eol)) {
			tok[0] = (char)c;
			tok[1] = '\0';
		} else {
			snprintf(tok, sizeof(tok), "=%02X", c);
		}
		qp_put(f, tok, &col);
	}
}

static int
build(const struct mail_headers *h, const char *subject, const char *body,
    char **ret, size_t *ret_len, char **reterr_msg)
{
	_cleanup_free_ char *crlf = NULL;
	char *out = NULL;
	size_t crlf_len = 0, len = 0;
	bool sevenbit;
	FILE *f;
	int r;

	if ((r = check_headers(h, reterr_msg)) < 0)
		return r;
	if (body == NULL)
		return fail(reterr_msg, "the body is missing");
	if ((r = normalise_body(body, &crlf, &crlf_len, reterr_msg)) < 0)
		return r;
	sevenbit = is_7bit(crlf, crlf_len);
	f = open_memstream(&out, &len);
	if (f == NULL)
		abort();
	fprintf(f, "From: %s\r\nTo: %s\r\n", h->from, h->to);
	if ((r = write_subject(f, subject, reterr_msg)) < 0) {
		fclose(f);
		free(out);
		return r;
	}
	write_date(f, h->date);
	fprintf(f, "Message-ID: <%s>\r\n", h->message_id);
	fputs("MIME-Version: 1.0\r\n"
	      "Content-Type: text/plain; charset=UTF-8\r\n", f);
	fprintf(f, "Content-Transfer-Encoding: %s\r\n",
	    sevenbit ? "7bit" : "quoted-printable");
	fputs("Auto-Submitted: auto-generated\r\n\r\n", f);
	if (sevenbit)
		fwrite(crlf, 1, crlf_len, f);
	else
		write_qp(f, crlf, crlf_len);
	fclose(f);
	*ret = out;
	*ret_len = len;
	return 0;
}

int
mail_approval_link(const char *base_url, const char *token, char **ret,
    char **reterr_msg)
{
	size_t n;
	char *esc;
	int r;

	if ((r = check_text("the base URL", base_url, reterr_msg)) < 0 ||
	    (r = check_text("the approval token", token, reterr_msg)) < 0)
		return r;
	if (strchr(base_url, ' ') != NULL || strchr(base_url, '\t') != NULL)
		return fail(reterr_msg, "the base URL contains a space");
	n = strlen(base_url);
	while (n > 0 && base_url[n - 1] == '/')
		n--;
	esc = curl_easy_escape(NULL, token, 0);
	if (esc == NULL)
		abort();
	*ret = xasprintf("%.*s/approvals?code=%s", (int)n, base_url, esc);
	curl_free(esc);
	return 0;
}

static int
check_validation(const struct mail_validation *v, char **reterr_msg)
{
	int r;

	if ((r = check_text("the requested domain", v->requested_domain,
	    reterr_msg)) < 0 ||
	    (r = check_text("the domain", v->domain, reterr_msg)) < 0 ||
	    (r = check_text("the account", v->account, reterr_msg)) < 0 ||
	    (r = check_text("the region", v->region, reterr_msg)) < 0 ||
	    (r = check_text("the certificate ARN", v->certificate_arn,
	    reterr_msg)) < 0)
		return r;
	if (v->contact != NULL &&
	    (r = check_text("the contact", v->contact, reterr_msg)) < 0)
		return r;
	return 0;
}

int
mail_message_validation(const struct mail_headers *h,
    const struct mail_validation *v, char **ret, size_t *ret_len,
    char **reterr_msg)
{
	_cleanup_free_ char *link = NULL, *subject = NULL, *body = NULL;
	int r;

	if ((r = check_validation(v, reterr_msg)) < 0 ||
	    (r = mail_approval_link(v->base_url, v->token, &link,
	    reterr_msg)) < 0)
		return r;
	subject = xasprintf("Certificate request for %s", v->domain);
	body = xasprintf(
	    "Greetings from certfleet,\n"
	    "\n"
	    "We received a request to issue an SSL/TLS certificate for %s.\n"
	    "\n"
	    "Check that the domain, account ID and certificate identifier\n"
	    "below match a request made by you or someone in your\n"
	    "organization.\n"
	    "\n"
	    "Domain: %s\n"
	    "Account ID: %s\n"
	    "Region name: %s\n"
	    "Certificate Identifier: %s\n"
	    "\n"
	    "To approve this request, open the certfleet approval page\n"
	    "(%s)\n"
	    "and follow the instructions there.\n"
	    "\n"
	    "This email is meant only for the people responsible for %s.\n"
	    "If you did not expect this request, do not approve it: no\n"
	    "certificate is issued without approval. To report a concern,\n"
	    "or if this email reached you by mistake, forward it with a\n"
	    "short explanation to %s.\n"
	    "\n"
	    "Sincerely,\n"
	    "certfleet\n",
	    v->requested_domain, v->domain, v->account, v->region,
	    v->certificate_arn, link, v->domain,
	    v->contact != NULL ? v->contact :
	    "the administrators of this certfleet installation");
	return build(h, subject, body, ret, ret_len, reterr_msg);
}

int
mail_message_notice(const struct mail_headers *h, const char *subject,
    const char *body, char **ret, size_t *ret_len, char **reterr_msg)
{
	return build(h, subject, body, ret, ret_len, reterr_msg);
}
