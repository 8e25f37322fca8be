/*
 * test_contacts.c: who gets the validation email, against real servers on
 * loopback that tests/unit/run-contacts.sh starts: dnsmasq with MX records
 * at various levels (CONTACTS_DNS=address:port) and a small RDAP server
 * (CONTACTS_RDAP=http://address:port/), plus an RFC 9224 bootstrap file
 * that points at it (CONTACTS_BOOTSTRAP). Registrable domains come from
 * the real Public Suffix List through names_registrable_domain(). Skipped
 * (77) when run without those servers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <event2/event.h>

#include "common/xmalloc.h"
#include "loop/ares_loop.h"
#include "loop/curl_loop.h"
#include "validation/contacts.h"
#include "validation/names.h"
#include "validation/rdap.h"

static const char *dns_server, *rdap_url, *bootstrap_path;

struct fixture {
	struct event_base *base;
	struct ares_loop *dns;
	struct ares_loop *silent_dns;	/* a server that never answers */
	int silent_fd;
	struct curl_loop *http;
	struct names_policy *names;
	struct rdap_bootstrap *bootstrap;
	struct contacts_ctx *ctx;
};

struct got {
	bool called;
	enum contacts_status status;
	char *reason;
	char *addresses[CONTACTS_MAX];
	size_t n;
	size_t n_admin;
	char *admin_domain;
	char *registrable;
	struct event_base *base;
};

