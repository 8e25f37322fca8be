/*
 * gzpart.h: text compressed in parts that join without being compressed
 * again, for /metrics.
 *
 * A part is a raw deflate stream (RFC 1951) with a dictionary of its own
 * that ends on a byte boundary without a final block, so parts compressed
 * apart (the cached certificate figures on a database thread, the live
 * figures at scrape time) concatenate into one valid deflate stream. A
 * gzip header, the parts, an empty final block and a trailer whose CRC-32
 * is combined from the parts' make one gzip member (RFC 1952) that every
 * gzip decoder reads, without the whole text ever existing at once. A
 * part can also be inflated back a bounded piece at a time, for clients
 * that do not take gzip. No daemon state: unit tests use it alone.
 */
#ifndef CERTFLEET_METRICS_GZPART_H
#define CERTFLEET_METRICS_GZPART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cleanup.h"

/* One part; the bytes belong to the struct. */
struct gzpart {
	unsigned char *data;	/* raw deflate without a final block */
	size_t size;
	size_t mapped;		/* the mapping that holds data */
	uint32_t crc;		/* CRC-32 of the plain text */
	uint64_t plain;		/* length of the plain text */
};

/* Frees the bytes; the struct itself belongs to the caller. */
void gzpart_clear(struct gzpart *p);

/*
 * Compresses text as it is produced into a series of parts: what was
 * added since the last gzpart_writer_end is the next part. Holds the
 * compressor (some 300 KiB) and a bounded staging buffer; the compressed
 * bytes grow, in a mapping of their own, until the part ends.
 */
struct gzpart_writer;

/* level: zlib's 1 (fastest) to 9 (smallest); others mean zlib's default. */
struct gzpart_writer *gzpart_writer_new(int level);
void gzpart_writer_add(struct gzpart_writer *w, const void *text, size_t n);
/* The part since the last end into *out; the next starts afresh. */
void gzpart_writer_end(struct gzpart_writer *w, struct gzpart *out);
void gzpart_writer_free(struct gzpart_writer *w);

/*
 * One gzip member around parts: GZIP_HEADER_SIZE bytes of header, the
 * parts' bytes in order, then GZIP_END_SIZE bytes (final empty block,
 * CRC-32, length). gzip_member_add accounts for a part the caller puts
 * in the member.
 */
#define GZIP_HEADER_SIZE 10
#define GZIP_END_SIZE 10

struct gzip_member {
	uint32_t crc;		/* of the plain text so far */
	uint64_t plain;
};

void gzip_member_begin(struct gzip_member *g,
    unsigned char header[GZIP_HEADER_SIZE]);
void gzip_member_add(struct gzip_member *g, const struct gzpart *p);
void gzip_member_end(const struct gzip_member *g,
    unsigned char end[GZIP_END_SIZE]);

/* Whether an Accept-Encoding header value accepts gzip (NULL: no). */
bool gzip_accepted(const char *accept_encoding);

/*
 * A part's plain text, a bounded piece at a time. The part must outlive
 * its reading. Holds the decompressor (some 40 KiB).
 */
struct gzpart_reader;

struct gzpart_reader *gzpart_reader_new(void);
/* Starts reading p from its first byte (drops what was being read). */
void gzpart_reader_start(struct gzpart_reader *r, const struct gzpart *p);
/*
 * Up to size bytes of plain text into buf, *got of them: 0 at the end of
 * the part. -EBADMSG when the part is not what its figures say (corrupt
 * data, wrong length or CRC).
 */
int gzpart_reader_read(struct gzpart_reader *r, void *buf, size_t size,
    size_t *got) _wur_;
void gzpart_reader_free(struct gzpart_reader *r);

#endif
