/*
 * tls_probe.c: TLS probes of binding endpoints (see tls_probe.h).
 *
 * A probe resolves its endpoint, then makes one attempt per address. An
 * attempt is a small state machine driven by one libevent event on its
 * socket: WAITING (for a slot) -> CONNECTING -> HANDSHAKING -> DONE. Raw
 * non-blocking sockets and SSL_connect, no bufferevents: the only work
 * per attempt beyond the handshake itself is one SHA-256 over the served
 * leaf's DER and reading its NotAfter. The chain is verified by OpenSSL
 * during the handshake (SSL_VERIFY_NONE still verifies and records the
 * result, it only does not abort on failure).
 *
 * Slots: a global count of attempts connecting or handshaking, and one per
 * address. Addresses with waiting attempts and a free slot sit in a FIFO
 * (ready), so freeing a slot starts the next attempt in O(1) whatever the
 * backlog.
 *
 * The caller's callback always runs from an event of the probe's own, so
 * it may start or cancel probes or free the prober.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <search.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ares.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/xmalloc.h"
#include "loop/ares_loop.h"
#include "renewal/tls_probe.h"

#define DEFAULT_TIMEOUT_MS	10000
#define DEFAULT_IN_FLIGHT	64
#define DEFAULT_PER_HOST	4
#define FP_HEX_LEN		64

enum attempt_state {
	ATTEMPT_WAITING,
	ATTEMPT_CONNECTING,
	ATTEMPT_HANDSHAKING,
	ATTEMPT_DONE,
};

struct host_slot {
	char key[INET6_ADDRSTRLEN];	/* the address: first member, for
					   the tsearch comparison */
	unsigned active;		/* attempts connecting/handshaking */
	bool in_ready;
	TAILQ_ENTRY(host_slot) ready_entry;
	TAILQ_HEAD(attempt_queue, attempt) waiting;
};

struct attempt {
	struct tls_probe *probe;
	struct host_slot *host;
	TAILQ_ENTRY(attempt) wait_entry;
	enum attempt_state state;
	struct sockaddr_storage sa;
	socklen_t salen;
	int fd;
	SSL *ssl;
	struct event ev;	/* the socket, with the remaining time */
	bool ev_set;
	struct timeval deadline;	/* on CLOCK_MONOTONIC: a step of the
					   wall clock changes no time-out */
	struct timeval started;		/* CLOCK_MONOTONIC, at the connect */
	struct tls_addr_result res;
	char address[INET6_ADDRSTRLEN];
	char fingerprint[FP_HEX_LEN + 1];
	char *error;
};

/* The c-ares query of a probe; outlives a cancelled probe. */
struct resolve {
	struct tls_probe *probe;	/* NULL once cancelled */
};

struct tls_probe {
	LIST_ENTRY(tls_probe) entry;
	struct tls_prober *prober;
	char *host;
	char *server_name;	/* NULL: no SNI (an IP literal) */
	bool server_name_is_ip;
	uint16_t port;
	bool has_expected;
	char expected[FP_HEX_LEN + 1];
	tls_probe_done_fn *done;
	void *arg;
	struct resolve *resolving;
	struct event *finish_ev;
	enum tls_probe_verdict resolve_verdict;	/* when error is set */
	char *error;
	size_t n_attempts, n_done;
	struct attempt **attempts;
};

struct tls_prober {
	struct event_base *base;
	struct ares_loop *ares;
	SSL_CTX *ctx;
	EVP_MD *sha256;
	struct timeval timeout;
	unsigned max_in_flight, max_per_host, in_flight;
	bool pumping;
	void (*observe)(void *arg, const char *result, double seconds);
	void *observe_arg;
	void *hosts;		/* tsearch tree of struct host_slot */
	TAILQ_HEAD(host_queue, host_slot) ready;
	LIST_HEAD(probe_list, tls_probe) probes;
};

static const char *const verdict_names[] = {
	[TLS_PROBE_PASS] = "PASS",
	[TLS_PROBE_FAIL] = "FAIL",
	[TLS_PROBE_UNDECIDED] = "UNDECIDED",
};

