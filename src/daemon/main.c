/*
 * main.c: certfleetd. Parses the command line and the configuration, builds
 * the one daemon context (event base, database pool, control socket,
 * router), runs the loop in the foreground under systemd's supervision, and
 * tears everything down in reverse order.
 */
#include <errno.h>
#include <malloc.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/crypto.h>
#include <systemd/sd-daemon.h>

#include "api/control.h"
#include "api/router.h"
#include "audit/audit.h"
#include "audit/retention.h"
#include "common/json_wipe.h"
#include "common/log.h"
#include "common/model_rules.h"
#include "common/xmalloc.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "issuance/issuer.h"
#include "loop/dbpool.h"
#include "loop/workq.h"
#include "metrics/metrics.h"
#include "pki/ca.h"
#include "renewal/deploy.h"
#include "renewal/scheduler.h"
#include "store/store.h"

#define DEFAULT_CONFIG SYSCONFDIR "/certfleet/certfleetd.conf"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: certfleetd [--config FILE] [--check-config] [--version] "
	    "[--help]\n"
	    "\n"
	    "  -c, --config FILE   configuration file (default %s)\n"
	    "  -t, --check-config  parse the configuration, print the "
	    "effective\n"
	    "                      settings and exit 0, or exit 1 naming the "
	    "problem\n"
	    "  -V, --version       print the version and exit\n"
	    "  -h, --help          print this help and exit\n"
	    "\n"
	    "certfleetd runs in the foreground; systemd supervises it.\n",
	    DEFAULT_CONFIG);
}

struct options {
	const char *config;
	bool check;
};

