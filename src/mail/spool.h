/*
 * spool.h: the spool folder, where messages go when no relay is
 * configured: one <Message-ID>.eml file per message, written atomically, so
 * that something else (a local MTA's pickup, an operator, a test) can take
 * them from there. A crash mid-write can leave a ".<name>.XXXXXX" temporary
 * file: whatever reads the folder must skip names starting with '.'.
 */
#ifndef CERTFLEET_MAIL_SPOOL_H
#define CERTFLEET_MAIL_SPOOL_H

#include <stddef.h>

#include "common/cleanup.h"

/*
 * The file name for a Message-ID value (with or without the angle
 * brackets): letters, digits, '@', '-', '_' and '.' (not leading) are kept,
 * anything else becomes '_' and then a digest of the id is appended so two
 * ids never share a name; ".eml" ends it. NULL for an empty id.
 */
char *mail_spool_name(const char *message_id);

/*
 * Writes message (a complete RFC 5322 message) as dir/<name>.eml, named
 * after its Message-ID header: temporary file (mode 0600: validation
 * emails hold approval links), fsync, rename, fsync of dir. Writing a
 * message with the same Message-ID again replaces the file, so a re-send
 * never makes a second one. -EINVAL when the message has no Message-ID
 * header; another negative errno when the write fails; *reterr_msg says
 * which (free it).
 */
int mail_spool_write(const char *dir, const char *message, size_t len,
    char **reterr_msg) _wur_;

#endif
