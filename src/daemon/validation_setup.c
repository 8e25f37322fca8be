/*
 * validation_setup.c: the request flow's parts in the daemon: the DNS and
 * HTTP loops (c-ares, curl multi), the name policy (public suffixes, deny
 * list, reserved suffixes), contact discovery, the mail queue, the
 * approval page and the validation timeout. Built with the context,
 * started once the schema is ready, stopped before the database pool is
 * freed (their pending database work is answered while the pool drains)
 * and freed after it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "issuance/issuer.h"
#include "loop/ares_loop.h"
#include "loop/curl_loop.h"
#include "mail/delivery.h"
#include "mail/outbox.h"
#include "renewal/deploy.h"
#include "validation/approval_page.h"
#include "validation/contacts.h"
#include "validation/names.h"
#include "validation/rdap.h"
#include "validation/reaper.h"
#include "validation/runner.h"
#include "validation/token.h"
#include "renewal/scheduler.h"

struct request_flow {
	struct names_policy *names;
	struct rdap_bootstrap *bootstrap;
	struct contacts_ctx *contacts;
	struct discovery *discovery;
	struct outbox *outbox;
	struct approval_page *page;
	struct reaper *reaper;
	struct mail_delivery_settings delivery;
	char *password;			/* [mail] password_file's line */
	char *owner;			/* lease owner: host, pid, random */
	char *message_id_domain;
	unsigned char token_key[TOKEN_KEY_LEN];
};

/* The host of a URL ("https://host:port/..."), malloc'd, or NULL. */
static char *
url_host(const char *url)
{
	const char *p = strstr(url, "://"), *end;

	if (p == NULL)
		return NULL;
	p += 3;
	if (*p == '[')
		return NULL;	/* an IPv6 literal names no domain */
	end = p + strcspn(p, ":/?#");
	return end > p ? xstrndup(p, (size_t)(end - p)) : NULL;
}

static bool
is_ip_literal(const char *h)
{
	return strspn(h, "0123456789.") == strlen(h);
}

static char *
registrable(const void *arg, const char *name)
{
	return names_registrable_domain(arg, name);
}

static int
load_policy(struct daemon_ctx *ctx, struct request_flow *f)
{
	const struct config *cfg = ctx->cfg;
	_cleanup_free_ char *err = NULL, *host = NULL;

	if ((f->names = names_policy_new(NULL, &err)) == NULL) {
		log_error("public suffix list: %s", err);
		return -1;
	}
	if (cfg->deny_list_file[0] != '\0' && names_policy_load_deny_list(
	    f->names, cfg->deny_list_file, &err) < 0) {
		log_error("[validation] deny_list_file: %s", err);
		return -1;
	}
	if (cfg->reserved_suffixes[0] != '\0' &&
	    names_policy_add_reserved_suffixes(f->names,
	    cfg->reserved_suffixes, &err) < 0) {
		log_error("[validation] reserved_suffixes: %s", err);
		return -1;
	}
	/* Our own public host name is reserved, as Amazon's domains are. */
	host = url_host(cfg->public_base_url);
	if (host != NULL && !is_ip_literal(host) && strchr(host, '.') &&
	    names_policy_add_reserved_suffixes(f->names, host, &err) < 0)
		log_warning("cannot reserve the public host name %s: %s, "
		    "ignoring", host, err);
	return 0;
}

