/*
 * test_renewal_checks.c: the DNS check and the TLS probe of managed
 * renewal (src/renewal/dns_check.c, src/renewal/tls_probe.c) against real
 * servers on loopback that tests/unit/run-renewal-checks.sh starts:
 * dnsmasq (CHECKS_DNS=address:port) and openssl s_server endpoints on
 * 127.0.54.21-23 (CHECKS_TLS_PORT), issued by the CA in CHECKS_CA. This
 * program adds a DNS server that never answers, a TCP port that accepts
 * and never speaks TLS, and one that answers with something else. Skipped
 * (77) when run without those servers, after the result labels (which
 * need none). Also what the observers of the settings see, for the
 * metrics: each name and each address once, with its result label.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "common/xmalloc.h"
#include "loop/ares_loop.h"
#include "renewal/dns_check.h"
#include "renewal/tls_probe.h"

#define MANAGED "127.0.54.0/24, fd00:54::/64"

static const char *dns_server, *ca_path, *good_fp_env, *other_fp_env;
static uint16_t tls_port;
static time_t good_not_after;
static char *ca_pem;
static char good_fp[65], other_fp[65];

struct fixture {
	struct event_base *base;
	struct ares_loop *dns;
	struct ares_loop *silent_dns;	/* a server that never answers */
	int silent_udp;
	int silent_tcp;		/* listens, never accepts: no TLS ever */
	uint16_t silent_tcp_port;
	int garbage_tcp;	/* accepts and answers in plain text */
	uint16_t garbage_tcp_port;
	struct event *garbage_ev;
	struct dns_checker *checker;
	struct tls_prober *prober;
};

/* ---- what a callback saw, copied ---- */

struct name_seen {
	char *name;
	enum dns_verdict verdict;
	char *reason;
	char *addrs;		/* space-separated */
};

struct dns_seen {
	int calls;
	enum dns_verdict verdict;
	size_t n;
	struct name_seen names[64];
	struct event_base *base;
};

struct addr_seen {
	char *address;
	enum tls_addr_status status;
	char *fingerprint;
	time_t not_after;
	bool chain_verified;
	char *error;
};

struct tls_seen {
	int calls;
	enum tls_probe_verdict verdict;
	char *error;
	size_t n;
	struct addr_seen addrs[16];
	struct event_base *base;
	int *outstanding;	/* several probes at once: stop at 0 */
};

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void
on_dns(const struct dns_check_result *res, void *arg)
{
	struct dns_seen *seen = arg;
	size_t i, j;

	seen->calls++;
	seen->verdict = res->verdict;
	seen->n = res->n_names;
	for (i = 0; i < res->n_names && i < ELEMENTSOF(seen->names); i++) {
		const struct dns_name_result *r = &res->names[i];
		char *all = xstrdup("");

		for (j = 0; j < r->n_addrs; j++) {
			char *next = xasprintf("%s%s ", all, r->addrs[j]);

			free(all);
			all = next;
		}
		seen->names[i] = (struct name_seen){ xstrdup(r->name),
		    r->verdict, dup_or_null(r->reason), all };
	}
	event_base_loopbreak(seen->base);
}

static void
dns_seen_clear(struct dns_seen *seen)
{
	size_t i;

	for (i = 0; i < seen->n && i < ELEMENTSOF(seen->names); i++) {
		free(seen->names[i].name);
		free(seen->names[i].reason);
		free(seen->names[i].addrs);
	}
}

static const struct name_seen *
name_of(const struct dns_seen *seen, const char *name)
{
	size_t i;

	for (i = 0; i < seen->n; i++)
		if (strcmp(seen->names[i].name, name) == 0)
			return &seen->names[i];
	fail_msg("no result for %s", name);
	return NULL;
}

static void
on_tls(const struct tls_probe_result *res, void *arg)
{
	struct tls_seen *seen = arg;
	size_t i;

	seen->calls++;
	seen->verdict = res->verdict;
	seen->error = dup_or_null(res->error);
	seen->n = res->n_addrs;
	for (i = 0; i < res->n_addrs && i < ELEMENTSOF(seen->addrs); i++) {
		const struct tls_addr_result *a = &res->addrs[i];

		seen->addrs[i] = (struct addr_seen){ xstrdup(a->address),
		    a->status, xstrdup(a->fingerprint), a->not_after,
		    a->chain_verified, dup_or_null(a->error) };
	}
	if (seen->outstanding == NULL || --*seen->outstanding == 0)
		event_base_loopbreak(seen->base);
}