static const char *const status_names[] = {
	[TLS_ADDR_OK] = "OK",
	[TLS_ADDR_MISMATCH] = "MISMATCH",
	[TLS_ADDR_CONNECT_FAILED] = "CONNECT_FAILED",
	[TLS_ADDR_TIMEOUT] = "TIMEOUT",
	[TLS_ADDR_HANDSHAKE_FAILED] = "HANDSHAKE_FAILED",
};

static const char *const status_labels[] = {
	[TLS_ADDR_OK] = "ok",
	[TLS_ADDR_MISMATCH] = "mismatch",
	[TLS_ADDR_CONNECT_FAILED] = "connect_error",
	[TLS_ADDR_TIMEOUT] = "timeout",
	[TLS_ADDR_HANDSHAKE_FAILED] = "handshake_error",
};

const char *
tls_addr_status_label(enum tls_addr_status s)
{
	return (unsigned)s < ELEMENTSOF(status_labels) ? status_labels[s] :
	    "handshake_error";
}

const char *
tls_probe_verdict_name(enum tls_probe_verdict v)
{
	return (unsigned)v < ELEMENTSOF(verdict_names) ? verdict_names[v] :
	    "?";
}

const char *
tls_addr_status_name(enum tls_addr_status s)
{
	return (unsigned)s < ELEMENTSOF(status_names) ? status_names[s] : "?";
}

/* OpenSSL's error queue as one line, emptied. */
static char *
ssl_errors(const char *what)
{
	char buf[256] = "";
	unsigned long e, last = 0;

	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last != 0)
		ERR_error_string_n(last, buf, sizeof(buf));
	return xasprintf("%s%s%s", what, buf[0] ? ": " : "", buf);
}

/* ---- slots ---- */

static int
host_cmp(const void *a, const void *b)
{
	return strcmp(a, b);	/* key is the first member */
}

static struct host_slot *
host_get(struct tls_prober *p, const char *address)
{
	struct host_slot *h = xcalloc(1, sizeof(*h)), **found;

	memcpy(h->key, address, strlen(address) + 1);
	TAILQ_INIT(&h->waiting);
	found = tsearch(h, &p->hosts, host_cmp);
	if (found == NULL)
		abort();	/* out of memory is fatal */
	if (*found != h)
		free(h);
	return *found;
}

static void
host_maybe_free(struct tls_prober *p, struct host_slot *h)
{
	if (h->active > 0 || !TAILQ_EMPTY(&h->waiting))
		return;
	if (h->in_ready)
		TAILQ_REMOVE(&p->ready, h, ready_entry);
	tdelete(h, &p->hosts, host_cmp);
	free(h);
}

static void
host_update_ready(struct tls_prober *p, struct host_slot *h)
{
	bool ready = !TAILQ_EMPTY(&h->waiting) &&
	    h->active < p->max_per_host;

	if (ready && !h->in_ready)
		TAILQ_INSERT_TAIL(&p->ready, h, ready_entry);
	else if (!ready && h->in_ready)
		TAILQ_REMOVE(&p->ready, h, ready_entry);
	h->in_ready = ready;
}

static void attempt_start(struct attempt *a);

/* Start waiting attempts while there are slots; not re-entered. */
static void
pump(struct tls_prober *p)
{
	struct host_slot *h;
	struct attempt *a;

	if (p->pumping)
		return;
	p->pumping = true;
	while (p->in_flight < p->max_in_flight &&
	    (h = TAILQ_FIRST(&p->ready)) != NULL) {
		a = TAILQ_FIRST(&h->waiting);
		TAILQ_REMOVE(&h->waiting, a, wait_entry);
		h->active++;
		p->in_flight++;
		host_update_ready(p, h);
		attempt_start(a);
	}
	p->pumping = false;
}

static void
slot_release(struct tls_prober *p, struct host_slot *h)
{
	h->active--;
	p->in_flight--;
	host_update_ready(p, h);
	host_maybe_free(p, h);
}

/* ---- attempts ---- */

