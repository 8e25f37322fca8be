/*
 * test_mail_delivery.c: mail_deliver() against a real SMTP server (the
 * aiosmtpd sink started by run-mail-delivery.sh) from a real event loop:
 * messages arrive byte for byte, 451 is temporary and 550 permanent with
 * the relay's reply, a refused connection, a silent relay and a cancelled
 * loop are temporary, the spool writes one file per Message-ID, and the
 * delivery rate with 20 concurrent deliveries is measured.
 *
 * Without the sink's environment (MAIL_SINK_PORT and friends) the relay
 * tests are skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <event2/event.h>

#include "common/xmalloc.h"
#include "loop/curl_loop.h"
#include "mail/delivery.h"
#include "mail/message.h"

#define FROM "certfleet@certfleet.test"

struct batch;

struct job {
	struct batch *b;
	bool done;
	enum mail_result r;
	char *reason;
};

/* N messages to one recipient, at most `concurrency` in flight. */
struct batch {
	struct event_base *base;
	struct curl_loop *loop;
	struct mail_delivery_settings s;
	const char *rcpt;
	char **msgs;
	size_t *lens;
	struct job *jobs;
	size_t n, next, running, finished, concurrency;
};

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static char *
relay_url(const char *port_var)
{
	return xasprintf("smtp://127.0.0.1:%s", env(port_var));
}

static void start_next(struct batch *b);

static void
on_job_done(enum mail_result r, const char *reason, void *arg)
{
	struct job *j = arg;
	struct batch *b = j->b;

	assert_false(j->done);
	j->done = true;
	j->r = r;
	j->reason = reason != NULL ? xstrdup(reason) : NULL;
	b->running--;
	b->finished++;
	start_next(b);
	if (b->finished == b->n)
		event_base_loopbreak(b->base);
}

static void
start_next(struct batch *b)
{
	struct job *j;

	while (b->running < b->concurrency && b->next < b->n) {
		j = &b->jobs[b->next];
		j->b = b;
		b->running++;
		assert_int_equal(mail_deliver(b->loop, &b->s, FROM, b->rcpt,
		    b->msgs[b->next], b->lens[b->next], on_job_done, j), 0);
		b->next++;
	}
}

static void
on_guard(evutil_socket_t fd, short what, void *arg)
{
	fail_msg("deliveries did not finish within 60 s");
}

static void
run_batch(struct batch *b)
{
	struct timeval tv = { 60, 0 };
	struct event *guard = evtimer_new(b->base, on_guard, NULL);

	b->jobs = xcalloc(b->n, sizeof(*b->jobs));
	evtimer_add(guard, &tv);
	start_next(b);
	if (b->finished < b->n)
		event_base_dispatch(b->base);
	event_free(guard);
	assert_int_equal(b->finished, b->n);
}

static void
batch_free(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		free(b->msgs[i]);
		if (b->jobs != NULL)
			free(b->jobs[i].reason);
	}
	free(b->msgs);
	free(b->lens);
	free(b->jobs);
}

/* A notice with a unique Message-ID, and lines that need dot-stuffing. */
static void
make_notice(const char *tag, size_t i, const char *to, char **m, size_t *len)
{
	struct mail_headers h = { .from = "certfleet <" FROM ">", .to = to,
		.date = time(NULL) };
	char *id = xasprintf("%s-%d-%zu@certfleet.test", tag, (int)getpid(), i);
	char *body = xasprintf("Message %zu of a test.\n.\n..two dots\n"
	    ". a dot and a space\nKey = value, caf\xc3\xa9\n", i);
	char *err = NULL;

	h.message_id = id;
	assert_int_equal(mail_message_notice(&h, "Test notice \xe2\x9c\x93",
	    body, m, len, &err), 0);
	free(id);
	free(body);
}