static char *
registrable(const void *arg, const char *name)
{
	return names_registrable_domain(arg, name);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
on_done(const struct contacts_result *res, void *arg)
{
	struct got *g = arg;
	size_t i;

	assert_false(g->called);
	g->called = true;
	g->status = res->status;
	g->reason = dup_or_null(res->reason);
	g->n = res->n_addresses;
	g->n_admin = res->n_admin;
	assert_true(g->n <= CONTACTS_MAX);
	for (i = 0; i < g->n; i++)
		g->addresses[i] = xstrdup(res->addresses[i]);
	g->admin_domain = dup_or_null(res->admin_domain);
	g->registrable = dup_or_null(res->registrable_domain);
	if (g->base != NULL)
		event_base_loopbreak(g->base);
}

static void
got_clear(struct got *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		free(g->addresses[i]);
	free(g->reason);
	free(g->admin_domain);
	free(g->registrable);
	memset(g, 0, sizeof(*g));
}

static void
on_too_long(evutil_socket_t fd, short what, void *arg)
{
	fail_msg("no result within 20 s");
}

static void
run_loop(struct event_base *base)
{
	struct timeval tv = { 20, 0 };
	struct event *guard = evtimer_new(base, on_too_long, NULL);

	evtimer_add(guard, &tv);
	event_base_dispatch(base);
	event_free(guard);
}

static void
find(struct fixture *f, struct contacts_ctx *ctx, const char *name,
    const char *vd, struct got *g)
{
	memset(g, 0, sizeof(*g));
	g->base = f->base;
	assert_int_equal(contacts_find(ctx, name, vd, on_done, g), 0);
	assert_false(g->called);	/* never from inside contacts_find */
	run_loop(f->base);
	assert_true(g->called);
	assert_int_equal(contacts_pending(ctx), 0);
}

static struct contacts_ctx *
new_ctx(struct fixture *f, struct ares_loop *dns, const char *base_url,
    const struct rdap_bootstrap *bs, long rdap_timeout_ms)
{
	struct contacts_settings s = {
		.base = f->base,
		.dns = dns,
		.http = f->http,
		.registrable = registrable,
		.registrable_arg = f->names,
		.rdap_base_url = base_url,
		.rdap_bootstrap = bs,
		.rdap_timeout_ms = rdap_timeout_ms,
	};
	struct contacts_ctx *c = NULL;
	char *err = NULL;

	assert_int_equal(contacts_new(&s, &c, &err), 0);
	return c;
}

static int
silent_server(int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct ares_loop_settings good = { dns_server, 1000, 2 };
	struct ares_loop_settings silent = { NULL, 300, 1 };
	char servers[64];
	char *err = NULL;
	int port;

	f->base = event_base_new();
	assert_int_equal(ares_loop_new(f->base, &good, &f->dns, &err), 0);
	f->silent_fd = silent_server(&port);
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", port);
	silent.servers = servers;
	assert_int_equal(ares_loop_new(f->base, &silent, &f->silent_dns,
	    &err), 0);
	f->http = curl_loop_new(f->base);
	f->names = names_policy_new(NULL, &err);
	assert_non_null(f->names);
	assert_int_equal(rdap_bootstrap_load(bootstrap_path, &f->bootstrap,
	    &err), 0);
	f->ctx = new_ctx(f, f->dns, rdap_url, NULL, 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	/* contacts first: the loops then end what is still in flight */
	contacts_free(f->ctx);
	curl_loop_free(f->http);
	ares_loop_free(f->silent_dns);
	ares_loop_free(f->dns);
	close(f->silent_fd);
	rdap_bootstrap_free(f->bootstrap);
	names_policy_free(f->names);
	event_base_free(f->base);
	free(f);
	return 0;
}

static void
assert_admin_on(const struct got *g, const char *domain)
{
	static const char *const locals[] = { "admin", "administrator",
		"hostmaster", "postmaster", "webmaster" };
	char want[300];
	size_t i;

	assert_non_null(g->admin_domain);
	assert_string_equal(g->admin_domain, domain);
	assert_int_equal(g->n_admin, CONTACTS_ADMIN_COUNT);
	assert_true(g->n >= CONTACTS_ADMIN_COUNT);
	for (i = 0; i < CONTACTS_ADMIN_COUNT; i++) {
		snprintf(want, sizeof(want), "%s@%s", locals[i], domain);
		assert_string_equal(g->addresses[i], want);
	}
}

static void
assert_admin_only(struct fixture *f, const char *name, const char *domain)
{
	struct got g;

	find(f, f->ctx, name, NULL, &g);
	assert_int_equal(g.status, CONTACTS_OK);
	assert_admin_on(&g, domain);
	assert_int_equal(g.n, CONTACTS_ADMIN_COUNT);
	got_clear(&g);
}

static void
assert_temporary_failure(struct fixture *f, struct contacts_ctx *ctx,
    const char *name, const char *why)
{
	struct got g;

	find(f, ctx, name, NULL, &g);
	assert_int_equal(g.status, CONTACTS_TEMPORARY_FAILURE);
	assert_non_null(g.reason);
	if (strcasestr(g.reason, why) == NULL)
		fail_msg("%s: reason \"%s\" lacks \"%s\"", name, g.reason, why);
	assert_int_equal(g.n, 0);
	assert_null(g.admin_domain);
	got_clear(&g);
}

/* ---- the guide's rules for the administrative addresses ---- */

static void
test_www_label_is_removed_before_the_mx_walk(void **state)
{
	/* www.wwwtest.com has an MX of its own; the guide's rule still
	 * forms the addresses on wwwtest.com */
	assert_admin_only(*state, "www.wwwtest.com", "wwwtest.com");
}

static void
test_wildcard_label_is_removed_before_the_mx_walk(void **state)
{
	assert_admin_only(*state, "*.wild.example.net", "wild.example.net");
}

static void
test_validation_domain_decides_without_dns(void **state)
{
	struct fixture *f = *state;
	/* a resolver that never answers: any DNS query would time out */
	struct contacts_ctx *c = new_ctx(f, f->silent_dns, rdap_url, NULL, 0);
	struct got g;

	find(f, c, "www.shop.example.com", "www.example.com", &g);
	assert_int_equal(g.status, CONTACTS_OK);
	assert_admin_on(&g, "example.com");
	assert_string_equal(g.registrable, "example.com");
	/* RDAP: registrant, technical; the administrative contact is
	 * hostmaster@example.com, already in the list */
	assert_int_equal(g.n, 7);
	assert_string_equal(g.addresses[5], "owner@example.com");
	assert_string_equal(g.addresses[6], "tech@example.net");
	got_clear(&g);

	find(f, c, "*.example.net", "example.net", &g);
	assert_int_equal(g.status, CONTACTS_OK);
	assert_admin_on(&g, "example.net");
	assert_int_equal(g.n, 5);
	got_clear(&g);
	contacts_free(c);
}

/* ---- the MX walk ---- */

static void
test_mx_at_the_name_itself(void **state)
{
	struct fixture *f = *state;
	struct got g;

	find(f, f->ctx, "mail.shop.example.com", NULL, &g);
	assert_int_equal(g.status, CONTACTS_OK);
	assert_admin_on(&g, "mail.shop.example.com");
	/* all three RDAP contacts: hostmaster@example.com is not one of
	 * the admin addresses here */
	assert_int_equal(g.n, 8);
	assert_string_equal(g.addresses[7], "hostmaster@example.com");
	got_clear(&g);
}

static void
test_mx_at_a_parent_below_the_registrable_domain(void **state)
{
	/* a.b.parent: NXDOMAIN; b.parent: an A record only (NODATA) */
	assert_admin_only(*state, "a.b.parent.example.net",
	    "parent.example.net");
}

static void
test_mx_at_the_registrable_domain(void **state)
{
	/* shop.example.org has an A record, example.org the MX */
	assert_admin_only(*state, "deep.shop.example.org", "example.org");
}

static void
test_the_walk_stops_at_the_registrable_domain(void **state)
{
	struct fixture *f = *state;
	struct got g;

	/* co.uk has an MX in the test zone; nomx2.co.uk is the top */
	find(f, f->ctx, "a.b.nomx2.co.uk", NULL, &g);
	assert_int_equal(g.status, CONTACTS_NO_CONTACTS);
	assert_string_equal(g.registrable, "nomx2.co.uk");
	assert_null(g.admin_domain);
	assert_int_equal(g.n, 0);
	got_clear(&g);
}

static void
test_no_mx_and_no_rdap_contact_means_no_contacts(void **state)
{
	struct fixture *f = *state;
	struct got g;

	find(f, f->ctx, "www.x.y.nomx.com", NULL, &g);
	assert_int_equal(g.status, CONTACTS_NO_CONTACTS);
	assert_null(g.admin_domain);
	assert_null(g.reason);
	assert_int_equal(g.n, 0);
	got_clear(&g);
}

static void
test_refused_answer_is_a_temporary_failure(void **state)
{
	struct fixture *f = *state;

	/* no --local zone: dnsmasq answers REFUSED */
	assert_temporary_failure(f, f->ctx, "host.unknown-zone.com",
	    "of host.unknown-zone.com failed");
	/* NXDOMAIN for x.halfzone.com, then REFUSED for halfzone.com */
	assert_temporary_failure(f, f->ctx, "x.halfzone.com",
	    "of halfzone.com failed");
}

static void
test_dns_timeout_is_a_temporary_failure(void **state)
{
	struct fixture *f = *state;
	struct contacts_ctx *c = new_ctx(f, f->silent_dns, rdap_url, NULL, 0);

	assert_temporary_failure(f, c, "www.example.com", "timeout");
	contacts_free(c);
}

/* ---- RDAP ---- */

static void
test_rdap_contacts_follow_the_admin_addresses(void **state)
{
	struct fixture *f = *state;
	struct got g;

	find(f, f->ctx, "www.example.com", NULL, &g);
	assert_int_equal(g.status, CONTACTS_OK);
	assert_admin_on(&g, "example.com");
	assert_int_equal(g.n, 7);
	assert_string_equal(g.addresses[5], "owner@example.com");
	assert_string_equal(g.addresses[6], "tech@example.net");
	got_clear(&g);
}

static void
test_rdap_contacts_alone_when_no_level_has_mx(void **state)
{
	struct fixture *f = *state;
	struct got g;

	find(f, f->ctx, "www.rdaponly.com", NULL, &g);
	assert_int_equal(g.status, CONTACTS_OK);
	assert_null(g.admin_domain);
	assert_int_equal(g.n_admin, 0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.addresses[0], "owner@rdaponly-mail.example.net");
	got_clear(&g);
}

static void
test_redacted_rdap_contacts_add_nothing(void **state)
{
	assert_admin_only(*state, "www.redacted.com", "redacted.com");
}

static void
test_rdap_404_adds_nothing(void **state)
{
	assert_admin_only(*state, "www.norecord.com", "norecord.com");
}

static void
test_at_most_eight_addresses(void **state)
{
	struct fixture *f = *state;
	struct got g;

	/* 5 administrative + 5 RDAP contacts */
	find(f, f->ctx, "*.bigcorp.com", NULL, &g);
	assert_int_equal(g.status, CONTACTS_OK);
	assert_admin_on(&g, "bigcorp.com");
	assert_int_equal(g.n, CONTACTS_MAX);
	assert_string_equal(g.addresses[5], "owner@bigcorp.com");
	assert_string_equal(g.addresses[6], "legal@bigcorp.com");
	assert_string_equal(g.addresses[7], "noc@bigcorp.com");
	got_clear(&g);
}

static void
test_rdap_redirect_is_followed(void **state)
{
	struct fixture *f = *state;
	struct got g;

	find(f, f->ctx, "moved.com", NULL, &g);
	assert_int_equal(g.status, CONTACTS_OK);
	assert_int_equal(g.n_admin, 0);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.addresses[0], "owner@example.com");
	assert_string_equal(g.addresses[1], "tech@example.net");
	assert_string_equal(g.addresses[2], "hostmaster@example.com");
	got_clear(&g);
}

static void
test_rdap_misbehaviour_adds_nothing(void **state)
{
	struct fixture *f = *state;
	struct contacts_ctx *c = new_ctx(f, f->dns, rdap_url, NULL, 500);
	struct contacts_ctx *saved = f->ctx;

	/* endless redirects, a 3 MiB body, HTML, a server too slow */
	f->ctx = c;
	assert_admin_only(f, "loop.com", "loop.com");
	assert_admin_only(f, "huge.com", "huge.com");
	assert_admin_only(f, "garbage.com", "garbage.com");
	assert_admin_only(f, "slow.com", "slow.com");
	f->ctx = saved;
	contacts_free(c);
}

static void
test_unreachable_rdap_server_adds_nothing(void **state)
{
	struct fixture *f = *state;
	struct contacts_ctx *c = new_ctx(f, f->dns, "http://127.0.0.1:1",
	    NULL, 0);
	struct contacts_ctx *saved = f->ctx;

	f->ctx = c;
	assert_admin_only(f, "www.example.com", "example.com");
	f->ctx = saved;
	contacts_free(c);
}

static void
test_bootstrap_file_chooses_the_rdap_server(void **state)
{
	struct fixture *f = *state;
	struct contacts_ctx *c = new_ctx(f, f->dns, NULL, f->bootstrap, 0);
	struct got g;

	/* com: our server */
	find(f, c, "www.example.com", NULL, &g);
	assert_int_equal(g.n, 7);
	got_clear(&g);
	/* org: not in the file; net: a server that is down */
	find(f, c, "deep.shop.example.org", NULL, &g);
	assert_int_equal(g.n, 5);
	got_clear(&g);
	find(f, c, "a.b.parent.example.net", NULL, &g);
	assert_int_equal(g.n, 5);
	got_clear(&g);
	contacts_free(c);
}

/* ---- the lookup's life ---- */

static void
test_cancelled_lookups_never_call_back(void **state)
{
	struct fixture *f = *state;
	struct got a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	b.base = f->base;
	assert_int_equal(contacts_find(f->ctx, "www.example.com", NULL,
	    on_done, &a), 0);
	assert_int_equal(contacts_find(f->ctx, "www.bigcorp.com",
	    "bigcorp.com", on_done, &a), 0);
	assert_int_equal(contacts_find(f->ctx, "www.wwwtest.com", NULL,
	    on_done, &b), 0);
	assert_int_equal(contacts_pending(f->ctx), 3);
	assert_int_equal(contacts_cancel(f->ctx, &a), 2);
	assert_int_equal(contacts_pending(f->ctx), 1);
	run_loop(f->base);
	assert_true(b.called);
	assert_false(a.called);
	got_clear(&b);
	/* freeing the context with lookups in flight: no call, no leak */
	assert_int_equal(contacts_find(f->ctx, "www.example.com", NULL,
	    on_done, &a), 0);
	contacts_free(f->ctx);
	f->ctx = NULL;
	assert_false(a.called);
}

static void
test_empty_names_are_refused(void **state)
{
	struct fixture *f = *state;
	struct got g;

	memset(&g, 0, sizeof(g));
	assert_int_equal(contacts_find(f->ctx, "", NULL, on_done, &g),
	    -EINVAL);
	assert_int_equal(contacts_find(f->ctx, "example.com", "", on_done,
	    &g), -EINVAL);
	assert_int_equal(contacts_pending(f->ctx), 0);
	assert_false(g.called);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_www_label_is_removed_before_the_mx_walk),
		T(test_wildcard_label_is_removed_before_the_mx_walk),
		T(test_validation_domain_decides_without_dns),
		T(test_mx_at_the_name_itself),
		T(test_mx_at_a_parent_below_the_registrable_domain),
		T(test_mx_at_the_registrable_domain),
		T(test_the_walk_stops_at_the_registrable_domain),
		T(test_no_mx_and_no_rdap_contact_means_no_contacts),
		T(test_refused_answer_is_a_temporary_failure),
		T(test_dns_timeout_is_a_temporary_failure),
		T(test_rdap_contacts_follow_the_admin_addresses),
		T(test_rdap_contacts_alone_when_no_level_has_mx),
		T(test_redacted_rdap_contacts_add_nothing),
		T(test_rdap_404_adds_nothing),
		T(test_at_most_eight_addresses),
		T(test_rdap_redirect_is_followed),
		T(test_rdap_misbehaviour_adds_nothing),
		T(test_unreachable_rdap_server_adds_nothing),
		T(test_bootstrap_file_chooses_the_rdap_server),
		T(test_cancelled_lookups_never_call_back),
		T(test_empty_names_are_refused),
#undef T
	};
	int r;

	dns_server = getenv("CONTACTS_DNS");
	rdap_url = getenv("CONTACTS_RDAP");
	bootstrap_path = getenv("CONTACTS_BOOTSTRAP");
	if (dns_server == NULL || rdap_url == NULL || bootstrap_path == NULL) {
		fprintf(stderr, "test_contacts: run through run-contacts.sh "
		    "(CONTACTS_DNS, CONTACTS_RDAP, CONTACTS_BOOTSTRAP unset)\n");
		return 77;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return r;
}