static void
tls_seen_clear(struct tls_seen *seen)
{
	size_t i;

	free(seen->error);
	for (i = 0; i < seen->n && i < ELEMENTSOF(seen->addrs); i++) {
		free(seen->addrs[i].address);
		free(seen->addrs[i].fingerprint);
		free(seen->addrs[i].error);
	}
}

static const struct addr_seen *
addr_of(const struct tls_seen *seen, const char *address)
{
	size_t i;

	for (i = 0; i < seen->n; i++)
		if (strcmp(seen->addrs[i].address, address) == 0)
			return &seen->addrs[i];
	fail_msg("no result for %s", address);
	return NULL;
}

/* ---- servers of our own ---- */

static int
bound_socket(int type, const char *addr, uint16_t *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, addr, &sin.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 64), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void
on_garbage(evutil_socket_t fd, short what, void *arg)
{
	static const char reply[] = "SSH-2.0-not-tls\r\n";
	int c = accept(fd, NULL, NULL);

	if (c < 0)
		return;
	if (write(c, reply, sizeof(reply) - 1) < 0)
		(void)0;	/* the probe will say what it saw */
	close(c);
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct ares_loop_settings s = { .servers = dns_server,
		.timeout_ms = 2000, .tries = 2 };
	struct dns_checker_settings ds = { .managed_networks = MANAGED };
	struct tls_prober_settings ts = { .timeout_ms = 2000,
		.ca_pem = ca_pem };
	char *msg = NULL, *silent;
	uint16_t port;

	f->base = event_base_new();
	assert_int_equal(ares_loop_new(f->base, &s, &f->dns, &msg), 0);
	f->silent_udp = bound_socket(SOCK_DGRAM, "127.0.54.2", &port);
	silent = xasprintf("127.0.54.2:%u", port);
	s.servers = silent;
	s.timeout_ms = 150;
	s.tries = 2;
	assert_int_equal(ares_loop_new(f->base, &s, &f->silent_dns, &msg), 0);
	free(silent);
	f->silent_tcp = bound_socket(SOCK_STREAM, "127.0.54.25",
	    &f->silent_tcp_port);
	f->garbage_tcp = bound_socket(SOCK_STREAM, "127.0.54.26",
	    &f->garbage_tcp_port);
	f->garbage_ev = event_new(f->base, f->garbage_tcp, EV_READ |
	    EV_PERSIST, on_garbage, NULL);
	event_add(f->garbage_ev, NULL);
	assert_int_equal(dns_checker_new(f->base, f->dns, &ds, &f->checker,
	    &msg), 0);
	assert_int_equal(tls_prober_new(f->base, f->dns, &ts, &f->prober,
	    &msg), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	tls_prober_free(f->prober);
	dns_checker_free(f->checker);
	ares_loop_free(f->dns);
	ares_loop_free(f->silent_dns);
	event_free(f->garbage_ev);
	close(f->silent_udp);
	close(f->silent_tcp);
	close(f->garbage_tcp);
	event_base_free(f->base);
	free(f);
	return 0;
}

static void
run(struct fixture *f)
{
	struct timeval limit = { 30, 0 };

	event_base_loopexit(f->base, &limit);
	event_base_dispatch(f->base);
}

static void
check_names(struct fixture *f, struct dns_checker *c,
    const char *const *names, size_t n, struct dns_seen *seen)
{
	memset(seen, 0, sizeof(*seen));
	seen->base = f->base;
	assert_int_equal(dns_check_start(c, names, n, on_dns, seen, NULL), 0);
	assert_int_equal(seen->calls, 0);	/* never from inside start */
	run(f);
	assert_int_equal(seen->calls, 1);
	assert_int_equal(seen->n, n);
}

/* ---- DNS ---- */

static void
test_dns_names_inside_pass_following_cnames(void **state)
{
	struct fixture *f = *state;
	const char *names[] = { "in.test.example", "v4only.test.example",
		"alias.test.example", "*.test.example" };
	struct dns_seen seen;

	check_names(f, f->checker, names, ELEMENTSOF(names), &seen);
	assert_int_equal(seen.verdict, DNS_CHECK_PASS);
	assert_int_equal(name_of(&seen, "in.test.example")->verdict,
	    DNS_CHECK_PASS);
	assert_non_null(strstr(name_of(&seen, "in.test.example")->addrs,
	    "127.0.54.10 "));
	assert_non_null(strstr(name_of(&seen, "in.test.example")->addrs,
	    "fd00:54::10 "));
	assert_null(name_of(&seen, "in.test.example")->reason);
	assert_string_equal(name_of(&seen, "v4only.test.example")->addrs,
	    "127.0.54.11 ");
	/* alias -> mid -> in: the addresses at the end of the chain */
	assert_int_equal(name_of(&seen, "alias.test.example")->verdict,
	    DNS_CHECK_PASS);
	assert_non_null(strstr(name_of(&seen, "alias.test.example")->addrs,
	    "127.0.54.10 "));
	assert_int_equal(name_of(&seen, "*.test.example")->verdict,
	    DNS_CHECK_SKIPPED);
	dns_seen_clear(&seen);
}

static void
test_dns_failures_have_a_reason_per_name(void **state)
{
	struct fixture *f = *state;
	const char *names[] = { "in.test.example", "out.test.example",
		"out6.test.example", "aliasout.test.example",
		"missing.test.example", "txtonly.test.example",
		"elsewhere.example", "*.wild.test.example" };
	struct dns_seen seen;
	const struct name_seen *n;

	check_names(f, f->checker, names, ELEMENTSOF(names), &seen);
	assert_int_equal(seen.verdict, DNS_CHECK_FAIL);
	assert_int_equal(name_of(&seen, "in.test.example")->verdict,
	    DNS_CHECK_PASS);
	n = name_of(&seen, "out.test.example");
	assert_int_equal(n->verdict, DNS_CHECK_FAIL);
	assert_non_null(strstr(n->reason, "192.0.2.1"));
	assert_non_null(strstr(n->reason, "outside managed_networks"));
	n = name_of(&seen, "out6.test.example");
	assert_int_equal(n->verdict, DNS_CHECK_FAIL);
	assert_non_null(strstr(n->reason, "2001:db8::1"));
	n = name_of(&seen, "aliasout.test.example");
	assert_int_equal(n->verdict, DNS_CHECK_FAIL);
	if (strstr(n->reason, "192.0.2.1") == NULL)
		fail_msg("%s (%s)", n->reason, n->addrs);
	n = name_of(&seen, "missing.test.example");
	assert_int_equal(n->verdict, DNS_CHECK_FAIL);
	assert_non_null(strstr(n->reason, "NXDOMAIN"));
	n = name_of(&seen, "txtonly.test.example");
	assert_int_equal(n->verdict, DNS_CHECK_FAIL);
	assert_non_null(strstr(n->reason, "no A or AAAA record"));
	/* dnsmasq REFUSEs names outside its zones: could not decide */
	n = name_of(&seen, "elsewhere.example");
	assert_int_equal(n->verdict, DNS_CHECK_UNDECIDED);
	assert_non_null(strstr(n->reason, "could not be completed"));
	assert_int_equal(name_of(&seen, "*.wild.test.example")->verdict,
	    DNS_CHECK_SKIPPED);
	dns_seen_clear(&seen);
}

static void
test_dns_refused_alone_is_undecided_not_failed(void **state)
{
	struct fixture *f = *state;
	const char *names[] = { "in.test.example", "elsewhere.example" };
	struct dns_seen seen;

	check_names(f, f->checker, names, ELEMENTSOF(names), &seen);
	assert_int_equal(seen.verdict, DNS_CHECK_UNDECIDED);
	dns_seen_clear(&seen);
}

static void
test_dns_timeout_is_undecided(void **state)
{
	struct fixture *f = *state;
	struct dns_checker_settings ds = { .managed_networks = MANAGED };
	const char *names[] = { "in.test.example" };
	struct dns_checker *c;
	struct dns_seen seen;
	char *msg = NULL;

	assert_int_equal(dns_checker_new(f->base, f->silent_dns, &ds, &c,
	    &msg), 0);
	check_names(f, c, names, 1, &seen);
	assert_int_equal(seen.verdict, DNS_CHECK_UNDECIDED);
	assert_non_null(strstr(seen.names[0].reason, "imeout"));
	dns_seen_clear(&seen);
	dns_checker_free(c);
}

static void
test_dns_only_wildcards_and_no_names_complete(void **state)
{
	struct fixture *f = *state;
	const char *names[] = { "*.a.example", "*.b.example" };
	struct dns_seen seen;

	check_names(f, f->checker, names, 2, &seen);
	assert_int_equal(seen.verdict, DNS_CHECK_PASS);
	dns_seen_clear(&seen);
	check_names(f, f->checker, NULL, 0, &seen);
	assert_int_equal(seen.verdict, DNS_CHECK_PASS);
}

static void
test_dns_many_names_under_a_small_bound(void **state)
{
	struct fixture *f = *state;
	struct dns_checker_settings ds = { .managed_networks = MANAGED,
		.max_in_flight = 2 };
	const char *names[40];
	struct dns_checker *c;
	struct dns_seen seen;
	char *msg = NULL;
	size_t i;

	for (i = 0; i < ELEMENTSOF(names); i++)
		names[i] = i % 2 ? "in.test.example" : "alias.test.example";
	assert_int_equal(dns_checker_new(f->base, f->dns, &ds, &c, &msg), 0);
	check_names(f, c, names, ELEMENTSOF(names), &seen);
	assert_int_equal(seen.verdict, DNS_CHECK_PASS);
	dns_seen_clear(&seen);
	dns_checker_free(c);
}

static void
never_called_dns(const struct dns_check_result *res, void *arg)
{
	fail_msg("a cancelled check called back");
}

static void
test_dns_cancel_and_free_with_queries_in_the_air(void **state)
{
	struct fixture *f = *state;
	struct dns_checker_settings ds = { .managed_networks = MANAGED };
	const char *names[] = { "in.test.example", "out.test.example" };
	struct timeval t = { 0, 400000 };
	struct dns_check *h;
	struct dns_checker *c;
	char *msg = NULL;

	assert_int_equal(dns_checker_new(f->base, f->silent_dns, &ds, &c,
	    &msg), 0);
	assert_int_equal(dns_check_start(c, names, 2, never_called_dns, NULL,
	    &h), 0);
	dns_check_cancel(h);
	/* and one left for dns_checker_free to drop */
	assert_int_equal(dns_check_start(c, names, 2, never_called_dns, NULL,
	    NULL), 0);
	event_base_loopexit(f->base, &t);
	event_base_dispatch(f->base);	/* the queries time out */
	assert_int_equal(dns_check_start(c, names, 2, never_called_dns, NULL,
	    NULL), 0);
	dns_checker_free(c);
	event_base_loopexit(f->base, &t);
	event_base_dispatch(f->base);
}

static void
test_dns_bad_managed_networks_refused(void **state)
{
	struct fixture *f = *state;
	struct dns_checker_settings ds = {
		.managed_networks = "10.0.0.0/8, 10.1.0.1/16" };
	struct dns_checker *c = NULL;
	char *msg = NULL;

	assert_true(dns_checker_new(f->base, f->dns, &ds, &c, &msg) < 0);
	assert_null(c);
	assert_non_null(strstr(msg, "managed_networks"));
	assert_non_null(strstr(msg, "10.1.0.1/16"));
	free(msg);
	msg = NULL;
	assert_true(dns_checker_set_networks(f->checker, "nope", &msg) < 0);
	free(msg);
}

static void
test_dns_set_networks_changes_the_verdict(void **state)
{
	struct fixture *f = *state;
	const char *names[] = { "out.test.example" };
	struct dns_seen seen;
	char *msg = NULL;

	assert_int_equal(dns_checker_set_networks(f->checker,
	    MANAGED ", 192.0.2.0/24", &msg), 0);
	check_names(f, f->checker, names, 1, &seen);
	assert_int_equal(seen.verdict, DNS_CHECK_PASS);
	dns_seen_clear(&seen);
}

/* ---- counting: the observers of the settings ---- */

/* Labels an observer saw, in order, space-separated; durations summed. */
struct observed {
	char labels[512];
	int calls;
	int no_duration;	/* calls with seconds < 0 */
	double seconds;
};

static void
observe(void *arg, const char *result, double seconds)
{
	struct observed *o = arg;
	size_t n = strlen(o->labels);

	snprintf(o->labels + n, sizeof(o->labels) - n, "%s ", result);
	o->calls++;
	if (seconds < 0)
		o->no_duration++;
	else
		o->seconds += seconds;
}

/* Whether the space-separated list holds word exactly once. */
static int
count_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	int k = 0;

	for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && p[n] == ' ')
			k++;
	return k;
}