/* Returns -1 to continue, or the exit status to end with. */
static int
parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->config = DEFAULT_CONFIG;
	while ((c = getopt_long(argc, argv, "c:tVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 't': o->check = true; break;
		case 'V': printf("certfleetd %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "certfleetd: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		return 2;
	}
	return -1;
}

static char *
effective_dsn(const struct config *cfg)
{
	if (cfg->dsn != NULL && cfg->dsn[0] != '\0')
		return xstrdup(cfg->dsn);
	/* The embedded default: the private cluster the quick start makes. */
	return xasprintf("host=%s/pg port=5433 dbname=certfleet user=postgres",
	    cfg->state_directory);
}

static int
prepare_state(struct daemon_ctx *ctx)
{
	_cleanup_free_ char *err = NULL;

	if (mkdir(ctx->cfg->state_directory, 0750) != 0 && errno != EEXIST) {
		log_error("cannot create state directory %s: %s",
		    ctx->cfg->state_directory, strerror(errno));
		return -1;
	}
	if (master_key_load_or_create(ctx->cfg->master_key_file,
	    ctx->master_key, &err) < 0) {
		log_error("master key: %s", err);
		return -1;
	}
	return 0;
}

/* The control socket: inherited from systemd, or bound here. */
static int
open_control(struct daemon_ctx *ctx)
{
	_cleanup_free_ char *err = NULL;
	const struct config *cfg = ctx->cfg;
	int n = sd_listen_fds(1);
	struct control_settings s = {
		.path = cfg->socket_path,
		.mode = cfg->socket_mode,
		.group = cfg->socket_group,
		.inherited_fd = n >= 1 ? SD_LISTEN_FDS_START : -1,
		.max_connections_per_uid = cfg->max_connections_per_uid,
		.request_timeout_ms = cfg->request_timeout_ms,
		.max_body_size = cfg->max_body_size,
		.on_request = router_handle,
		.arg = ctx->router,
	};

	if (n > 1)
		log_warning("systemd passed %d sockets; using the first as the "
		    "control socket, ignoring the rest", n);
	if (control_server_new(ctx->base, &s, &ctx->control, &err) < 0) {
		log_error("control socket: %s", err);
		return -1;
	}
	log_info("control socket %s%s", cfg->socket_path,
	    n >= 1 ? " (from systemd)" : "");
	return 0;
}

/* The HTTP listener for Prometheus and health checks, when configured. */
static int
open_metrics(struct daemon_ctx *ctx)
{
	_cleanup_free_ char *err = NULL;

	if (metrics_listen(ctx->metrics, &err) < 0) {
		log_error("metrics: %s", err);
		return -1;
	}
	if (ctx->cfg->metrics_listen[0] != '\0')
		log_info("metrics and health checks on http://%s/",
		    ctx->cfg->metrics_listen);
	return 0;
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon_ctx *ctx = arg;

	if (sig == SIGHUP)
		lifecycle_reload(ctx);
	else
		lifecycle_stop(ctx, sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* New connections prepare statements once the schema exists. */
static int
setup_connection(PGconn *conn, void *arg, char **reterr_msg)
{
	struct daemon_ctx *ctx = arg;

	if (!atomic_load(&ctx->schema_ready))
		return 0;
	return store_prepare(conn, reterr_msg);
}

static void
build_context(struct daemon_ctx *ctx)
{
	struct api_limits limits = {
		.imported_certificates = ctx->cfg->imported_certificates,
		.issued_certificates = ctx->cfg->issued_certificates,
		.domains_per_certificate = ctx->cfg->domains_per_certificate,
		.tags_per_certificate = ctx->cfg->tags_per_certificate,
	};
	struct dbpool_settings db = {
		.threads = ctx->cfg->pool_size,
		.connect_timeout_ms = ctx->cfg->connect_timeout_ms,
		.max_backoff_ms = ctx->cfg->reconnect_max_backoff_ms,
		.setup = NULL,
		.on_state = lifecycle_db_state,
		.state_arg = ctx,
	};

	ctx->dsn = effective_dsn(ctx->cfg);
	db.dsn = ctx->dsn;
	db.setup = setup_connection;
	db.setup_arg = ctx;
	ctx->rules = model_rules_new();
	ctx->env = (struct api_env){
		.partition = ctx->cfg->partition,
		.region = ctx->cfg->region,
		.account = ctx->cfg->account,
		.master_key = ctx->master_key,
		.rules = ctx->rules,
		.host_name = ctx->cfg->host_name,
		.audit_reads = ctx->cfg->record_reads,
		.users = audit_user_cache_new(),
	};
	ctx->pool = dbpool_new(ctx->base, &db);
	ctx->workq = workq_new(ctx->base, ctx->cfg->ca_worker_threads);
	ctx->router = router_new(ctx->pool, &ctx->env, &limits);
	ctx->metrics = metrics_new(&(struct metrics_settings){
	    .base = ctx->base, .pool = ctx->pool,
	    .listen = ctx->cfg->metrics_listen,
	    .certificate_cache_ms = ctx->cfg->metrics_certificate_cache_ms,
	    .version = PACKAGE_VERSION, .unready = lifecycle_unready_reason,
	    .unready_arg = ctx });
	router_set_metrics(ctx->router, ctx->metrics);
	ctx->sig_term = evsignal_new(ctx->base, SIGTERM, on_signal, ctx);
	ctx->sig_int = evsignal_new(ctx->base, SIGINT, on_signal, ctx);
	ctx->sig_hup = evsignal_new(ctx->base, SIGHUP, on_signal, ctx);
	event_add(ctx->sig_term, NULL);
	event_add(ctx->sig_int, NULL);
	event_add(ctx->sig_hup, NULL);
}

static void
teardown(struct daemon_ctx *ctx)
{
	/* Signing first: what it finishes is committed by the pool below. */
	issuer_stop(ctx->issuer);
	/* No new renewals; leases held are given back through the pool
	 * below. Before request_flow_stop(): its checks use ctx->dns. */
	scheduler_stop(ctx->scheduler);
	/* No new mail, lookups or approvals; what is in flight queues its
	 * outcome to the pool, which answers it below. */
	request_flow_stop(ctx);
	/* Reload commands killed; writes and records in flight are answered
	 * by the work queue and the pool below, after which it is freed. */
	deployer_stop(ctx->deployer);
	workq_free(ctx->workq);
	/* The pool next: it answers the work still queued, so no reply is
	 * owed by the time the control server closes its connections; the
	 * router queues no more audit writes meanwhile. */
	router_stop(ctx->router);
	dbpool_free(ctx->pool);
	request_flow_free(ctx);
	deployer_free(ctx->deployer);
	scheduler_free(ctx->scheduler);
	issuer_free(ctx->issuer);
	ca_free(ctx->ca);
	control_server_free(ctx->control);
	router_free(ctx->router);
	metrics_free(ctx->metrics);
	audit_retention_free(ctx->retention);
	audit_user_cache_free(ctx->env.users);
	model_rules_free(ctx->rules);
	if (ctx->sig_term) event_free(ctx->sig_term);
	if (ctx->sig_int) event_free(ctx->sig_int);
	if (ctx->sig_hup) event_free(ctx->sig_hup);
	if (ctx->migrate_timer) event_free(ctx->migrate_timer);
	if (ctx->watchdog_timer) event_free(ctx->watchdog_timer);
	if (ctx->shutdown_timer) event_free(ctx->shutdown_timer);
	if (ctx->base) event_base_free(ctx->base);
	OPENSSL_cleanse(ctx->master_key, sizeof(ctx->master_key));
	free(ctx->dsn);
	free(ctx->db_why);
	config_free(ctx->cfg);
}

static int
run(struct daemon_ctx *ctx)
{
	if (prepare_state(ctx) < 0)
		return 1;
	evthread_use_pthreads();
	ctx->base = event_base_new();
	if (ctx->base == NULL) {
		log_error("cannot create the event base");
		return 1;
	}
	build_context(ctx);
	if (request_flow_build(ctx) < 0)
		return 1;
	if (open_control(ctx) < 0 || open_metrics(ctx) < 0)
		return 1;
	lifecycle_start(ctx);
	event_base_dispatch(ctx->base);
	log_notice("stopped");
	return ctx->exit_code;
}

/*
 * glibc gives every thread that allocates an arena of its own, up to eight
 * per core; with a pool of database threads each holding what it freed,
 * the daemon's resident size grows with the thread count, not with what it
 * keeps. Two arenas keep it small at no measurable cost here (the threads
 * mostly wait for PostgreSQL). MALLOC_ARENA_MAX in the environment wins.
 */
static void
limit_malloc_arenas(void)
{
	if (getenv("MALLOC_ARENA_MAX") == NULL)
		mallopt(M_ARENA_MAX, 2);
}

int
main(int argc, char **argv)
{
	struct daemon_ctx ctx = { 0 };
	struct options opts = { 0 };
	_cleanup_free_ char *err = NULL;
	int r;

	if ((r = parse_args(argc, argv, &opts)) >= 0)
		return r;
	if (config_load(opts.config, &ctx.cfg, &err) < 0) {
		fprintf(stderr, "certfleetd: %s\n", err);
		return 1;
	}
	if (opts.check) {
		config_print(ctx.cfg, stdout);
		config_free(ctx.cfg);
		return 0;
	}
	ctx.config_path = opts.config;
	log_open("certfleetd");
	log_set_level(ctx.cfg->log_level);
	signal(SIGPIPE, SIG_IGN);
	limit_malloc_arenas();
	json_wipe_install();
	/* Once, before any thread exists: libcurl's global state (TLS). */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("cannot initialise libcurl");
		config_free(ctx.cfg);
		return 1;
	}
	log_notice("certfleetd %s starting (configuration %s)",
	    PACKAGE_VERSION, opts.config);
	r = run(&ctx);
	teardown(&ctx);
	curl_global_cleanup();
	return r;
}