static void
make_validation(size_t i, const char *to, char **m, size_t *len)
{
	struct mail_headers h = { .from = FROM, .to = to, .date = time(NULL) };
	struct mail_validation v = {
		.requested_domain = "www.example.com",
		.domain = "example.com",
		.account = "123456789012",
		.region = "local-1",
		.certificate_arn = "arn:aws:acm:local-1:123456789012:"
		    "certificate/3b4d78e1-0882-4f51-954a-298ee44ff369",
		.base_url = "http://127.0.0.1:8443",
		.token = "dG9rZW4",
	};
	char *id = xasprintf("validation-%d-%zu@certfleet.test", (int)getpid(),
	    i);
	char *err = NULL;

	h.message_id = id;
	assert_int_equal(mail_message_validation(&h, &v, m, len, &err), 0);
	free(id);
}

static void
batch_init(struct batch *b, struct event_base *base, struct curl_loop *loop,
    const char *url, const char *rcpt, size_t n, size_t concurrency,
    const char *tag)
{
	size_t i;

	memset(b, 0, sizeof(*b));
	b->base = base;
	b->loop = loop;
	b->s.relay_url = url;
	b->s.connect_timeout_ms = 5000;
	b->s.timeout_ms = 30000;
	b->rcpt = rcpt;
	b->n = n;
	b->concurrency = concurrency;
	b->msgs = xcalloc(n, sizeof(*b->msgs));
	b->lens = xcalloc(n, sizeof(*b->lens));
	for (i = 0; i < n; i++) {
		if (i % 5 == 0)
			make_validation(i, rcpt, &b->msgs[i], &b->lens[i]);
		else
			make_notice(tag, i, rcpt, &b->msgs[i], &b->lens[i]);
	}
}

struct fixture {
	struct event_base *base;
	struct curl_loop *loop;
};

static int
setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof(*fx));

	fx->base = event_base_new();
	fx->loop = curl_loop_new(fx->base);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	curl_loop_free(fx->loop);
	event_base_free(fx->base);
	free(fx);
	return 0;
}

static void
require_sink(void)
{
	if (env("MAIL_SINK_PORT") == NULL || env("MAIL_SINK_MAILDIR") == NULL)
		skip();
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = xmalloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* How many files in dir have exactly these bytes. */
static size_t
count_identical(const char *dir, const char *m, size_t len)
{
	struct dirent *de;
	size_t found = 0, flen;
	DIR *d = opendir(dir);
	char *path, *buf;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		buf = read_file(path, &flen);
		if (flen == len && memcmp(buf, m, len) == 0)
			found++;
		free(buf);
		free(path);
	}
	closedir(d);
	return found;
}

static size_t
count_files(const char *dir, bool hidden)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0 &&
		    (hidden || de->d_name[0] != '.'))
			n++;
	closedir(d);
	return n;
}

static long
greetings(void)
{
	const char *path = env("MAIL_SINK_GREETINGS");
	long n = 0;
	FILE *f;

	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(f, "%ld", &n) != 1)
		n = 0;
	fclose(f);
	return n;
}

static void
test_relay_delivers_messages_byte_identical(void **state)
{
	struct fixture *fx = *state;
	_cleanup_free_ char *url = NULL, *newdir = NULL;
	struct batch b;
	size_t i;

	require_sink();
	url = relay_url("MAIL_SINK_PORT");
	newdir = xasprintf("%s/new", env("MAIL_SINK_MAILDIR"));
	batch_init(&b, fx->base, fx->loop, url, "admin@example.com", 60, 20,
	    "identical");
	run_batch(&b);
	for (i = 0; i < b.n; i++) {
		if (b.jobs[i].r != MAIL_DELIVERED)
			fail_msg("message %zu: %d %s", i, b.jobs[i].r,
			    b.jobs[i].reason);
		assert_null(b.jobs[i].reason);
		assert_int_equal(count_identical(newdir, b.msgs[i], b.lens[i]),
		    1);
	}
	batch_free(&b);
}

/* One delivery to rcpt with settings s; returns its outcome. */
static void
deliver_with(struct fixture *fx, const struct mail_delivery_settings *s,
    const char *rcpt, struct job *out)
{
	struct batch b;

	batch_init(&b, fx->base, fx->loop, s->relay_url, rcpt, 1, 1, "one");
	b.s = *s;
	run_batch(&b);
	*out = b.jobs[0];
	b.jobs[0].reason = NULL;
	batch_free(&b);
}

