/*
 * tls_probe.h: the TLS half of the checks, and deployment verification.
 * A probe resolves a binding's endpoint (a literal IP needs no DNS; a name
 * is resolved for A and AAAA through the daemon's c-ares channel) and
 * probes EVERY address, since one stale node behind a load-balanced name
 * is the classic outage: non-blocking connect, then a TLS 1.2+ handshake
 * with SNI on the event loop, with a time-out ([renewal] probe_timeout)
 * covering both. It captures the served leaf certificate: SHA-256
 * fingerprint (lower-case hex of the DER, as cert_info's
 * fingerprint_sha256), NotAfter, and whether the chain verifies against
 * certfleet's CA root or the system's roots and matches the SNI name.
 *
 * The probe passes when every address completed the handshake and served
 * the expected fingerprint (or, with no expected fingerprint, completed
 * the handshake). An endpoint name that does not resolve fails; one whose
 * resolution fails temporarily (SERVFAIL, time-out) is UNDECIDED.
 *
 * Bounds: at most max_in_flight handshakes at once, and max_per_host at
 * once to one address (to be polite to each server); more wait in FIFOs.
 * One SSL_CTX is shared by all probes; sessions are never resumed (a
 * resumed session shows no certificate).
 */
#ifndef CERTFLEET_RENEWAL_TLS_PROBE_H
#define CERTFLEET_RENEWAL_TLS_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/cleanup.h"

struct event_base;
struct ares_loop;
struct tls_prober;
struct tls_probe;

struct tls_prober_settings {
	int timeout_ms;		/* connect + handshake, per address; 0 = 10s */
	unsigned max_in_flight;	/* handshakes at once; 0 = 64 */
	unsigned max_per_host;	/* handshakes at once per address; 0 = 4 */
	const char *ca_pem;	/* certfleet's CA certificate(s), PEM; NULL:
				   none */
	bool no_system_roots;	/* do not trust the system's roots too */
	/*
	 * Called once per address probed, on the loop thread, with its
	 * result label (tls_addr_status_label) and the seconds from the
	 * connect to the result; and once per endpoint that did not resolve,
	 * with "resolve_error" and -1. Not for cancelled probes. For the
	 * metrics; NULL: nobody counts.
	 */
	void (*observe)(void *arg, const char *result, double seconds);
	void *observe_arg;
};

struct tls_endpoint {
	const char *host;	/* IP literal ("[::1]" too) or DNS name */
	uint16_t port;
	const char *server_name;	/* SNI; NULL or "": host, when it is a
					   name */
};

enum tls_probe_verdict {
	TLS_PROBE_PASS,
	TLS_PROBE_FAIL,
	TLS_PROBE_UNDECIDED,
};

enum tls_addr_status {
	TLS_ADDR_OK,		/* handshake done, expected certificate */
	TLS_ADDR_MISMATCH,	/* handshake done, another certificate */
	TLS_ADDR_CONNECT_FAILED,	/* refused, unreachable, ... */
	TLS_ADDR_TIMEOUT,	/* no connection or handshake in time */
	TLS_ADDR_HANDSHAKE_FAILED,	/* TLS alert, protocol error, ... */
};

struct tls_addr_result {
	const char *address;	/* "127.0.0.21", "::1" */
	enum tls_addr_status status;
	const char *fingerprint;	/* served leaf, 64 lower-case hex; ""
					   when no certificate was seen */
	time_t not_after;	/* served leaf's NotAfter; 0 when none */
	bool chain_verified;	/* chains to a trusted root, names the SNI */
	const char *verify_error;	/* why not verified; NULL if verified */
	const char *error;	/* NULL when OK; human text otherwise */
};

struct tls_probe_result {
	enum tls_probe_verdict verdict;
	const char *error;	/* resolution failure, else NULL */
	size_t n_addrs;
	const struct tls_addr_result *addrs;
};

/* The result and everything in it are valid during the callback only. */
typedef void tls_probe_done_fn(const struct tls_probe_result *res,
    void *arg);

/*
 * Builds the shared SSL_CTX (TLS 1.2 minimum, trust: ca_pem + system
 * roots). ares must outlive the prober.
 */
int tls_prober_new(struct event_base *base, struct ares_loop *ares,
    const struct tls_prober_settings *s, struct tls_prober **out,
    char **reterr_msg) _wur_;
/*
 * Pending probes are dropped without their callbacks. Call before
 * ares_loop_free(). Accepts NULL.
 */
void tls_prober_free(struct tls_prober *p);

/*
 * Probe every address of ep (copied). expected_fingerprint: 64 hex digits
 * (either case, colons allowed) or NULL to capture only. *handle (may be
 * NULL) lets the caller cancel; it is invalid once the callback has run.
 * Fails only for a bad argument (no host, port 0, bad fingerprint).
 */
int tls_probe_start(struct tls_prober *p, const struct tls_endpoint *ep,
    const char *expected_fingerprint, tls_probe_done_fn *done, void *arg,
    struct tls_probe **handle, char **reterr_msg) _wur_;
/* The callback will not run. Accepts NULL. */
void tls_probe_cancel(struct tls_probe *probe);

const char *tls_probe_verdict_name(enum tls_probe_verdict v);
const char *tls_addr_status_name(enum tls_addr_status s);
/* An address's result as a short fixed label, for counting: "ok",
 * "mismatch", "connect_error", "timeout", "handshake_error". */
const char *tls_addr_status_label(enum tls_addr_status s);

#endif
