/*
 * cleanup.h: scope-bound ownership for locals, in the manner of systemd.
 *
 * A local declared _cleanup_free_ is freed when it goes out of scope; hand it
 * to a caller with TAKE_PTR(), which returns the pointer and clears the local.
 * Module-specific cleanups (X509, EVP_PKEY, PGresult, json_t) live beside the
 * module that uses them so this header pulls in no third-party headers.
 */
#ifndef CERTFLEET_COMMON_CLEANUP_H
#define CERTFLEET_COMMON_CLEANUP_H

#include <stdlib.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _wur_ __attribute__((warn_unused_result))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))

static inline void
freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

/* Returns the pointer and leaves NULL behind: an explicit hand-off. */
#define TAKE_PTR(p)                        \
	({                                 \
		__typeof__(p) _ptr_ = (p); \
		(p) = NULL;                \
		_ptr_;                     \
	})

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

#endif
