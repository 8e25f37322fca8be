/*
 * bench_sni_server.c: the TLS endpoints of run-renewal-bench. One process
 * serves many certificates on many loopback addresses, the way a web
 * server with one server block per name would, but reloads in
 * microseconds whatever the number of names:
 *
 *   for the SNI name N it serves ROOT/N/fullchain.pem with ROOT/N/key.pem,
 *   read at the first handshake for N and kept (parsed); SIGHUP (the bindings'
 *   reload action) marks every kept certificate stale, and the next
 *   handshake for a stale name looks at fullchain.pem again (a stat) and
 *   reloads it only when it changed.
 *
 * So an endpoint keeps serving the old certificate until it is told to
 * reload, as a real server does, and a reload costs nothing per name that
 * did not change. Handshakes only: once a handshake completes the server
 * sends close_notify and closes. No session tickets (probes never resume).
 *
 * One epoll loop per thread (default: one per core), all threads on the
 * same listening sockets (EPOLLEXCLUSIVE). Each thread keeps its own
 * certificate cache, so no locks.
 *
 *   bench_sni_server --listen ADDR[,ADDR...] --root DIR --port-file FILE
 *                    [--port N] [--threads N] [--max-seconds N]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "common/xmalloc.h"
#include "tests/bench/bench_util.h"

#define MAX_LISTEN 1024
#define MAX_THREADS 64
#define CACHE_BUCKETS 16384
#define MAX_EVENTS 256

/* Bumped by SIGHUP; a cache entry older than it is checked again. */
static atomic_uint reload_generation = 1;

struct cert_entry {
	struct cert_entry *next;
	char *name;
	X509 *leaf;		/* NULL: the files could not be loaded */
	STACK_OF(X509) *chain;
	EVP_PKEY *key;
	unsigned generation;	/* of the last check */
	struct stat st;		/* fullchain.pem when loaded */
};

struct server {
	const char *root;
	int listen_fd[MAX_LISTEN];
	size_t n_listen;
};

struct worker {
	const struct server *srv;
	SSL_CTX *base;		/* the default context; SNI switches it */
	int ep;
	struct cert_entry *cache[CACHE_BUCKETS];
};

struct conn {
	int fd;
	SSL *ssl;
	bool shutting;
};

static unsigned
hash_name(const char *s)
{
	unsigned h = 2166136261u;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % CACHE_BUCKETS;
}

static bool
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void
entry_clear(struct cert_entry *e)
{
	X509_free(e->leaf);
	sk_X509_pop_free(e->chain, X509_free);
	EVP_PKEY_free(e->key);
	e->leaf = NULL;
	e->chain = NULL;
	e->key = NULL;
}

/*
 * Parses the name's files once per version: a handshake then only points
 * its SSL at them (SSL_use_cert_and_key), no SSL_CTX per name, whose
 * creation costs more than the handshake.
 */
static void
entry_load(struct cert_entry *e, const char *root)
{
	char chain[4096], key[4096];
	BIO *bio = NULL;
	X509 *x;

	entry_clear(e);
	snprintf(chain, sizeof(chain), "%s/%s/fullchain.pem", root, e->name);
	snprintf(key, sizeof(key), "%s/%s/key.pem", root, e->name);
	if (stat(chain, &e->st) < 0 || (bio = BIO_new_file(chain, "r")) ==
	    NULL)
		goto out;
	e->leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	e->chain = sk_X509_new_null();
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		sk_X509_push(e->chain, x);
	BIO_free(bio);
	if ((bio = BIO_new_file(key, "r")) != NULL)
		e->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
out:
	BIO_free(bio);
	ERR_clear_error();
	if (e->leaf == NULL || e->key == NULL ||
	    X509_check_private_key(e->leaf, e->key) != 1)
		entry_clear(e);
}

/* The certificate for a name, checked against its file after a reload. */
static struct cert_entry *
cert_for(struct worker *w, const char *name)
{
	unsigned gen = atomic_load(&reload_generation), h = hash_name(name);
	struct cert_entry *e;
	struct stat st;

	for (e = w->cache[h]; e != NULL; e = e->next)
		if (strcmp(e->name, name) == 0)
			break;
	if (e == NULL) {
		e = xcalloc(1, sizeof(*e));
		e->name = xstrdup(name);
		e->next = w->cache[h];
		w->cache[h] = e;
	} else if (e->generation == gen) {
		return e->leaf != NULL ? e : NULL;
	} else if (e->leaf != NULL) {
		char chain[4096];

		snprintf(chain, sizeof(chain), "%s/%s/fullchain.pem",
		    w->srv->root, name);
		if (stat(chain, &st) == 0 && same_file(&st, &e->st)) {
			e->generation = gen;
			return e;
		}
	}
	entry_load(e, w->srv->root);
	e->generation = gen;
	return e->leaf != NULL ? e : NULL;
}

