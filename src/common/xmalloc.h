/*
 * xmalloc.h: allocation that treats out-of-memory as fatal, by policy (as
 * OpenSMTPD's xcalloc does). Every other error is returned as a value.
 */
#ifndef CERTFLEET_COMMON_XMALLOC_H
#define CERTFLEET_COMMON_XMALLOC_H

#include <stddef.h>

#include "common/cleanup.h"

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);

/* Wipes a secret with OPENSSL_cleanse, then frees it; accepts NULL. */
void secret_free(void *p, size_t len);

#endif