static void
attempt_close(struct attempt *a)
{
	if (a->ev_set) {
		event_del(&a->ev);
		a->ev_set = false;
	}
	if (a->ssl != NULL) {
		SSL_free(a->ssl);
		a->ssl = NULL;
	}
	if (a->fd >= 0) {
		close(a->fd);
		a->fd = -1;
	}
}

static void
attempt_free(struct attempt *a)
{
	attempt_close(a);
	free(a->error);
	free(a);
}

static void on_socket(evutil_socket_t fd, short what, void *arg);

static void
monotonic_now(struct timeval *tv)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
}

static void
attempt_observe(struct attempt *a, enum tls_addr_status status)
{
	struct tls_prober *p = a->probe->prober;
	struct timeval now, took;

	if (p->observe == NULL)
		return;
	monotonic_now(&now);
	timersub(&now, &a->started, &took);
	p->observe(p->observe_arg, tls_addr_status_label(status),
	    (double)took.tv_sec + (double)took.tv_usec / 1e6);
}

static void
attempt_finish(struct attempt *a, enum tls_addr_status status, char *error)
{
	struct tls_probe *probe = a->probe;
	struct tls_prober *p = probe->prober;

	attempt_observe(a, status);
	if (a->ssl != NULL && status != TLS_ADDR_TIMEOUT &&
	    SSL_is_init_finished(a->ssl))
		(void)SSL_shutdown(a->ssl);	/* close_notify, once */
	attempt_close(a);
	a->state = ATTEMPT_DONE;
	a->res.status = status;
	a->error = error;
	slot_release(p, a->host);
	a->host = NULL;
	if (++probe->n_done == probe->n_attempts)
		event_active(probe->finish_ev, EV_TIMEOUT, 0);
	pump(p);
}


/* Wait for the socket, for what is left of the attempt's time. */
static void
attempt_wait(struct attempt *a, short what)
{
	struct tls_prober *p = a->probe->prober;
	struct timeval now, left;

	monotonic_now(&now);
	timersub(&a->deadline, &now, &left);
	if (left.tv_sec < 0)
		timerclear(&left);
	if (a->ev_set)
		event_del(&a->ev);
	event_assign(&a->ev, p->base, a->fd, what, on_socket, a);
	a->ev_set = true;
	event_add(&a->ev, &left);
}

