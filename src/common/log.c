/*
 * log.c: writes log lines to the journal (with structured fields) or to
 * stderr. The level and destination are process-wide settings made once at
 * start and on reload from the loop thread; worker threads only read them.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "common/log.h"
#include "common/xmalloc.h"

static const char *const level_names[] = {
	[LOG_EMERG] = "emerg",	 [LOG_ALERT] = "alert",
	[LOG_CRIT] = "crit",	 [LOG_ERR] = "error",
	[LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info",	 [LOG_DEBUG] = "debug",
};

static atomic_int log_level = LOG_INFO;
static bool log_to_journal;
static const char *log_ident = "certfleet";

void
log_open(const char *ident)
{
	log_ident = ident;
	/* systemd sets JOURNAL_STREAM when stderr goes to the journal. */
	log_to_journal = getenv("JOURNAL_STREAM") != NULL;
}

void
log_set_level(int priority)
{
	atomic_store(&log_level, priority);
}

int
log_get_level(void)
{
	return atomic_load(&log_level);
}

int
log_level_from_string(const char *s)
{
	for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
		if (level_names[i] && strcmp(level_names[i], s) == 0)
			return (int)i;
	if (strcmp(s, "err") == 0)
		return LOG_ERR;
	return -1;
}

const char *
log_level_to_string(int priority)
{
	if (priority < 0 || priority >= (int)ELEMENTSOF(level_names))
		return "unknown";
	return level_names[priority];
}

static void
log_to_stderr(int priority, const char *const *kv, const char *msg)
{
	char stamp[32];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	flockfile(stderr);
	fprintf(stderr, "%s.%03ldZ %s %s: %s", stamp, ts.tv_nsec / 1000000,
	    log_ident, log_level_to_string(priority), msg);
	for (size_t i = 0; kv && kv[i]; i += 2)
		if (kv[i + 1])
			fprintf(stderr, " %s=%s", kv[i], kv[i + 1]);
	fputc('\n', stderr);
	funlockfile(stderr);
}

static void
log_to_journal_send(int priority, const char *const *kv, const char *msg)
{
	struct iovec iov[16];
	char *items[16];
	size_t n = 0;

	items[n++] = xasprintf("MESSAGE=%s", msg);
	items[n++] = xasprintf("PRIORITY=%d", priority);
	items[n++] = xasprintf("SYSLOG_IDENTIFIER=%s", log_ident);
	for (size_t i = 0; kv && kv[i] && n < ELEMENTSOF(items); i += 2)
		if (kv[i + 1])
			items[n++] = xasprintf("%s=%s", kv[i], kv[i + 1]);
	for (size_t i = 0; i < n; i++) {
		iov[i].iov_base = items[i];
		iov[i].iov_len = strlen(items[i]);
	}
	sd_journal_sendv(iov, (int)n);
	for (size_t i = 0; i < n; i++)
		free(items[i]);
}

void
log_kv(int priority, const char *const *kv, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	if (priority > atomic_load(&log_level))
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg == NULL)
		return;
	if (log_to_journal)
		log_to_journal_send(priority, kv, msg);
	else
		log_to_stderr(priority, kv, msg);
}