static void
test_result_labels_are_a_short_fixed_set(void **state)
{
	assert_string_equal(dns_check_result_label(DNS_CHECK_PASS, false,
	    false, false), "ok");
	assert_string_equal(dns_check_result_label(DNS_CHECK_FAIL, true,
	    false, false), "outside");
	assert_string_equal(dns_check_result_label(DNS_CHECK_FAIL, false,
	    true, false), "nxdomain");
	assert_string_equal(dns_check_result_label(DNS_CHECK_FAIL, false,
	    false, false), "nodata");
	assert_string_equal(dns_check_result_label(DNS_CHECK_UNDECIDED, false,
	    false, true), "timeout");
	assert_string_equal(dns_check_result_label(DNS_CHECK_UNDECIDED, false,
	    false, false), "error");
	assert_string_equal(tls_addr_status_label(TLS_ADDR_OK), "ok");
	assert_string_equal(tls_addr_status_label(TLS_ADDR_MISMATCH),
	    "mismatch");
	assert_string_equal(tls_addr_status_label(TLS_ADDR_CONNECT_FAILED),
	    "connect_error");
	assert_string_equal(tls_addr_status_label(TLS_ADDR_TIMEOUT),
	    "timeout");
	assert_string_equal(tls_addr_status_label(TLS_ADDR_HANDSHAKE_FAILED),
	    "handshake_error");
}

