/*
 * test_mail_message.c: the validation and notice emails parsed back with a
 * strict checker (CRLF everywhere, header syntax, line lengths, required
 * headers once each), header injection refused, RFC 2047 subjects and
 * quoted-printable bodies decoded back to the input, and spool file names.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "common/base64.h"
#include "common/xmalloc.h"
#include "mail/message.h"
#include "mail/spool.h"

#define ARN "arn:aws:acm:eu-west-1:123456789012:certificate/" \
	    "3b4d78e1-0882-4f51-954a-298ee44ff369"

/* What the strict checker extracts from a message. */
struct parsed {
	char *headers[32];	/* unfolded "Name: value" fields */
	size_t nheaders;
	char *body;		/* raw body, CRLF line ends */
	size_t body_len;
};

static void
parsed_free(struct parsed *p)
{
	size_t i;

	for (i = 0; i < p->nheaders; i++)
		free(p->headers[i]);
	free(p->body);
}

/* Fails the test unless m is a well-formed message; fills p. */
static void
parse_strict(const char *m, size_t len, struct parsed *p)
{
	size_t i, start, col = 0, hend;
	const char *h;

	memset(p, 0, sizeof(*p));
	assert_int_equal(strlen(m), len);
	for (i = 0; i < len; i++) {
		if (m[i] == '\n') {
			assert_true(i > 0 && m[i - 1] == '\r');
			col = 0;
		} else if (m[i] == '\r') {
			assert_true(i + 1 < len && m[i + 1] == '\n');
		} else {
			col++;
			assert_true(col <= MAIL_LINE_MAX);
		}
	}
	assert_true(len >= 2 && m[len - 2] == '\r' && m[len - 1] == '\n');
	h = strstr(m, "\r\n\r\n");
	assert_non_null(h);
	hend = (size_t)(h - m) + 2;
	for (start = 0; start < hend;) {
		const char *eol = strstr(m + start, "\r\n");
		size_t n = (size_t)(eol - (m + start));
		const char *line = m + start;

		for (i = 0; i < n; i++)
			assert_true((unsigned char)line[i] < 0x80);
		if (line[0] == ' ' || line[0] == '\t') {
			/* folded continuation of the previous field */
			char *prev;

			assert_true(p->nheaders > 0);
			prev = p->headers[p->nheaders - 1];
			p->headers[p->nheaders - 1] = xasprintf("%s%.*s", prev,
			    (int)n, line);
			free(prev);
		} else {
			const char *colon = memchr(line, ':', n);

			assert_non_null(colon);
			assert_true(colon > line);
			for (i = 0; line + i < colon; i++)
				assert_true(line[i] > 32 && line[i] < 127);
			assert_true(p->nheaders < ELEMENTSOF(p->headers));
			p->headers[p->nheaders++] = xstrndup(line, n);
		}
		start += n + 2;
	}
	p->body_len = len - hend - 2;
	p->body = xstrndup(m + hend + 2, p->body_len);
}

/* The value of the only field called name; fails if absent or repeated. */
static const char *
header(const struct parsed *p, const char *name)
{
	const char *found = NULL;
	size_t i, n = strlen(name);

	for (i = 0; i < p->nheaders; i++) {
		if (strncasecmp(p->headers[i], name, n) == 0 &&
		    p->headers[i][n] == ':') {
			assert_null(found);
			found = p->headers[i] + n + 1;
			while (*found == ' ')
				found++;
		}
	}
	assert_non_null(found);
	return found;
}

static void
check_required_headers(const struct parsed *p)
{
	static const char *const names[] = { "From", "To", "Subject", "Date",
		"Message-ID", "MIME-Version", "Content-Type",
		"Content-Transfer-Encoding", "Auto-Submitted" };
	size_t i;

	for (i = 0; i < ELEMENTSOF(names); i++)
		(void)header(p, names[i]);
	assert_string_equal(header(p, "MIME-Version"), "1.0");
	assert_string_equal(header(p, "Content-Type"),
	    "text/plain; charset=UTF-8");
	assert_string_equal(header(p, "Auto-Submitted"), "auto-generated");
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	fail_msg("bad hex digit %c", c);
	return 0;
}