static void
hex_encode(const unsigned char *md, unsigned len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	unsigned i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static time_t
asn1_time_to_epoch(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

/* The handshake is done: what did the endpoint serve? */
static void
attempt_capture(struct attempt *a)
{
	struct tls_probe *probe = a->probe;
	X509 *leaf = SSL_get0_peer_certificate(a->ssl);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	long v;

	if (leaf == NULL) {
		attempt_finish(a, TLS_ADDR_HANDSHAKE_FAILED,
		    xstrdup("the endpoint sent no certificate"));
		return;
	}
	if (!X509_digest(leaf, probe->prober->sha256, md, &len)) {
		attempt_finish(a, TLS_ADDR_HANDSHAKE_FAILED,
		    ssl_errors("cannot hash the served certificate"));
		return;
	}
	hex_encode(md, len, a->fingerprint);
	a->res.not_after = asn1_time_to_epoch(X509_get0_notAfter(leaf));
	v = SSL_get_verify_result(a->ssl);
	a->res.chain_verified = v == X509_V_OK;
	a->res.verify_error = v == X509_V_OK ? NULL :
	    X509_verify_cert_error_string(v);
	if (probe->has_expected && strcmp(a->fingerprint,
	    probe->expected) != 0) {
		attempt_finish(a, TLS_ADDR_MISMATCH, xasprintf("%s serves "
		    "certificate %s, not %s", a->address, a->fingerprint,
		    probe->expected));
		return;
	}
	attempt_finish(a, TLS_ADDR_OK, NULL);
}

static void
attempt_handshake(struct attempt *a)
{
	int r, err;

	ERR_clear_error();
	errno = 0;
	r = SSL_connect(a->ssl);
	if (r == 1) {
		attempt_capture(a);
		return;
	}
	err = SSL_get_error(a->ssl, r);
	if (err == SSL_ERROR_WANT_READ)
		attempt_wait(a, EV_READ);
	else if (err == SSL_ERROR_WANT_WRITE)
		attempt_wait(a, EV_WRITE);
	else if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
		attempt_finish(a, TLS_ADDR_HANDSHAKE_FAILED, xasprintf(
		    "TLS handshake with %s: %s", a->address, errno ?
		    strerror(errno) : "connection closed by the server"));
	else
		attempt_finish(a, TLS_ADDR_HANDSHAKE_FAILED,
		    ssl_errors("TLS handshake failed"));
}

static int
attempt_ssl_new(struct attempt *a)
{
	struct tls_probe *probe = a->probe;
	SSL *ssl = SSL_new(probe->prober->ctx);

	if (ssl == NULL)
		return -ENOMEM;
	a->ssl = ssl;
	if (!SSL_set_fd(ssl, a->fd))
		return -EIO;
	if (probe->server_name == NULL)
		return 0;
	if (probe->server_name_is_ip)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    probe->server_name) ? 0 : -EINVAL;
	if (!SSL_set_tlsext_host_name(ssl, probe->server_name) ||
	    !SSL_set1_host(ssl, probe->server_name))
		return -EINVAL;
	return 0;
}

static void
attempt_connected(struct attempt *a)
{
	a->state = ATTEMPT_HANDSHAKING;
	if (attempt_ssl_new(a) < 0) {
		attempt_finish(a, TLS_ADDR_HANDSHAKE_FAILED,
		    ssl_errors("cannot set up TLS"));
		return;
	}
	attempt_handshake(a);
}

static void
on_socket(evutil_socket_t fd, short what, void *arg)
{
	struct attempt *a = arg;
	int err = 0;
	socklen_t len = sizeof(err);

	a->ev_set = false;	/* not persistent: it fired */
	if (what & EV_TIMEOUT) {
		attempt_finish(a, TLS_ADDR_TIMEOUT, xasprintf("%s: %s",
		    a->address, a->state == ATTEMPT_CONNECTING ?
		    "no connection in time" : "no TLS handshake in time"));
		return;
	}
	if (a->state == ATTEMPT_HANDSHAKING) {
		attempt_handshake(a);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0) {
		attempt_finish(a, TLS_ADDR_CONNECT_FAILED, xasprintf(
		    "connect to %s: %s", a->address, strerror(err)));
		return;
	}
	attempt_connected(a);
}

static void
attempt_start(struct attempt *a)
{
	struct tls_prober *p = a->probe->prober;
	struct timeval now;

	monotonic_now(&now);
	a->started = now;
	timeradd(&now, &p->timeout, &a->deadline);
	a->state = ATTEMPT_CONNECTING;
	a->fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (a->fd < 0) {
		attempt_finish(a, TLS_ADDR_CONNECT_FAILED, xasprintf(
		    "socket for %s: %s", a->address, strerror(errno)));
		return;
	}
	if (connect(a->fd, (struct sockaddr *)&a->sa, a->salen) == 0) {
		attempt_connected(a);
		return;
	}
	if (errno == EINPROGRESS) {
		attempt_wait(a, EV_WRITE);
		return;
	}
	attempt_finish(a, TLS_ADDR_CONNECT_FAILED, xasprintf("connect to "
	    "%s: %s", a->address, strerror(errno)));
}

static void
attempt_add(struct tls_probe *probe, const struct sockaddr *sa,
    socklen_t salen)
{
	struct tls_prober *p = probe->prober;
	struct attempt *a = xcalloc(1, sizeof(*a));
	const void *addr;
	size_t i;

	memcpy(&a->sa, sa, salen);
	a->salen = salen;
	a->fd = -1;
	if (sa->sa_family == AF_INET) {
		((struct sockaddr_in *)&a->sa)->sin_port = htons(probe->port);
		addr = &((const struct sockaddr_in *)sa)->sin_addr;
	} else {
		((struct sockaddr_in6 *)&a->sa)->sin6_port =
		    htons(probe->port);
		addr = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	}
	inet_ntop(sa->sa_family, addr, a->address, sizeof(a->address));
	for (i = 0; i < probe->n_attempts; i++)
		if (strcmp(probe->attempts[i]->address, a->address) == 0) {
			free(a);	/* the same address twice */
			return;
		}
	a->probe = probe;
	a->res.address = a->address;
	a->res.fingerprint = a->fingerprint;
	probe->attempts = xrealloc(probe->attempts,
	    (probe->n_attempts + 1) * sizeof(*probe->attempts));
	probe->attempts[probe->n_attempts++] = a;
	a->host = host_get(p, a->address);
	TAILQ_INSERT_TAIL(&a->host->waiting, a, wait_entry);
	host_update_ready(p, a->host);
}

/* ---- probes ---- */

static void
probe_fail_resolve(struct tls_probe *probe, enum tls_probe_verdict v,
    char *error)
{
	struct tls_prober *p = probe->prober;

	if (p->observe != NULL)
		p->observe(p->observe_arg, "resolve_error", -1);
	probe->resolve_verdict = v;
	probe->error = error;
	event_active(probe->finish_ev, EV_TIMEOUT, 0);
}

static void
on_resolved(void *arg, int status, int timeouts,
    struct ares_addrinfo *result)
{
	struct resolve *rs = arg;
	struct tls_probe *probe = rs->probe;
	struct ares_addrinfo_node *n;

	free(rs);
	if (probe == NULL) {
		ares_freeaddrinfo(result);
		return;
	}
	probe->resolving = NULL;
	if (status == ARES_ENOTFOUND || status == ARES_ENODATA ||
	    (status == ARES_SUCCESS && (result == NULL ||
	    result->nodes == NULL)))
		probe_fail_resolve(probe, TLS_PROBE_FAIL, xasprintf("%s does "
		    "not resolve: %s", probe->host, ares_strerror(
		    status == ARES_SUCCESS ? ARES_ENODATA : status)));
	else if (status != ARES_SUCCESS)
		probe_fail_resolve(probe, TLS_PROBE_UNDECIDED, xasprintf(
		    "%s: resolution could not be completed: %s", probe->host,
		    ares_strerror(status)));
	else {
		for (n = result->nodes; n != NULL; n = n->ai_next)
			if (n->ai_family == AF_INET ||
			    n->ai_family == AF_INET6)
				attempt_add(probe, n->ai_addr, n->ai_addrlen);
		pump(probe->prober);
	}
	ares_freeaddrinfo(result);
}

static void
probe_resolve(struct tls_probe *probe)
{
	struct tls_prober *p = probe->prober;
	struct ares_addrinfo_hints hints = { .ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM, .ai_flags = ARES_AI_NOSORT };

	probe->resolving = xcalloc(1, sizeof(*probe->resolving));
	probe->resolving->probe = probe;
	ares_getaddrinfo(ares_loop_channel(p->ares), probe->host, NULL,
	    &hints, on_resolved, probe->resolving);
	ares_loop_kick(p->ares);
}

/* Gives back the probe's slots and unlinks it from the prober. */
static void
probe_unlink(struct tls_probe *probe)
{
	struct tls_prober *p = probe->prober;
	size_t i;

	for (i = 0; i < probe->n_attempts; i++) {
		struct attempt *a = probe->attempts[i];
		struct host_slot *h = a->host;

		if (a->state == ATTEMPT_WAITING) {
			TAILQ_REMOVE(&h->waiting, a, wait_entry);
			host_update_ready(p, h);
			host_maybe_free(p, h);
		} else if (a->state != ATTEMPT_DONE) {
			attempt_close(a);
			slot_release(p, h);
		}
		a->state = ATTEMPT_DONE;
		a->host = NULL;
	}
	if (probe->resolving != NULL)
		probe->resolving->probe = NULL;	/* freed by its callback */
	probe->resolving = NULL;
	event_free(probe->finish_ev);
	probe->finish_ev = NULL;
	LIST_REMOVE(probe, entry);
}

/* After probe_unlink: touches nothing of the prober. */
static void
probe_free(struct tls_probe *probe)
{
	size_t i;

	for (i = 0; i < probe->n_attempts; i++)
		attempt_free(probe->attempts[i]);
	free(probe->attempts);
	free(probe->host);
	free(probe->server_name);
	free(probe->error);
	free(probe);
}

static enum tls_probe_verdict
probe_verdict(const struct tls_probe *probe)
{
	size_t i;

	if (probe->error != NULL)
		return probe->resolve_verdict;
	if (probe->n_attempts == 0)
		return TLS_PROBE_FAIL;
	for (i = 0; i < probe->n_attempts; i++)
		if (probe->attempts[i]->res.status != TLS_ADDR_OK)
			return TLS_PROBE_FAIL;
	return TLS_PROBE_PASS;
}

static void
on_finish(evutil_socket_t fd, short what, void *arg)
{
	struct tls_probe *probe = arg;
	struct tls_probe_result res = { 0 };
	struct tls_addr_result *addrs;
	tls_probe_done_fn *done = probe->done;
	void *done_arg = probe->arg;
	size_t i;

	addrs = xcalloc(probe->n_attempts + 1, sizeof(*addrs));
	for (i = 0; i < probe->n_attempts; i++) {
		addrs[i] = probe->attempts[i]->res;
		addrs[i].error = probe->attempts[i]->error;
	}
	res.verdict = probe_verdict(probe);
	res.error = probe->error;
	res.n_addrs = probe->n_attempts;
	res.addrs = addrs;
	/* Unlinked first: the callback may free the prober. */
	probe_unlink(probe);
	done(&res, done_arg);
	free(addrs);
	probe_free(probe);
}

static int
parse_fingerprint(const char *text, char *out)
{
	size_t n = 0;

	for (; *text != '\0'; text++) {
		char ch = *text;

		if (ch == ':')
			continue;
		if (ch >= 'A' && ch <= 'F')
			ch = (char)(ch - 'A' + 'a');
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')) ||
		    n == FP_HEX_LEN)
			return -EINVAL;
		out[n++] = ch;
	}
	out[n] = '\0';
	return n == FP_HEX_LEN ? 0 : -EINVAL;
}