/* One delivery to rcpt at url; returns its outcome. */
static void
deliver_one(struct fixture *fx, const char *url, const char *rcpt,
    int64_t timeout_ms, struct job *out)
{
	struct batch b;

	batch_init(&b, fx->base, fx->loop, url, rcpt, 1, 1, "one");
	if (timeout_ms > 0)
		b.s.timeout_ms = timeout_ms;
	run_batch(&b);
	*out = b.jobs[0];
	b.jobs[0].reason = NULL;
	batch_free(&b);
}

static void
expect_reason(const struct job *j, const char *want)
{
	assert_non_null(j->reason);
	if (strstr(j->reason, want) == NULL)
		fail_msg("reason \"%s\" does not mention \"%s\"", j->reason,
		    want);
	print_message("reason: %s\n", j->reason);
}

static void
test_451_reply_is_temporary_with_the_reply_text(void **state)
{
	_cleanup_free_ char *url = NULL;
	struct job j;

	require_sink();
	url = relay_url("MAIL_SINK_PORT");
	deliver_one(*state, url, "tempfail@example.com", 0, &j);
	assert_int_equal(j.r, MAIL_TEMPORARY);
	expect_reason(&j, "451 4.3.0 <tempfail@example.com>: try again later");
	free(j.reason);
}

static void
test_550_reply_is_permanent_with_the_reply_text(void **state)
{
	_cleanup_free_ char *url = NULL;
	struct job j;

	require_sink();
	url = relay_url("MAIL_SINK_PORT");
	deliver_one(*state, url, "reject@example.com", 0, &j);
	assert_int_equal(j.r, MAIL_PERMANENT);
	expect_reason(&j, "550 5.1.1 <reject@example.com>: recipient rejected");
	free(j.reason);
}

static void
test_replies_after_the_data_are_classified_too(void **state)
{
	_cleanup_free_ char *url = NULL;
	struct job j;

	require_sink();
	url = relay_url("MAIL_SINK_PORT");
	deliver_one(*state, url, "datatemp@example.com", 0, &j);
	assert_int_equal(j.r, MAIL_TEMPORARY);
	expect_reason(&j, "452 4.3.1 insufficient storage");
	free(j.reason);
	deliver_one(*state, url, "dataperm@example.com", 0, &j);
	assert_int_equal(j.r, MAIL_PERMANENT);
	expect_reason(&j, "554 5.6.0 message content refused");
	free(j.reason);
}

static void
test_good_delivery_after_a_rejected_one_on_the_same_relay(void **state)
{
	_cleanup_free_ char *url = NULL;
	struct job j;

	require_sink();
	url = relay_url("MAIL_SINK_PORT");
	deliver_one(*state, url, "reject@example.com", 0, &j);
	assert_int_equal(j.r, MAIL_PERMANENT);
	free(j.reason);
	deliver_one(*state, url, "postmaster@example.com", 0, &j);
	assert_int_equal(j.r, MAIL_DELIVERED);
	deliver_one(*state, url, "tempfail@example.com", 0, &j);
	assert_int_equal(j.r, MAIL_TEMPORARY);
	free(j.reason);
	deliver_one(*state, url, "webmaster@example.com", 0, &j);
	assert_int_equal(j.r, MAIL_DELIVERED);
}

static void
test_refused_connection_is_temporary(void **state)
{
	_cleanup_free_ char *url = NULL;
	struct job j;

	if (env("MAIL_REFUSED_PORT") == NULL)
		skip();
	url = relay_url("MAIL_REFUSED_PORT");
	deliver_one(*state, url, "admin@example.com", 0, &j);
	assert_int_equal(j.r, MAIL_TEMPORARY);
	expect_reason(&j, "onnect");
	free(j.reason);
}

static void
require_tls_sink(void)
{
	if (env("MAIL_SINK_STARTTLS_PORT") == NULL ||
	    env("MAIL_SINK_SMTPS_PORT") == NULL || env("MAIL_SINK_CA") == NULL)
		skip();
}