/* Decodes a quoted-printable body, checking encoded line lengths. */
static char *
qp_decode(const char *b)
{
	char *out = xmalloc(strlen(b) + 1), *o = out;
	size_t col = 0;

	for (; *b != '\0'; b++) {
		if (*b == '\r') {
			/* soft breaks are consumed below: this one is hard */
			*o++ = '\n';
			col = 0;
			continue;
		}
		if (*b == '\n')
			continue;
		assert_true(++col <= 76);
		if (*b != '=') {
			assert_true((unsigned char)*b < 0x80);
			*o++ = *b;
			if ((b[1] == '\r') && (*b == ' ' || *b == '\t'))
				fail_msg("trailing white space in QP line");
			continue;
		}
		if (b[1] == '\r' && b[2] == '\n') {
			b += 2;	/* soft line break */
			col = 0;
			continue;
		}
		*o++ = (char)(hexval(b[1]) * 16 + hexval(b[2]));
		b += 2;
		col += 2;
	}
	*o = '\0';
	return out;
}

/* The body as the decoder returns it: LF line ends, a final LF. */
static char *
expected_body(const char *s)
{
	size_t n = strlen(s);

	return xasprintf("%s%s", s, n > 0 && s[n - 1] == '\n' ? "" : "\n");
}

/* Decodes an RFC 2047 Subject made of =?UTF-8?B?...?= words. */
static char *
subject_decode(const char *v)
{
	char *out = xstrdup(""), *tmp;
	unsigned char *dec;
	size_t dec_len;

	while (*v != '\0') {
		const char *end;

		while (*v == ' ' || *v == '\t')
			v++;
		if (*v == '\0')
			break;
		assert_int_equal(strncmp(v, "=?UTF-8?B?", 10), 0);
		end = strstr(v + 10, "?=");
		assert_non_null(end);
		assert_true((size_t)(end + 2 - v) <= 75);
		assert_int_equal(base64_decode(v + 10, (size_t)(end - v - 10),
		    &dec, &dec_len), 0);
		tmp = xasprintf("%s%s", out, (char *)dec);
		free(out);
		free(dec);
		out = tmp;
		v = end + 2;
	}
	return out;
}

static const struct mail_headers hdrs = {
	.from = "certfleet <certfleet@mail.example.net>",
	.to = "admin@example.com",
	.message_id = "0c6f2f3e-7d0a-4c55-9b8e-2b1f0d9e6a41@certfleet.example.net",
	.date = 1700000000,	/* Tue, 14 Nov 2023 22:13:20 UTC */
};

static const struct mail_validation val = {
	.requested_domain = "www.example.com",
	.domain = "example.com",
	.account = "123456789012",
	.region = "eu-west-1",
	.certificate_arn = ARN,
	.base_url = "https://certfleet.example.net/",
	.token = "AbC_-123+/=",
	.contact = NULL,
};