static bool
is_ip_literal(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		*len = sizeof(*sin);
		return true;
	}
	if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		*len = sizeof(*sin6);
		return true;
	}
	return false;
}

/* "[2001:db8::1]" -> "2001:db8::1"; anything else as it is. */
static char *
unbracket(const char *host)
{
	size_t n = strlen(host);

	if (n > 2 && host[0] == '[' && host[n - 1] == ']')
		return xasprintf("%.*s", (int)(n - 2), host + 1);
	return xstrdup(host);
}

static int
probe_check_args(const struct tls_endpoint *ep, const char *expected,
    char *fp, char **reterr_msg)
{
	if (ep->host == NULL || ep->host[0] == '\0') {
		*reterr_msg = xstrdup("the endpoint has no address");
		return -EINVAL;
	}
	if (ep->port == 0) {
		*reterr_msg = xstrdup("the endpoint's port must be 1-65535");
		return -EINVAL;
	}
	if (expected != NULL && parse_fingerprint(expected, fp) < 0) {
		*reterr_msg = xasprintf("'%s' is not a SHA-256 fingerprint",
		    expected);
		return -EINVAL;
	}
	return 0;
}

int
tls_probe_start(struct tls_prober *p, const struct tls_endpoint *ep,
    const char *expected_fingerprint, tls_probe_done_fn *done, void *arg,
    struct tls_probe **handle, char **reterr_msg)
{
	struct tls_probe *probe;
	struct sockaddr_storage ss;
	struct in6_addr scratch;
	char fp[FP_HEX_LEN + 1];
	const char *sni;
	socklen_t sslen;
	int r;