static void
test_starttls_with_authentication_delivers(void **state)
{
	struct mail_delivery_settings s = { .timeout_ms = 20000 };
	_cleanup_free_ char *url = NULL;
	struct job j;

	require_tls_sink();
	url = relay_url("MAIL_SINK_STARTTLS_PORT");
	s.relay_url = url;
	s.ca_file = env("MAIL_SINK_CA");
	s.require_tls = true;
	s.username = "certfleet";
	s.password = "s3cret";
	deliver_with(*state, &s, "admin@example.com", &j);
	if (j.r != MAIL_DELIVERED)
		fail_msg("STARTTLS: %s", j.reason);
	/* CURLUSESSL_TRY upgrades too when the relay offers STARTTLS (the
	 * sink refuses MAIL before STARTTLS, so success means TLS was used) */
	s.require_tls = false;
	deliver_with(*state, &s, "admin@example.com", &j);
	assert_int_equal(j.r, MAIL_DELIVERED);
}

static void
test_wrong_password_is_temporary(void **state)
{
	struct mail_delivery_settings s = { .timeout_ms = 20000 };
	_cleanup_free_ char *url = NULL;
	struct job j;

	require_tls_sink();
	url = relay_url("MAIL_SINK_STARTTLS_PORT");
	s.relay_url = url;
	s.ca_file = env("MAIL_SINK_CA");
	s.require_tls = true;
	s.username = "certfleet";
	s.password = "wrong";
	deliver_with(*state, &s, "admin@example.com", &j);
	/* a 535 is the relay's or our configuration's problem, not the
	 * recipient's: the message must wait, not be dropped */
	assert_int_equal(j.r, MAIL_TEMPORARY);
	expect_reason(&j, "535");
	free(j.reason);
}

static void
test_required_tls_on_a_plain_relay_is_temporary(void **state)
{
	struct mail_delivery_settings s = { .timeout_ms = 20000 };
	_cleanup_free_ char *url = NULL;
	struct job j;

	require_sink();
	url = relay_url("MAIL_SINK_PORT");
	s.relay_url = url;
	s.require_tls = true;
	deliver_with(*state, &s, "admin@example.com", &j);
	assert_int_equal(j.r, MAIL_TEMPORARY);
	expect_reason(&j, "STARTTLS");
	free(j.reason);
}

static void
test_smtps_delivers_and_checks_the_certificate(void **state)
{
	struct mail_delivery_settings s = { .timeout_ms = 20000 };
	_cleanup_free_ char *url = NULL;
	struct job j;

	require_tls_sink();
	url = xasprintf("smtps://127.0.0.1:%s", env("MAIL_SINK_SMTPS_PORT"));
	s.relay_url = url;
	s.ca_file = env("MAIL_SINK_CA");
	deliver_with(*state, &s, "admin@example.com", &j);
	if (j.r != MAIL_DELIVERED)
		fail_msg("SMTPS: %s", j.reason);
	/* without our CA file the self-signed relay is not trusted */
	s.ca_file = NULL;
	deliver_with(*state, &s, "admin@example.com", &j);
	assert_int_equal(j.r, MAIL_TEMPORARY);
	expect_reason(&j, "certificate");
	free(j.reason);
}