static void
test_validation_email_has_the_guide_fields_and_strict_syntax(void **state)
{
	char *m = NULL, *err = NULL;
	struct parsed p;
	size_t len;

	assert_int_equal(mail_message_validation(&hdrs, &val, &m, &len, &err),
	    0);
	parse_strict(m, len, &p);
	check_required_headers(&p);
	assert_string_equal(header(&p, "From"), hdrs.from);
	assert_string_equal(header(&p, "To"), "admin@example.com");
	assert_string_equal(header(&p, "Subject"),
	    "Certificate request for example.com");
	assert_string_equal(header(&p, "Date"),
	    "Tue, 14 Nov 2023 22:13:20 +0000");
	assert_string_equal(header(&p, "Message-ID"),
	    "<0c6f2f3e-7d0a-4c55-9b8e-2b1f0d9e6a41@certfleet.example.net>");
	assert_string_equal(header(&p, "Content-Transfer-Encoding"), "7bit");
	assert_non_null(strstr(p.body, "certificate for www.example.com.\r\n"));
	assert_non_null(strstr(p.body, "\r\nDomain: example.com\r\n"));
	assert_non_null(strstr(p.body, "\r\nAccount ID: 123456789012\r\n"));
	assert_non_null(strstr(p.body, "\r\nRegion name: eu-west-1\r\n"));
	assert_non_null(strstr(p.body, "\r\nCertificate Identifier: " ARN
	    "\r\n"));
	assert_non_null(strstr(p.body, "(https://certfleet.example.net/"
	    "approvals?code=AbC_-123%2B%2F%3D)\r\n"));
	assert_non_null(strstr(p.body, "do not approve it"));
	assert_non_null(strstr(p.body,
	    "the administrators of this certfleet installation"));
	assert_null(strstr(p.body, "Amazon"));
	parsed_free(&p);
	free(m);
}

static void
test_same_input_builds_the_same_bytes(void **state)
{
	char *a = NULL, *b = NULL, *err = NULL;
	size_t alen, blen;

	assert_int_equal(mail_message_validation(&hdrs, &val, &a, &alen, &err),
	    0);
	assert_int_equal(mail_message_validation(&hdrs, &val, &b, &blen, &err),
	    0);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(a);
	free(b);
}

static void
test_contact_is_named_when_given(void **state)
{
	struct mail_validation v = val;
	char *m = NULL, *err = NULL;
	size_t len;

	v.contact = "security@example.net";
	assert_int_equal(mail_message_validation(&hdrs, &v, &m, &len, &err),
	    0);
	assert_non_null(strstr(m, "explanation to security@example.net."));
	free(m);
}

static void
expect_refused(const struct mail_headers *h, const struct mail_validation *v,
    const char *subject, const char *body, const char *want)
{
	char *m = NULL, *err = NULL;
	size_t len;
	int r;

	if (v != NULL)
		r = mail_message_validation(h, v, &m, &len, &err);
	else
		r = mail_message_notice(h, subject, body, &m, &len, &err);
	assert_int_equal(r, -EINVAL);
	assert_null(m);
	assert_non_null(err);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" does not mention \"%s\"", err, want);
	free(err);
}

static void
test_header_injection_is_refused(void **state)
{
	struct mail_headers h;
	struct mail_validation v;

	h = hdrs;
	h.from = "a@example.net\r\nBcc: victim@example.org";
	expect_refused(&h, &val, NULL, NULL, "From contains a line break");
	h = hdrs;
	h.to = "admin@example.com\nBcc: x@example.org";
	expect_refused(&h, &val, NULL, NULL, "To contains a line break");
	h = hdrs;
	h.message_id = "a@b\r\nX-Injected: 1";
	expect_refused(&h, &val, NULL, NULL, "Message-ID");
	expect_refused(&hdrs, NULL, "hello\r\nBcc: x@example.org", "body",
	    "Subject contains a line break");
	expect_refused(&hdrs, NULL, "hello\nBcc: x@example.org", "body",
	    "Subject contains a line break");
	v = val;
	v.domain = "example.com\r\nBcc: x@example.org";
	expect_refused(&hdrs, &v, NULL, NULL, "the domain contains a line");
	v = val;
	v.token = "abc\ndef";
	expect_refused(&hdrs, &v, NULL, NULL, "token contains a line break");
}