static int
on_servername(SSL *ssl, int *alert, void *arg)
{
	struct worker *w = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	struct cert_entry *e;

	if (name == NULL || name[0] == '\0' || name[0] == '.' ||
	    strchr(name, '/') != NULL || (e = cert_for(w, name)) == NULL ||
	    SSL_use_cert_and_key(ssl, e->leaf, e->key, e->chain, 1) != 1) {
		ERR_clear_error();
		*alert = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	return SSL_TLSEXT_ERR_OK;
}

static void
conn_close(struct worker *w, struct conn *c)
{
	epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	SSL_free(c->ssl);
	free(c);
}

/* Handshake, then close_notify, then close; -1 when done with it. */
static int
conn_step(struct worker *w, struct conn *c)
{
	struct epoll_event ev = { .data.ptr = c };
	int r, e;

	if (!c->shutting) {
		r = SSL_do_handshake(c->ssl);
		if (r == 1) {
			c->shutting = true;
			SSL_shutdown(c->ssl);
			return -1;
		}
		e = SSL_get_error(c->ssl, r);
		ERR_clear_error();
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			return -1;
		ev.events = e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT;
		epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
		return 0;
	}
	return -1;
}

static void
accept_all(struct worker *w, int lfd)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct conn *c;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		c = xcalloc(1, sizeof(*c));
		c->fd = fd;
		c->ssl = SSL_new(w->base);
		SSL_set_fd(c->ssl, fd);
		SSL_set_accept_state(c->ssl);
		ev.data.ptr = c;
		epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev);
		if (conn_step(w, c) < 0)
			conn_close(w, c);
	}
}

/* Listening sockets are tagged by index + 1 in data.u64 < MAX_LISTEN + 1;
 * connections by their (larger) pointer. */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[MAX_EVENTS];

	for (size_t i = 0; i < w->srv->n_listen; i++) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE,
			.data.u64 = i + 1 };

		epoll_ctl(w->ep, EPOLL_CTL_ADD, w->srv->listen_fd[i], &ev);
	}
	for (;;) {
		int n = epoll_wait(w->ep, evs, MAX_EVENTS, -1);

		for (int i = 0; i < n; i++) {
			if (evs[i].data.u64 <= MAX_LISTEN) {
				accept_all(w, w->srv->listen_fd[
				    evs[i].data.u64 - 1]);
				continue;
			}
			if (conn_step(w, evs[i].data.ptr) < 0)
				conn_close(w, evs[i].data.ptr);
		}
	}
	return NULL;
}

static int
listen_on(const char *addr, int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
		.sin_port = htons((uint16_t)*port) };
	socklen_t len = sizeof(sa);
	int one = 1, fd;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 4096) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

static void
on_hup(int sig)
{
	atomic_fetch_add(&reload_generation, 1);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: bench_sni_server --listen ADDR[,ADDR...] --root DIR "
	    "--port-file FILE [--port N] [--threads N] [--max-seconds N]\n");
}

static int
write_port(const char *path, int port)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return -1;
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "root", required_argument, NULL, 'r' },
		{ "port-file", required_argument, NULL, 'f' },
		{ "port", required_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 't' },
		{ "max-seconds", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	static struct server srv;
	long threads = sysconf(_SC_NPROCESSORS_ONLN), port = 0, max_s = 3600;
	char *listen_arg = NULL, *rest, *a;
	const char *port_file = NULL;
	pthread_t t[MAX_THREADS];
	struct sigaction sa = { .sa_handler = on_hup };
	int c, p;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': listen_arg = xstrdup(optarg); break;
		case 'r': srv.root = optarg; break;
		case 'f': port_file = optarg; break;
		case 'p':
			if (bench_parse_long(optarg, 0, 65535, &port) < 0)
				goto bad;
			break;
		case 't':
			if (bench_parse_long(optarg, 1, MAX_THREADS,
			    &threads) < 0)
				goto bad;
			break;
		case 'x':
			if (bench_parse_long(optarg, 0, 86400, &max_s) < 0)
				goto bad;
			break;
		default:
			goto bad;
		}
	}
	if (listen_arg == NULL || srv.root == NULL || port_file == NULL)
		goto bad;
	bench_watchdog((unsigned)max_s);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	p = (int)port;
	rest = listen_arg;
	while ((a = strsep(&rest, ",")) != NULL) {
		if (srv.n_listen == MAX_LISTEN ||
		    (srv.listen_fd[srv.n_listen++] = listen_on(a, &p)) < 0) {
			fprintf(stderr, "bench_sni_server: cannot listen on "
			    "%s:%d: %s\n", a, p, strerror(errno));
			return 1;
		}
	}
	for (long i = 0; i < threads; i++) {
		struct worker *w = xcalloc(1, sizeof(*w));

		w->srv = &srv;
		w->base = SSL_CTX_new(TLS_server_method());
		w->ep = epoll_create1(EPOLL_CLOEXEC);
		SSL_CTX_set_num_tickets(w->base, 0);
		SSL_CTX_set_tlsext_servername_callback(w->base, on_servername);
		SSL_CTX_set_tlsext_servername_arg(w->base, w);
		if (w->base == NULL || w->ep < 0 ||
		    pthread_create(&t[i], NULL, worker_main, w) != 0) {
			fprintf(stderr, "bench_sni_server: cannot start\n");
			return 1;
		}
	}
	if (write_port(port_file, p) < 0) {
		fprintf(stderr, "bench_sni_server: %s: %s\n", port_file,
		    strerror(errno));
		return 1;
	}
	pthread_join(t[0], NULL);
	return 0;
bad:
	usage(stderr);
	return 2;
}