static void
test_dns_observer_sees_each_name_once_with_its_result(void **state)
{
	struct fixture *f = *state;
	struct observed o = { 0 }, slow = { 0 };
	struct dns_checker_settings ds = { .managed_networks = MANAGED,
		.observe = observe, .observe_arg = &o };
	const char *names[] = { "in.test.example", "out.test.example",
		"missing.test.example", "txtonly.test.example",
		"elsewhere.example", "*.wild.test.example" };
	struct dns_checker *c;
	struct dns_seen seen;
	char *msg = NULL;

	assert_int_equal(dns_checker_new(f->base, f->dns, &ds, &c, &msg), 0);
	check_names(f, c, names, ELEMENTSOF(names), &seen);
	dns_seen_clear(&seen);
	/* the wildcard is not checked, so not counted */
	assert_int_equal(o.calls, 5);
	assert_int_equal(o.no_duration, 0);
	assert_int_equal(count_word(o.labels, "ok"), 1);
	assert_int_equal(count_word(o.labels, "outside"), 1);
	assert_int_equal(count_word(o.labels, "nxdomain"), 1);
	assert_int_equal(count_word(o.labels, "nodata"), 1);
	assert_int_equal(count_word(o.labels, "error"), 1);
	assert_true(o.seconds >= 0 && o.seconds < 10);
	dns_checker_free(c);

	/* a resolver that never answers: timeout, after about its time */
	ds.observe_arg = &slow;
	assert_int_equal(dns_checker_new(f->base, f->silent_dns, &ds, &c,
	    &msg), 0);
	check_names(f, c, names, 1, &seen);
	dns_seen_clear(&seen);
	assert_string_equal(slow.labels, "timeout ");
	assert_true(slow.seconds >= 0.1);
	dns_checker_free(c);
}

