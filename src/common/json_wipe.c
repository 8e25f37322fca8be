/*
 * json_wipe.c: jansson allocation functions that remember each block's size
 * in a small header so that the free function can cleanse the block first.
 */
#include <stddef.h>
#include <stdlib.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "common/json_wipe.h"

/* Keeps the payload aligned as malloc's own blocks are. */
union wipe_header {
	size_t size;
	max_align_t align;
};

static void *
wipe_malloc(size_t size)
{
	union wipe_header *h = malloc(sizeof(*h) + size);

	if (h == NULL)
		return NULL;
	h->size = size;
	return h + 1;
}

static void
wipe_free(void *p)
{
	union wipe_header *h;

	if (p == NULL)
		return;
	h = (union wipe_header *)p - 1;
	OPENSSL_cleanse(p, h->size);
	free(h);
}

void
json_wipe_install(void)
{
	json_set_alloc_funcs(wipe_malloc, wipe_free);
}

void
json_text_free(char *text)
{
	json_malloc_t m;
	json_free_t f;

	json_get_alloc_funcs(&m, &f);
	f(text);
}
