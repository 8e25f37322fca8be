/*
 * delivery.h: hands one message for one recipient to the configured relay
 * over SMTP (libcurl, driven by the event loop through curl_loop), or, with
 * no relay configured, writes it to the spool folder as an .eml file.
 *
 * One recipient per delivery: the outbox keeps a row per recipient, and a
 * single RCPT makes the outcome (delivered, temporary, permanent) belong to
 * exactly one address, with no partial successes to untangle.
 */
#ifndef CERTFLEET_MAIL_DELIVERY_H
#define CERTFLEET_MAIL_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cleanup.h"

struct curl_loop;

enum mail_result {
	MAIL_DELIVERED,	/* accepted by the relay, or written to the spool */
	MAIL_TEMPORARY,	/* try again later: 4xx, no connection, timeout,
			 * TLS or authentication trouble with the relay */
	MAIL_PERMANENT,	/* 5xx to MAIL, RCPT or DATA: do not retry */
};

struct mail_delivery_settings {
	/* "smtp://host:port" (STARTTLS when offered, or required with
	 * require_tls), "smtps://host:port" (TLS from the start); an optional
	 * path is the EHLO name ("smtp://relay:25/certfleet.example.com").
	 * NULL or empty: spool mode. */
	const char *relay_url;
	/* Both set: authenticate (curl picks the SASL mechanism). */
	const char *username, *password;
	/* PEM bundle to verify the relay's certificate; NULL: system store. */
	const char *ca_file;
	/* smtp:// only: fail (temporarily) unless STARTTLS succeeds. */
	bool require_tls;
	/* 0 takes the defaults: 10 s to connect, 60 s in all. */
	int64_t connect_timeout_ms, timeout_ms;
	/* Spool mode: where <message-id>.eml files are written. */
	const char *spool_directory;
};

/*
 * Runs once per successful mail_deliver(), on the loop thread. reason is
 * NULL when delivered, otherwise a one-line text (the relay's reply when
 * there was one), valid only during the call.
 */
typedef void (*mail_delivery_done_fn)(enum mail_result r, const char *reason,
    void *arg);

/*
 * Delivers message (len bytes, a complete RFC 5322 message with CRLF line
 * ends; it is copied) from the envelope sender from to rcpt.
 *
 * Relay mode: returns 0 at once and done runs later, when the SMTP
 * transaction ended; curl_loop_free() cancels pending deliveries (done
 * runs with MAIL_TEMPORARY).
 * Spool mode: the file is written synchronously (a small local write:
 * temporary file, fsync, rename, fsync of the folder) and done runs BEFORE
 * mail_deliver returns 0. The file is named after the message's
 * Message-ID, so delivering the same message again replaces the file with
 * the same bytes instead of adding a second one.
 *
 * Returns -EINVAL (done never runs) when from or rcpt is not a plain
 * address (empty, a space, a control character, '<' or '>'), or in spool
 * mode when the message has no usable Message-ID header or no
 * spool_directory is set.
 */
int mail_deliver(struct curl_loop *loop, const struct mail_delivery_settings *s,
    const char *from, const char *rcpt, const char *message, size_t len,
    mail_delivery_done_fn done, void *arg) _wur_;

#endif