static int
read_password(const char *path, char **out)
{
	char buf[1024];
	FILE *fp = fopen(path, "re");
	size_t n;

	if (fp == NULL) {
		log_error("[mail] password_file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fgets(buf, sizeof(buf), fp) == NULL)
		buf[0] = '\0';
	fclose(fp);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	*out = xstrdup(buf);
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

static int
setup_delivery(struct daemon_ctx *ctx, struct request_flow *f)
{
	const struct config *cfg = ctx->cfg;

	if (cfg->mail_password_file[0] != '\0' &&
	    read_password(cfg->mail_password_file, &f->password) < 0)
		return -1;
	f->delivery = (struct mail_delivery_settings){
		.relay_url = cfg->mail_relay,
		.username = cfg->mail_username[0] ? cfg->mail_username : NULL,
		.password = f->password,
		.ca_file = cfg->mail_ca_file[0] ? cfg->mail_ca_file : NULL,
		.require_tls = cfg->mail_require_tls,
		.timeout_ms = cfg->mail_timeout_ms,
		.spool_directory = cfg->mail_spool_directory,
	};
	if (cfg->mail_relay[0] == '\0' &&
	    mkdir(cfg->mail_spool_directory, 0750) != 0 && errno != EEXIST) {
		log_error("cannot create the mail spool %s: %s",
		    cfg->mail_spool_directory, strerror(errno));
		return -1;
	}
	return 0;
}

static int
setup_loops(struct daemon_ctx *ctx, struct request_flow *f)
{
	const struct config *cfg = ctx->cfg;
	_cleanup_free_ char *err = NULL;
	struct ares_loop_settings dns = {
		.servers = cfg->dns_servers,
		.timeout_ms = (int)cfg->dns_timeout_ms,
		.tries = cfg->dns_tries,
	};
	struct contacts_settings cs;

	if (ares_loop_new(ctx->base, &dns, &ctx->dns, &err) < 0) {
		log_error("[dns] servers: %s", err);
		return -1;
	}
	ctx->http = curl_loop_new(ctx->base);
	if (cfg->rdap_bootstrap_file[0] != '\0' && rdap_bootstrap_load(
	    cfg->rdap_bootstrap_file, &f->bootstrap, &err) < 0) {
		log_error("[rdap] bootstrap_file: %s", err);
		return -1;
	}
	cs = (struct contacts_settings){
		.base = ctx->base, .dns = ctx->dns, .http = ctx->http,
		.registrable = registrable, .registrable_arg = f->names,
		.rdap_base_url = cfg->rdap_base_url[0] ? cfg->rdap_base_url :
		    NULL,
		.rdap_bootstrap = f->bootstrap,
		.rdap_timeout_ms = (long)cfg->rdap_timeout_ms,
	};
	if (contacts_new(&cs, &f->contacts, &err) < 0) {
		log_error("contact discovery: %s", err);
		return -1;
	}
	return 0;
}

void
request_flow_kick(unsigned kicks, void *arg)
{
	struct daemon_ctx *ctx = arg;
	struct request_flow *f = ctx->flow;

	if (f == NULL || ctx->stopping)
		return;
	if (kicks & API_KICK_DISCOVERY)
		discovery_kick(f->discovery);
	if (kicks & API_KICK_OUTBOX)
		outbox_kick(f->outbox);
	if ((kicks & API_KICK_ISSUER) && ctx->issuer != NULL)
		issuer_kick(ctx->issuer);
	if (kicks & API_KICK_RENEWAL)
		scheduler_kick(ctx->scheduler);
	if (kicks & API_KICK_ISSUED)
		scheduler_issued(ctx->scheduler);
	if ((kicks & API_KICK_DEPLOY) && ctx->deployer != NULL)
		deployer_sync(ctx->deployer);
}

static void
kick_outbox(void *arg)
{
	request_flow_kick(API_KICK_OUTBOX, arg);
}

/* After an approval that left no name waiting: the issuer for a request,
 * the scheduler for a renewal (its tick is cheap when nothing is due). */
static void
kick_issuer(void *arg)
{
	request_flow_kick(API_KICK_ISSUER | API_KICK_RENEWAL, arg);
}

int
request_flow_build(struct daemon_ctx *ctx)
{
	struct request_flow *f = xcalloc(1, sizeof(*f));
	unsigned char rnd[6];
	_cleanup_free_ char *host = url_host(ctx->cfg->public_base_url);

	ctx->flow = f;
	if (token_key_derive(ctx->master_key, MASTER_KEY_LEN,
	    f->token_key) < 0) {
		log_error("cannot derive the approval token key");
		return -1;
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	f->owner = xasprintf("%s/%ld/%02x%02x%02x%02x%02x%02x",
	    ctx->cfg->host_name, (long)getpid(), rnd[0], rnd[1], rnd[2],
	    rnd[3], rnd[4], rnd[5]);
	f->message_id_domain = xstrdup(host && !is_ip_literal(host) ? host :
	    ctx->cfg->host_name);
	if (load_policy(ctx, f) < 0 || setup_delivery(ctx, f) < 0 ||
	    setup_loops(ctx, f) < 0)
		return -1;
	ctx->env.names = f->names;
	ctx->env.kick = request_flow_kick;
	ctx->env.kick_arg = ctx;
	return 0;
}

static int
start_page(struct daemon_ctx *ctx, struct request_flow *f)
{
	const struct config *cfg = ctx->cfg;
	_cleanup_free_ char *err = NULL;
	struct approval_page_settings ps = {
		.base = ctx->base, .pool = ctx->pool,
		.listen = cfg->public_listen, .account = cfg->account,
		.region = cfg->region, .host_name = cfg->host_name,
		.rate_per_minute = cfg->approval_rate_limit,
		.on_issue = kick_issuer, .arg = ctx,
	};

	if (cfg->public_listen[0] == '\0')
		return 0;
	if (approval_page_new(&ps, &f->page, &err) < 0) {
		lifecycle_fatal(ctx, "approval page: %s", err);
		return -1;
	}
	log_info("approval page on http://%s/approvals (links: %s)",
	    cfg->public_listen, cfg->public_base_url);
	return 0;
}

void
request_flow_start(struct daemon_ctx *ctx)
{
	struct request_flow *f = ctx->flow;
	const struct config *cfg = ctx->cfg;

	if (f == NULL || start_page(ctx, f) < 0)
		return;
	f->outbox = outbox_new(&(struct outbox_settings){
	    .base = ctx->base, .pool = ctx->pool, .curl = ctx->http,
	    .delivery = &f->delivery, .owner = f->owner,
	    .token_key = f->token_key, .host_name = cfg->host_name,
	    .account = cfg->account, .region = cfg->region,
	    .base_url = cfg->public_base_url[0] ? cfg->public_base_url :
	        "http://localhost",
	    .retry_min_ms = cfg->mail_retry_min_ms,
	    .retry_max_ms = cfg->mail_retry_max_ms,
	    .timeout_ms = cfg->mail_timeout_ms,
	    .max_attempts = cfg->mail_max_attempts,
	    .max_parallel = cfg->mail_max_parallel,
	    .metrics = ctx->metrics });
	f->discovery = discovery_new(&(struct discovery_settings){
	    .base = ctx->base, .pool = ctx->pool, .contacts = f->contacts,
	    .owner = f->owner, .token_key = f->token_key,
	    .mail_from = cfg->mail_from,
	    .message_id_domain = f->message_id_domain,
	    .token_lifetime_ms = cfg->token_lifetime_ms,
	    .max_parallel = cfg->discovery_max_parallel,
	    .on_mail_queued = kick_outbox, .arg = ctx });
	f->reaper = reaper_new(ctx->base, ctx->pool,
	    cfg->validation_timeout_ms);
}

void
request_flow_reload(struct daemon_ctx *ctx)
{
	if (ctx->flow != NULL)
		reaper_set_timeout(ctx->flow->reaper,
		    ctx->cfg->validation_timeout_ms);
}

void
request_flow_stop(struct daemon_ctx *ctx)
{
	struct request_flow *f = ctx->flow;

	if (f == NULL)
		return;
	discovery_stop(f->discovery);
	outbox_stop(f->outbox);
	approval_page_stop(f->page);
	reaper_stop(f->reaper);
	/* Lookups are dropped (discovery_free frees them); deliveries end
	 * with MAIL_TEMPORARY and queue their retry to the pool, which
	 * dbpool_free() then runs. */
	contacts_free(f->contacts);
	f->contacts = NULL;
	curl_loop_free(ctx->http);
	ctx->http = NULL;
	ares_loop_free(ctx->dns);
	ctx->dns = NULL;
}

void
request_flow_free(struct daemon_ctx *ctx)
{
	struct request_flow *f = ctx->flow;

	if (f == NULL)
		return;
	request_flow_stop(ctx);
	discovery_free(f->discovery);
	outbox_free(f->outbox);
	approval_page_free(f->page);
	reaper_free(f->reaper);
	names_policy_free(f->names);
	rdap_bootstrap_free(f->bootstrap);
	if (f->password != NULL) {
		OPENSSL_cleanse(f->password, strlen(f->password));
		free(f->password);
	}
	OPENSSL_cleanse(f->token_key, sizeof(f->token_key));
	free(f->owner);
	free(f->message_id_domain);
	free(f);
	ctx->flow = NULL;
}
