/*
 * message.h: the emails certfleet sends, built as complete RFC 5322 messages
 * (headers and body, CRLF line endings) ready for SMTP or the spool folder.
 *
 * The validation email follows the template of the ACM guide ("Validation
 * email templates"): the domain, the account, the region, the certificate
 * identifier, the approval link and what to do if the request was not
 * expected. The notice message carries a subject and body chosen by the
 * caller (failed renewals, expiry events).
 *
 * These are pure functions: no clock, no randomness, no I/O. The caller
 * supplies the Date and the Message-ID, so that a message re-built after a
 * crash is byte for byte the one sent before, and a relay or mailbox that
 * de-duplicates on Message-ID sees one message.
 */
#ifndef CERTFLEET_MAIL_MESSAGE_H
#define CERTFLEET_MAIL_MESSAGE_H

#include <stddef.h>
#include <time.h>

#include "common/cleanup.h"

/* RFC 5322 section 2.1.1: a line is at most 998 characters plus CRLF. */
#define MAIL_LINE_MAX 998

/*
 * The header fields every message carries. Values must not contain CR or
 * LF (header injection is refused, never repaired).
 */
struct mail_headers {
	/* From and To field bodies, ASCII: "noreply@example.com" or
	 * "certfleet <noreply@example.com>". */
	const char *from;
	const char *to;
	/* "<id-left>@<id-right>" without the angle brackets, printable ASCII,
	 * exactly one '@', e.g. "9f0c...-...@certfleet.example.com". */
	const char *message_id;
	/* The Date field, written in UTC. */
	time_t date;
};

/* What the validation email tells the domain's owner. */
struct mail_validation {
	/* The certificate's DomainName ("We received a request ... for"). */
	const char *requested_domain;
	/* The name this email validates (the "Domain:" line and Subject). */
	const char *domain;
	/* [identity] account and region. */
	const char *account;
	const char *region;
	/* The certificate identifier: the whole ARN, as the guide's current
	 * template shows it. */
	const char *certificate_arn;
	/* [public] base_url, e.g. "https://certfleet.example.com"; a trailing
	 * '/' is ignored. The link is <base_url>/approvals?code=<token>. */
	const char *base_url;
	/* The approval token, percent-encoded into the link. */
	const char *token;
	/* Optional: where to report an unexpected request; NULL names "the
	 * administrators of this certfleet installation". */
	const char *contact;
};

/*
 * Builds the validation email. On success *ret is a NUL-terminated
 * message of *ret_len bytes (free with free()). -EINVAL with a message in
 * *reterr_msg when a field is missing or a header value contains CR/LF.
 */
int mail_message_validation(const struct mail_headers *h,
    const struct mail_validation *v, char **ret, size_t *ret_len,
    char **reterr_msg) _wur_;

/*
 * Builds a notice with the caller's subject (UTF-8; RFC 2047-encoded when
 * not ASCII) and body (UTF-8; LF or CRLF line ends, normalised to CRLF;
 * quoted-printable when not ASCII or a line is longer than 998 bytes).
 */
int mail_message_notice(const struct mail_headers *h, const char *subject,
    const char *body, char **ret, size_t *ret_len, char **reterr_msg) _wur_;

/* The approval link written into validation emails (free with free()). */
int mail_approval_link(const char *base_url, const char *token, char **ret,
    char **reterr_msg) _wur_;

#endif
