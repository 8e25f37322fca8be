/*
 * gzpart.c: deflate parts that join into one gzip member, and their
 * plain text back a piece at a time (zlib does the compression; this
 * file only cuts and frames). A part ends with Z_SYNC_FLUSH, which
 * closes the last block and pads to a byte with an empty stored block,
 * and the next part starts with a reset compressor, so it refers to
 * nothing before it: that is what lets parts made apart be concatenated.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include <zlib.h>

#include "common/xmalloc.h"
#include "metrics/gzpart.h"

/* Text is compressed in runs of this size: big enough for deflate to
 * find its matches cheaply, small enough not to matter in memory. */
#define STAGE_SIZE (32 * 1024)
/* Room for compressed bytes made available to deflate at least, and
 * how much a part's mapping grows by at a time. */
#define OUT_STEP (16 * 1024)
#define OUT_GROW (256 * 1024)
/* Raw deflate (no zlib or gzip wrapper) with a 32 KiB window. */
#define RAW_WINDOW_BITS (-15)
#define MEM_LEVEL 8

struct gzpart_writer {
	z_stream z;
	unsigned char stage[STAGE_SIZE];
	size_t staged;
	unsigned char *out;	/* the current part's compressed bytes */
	size_t len;
	size_t mapped;		/* bytes mapped at out */
	uint32_t crc;		/* the current part's plain text */
	uint64_t plain;
};

/* zlib allocates through ours: out of memory is fatal, by policy. */
static voidpf
z_alloc(voidpf opaque, uInt items, uInt size)
{
	return xcalloc(items, size);
}

static void
z_free(voidpf opaque, voidpf p)
{
	free(p);
}

/*
 * A part's bytes have a mapping of their own rather than the heap's: it
 * grows by OUT_GROW in place (mremap moves pages, not bytes), shrinks to
 * the part's size when it ends, and goes straight back to the kernel when
 * the part is freed. Cached parts are megabytes made on one thread and
 * freed on another a refresh later; in malloc's arenas they would leave
 * holes that keep the daemon's RSS growing with the inventory.
 */
static size_t
page_round(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (n + page - 1) / page * page;
}

static void *
remap(void *p, size_t old, size_t size)
{
	void *q = old == 0 ? mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) :
	    mremap(p, old, size, MREMAP_MAYMOVE);

	/* Out of memory is fatal, by policy: let xmalloc say so. */
	if (q == MAP_FAILED)
		return xmalloc(SIZE_MAX);
	return q;
}

static void
unmap(void *p, size_t size)
{
	if (p != NULL && size > 0)
		munmap(p, size);
}

void
gzpart_clear(struct gzpart *p)
{
	unmap(p->data, p->mapped);
	memset(p, 0, sizeof(*p));
}

struct gzpart_writer *
gzpart_writer_new(int level)
{
	struct gzpart_writer *w = xcalloc(1, sizeof(*w));

	if (level < 1 || level > 9)
		level = Z_DEFAULT_COMPRESSION;
	w->z.zalloc = z_alloc;
	w->z.zfree = z_free;
	/* With valid arguments and our allocator, this cannot fail. */
	(void)deflateInit2(&w->z, level, Z_DEFLATED, RAW_WINDOW_BITS,
	    MEM_LEVEL, Z_DEFAULT_STRATEGY);
	w->crc = (uint32_t)crc32(0, Z_NULL, 0);
	return w;
}

void
gzpart_writer_free(struct gzpart_writer *w)
{
	if (w == NULL)
		return;
	deflateEnd(&w->z);
	unmap(w->out, w->mapped);
	free(w);
}

