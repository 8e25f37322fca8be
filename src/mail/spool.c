/*
 * spool.c: atomic, idempotent .eml files in the spool folder.
 *
 * The write is synchronous: it runs on the event loop, which is acceptable
 * for a few kilobytes to local disk (two fsyncs, typically well under a
 * millisecond on SSDs, a few ms on spinning disks), and keeps the outbox
 * runner's "delivered" meaning "durable on disk".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "common/xmalloc.h"
#include "mail/spool.h"

/* Longest Message-ID kept verbatim in a file name (NAME_MAX is 255). */
#define SPOOL_ID_MAX 200

char *
mail_spool_name(const char *message_id)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	size_t n, i;
	bool changed = false;
	char *name;

	if (message_id == NULL)
		return NULL;
	n = strlen(message_id);
	if (n >= 2 && message_id[0] == '<' && message_id[n - 1] == '>') {
		message_id++;
		n -= 2;
	}
	if (n == 0)
		return NULL;
	name = xmalloc(n + 32);
	for (i = 0; i < n && i < SPOOL_ID_MAX; i++) {
		char c = message_id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '@' || c == '-' ||
		    c == '_' || (c == '.' && i > 0))) {
			c = '_';
			changed = true;
		}
		name[i] = c;
	}
	/* Two ids that differ only in replaced characters, or beyond the
	 * kept length, must not share a file: add a digest of the id. */
	if (changed || n > SPOOL_ID_MAX) {
		SHA256((const unsigned char *)message_id, n, md);
		i += (size_t)snprintf(name + i, 18, "-%02x%02x%02x%02x%02x%02x"
		    "%02x%02x", md[0], md[1], md[2], md[3], md[4], md[5], md[6],
		    md[7]);
	}
	memcpy(name + i, ".eml", 5);
	return name;
}

/* The Message-ID field's value from the header section, or NULL. */
static char *
find_message_id(const char *m, size_t len)
{
	const char *p = m, *end = m + len, *eol, *v;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if (eol - p <= 1 || (p[0] == '\r' && eol == p + 1))
			return NULL;	/* the blank line ends the headers */
		if (eol - p > 11 && strncasecmp(p, "Message-ID:", 11) == 0) {
			v = p + 11;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			while (eol > v && (eol[-1] == '\r' || eol[-1] == '\n' ||
			    eol[-1] == ' ' || eol[-1] == '\t'))
				eol--;
			return eol > v ? xstrndup(v, (size_t)(eol - v)) : NULL;
		}
		p = eol + 1;
	}
	return NULL;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Temporary file, fsync, rename over the final name, fsync the folder. */
static int
write_file(const char *dir, const char *name, const char *m, size_t len)
{
	_cleanup_free_ char *tmp = xasprintf("%s/.%s.XXXXXX", dir, name);
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
	int fd, dfd, r;

	fd = mkostemp(tmp, O_CLOEXEC);	/* mode 0600: links are secrets */
	if (fd < 0)
		return -errno;
	r = write_all(fd, m, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fsync(dfd) < 0)
		r = -errno;
	close(dfd);
	return r;
}

int
mail_spool_write(const char *dir, const char *message, size_t len,
    char **reterr_msg)
{
	_cleanup_free_ char *id = NULL, *name = NULL;
	int r;

	id = find_message_id(message, len);
	if (id == NULL || (name = mail_spool_name(id)) == NULL) {
		*reterr_msg = xstrdup("the message has no Message-ID header");
		return -EINVAL;
	}
	r = write_file(dir, name, message, len);
	if (r < 0)
		*reterr_msg = xasprintf("cannot write %s/%s: %s", dir, name,
		    strerror(-r));
	return r;
}
