/*
 * dns_check.h: the DNS half of the checks that allow automatic renewal.
 * Every name of a certificate, except wildcards (which are not checked),
 * is resolved for A and AAAA through the daemon's c-ares channel (so the
 * [dns] timeout and tries apply), following CNAMEs; every address must lie
 * within [renewal] managed_networks.
 *
 * Per name, a verdict:
 *   PASS       at least one address, all within managed_networks
 *   FAIL       NXDOMAIN, no A/AAAA record at all, or an address outside
 *              (definitive: the renewal falls back to email validation)
 *   UNDECIDED  SERVFAIL, REFUSED, time-out, ... and nothing definitive:
 *              temporary, retry later; not a failure
 *   SKIPPED    a wildcard name
 * The certificate's verdict: FAIL if a name fails, else UNDECIDED if a name
 * is undecided, else PASS.
 *
 * At most max_in_flight names are resolved at once; more wait in a FIFO.
 * Everything is asynchronous: the done callback runs once, from the event
 * loop, never from inside dns_check_start().
 */
#ifndef CERTFLEET_RENEWAL_DNS_CHECK_H
#define CERTFLEET_RENEWAL_DNS_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "common/cleanup.h"

struct event_base;
struct ares_loop;
struct dns_checker;
struct dns_check;

enum dns_verdict {
	DNS_CHECK_PASS,
	DNS_CHECK_FAIL,
	DNS_CHECK_UNDECIDED,
	DNS_CHECK_SKIPPED,
};

struct dns_checker_settings {
	const char *managed_networks;	/* "10.0.0.0/8, 2001:db8::/32" */
	unsigned max_in_flight;		/* names resolved at once; 0 = 64 */
	/*
	 * Called once per name resolved (not for wildcards, nor for names of
	 * a cancelled check), on the loop thread, with the name's result
	 * label (dns_check_result_label) and the seconds from its queries to
	 * its verdict. For the metrics; NULL: nobody counts.
	 */
	void (*observe)(void *arg, const char *result, double seconds);
	void *observe_arg;
};

struct dns_name_result {
	const char *name;
	enum dns_verdict verdict;
	const char *reason;	/* NULL on PASS; else for the operator, e.g.
				   "www.example.com resolves to 203.0.113.5,
				   outside managed_networks" */
	size_t n_addrs;
	const char *const *addrs;	/* the addresses seen, as text */
};

struct dns_check_result {
	enum dns_verdict verdict;	/* PASS, FAIL or UNDECIDED */
	size_t n_names;
	const struct dns_name_result *names;	/* in the order given */
};

/* The result and everything in it are valid during the callback only. */
typedef void dns_check_done_fn(const struct dns_check_result *res,
    void *arg);

/*
 * managed_networks is parsed here (reterr_msg says what is wrong with it).
 * ares is the daemon's c-ares channel; it must outlive the checker.
 */
int dns_checker_new(struct event_base *base, struct ares_loop *ares,
    const struct dns_checker_settings *s, struct dns_checker **out,
    char **reterr_msg) _wur_;
/*
 * Pending checks are dropped without their callbacks. Call before
 * ares_loop_free(). Accepts NULL.
 */
void dns_checker_free(struct dns_checker *c);
/* Replace managed_networks (a configuration reload); checks in flight keep
   the old list. */
int dns_checker_set_networks(struct dns_checker *c, const char *networks,
    char **reterr_msg) _wur_;

/*
 * Check names[0..n_names) (copied). *handle (may be NULL) lets the caller
 * cancel; it is invalid once the callback has run.
 */
int dns_check_start(struct dns_checker *c, const char *const *names,
    size_t n_names, dns_check_done_fn *done, void *arg,
    struct dns_check **handle) _wur_;
/* The callback will not run. Accepts NULL. */
void dns_check_cancel(struct dns_check *check);

const char *dns_verdict_name(enum dns_verdict v);	/* "PASS", ... */

/*
 * A name's result as a short fixed label, for counting: "ok" (PASS),
 * "outside" (an address outside managed_networks), "nxdomain", "nodata"
 * (no A or AAAA record), "timeout" (an undecided look-up that timed out)
 * or "error" (undecided otherwise: SERVFAIL, REFUSED, ...). The reason
 * that decided the verdict wins, in that order, as in dns_name_result's
 * reason.
 */
const char *dns_check_result_label(enum dns_verdict verdict, bool outside,
    bool nxdomain, bool timed_out);

#endif