/* Feeds the staged text to deflate with flush, all of its output kept. */
static void
compress_stage(struct gzpart_writer *w, int flush)
{
	w->z.next_in = w->stage;
	w->z.avail_in = (uInt)w->staged;
	do {
		if (w->mapped - w->len < OUT_STEP) {
			size_t more = page_round(w->mapped + OUT_GROW);

			w->out = remap(w->out, w->mapped, more);
			w->mapped = more;
		}
		w->z.next_out = w->out + w->len;
		w->z.avail_out = (uInt)(w->mapped - w->len < UINT32_MAX ?
		    w->mapped - w->len : UINT32_MAX);
		(void)deflate(&w->z, flush);
		w->len = (size_t)(w->z.next_out - w->out);
	} while (w->z.avail_out == 0 || w->z.avail_in > 0);
	w->staged = 0;
}

void
gzpart_writer_add(struct gzpart_writer *w, const void *text, size_t n)
{
	const unsigned char *p = text;

	w->crc = (uint32_t)crc32_z(w->crc, p, n);
	w->plain += n;
	while (n > 0) {
		size_t take = STAGE_SIZE - w->staged;

		if (take > n)
			take = n;
		memcpy(w->stage + w->staged, p, take);
		w->staged += take;
		p += take;
		n -= take;
		if (w->staged == STAGE_SIZE)
			compress_stage(w, Z_NO_FLUSH);
	}
}

void
gzpart_writer_end(struct gzpart_writer *w, struct gzpart *out)
{
	size_t keep;

	compress_stage(w, Z_SYNC_FLUSH);
	/* The part is kept for a while: give back the growth's slack. */
	keep = page_round(w->len);
	if (keep < w->mapped) {
		w->out = remap(w->out, w->mapped, keep);
		w->mapped = keep;
	}
	out->data = w->out;
	out->size = w->len;
	out->mapped = w->mapped;
	out->crc = w->crc;
	out->plain = w->plain;
	w->out = NULL;
	w->len = w->mapped = 0;
	w->crc = (uint32_t)crc32(0, Z_NULL, 0);
	w->plain = 0;
	/* A fresh dictionary: the next part must not refer to this one. */
	deflateReset(&w->z);
}

/* ---- the gzip member -------------------------------------------------- */

static void
put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

void
gzip_member_begin(struct gzip_member *g,
    unsigned char header[GZIP_HEADER_SIZE])
{
	/* Magic, deflate, no flags, no time, no extra flags, Unix. */
	static const unsigned char h[GZIP_HEADER_SIZE] = {
		0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };

	memcpy(header, h, GZIP_HEADER_SIZE);
	g->crc = (uint32_t)crc32(0, Z_NULL, 0);
	g->plain = 0;
}

void
gzip_member_add(struct gzip_member *g, const struct gzpart *p)
{
	g->crc = (uint32_t)crc32_combine(g->crc, p->crc, (z_off_t)p->plain);
	g->plain += p->plain;
}

void
gzip_member_end(const struct gzip_member *g, unsigned char end[GZIP_END_SIZE])
{
	/* An empty fixed-Huffman block marked final (BFINAL=1, BTYPE=01,
	 * end-of-block code): the parts carry no final block of their own. */
	end[0] = 0x03;
	end[1] = 0x00;
	put_le32(end + 2, g->crc);
	put_le32(end + 6, (uint32_t)g->plain);	/* ISIZE is modulo 2^32 */
}

/* ---- Accept-Encoding -------------------------------------------------- */

static const char *
skip_ows(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Whether a qvalue (after "q=") is zero: "0", "0.", "0.000". */
static bool
qvalue_zero(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || s[0] != '0')
		return false;
	for (i = 1; i < n && s[i] == '.'; i++)
		;
	for (; i < n && s[i] == '0'; i++)
		;
	return i == n;
}