static void
test_missing_or_bad_fields_are_refused(void **state)
{
	struct mail_headers h;
	struct mail_validation v;

	h = hdrs;
	h.to = NULL;
	expect_refused(&h, &val, NULL, NULL, "To is missing");
	h = hdrs;
	h.from = "C\xc3\xa9line <c@example.net>";
	expect_refused(&h, &val, NULL, NULL, "From must be printable ASCII");
	v = val;
	v.certificate_arn = "";
	expect_refused(&hdrs, &v, NULL, NULL, "certificate ARN is missing");
	v = val;
	v.base_url = "https://x.example/ a";
	expect_refused(&hdrs, &v, NULL, NULL, "base URL contains a space");
	expect_refused(&hdrs, NULL, "", "body", "Subject is missing");
	expect_refused(&hdrs, NULL, "s", NULL, "the body is missing");
	expect_refused(&hdrs, NULL, "bad \xc3", "body", "not valid UTF-8");
	expect_refused(&hdrs, NULL, "s", "bad \xed\xa0\x80", "not valid UTF-8");
	expect_refused(&hdrs, NULL, "s", "a\rb\r\n", "bare CR");
}

static void
test_message_id_shape_is_checked(void **state)
{
	static const char *const bad[] = { "noat", "@host", "left@",
		"a@b@c", "<a@b>", "a b@c", "a@b c", "a\"b@c", "a;b@c" };
	struct mail_headers h = hdrs;
	size_t i;

	for (i = 0; i < ELEMENTSOF(bad); i++) {
		h.message_id = bad[i];
		expect_refused(&h, &val, NULL, NULL, "Message-ID");
	}
}

static void
test_non_ascii_subject_is_rfc2047_encoded(void **state)
{
	/* long enough for several encoded words, with 2-, 3- and 4-byte
	 * characters so a split inside one would show */
	const char *subject = "Zertifikat f\xc3\xbcr b\xc3\xa4" "ckerei.example "
	    "l\xc3\xa4uft ab \xe2\x80\x94 \xe8\xaf\x81\xe4\xb9\xa6\xe8\xbf\x87"
	    "\xe6\x9c\x9f \xf0\x9f\x94\x92\xf0\x9f\x94\x92\xf0\x9f\x94\x92 "
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
	char *m = NULL, *err = NULL, *dec;
	struct parsed p;
	size_t len;

	assert_int_equal(mail_message_notice(&hdrs, subject, "text\n", &m,
	    &len, &err), 0);
	parse_strict(m, len, &p);
	check_required_headers(&p);
	/* the folded field spans several lines, each an encoded word */
	assert_non_null(strstr(m, "Subject: =?UTF-8?B?"));
	assert_non_null(strstr(m, "?=\r\n =?UTF-8?B?"));
	dec = subject_decode(header(&p, "Subject"));
	assert_string_equal(dec, subject);
	free(dec);
	parsed_free(&p);
	free(m);
}

static void
test_ascii_subject_that_looks_encoded_is_encoded(void **state)
{
	char *m = NULL, *err = NULL, *dec;
	struct parsed p;
	size_t len;

	assert_int_equal(mail_message_notice(&hdrs, "=?UTF-8?B?QQ==?=", "x",
	    &m, &len, &err), 0);
	parse_strict(m, len, &p);
	dec = subject_decode(header(&p, "Subject"));
	assert_string_equal(dec, "=?UTF-8?B?QQ==?=");
	free(dec);
	parsed_free(&p);
	free(m);
}

static void
test_ascii_notice_is_7bit_with_crlf_lines(void **state)
{
	char *m = NULL, *err = NULL;
	struct parsed p;
	size_t len;

	assert_int_equal(mail_message_notice(&hdrs, "Renewal failed",
	    "line one\nline two\r\n\n.leading dot", &m, &len, &err), 0);
	parse_strict(m, len, &p);
	check_required_headers(&p);
	assert_string_equal(header(&p, "Subject"), "Renewal failed");
	assert_string_equal(header(&p, "Content-Transfer-Encoding"), "7bit");
	assert_string_equal(p.body,
	    "line one\r\nline two\r\n\r\n.leading dot\r\n");
	parsed_free(&p);
	free(m);
}