	if ((r = probe_check_args(ep, expected_fingerprint, fp,
	    reterr_msg)) < 0)
		return r;
	probe = xcalloc(1, sizeof(*probe));
	probe->prober = p;
	probe->host = unbracket(ep->host);
	probe->port = ep->port;
	probe->done = done;
	probe->arg = arg;
	if ((probe->has_expected = expected_fingerprint != NULL))
		memcpy(probe->expected, fp, sizeof(fp));
	sni = ep->server_name != NULL && ep->server_name[0] != '\0' ?
	    ep->server_name : probe->host;
	probe->server_name_is_ip = inet_pton(AF_INET, sni, &scratch) == 1 ||
	    inet_pton(AF_INET6, sni, &scratch) == 1;
	probe->server_name = xstrdup(sni);
	probe->finish_ev = event_new(p->base, -1, 0, on_finish, probe);
	LIST_INSERT_HEAD(&p->probes, probe, entry);
	if (handle != NULL)
		*handle = probe;
	if (is_ip_literal(probe->host, &ss, &sslen)) {
		attempt_add(probe, (struct sockaddr *)&ss, sslen);
		pump(p);
	} else
		probe_resolve(probe);
	return 0;
}

void
tls_probe_cancel(struct tls_probe *probe)
{
	struct tls_prober *p;

	if (probe == NULL)
		return;
	p = probe->prober;
	probe_unlink(probe);
	probe_free(probe);
	pump(p);
}