/* ---- TLS ---- */

static void
probe(struct fixture *f, struct tls_prober *p, const char *host,
    uint16_t port, const char *sni, const char *expected,
    struct tls_seen *seen)
{
	struct tls_endpoint ep = { host, port, sni };
	char *msg = NULL;

	memset(seen, 0, sizeof(*seen));
	seen->base = f->base;
	if (tls_probe_start(p, &ep, expected, on_tls, seen, NULL, &msg) < 0)
		fail_msg("tls_probe_start: %s", msg);
	assert_int_equal(seen->calls, 0);
	run(f);
	assert_int_equal(seen->calls, 1);
}

static void
test_tls_every_address_serves_the_certificate(void **state)
{
	struct fixture *f = *state;
	struct tls_seen seen;
	size_t i;

	probe(f, f->prober, "lb.test.example", tls_port, NULL, good_fp_env,
	    &seen);
	assert_int_equal(seen.verdict, TLS_PROBE_PASS);
	assert_null(seen.error);
	assert_int_equal(seen.n, 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(seen.addrs[i].status, TLS_ADDR_OK);
		assert_string_equal(seen.addrs[i].fingerprint, good_fp);
		assert_int_equal(seen.addrs[i].not_after, good_not_after);
		assert_true(seen.addrs[i].chain_verified);
		assert_null(seen.addrs[i].error);
	}
	addr_of(&seen, "127.0.54.21");
	addr_of(&seen, "127.0.54.22");
	tls_seen_clear(&seen);
}

static void
test_tls_one_stale_node_fails_the_endpoint(void **state)
{
	struct fixture *f = *state;
	const struct addr_seen *a;
	struct tls_seen seen;

	probe(f, f->prober, "mixed.test.example", tls_port, NULL, good_fp,
	    &seen);
	assert_int_equal(seen.verdict, TLS_PROBE_FAIL);
	assert_int_equal(seen.n, 2);
	assert_int_equal(addr_of(&seen, "127.0.54.21")->status, TLS_ADDR_OK);
	a = addr_of(&seen, "127.0.54.23");
	assert_int_equal(a->status, TLS_ADDR_MISMATCH);
	assert_string_equal(a->fingerprint, other_fp);
	/* same CA, but the name asked for is not in it */
	assert_false(a->chain_verified);
	assert_non_null(strstr(a->error, other_fp));
	tls_seen_clear(&seen);
}