/* In one element's parameters (from after the coding), whether q=0. */
static bool
refused(const char *s, const char *end)
{
	while (s < end) {
		const char *semi = memchr(s, ';', (size_t)(end - s));
		const char *p;
		size_t n;

		if (semi == NULL)
			return false;
		p = skip_ows(semi + 1);
		s = p;
		if (p >= end || (*p != 'q' && *p != 'Q'))
			continue;
		p = skip_ows(p + 1);
		if (p >= end || *p != '=')
			continue;
		p = skip_ows(p + 1);
		n = strcspn(p, " \t;,");
		if (p + n > end)
			n = (size_t)(end - p);
		return qvalue_zero(p, n);
	}
	return false;
}

bool
gzip_accepted(const char *ae)
{
	int gzip = -1, any = -1;	/* -1 unnamed, 0 refused, 1 accepted */

	for (const char *s = ae; s != NULL && *s != '\0';) {
		const char *end = s + strcspn(s, ",");
		const char *name = skip_ows(s);
		size_t n = strcspn(name, " \t;,");
		int ok = !refused(name + n, end);

		if ((n == 4 && strncasecmp(name, "gzip", 4) == 0) ||
		    (n == 6 && strncasecmp(name, "x-gzip", 6) == 0))
			gzip = ok;
		else if (n == 1 && name[0] == '*')
			any = ok;
		s = *end == ',' ? end + 1 : end;
	}
	return gzip >= 0 ? gzip == 1 : any == 1;
}

/* ---- reading a part back ---------------------------------------------- */

struct gzpart_reader {
	z_stream z;
	const struct gzpart *p;
	size_t in_left;		/* compressed bytes not yet given to zlib */
	uint32_t crc;		/* of the plain text read so far */
	uint64_t plain;
	bool done;
};

struct gzpart_reader *
gzpart_reader_new(void)
{
	struct gzpart_reader *r = xcalloc(1, sizeof(*r));

	r->z.zalloc = z_alloc;
	r->z.zfree = z_free;
	(void)inflateInit2(&r->z, RAW_WINDOW_BITS);
	r->done = true;
	return r;
}

void
gzpart_reader_free(struct gzpart_reader *r)
{
	if (r == NULL)
		return;
	inflateEnd(&r->z);
	free(r);
}

void
gzpart_reader_start(struct gzpart_reader *r, const struct gzpart *p)
{
	inflateReset(&r->z);
	r->p = p;
	r->z.next_in = p->data;
	r->z.avail_in = 0;
	r->in_left = p->size;
	r->crc = (uint32_t)crc32(0, Z_NULL, 0);
	r->plain = 0;
	r->done = false;
}

/* The end of the part: do the figures match what came out? */
static int
finish(struct gzpart_reader *r)
{
	r->done = true;
	return r->crc == r->p->crc && r->plain == r->p->plain ? 0 : -EBADMSG;
}

int
gzpart_reader_read(struct gzpart_reader *r, void *buf, size_t size,
    size_t *got)
{
	*got = 0;
	if (r->done || size == 0)
		return 0;
	r->z.next_out = buf;
	r->z.avail_out = (uInt)(size < UINT32_MAX ? size : UINT32_MAX);
	for (;;) {
		int rc;

		if (r->z.avail_in == 0 && r->in_left > 0) {
			r->z.avail_in = (uInt)(r->in_left < UINT32_MAX ?
			    r->in_left : UINT32_MAX);
			r->in_left -= r->z.avail_in;
		}
		rc = inflate(&r->z, Z_NO_FLUSH);
		*got = (size_t)((unsigned char *)r->z.next_out -
		    (unsigned char *)buf);
		if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END) {
			r->done = true;
			return -EBADMSG;
		}
		if (*got > 0)
			break;
		/* Nothing came out: the end, or only block headers read. */
		if (rc == Z_STREAM_END ||
		    (r->z.avail_in == 0 && r->in_left == 0))
			return finish(r);
		if (rc == Z_BUF_ERROR) {
			/* Input left, room left, yet no progress. */
			r->done = true;
			return -EBADMSG;
		}
	}
	r->crc = (uint32_t)crc32_z(r->crc, buf, *got);
	r->plain += *got;
	return 0;
}