static int
add_ca_pem(SSL_CTX *ctx, const char *pem, char **reterr_msg)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x;
	int n = 0;

	if (bio == NULL)
		return -ENOMEM;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		X509_STORE_add_cert(store, x);	/* takes a reference */
		X509_free(x);
		n++;
	}
	BIO_free(bio);
	ERR_clear_error();	/* the end of the PEM text */
	if (n == 0) {
		*reterr_msg = xstrdup("the CA certificate given to the TLS "
		    "probe is not PEM");
		return -EINVAL;
	}
	return 0;
}

static int
ctx_new(const struct tls_prober_settings *s, SSL_CTX **out,
    char **reterr_msg)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int r;

	if (ctx == NULL) {
		*reterr_msg = ssl_errors("cannot create the TLS context");
		return -ENOMEM;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* Verify, record, go on: a probe reports, it does not refuse. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	/* Every probe must see the certificate: no resumption. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (s->ca_pem != NULL && s->ca_pem[0] != '\0' &&
	    (r = add_ca_pem(ctx, s->ca_pem, reterr_msg)) < 0) {
		SSL_CTX_free(ctx);
		return r;
	}
	if (!s->no_system_roots && !SSL_CTX_set_default_verify_paths(ctx))
		ERR_clear_error();	/* no system roots: ours only */
	*out = ctx;
	return 0;
}

int
tls_prober_new(struct event_base *base, struct ares_loop *ares,
    const struct tls_prober_settings *s, struct tls_prober **out,
    char **reterr_msg)
{
	struct tls_prober *p;
	SSL_CTX *ctx;
	EVP_MD *md;
	int r, ms;

	if ((md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) {
		*reterr_msg = ssl_errors("SHA-256 is not available");
		return -EIO;
	}
	if ((r = ctx_new(s, &ctx, reterr_msg)) < 0) {
		EVP_MD_free(md);
		return r;
	}
	p = xcalloc(1, sizeof(*p));
	p->base = base;
	p->ares = ares;
	p->ctx = ctx;
	p->sha256 = md;
	ms = s->timeout_ms > 0 ? s->timeout_ms : DEFAULT_TIMEOUT_MS;
	p->timeout.tv_sec = ms / 1000;
	p->timeout.tv_usec = (ms % 1000) * 1000;
	p->max_in_flight = s->max_in_flight ? s->max_in_flight :
	    DEFAULT_IN_FLIGHT;
	p->max_per_host = s->max_per_host ? s->max_per_host :
	    DEFAULT_PER_HOST;
	p->observe = s->observe;
	p->observe_arg = s->observe_arg;
	TAILQ_INIT(&p->ready);
	LIST_INIT(&p->probes);
	*out = p;
	return 0;
}

void
tls_prober_free(struct tls_prober *p)
{
	struct tls_probe *probe;

	if (p == NULL)
		return;
	p->pumping = true;	/* nothing starts while probes go */
	while ((probe = LIST_FIRST(&p->probes)) != NULL) {
		probe_unlink(probe);
		probe_free(probe);
	}
	SSL_CTX_free(p->ctx);
	EVP_MD_free(p->sha256);
	free(p);
}