static void
test_tls_literal_address_and_ip_verification(void **state)
{
	struct fixture *f = *state;
	struct tls_seen seen;

	probe(f, f->prober, "127.0.54.21", tls_port, NULL, good_fp, &seen);
	assert_int_equal(seen.verdict, TLS_PROBE_PASS);
	assert_int_equal(seen.n, 1);
	assert_true(seen.addrs[0].chain_verified);	/* IP:127.0.54.21 */
	tls_seen_clear(&seen);
	probe(f, f->prober, "127.0.54.22", tls_port, "nothere.test.example",
	    good_fp, &seen);
	assert_int_equal(seen.verdict, TLS_PROBE_PASS);
	assert_false(seen.addrs[0].chain_verified);	/* name mismatch */
	tls_seen_clear(&seen);
}

static void
test_tls_down_silent_and_not_tls_endpoints_fail(void **state)
{
	struct fixture *f = *state;
	struct tls_seen seen;
	struct tls_prober_settings ts = { .timeout_ms = 300,
		.ca_pem = ca_pem };
	struct tls_prober *p;
	char *msg = NULL;

	probe(f, f->prober, "down.test.example", tls_port, NULL, good_fp,
	    &seen);
	assert_int_equal(seen.verdict, TLS_PROBE_FAIL);
	assert_int_equal(seen.addrs[0].status, TLS_ADDR_CONNECT_FAILED);
	assert_non_null(strstr(seen.addrs[0].error, "refused"));
	assert_string_equal(seen.addrs[0].fingerprint, "");
	tls_seen_clear(&seen);

	assert_int_equal(tls_prober_new(f->base, f->dns, &ts, &p, &msg), 0);
	probe(f, p, "127.0.54.25", f->silent_tcp_port, "x.test.example",
	    good_fp, &seen);
	assert_int_equal(seen.verdict, TLS_PROBE_FAIL);
	assert_int_equal(seen.addrs[0].status, TLS_ADDR_TIMEOUT);
	assert_non_null(strstr(seen.addrs[0].error, "no TLS handshake"));
	tls_seen_clear(&seen);

	probe(f, p, "127.0.54.26", f->garbage_tcp_port, NULL, good_fp,
	    &seen);
	assert_int_equal(seen.verdict, TLS_PROBE_FAIL);
	assert_int_equal(seen.addrs[0].status, TLS_ADDR_HANDSHAKE_FAILED);
	assert_non_null(seen.addrs[0].error);
	tls_seen_clear(&seen);
	tls_prober_free(p);
}

static void
test_tls_names_that_do_not_resolve(void **state)
{
	struct fixture *f = *state;
	struct tls_seen seen;

	probe(f, f->prober, "missing.test.example", tls_port, NULL, good_fp,
	    &seen);
	assert_int_equal(seen.verdict, TLS_PROBE_FAIL);
	assert_int_equal(seen.n, 0);
	assert_non_null(strstr(seen.error, "does not resolve"));
	tls_seen_clear(&seen);
	probe(f, f->prober, "elsewhere.example", tls_port, NULL, good_fp,
	    &seen);
	assert_int_equal(seen.verdict, TLS_PROBE_UNDECIDED);
	assert_non_null(seen.error);
	tls_seen_clear(&seen);
}

static void
test_tls_observer_sees_each_address_and_resolution_failures(void **state)
{
	struct fixture *f = *state;
	struct observed o = { 0 };
	struct tls_prober_settings ts = { .timeout_ms = 300,
		.ca_pem = ca_pem, .observe = observe, .observe_arg = &o };
	struct tls_prober *p;
	struct tls_seen seen;
	char *msg = NULL;

	assert_int_equal(tls_prober_new(f->base, f->dns, &ts, &p, &msg), 0);
	probe(f, p, "mixed.test.example", tls_port, NULL, good_fp, &seen);
	tls_seen_clear(&seen);
	assert_int_equal(o.calls, 2);
	assert_int_equal(count_word(o.labels, "ok"), 1);
	assert_int_equal(count_word(o.labels, "mismatch"), 1);
	probe(f, p, "down.test.example", tls_port, NULL, good_fp, &seen);
	tls_seen_clear(&seen);
	probe(f, p, "127.0.54.25", f->silent_tcp_port, "x.test.example",
	    good_fp, &seen);
	tls_seen_clear(&seen);
	probe(f, p, "127.0.54.26", f->garbage_tcp_port, NULL, good_fp,
	    &seen);
	tls_seen_clear(&seen);
	assert_int_equal(o.no_duration, 0);
	assert_true(o.seconds >= 0.3);	/* the silent one's time-out */
	probe(f, p, "missing.test.example", tls_port, NULL, good_fp, &seen);
	tls_seen_clear(&seen);
	assert_int_equal(o.calls, 6);
	assert_int_equal(o.no_duration, 1);
	assert_int_equal(count_word(o.labels, "connect_error"), 1);
	assert_int_equal(count_word(o.labels, "timeout"), 1);
	assert_int_equal(count_word(o.labels, "handshake_error"), 1);
	assert_int_equal(count_word(o.labels, "resolve_error"), 1);
	tls_prober_free(p);
}