static void
check_qp_roundtrip(const char *body)
{
	char *m = NULL, *err = NULL, *dec, *want;
	struct parsed p;
	size_t len;

	assert_int_equal(mail_message_notice(&hdrs, "Notice", body, &m, &len,
	    &err), 0);
	parse_strict(m, len, &p);
	check_required_headers(&p);
	assert_string_equal(header(&p, "Content-Transfer-Encoding"),
	    "quoted-printable");
	dec = qp_decode(p.body);
	want = expected_body(body);
	assert_string_equal(dec, want);
	free(dec);
	free(want);
	parsed_free(&p);
	free(m);
}

static void
test_utf8_notice_is_quoted_printable(void **state)
{
	check_qp_roundtrip("Das Zertifikat f\xc3\xbcr b\xc3\xa4" "ckerei.example "
	    "l\xc3\xa4uft am 1. M\xc3\xa4rz ab.\nKey = value \nTabs\t\n");
}

static void
test_overlong_line_is_quoted_printable(void **state)
{
	char body[3000];

	memset(body, 'a', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	body[1500] = ' ';
	check_qp_roundtrip(body);
}

static void
test_long_arn_keeps_lines_within_limits(void **state)
{
	struct mail_validation v = val;
	char arn[1200], *m = NULL, *err = NULL;
	struct parsed p;
	size_t len;

	snprintf(arn, sizeof(arn), "arn:aws:acm:eu-west-1:1:certificate/%s",
	    "x");
	memset(arn + strlen(arn), 'y', sizeof(arn) - strlen(arn) - 1);
	arn[sizeof(arn) - 1] = '\0';
	v.certificate_arn = arn;
	assert_int_equal(mail_message_validation(&hdrs, &v, &m, &len, &err),
	    0);
	parse_strict(m, len, &p);
	assert_string_equal(header(&p, "Content-Transfer-Encoding"),
	    "quoted-printable");
	parsed_free(&p);
	free(m);
}

static void
test_approval_link_escapes_token_and_trims_slash(void **state)
{
	char *link = NULL, *err = NULL;

	assert_int_equal(mail_approval_link("https://h.example//", "a b&c",
	    &link, &err), 0);
	assert_string_equal(link, "https://h.example/approvals?code=a%20b%26c");
	free(link);
	assert_int_equal(mail_approval_link("http://127.0.0.1:8080", "tok",
	    &link, &err), 0);
	assert_string_equal(link, "http://127.0.0.1:8080/approvals?code=tok");
	free(link);
}

static void
test_spool_name_is_safe_and_distinct(void **state)
{
	char *a, *b, *c;

	a = mail_spool_name("<0c6f2f3e-7d0a@certfleet.example.net>");
	assert_string_equal(a, "0c6f2f3e-7d0a@certfleet.example.net.eml");
	b = mail_spool_name("../a+b@x");
	c = mail_spool_name("../a/b@x");
	assert_null(strchr(b, '/'));
	assert_true(b[0] != '.');
	assert_string_not_equal(b, c);
	assert_int_equal(b[0], '_');
	assert_null(mail_spool_name(""));
	assert_null(mail_spool_name("<>"));
	free(a);
	free(b);
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_validation_email_has_the_guide_fields_and_strict_syntax),
		cmocka_unit_test(test_same_input_builds_the_same_bytes),
		cmocka_unit_test(test_contact_is_named_when_given),
		cmocka_unit_test(test_header_injection_is_refused),
		cmocka_unit_test(test_missing_or_bad_fields_are_refused),
		cmocka_unit_test(test_message_id_shape_is_checked),
		cmocka_unit_test(test_non_ascii_subject_is_rfc2047_encoded),
		cmocka_unit_test(
		    test_ascii_subject_that_looks_encoded_is_encoded),
		cmocka_unit_test(test_ascii_notice_is_7bit_with_crlf_lines),
		cmocka_unit_test(test_utf8_notice_is_quoted_printable),
		cmocka_unit_test(test_overlong_line_is_quoted_printable),
		cmocka_unit_test(test_long_arn_keeps_lines_within_limits),
		cmocka_unit_test(
		    test_approval_link_escapes_token_and_trims_slash),
		cmocka_unit_test(test_spool_name_is_safe_and_distinct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