/* A socket that accepts connections in the kernel but never speaks. */
static int
silent_listener(int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void
test_silent_relay_times_out_as_temporary(void **state)
{
	_cleanup_free_ char *url = NULL;
	struct job j;
	int fd, port;

	fd = silent_listener(&port);
	url = xasprintf("smtp://127.0.0.1:%d", port);
	deliver_one(*state, url, "admin@example.com", 300, &j);
	assert_int_equal(j.r, MAIL_TEMPORARY);
	expect_reason(&j, "timed out");
	free(j.reason);
	close(fd);
}

static void
test_freeing_the_loop_cancels_as_temporary(void **state)
{
	struct fixture *fx = *state;
	_cleanup_free_ char *url = NULL;
	struct batch b;
	int fd, port;

	fd = silent_listener(&port);
	url = xasprintf("smtp://127.0.0.1:%d", port);
	batch_init(&b, fx->base, fx->loop, url, "admin@example.com", 3, 3,
	    "cancel");
	b.jobs = xcalloc(b.n, sizeof(*b.jobs));
	start_next(&b);
	event_base_loop(fx->base, EVLOOP_NONBLOCK);
	assert_int_equal(b.finished, 0);
	curl_loop_free(fx->loop);
	fx->loop = curl_loop_new(fx->base);
	assert_int_equal(b.finished, 3);
	assert_int_equal(b.jobs[0].r, MAIL_TEMPORARY);
	assert_string_equal(b.jobs[0].reason, "delivery cancelled");
	batch_free(&b);
	close(fd);
}

static void
done_not_called(enum mail_result r, const char *reason, void *arg)
{
	fail_msg("done must not run for refused arguments");
}

static void
test_bad_envelope_addresses_are_refused(void **state)
{
	struct fixture *fx = *state;
	struct mail_delivery_settings s = { .relay_url = "smtp://127.0.0.1:1" };
	static const char *const bad[] = { "", "noat", "a b@c", "<a@b>",
		"a@b\r\nRCPT TO:<x@y>", "caf\xc3\xa9@example.com" };
	size_t i;

	for (i = 0; i < ELEMENTSOF(bad); i++) {
		assert_int_equal(mail_deliver(fx->loop, &s, FROM, bad[i], "x",
		    1, done_not_called, NULL), -EINVAL);
		assert_int_equal(mail_deliver(fx->loop, &s, bad[i], "a@b", "x",
		    1, done_not_called, NULL), -EINVAL);
	}
	assert_int_equal(curl_loop_active(fx->loop), 0);
}

static void
on_spool_done(enum mail_result r, const char *reason, void *arg)
{
	int *calls = arg;

	if (r != MAIL_DELIVERED)
		fail_msg("spool: %s", reason);
	(*calls)++;
}

static void
test_spool_writes_one_file_per_message_id(void **state)
{
	const char *dir = env("MAIL_SPOOL_DIR");
	struct mail_delivery_settings s = { 0 };
	char *m1, *m2, *name, *path, *buf;
	size_t l1, l2, flen;
	int calls = 0;

	if (dir == NULL)
		skip();
	s.spool_directory = dir;
	make_notice("spool", 1, "admin@example.com", &m1, &l1);
	make_notice("spool", 2, "admin@example.com", &m2, &l2);
	/* twice the same message (a re-send after a crash), then another */
	assert_int_equal(mail_deliver(NULL, &s, FROM, "admin@example.com", m1,
	    l1, on_spool_done, &calls), 0);
	assert_int_equal(mail_deliver(NULL, &s, FROM, "admin@example.com", m1,
	    l1, on_spool_done, &calls), 0);
	assert_int_equal(mail_deliver(NULL, &s, FROM, "admin@example.com", m2,
	    l2, on_spool_done, &calls), 0);
	assert_int_equal(calls, 3);	/* done ran before mail_deliver returned */
	assert_int_equal(count_files(dir, true), 2);	/* no temporary left */
	assert_int_equal(count_identical(dir, m1, l1), 1);
	assert_int_equal(count_identical(dir, m2, l2), 1);
	name = xasprintf("spool-%d-1@certfleet.test.eml", (int)getpid());
	path = xasprintf("%s/%s", dir, name);
	buf = read_file(path, &flen);
	assert_int_equal(flen, l1);
	free(buf);
	free(path);
	free(name);
	free(m1);
	free(m2);
}

static void
test_spool_refuses_a_message_without_message_id(void **state)
{
	const char *dir = env("MAIL_SPOOL_DIR");
	struct mail_delivery_settings s = { 0 };
	static const char m[] = "From: a@b\r\nTo: c@d\r\n\r\nMessage-ID: <x@y>"
	    "\r\n";

	if (dir == NULL)
		skip();
	s.spool_directory = dir;
	assert_int_equal(mail_deliver(NULL, &s, FROM, "c@d", m, sizeof(m) - 1,
	    done_not_called, NULL), -EINVAL);
	s.spool_directory = NULL;
	assert_int_equal(mail_deliver(NULL, &s, FROM, "c@d", m, sizeof(m) - 1,
	    done_not_called, NULL), -EINVAL);
}

static void
on_record(enum mail_result r, const char *reason, void *arg)
{
	struct job *j = arg;

	j->done = true;
	j->r = r;
	j->reason = reason != NULL ? xstrdup(reason) : NULL;
}

static void
test_spool_write_failure_is_temporary(void **state)
{
	struct mail_delivery_settings s = {
		.spool_directory = "/nonexistent/certfleet-spool" };
	struct job j = { 0 };
	char *m;
	size_t l;

	make_notice("spoolfail", 1, "admin@example.com", &m, &l);
	assert_int_equal(mail_deliver(NULL, &s, FROM, "admin@example.com", m,
	    l, on_record, &j), 0);
	assert_true(j.done);
	assert_int_equal(j.r, MAIL_TEMPORARY);
	expect_reason(&j, "No such file or directory");
	free(j.reason);
	free(m);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds this process used, user and system. */
static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void
test_throughput_with_20_concurrent_deliveries(void **state)
{
	struct fixture *fx = *state;
	_cleanup_free_ char *url = NULL, *newdir = NULL;
	const char *env_n = env("MAIL_BENCH_MESSAGES");
	size_t i, n = env_n != NULL ? strtoul(env_n, NULL, 10) : 1000;
	size_t before;
	long g0, g1;
	struct batch b;
	double t0, t1, c0, c1;

	require_sink();
	url = relay_url("MAIL_SINK_PORT");
	newdir = xasprintf("%s/new", env("MAIL_SINK_MAILDIR"));
	batch_init(&b, fx->base, fx->loop, url, "admin@example.com", n, 20,
	    "bench");
	before = count_files(newdir, false);
	g0 = greetings();
	t0 = now_s();
	c0 = cpu_s();
	run_batch(&b);
	t1 = now_s();
	c1 = cpu_s();
	g1 = greetings();
	for (i = 0; i < b.n; i++)
		assert_int_equal(b.jobs[i].r, MAIL_DELIVERED);
	assert_int_equal(count_files(newdir, false) - before, n);
	/* the sink (one Python process) is usually the bottleneck: the
	 * client's own CPU per message shows what certfleet could do */
	print_message("mail throughput: %zu messages in %.2f s = %.0f/s with 20 "
	    "concurrent deliveries, %ld new SMTP connections; client CPU "
	    "%.0f us/message (%.0f/s of one core)\n", n, t1 - t0,
	    (double)n / (t1 - t0), g1 - g0, (c1 - c0) * 1e6 / (double)n,
	    (double)n / (c1 - c0));
	/* connections are reused: far fewer greetings than messages */
	assert_true(g1 - g0 <= 40);
	batch_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_relay_delivers_messages_byte_identical, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_451_reply_is_temporary_with_the_reply_text, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_550_reply_is_permanent_with_the_reply_text, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_replies_after_the_data_are_classified_too, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_good_delivery_after_a_rejected_one_on_the_same_relay,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_refused_connection_is_temporary, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_starttls_with_authentication_delivers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_wrong_password_is_temporary, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_required_tls_on_a_plain_relay_is_temporary, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_smtps_delivers_and_checks_the_certificate, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_silent_relay_times_out_as_temporary, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_freeing_the_loop_cancels_as_temporary, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_bad_envelope_addresses_are_refused, setup, teardown),
		cmocka_unit_test(test_spool_writes_one_file_per_message_id),
		cmocka_unit_test(
		    test_spool_refuses_a_message_without_message_id),
		cmocka_unit_test(test_spool_write_failure_is_temporary),
		cmocka_unit_test_setup_teardown(
		    test_throughput_with_20_concurrent_deliveries, setup,
		    teardown),
	};
	int r;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return r;
}