static void
test_tls_untrusted_without_the_ca_and_capture_only(void **state)
{
	struct fixture *f = *state;
	struct tls_prober_settings ts = { .timeout_ms = 2000,
		.no_system_roots = true };
	struct tls_seen seen;
	struct tls_prober *p;
	char *msg = NULL;

	assert_int_equal(tls_prober_new(f->base, f->dns, &ts, &p, &msg), 0);
	probe(f, p, "lb.test.example", tls_port, NULL, NULL, &seen);
	assert_int_equal(seen.verdict, TLS_PROBE_PASS);	/* capture only */
	assert_int_equal(seen.n, 2);
	assert_false(seen.addrs[0].chain_verified);
	assert_string_equal(seen.addrs[0].fingerprint, good_fp);
	tls_seen_clear(&seen);
	tls_prober_free(p);
}

static void
test_tls_bounds_global_and_per_host(void **state)
{
	struct fixture *f = *state;
	struct tls_prober_settings ts = { .timeout_ms = 2000,
		.ca_pem = ca_pem, .max_in_flight = 2, .max_per_host = 1 };
	struct tls_endpoint ep = { "lb.test.example", tls_port, NULL };
	struct tls_seen seen[12];
	struct tls_prober *p;
	int outstanding = ELEMENTSOF(seen);
	char *msg = NULL;
	size_t i;

	assert_int_equal(tls_prober_new(f->base, f->dns, &ts, &p, &msg), 0);
	for (i = 0; i < ELEMENTSOF(seen); i++) {
		memset(&seen[i], 0, sizeof(seen[i]));
		seen[i].base = f->base;
		seen[i].outstanding = &outstanding;
		if (i % 3 == 2)
			ep.host = "127.0.54.22";
		else
			ep.host = "lb.test.example";
		assert_int_equal(tls_probe_start(p, &ep, good_fp, on_tls,
		    &seen[i], NULL, &msg), 0);
	}
	run(f);
	assert_int_equal(outstanding, 0);
	for (i = 0; i < ELEMENTSOF(seen); i++) {
		assert_int_equal(seen[i].calls, 1);
		assert_int_equal(seen[i].verdict, TLS_PROBE_PASS);
		tls_seen_clear(&seen[i]);
	}
	tls_prober_free(p);
}

static void
never_called_tls(const struct tls_probe_result *res, void *arg)
{
	fail_msg("a cancelled probe called back");
}

static void
test_tls_cancel_and_free_mid_probe(void **state)
{
	struct fixture *f = *state;
	struct tls_prober_settings ts = { .timeout_ms = 5000,
		.max_in_flight = 1 };
	struct tls_endpoint silent = { "127.0.54.25", f->silent_tcp_port,
		NULL };
	struct tls_endpoint named = { "lb.test.example", tls_port, NULL };
	struct timeval t = { 0, 200000 };
	struct tls_probe *h1, *h2;
	struct tls_prober *p;
	char *msg = NULL;

	assert_int_equal(tls_prober_new(f->base, f->dns, &ts, &p, &msg), 0);
	assert_int_equal(tls_probe_start(p, &silent, NULL, never_called_tls,
	    NULL, &h1, &msg), 0);
	assert_int_equal(tls_probe_start(p, &named, NULL, never_called_tls,
	    NULL, &h2, &msg), 0);
	event_base_loopexit(f->base, &t);
	event_base_dispatch(f->base);	/* h1 handshaking, h2 waiting */
	tls_probe_cancel(h1);
	tls_probe_cancel(h2);
	assert_int_equal(tls_probe_start(p, &named, NULL, never_called_tls,
	    NULL, NULL, &msg), 0);	/* resolving: dropped by free */
	tls_prober_free(p);
	event_base_loopexit(f->base, &t);
	event_base_dispatch(f->base);
}

