/*
 * log.h: the daemon's one log. Lines go to the journal with structured
 * fields when systemd started us, to stderr otherwise. Priorities are
 * syslog's. Library-like code logs at debug at most; the edges log once.
 *
 * Never pass a private key, a passphrase or a token to these functions.
 */
#ifndef CERTFLEET_COMMON_LOG_H
#define CERTFLEET_COMMON_LOG_H

#include <stdbool.h>
#include <syslog.h>

#include "common/cleanup.h"

/* Chooses the journal when stderr is connected to it (JOURNAL_STREAM). */
void log_open(const char *ident);
void log_set_level(int priority);
int log_get_level(void);
/* "error", "warning", "notice", "info", "debug" -> LOG_*; -1 if unknown. */
int log_level_from_string(const char *s);
const char *log_level_to_string(int priority);

/*
 * kv is NULL or a NULL-terminated list of FIELD, value pairs, FIELD in
 * journal style (upper case: "CERTIFICATE_ARN", "ACTION", "REQUEST_ID").
 * A NULL value skips its pair.
 */
void log_kv(int priority, const char *const *kv, const char *fmt, ...)
	_printf_(3, 4);

#define LOG_FIELDS(...) ((const char *const[]){ __VA_ARGS__, NULL })

#define log_error(...) log_kv(LOG_ERR, NULL, __VA_ARGS__)
#define log_warning(...) log_kv(LOG_WARNING, NULL, __VA_ARGS__)
#define log_notice(...) log_kv(LOG_NOTICE, NULL, __VA_ARGS__)
#define log_info(...) log_kv(LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...) log_kv(LOG_DEBUG, NULL, __VA_ARGS__)

#endif