static void
test_tls_bracketed_ipv6_literal_needs_no_dns(void **state)
{
	struct fixture *f = *state;
	struct tls_seen seen;

	/* port 1 on ::1: refused (or unreachable without IPv6) */
	probe(f, f->prober, "[::1]", 1, NULL, good_fp, &seen);
	assert_int_equal(seen.verdict, TLS_PROBE_FAIL);
	assert_null(seen.error);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.addrs[0].address, "::1");
	assert_int_equal(seen.addrs[0].status, TLS_ADDR_CONNECT_FAILED);
	tls_seen_clear(&seen);
}

static void
test_tls_bad_arguments(void **state)
{
	struct fixture *f = *state;
	struct tls_endpoint ep = { "127.0.0.1", 443, NULL };
	struct tls_probe *h = NULL;
	char *msg = NULL;

	assert_true(tls_probe_start(f->prober, &ep, "abc", on_tls, NULL, &h,
	    &msg) < 0);
	assert_non_null(strstr(msg, "fingerprint"));
	free(msg);
	msg = NULL;
	ep.port = 0;
	assert_true(tls_probe_start(f->prober, &ep, NULL, on_tls, NULL, &h,
	    &msg) < 0);
	free(msg);
	assert_null(h);
}

static int
read_file(const char *path, char **out)
{
	FILE *fp = fopen(path, "r");
	char buf[65536];
	size_t n;

	if (fp == NULL)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	*out = xstrdup(buf);
	return 0;
}

static void
lower_no_colons(const char *in, char *out)
{
	size_t n = 0;

	for (; *in && n < 64; in++)
		if (*in != ':')
			out[n++] = (char)(*in >= 'A' && *in <= 'F' ?
			    *in - 'A' + 'a' : *in);
	out[n] = '\0';
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns_names_inside_pass_following_cnames),
		cmocka_unit_test(test_dns_failures_have_a_reason_per_name),
		cmocka_unit_test(test_dns_refused_alone_is_undecided_not_failed),
		cmocka_unit_test(test_dns_timeout_is_undecided),
		cmocka_unit_test(test_dns_only_wildcards_and_no_names_complete),
		cmocka_unit_test(test_dns_many_names_under_a_small_bound),
		cmocka_unit_test(test_dns_cancel_and_free_with_queries_in_the_air),
		cmocka_unit_test(test_dns_bad_managed_networks_refused),
		cmocka_unit_test(test_dns_set_networks_changes_the_verdict),
		cmocka_unit_test(test_dns_observer_sees_each_name_once_with_its_result),
		cmocka_unit_test(test_tls_every_address_serves_the_certificate),
		cmocka_unit_test(test_tls_one_stale_node_fails_the_endpoint),
		cmocka_unit_test(test_tls_literal_address_and_ip_verification),
		cmocka_unit_test(test_tls_down_silent_and_not_tls_endpoints_fail),
		cmocka_unit_test(test_tls_names_that_do_not_resolve),
		cmocka_unit_test(test_tls_observer_sees_each_address_and_resolution_failures),
		cmocka_unit_test(test_tls_untrusted_without_the_ca_and_capture_only),
		cmocka_unit_test(test_tls_bounds_global_and_per_host),
		cmocka_unit_test(test_tls_cancel_and_free_mid_probe),
		cmocka_unit_test(test_tls_bracketed_ipv6_literal_needs_no_dns),
		cmocka_unit_test(test_tls_bad_arguments),
	};
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_result_labels_are_a_short_fixed_set),
	};
	const char *port = getenv("CHECKS_TLS_PORT");
	const char *na = getenv("CHECKS_GOOD_NOT_AFTER");
	int r;

	/* No server needed for these. */
	if (cmocka_run_group_tests(pure, NULL, NULL) != 0)
		return 1;

	dns_server = getenv("CHECKS_DNS");
	ca_path = getenv("CHECKS_CA");
	good_fp_env = getenv("CHECKS_GOOD_FP");
	other_fp_env = getenv("CHECKS_OTHER_FP");
	if (!dns_server || !ca_path || !good_fp_env || !other_fp_env ||
	    !port || !na) {
		printf("SKIP: run through tests/unit/run-renewal-checks.sh\n");
		return 77;
	}
	tls_port = (uint16_t)strtoul(port, NULL, 10);
	good_not_after = (time_t)strtoll(na, NULL, 10);
	lower_no_colons(good_fp_env, good_fp);
	lower_no_colons(other_fp_env, other_fp);
	if (read_file(ca_path, &ca_pem) < 0) {
		printf("cannot read %s\n", ca_path);
		return 1;
	}
	r = cmocka_run_group_tests(tests, setup, teardown) ? 1 : 0;
	free(ca_pem);
	return r;
}
