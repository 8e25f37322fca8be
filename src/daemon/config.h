/*
 * config.h: certfleetd's settings, read from an INI file
 * (/etc/certfleet/certfleetd.conf). One table in config.c names every key
 * with its type, default, whether SIGHUP applies it, and a line of
 * documentation; parsing, defaults, --check-config output, reload and the
 * shipped example file all come from that table.
 */
#ifndef CERTFLEET_DAEMON_CONFIG_H
#define CERTFLEET_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/cleanup.h"

struct config {
	/* [daemon] */
	char *state_directory;	   /* /var/lib/certfleet */
	char *host_name;	   /* default: gethostname() */
	int log_level;		   /* LOG_INFO ("info") */
	int64_t shutdown_grace_ms; /* 10s */

	/* [database] */
	char *dsn; /* "" = embedded: host=<state_directory>/pg port=5433 dbname=certfleet user=postgres */
	int pool_size;			  /* 4, 1..64 */
	int64_t connect_timeout_ms;	  /* 5s */
	int64_t reconnect_max_backoff_ms; /* 30s */

	/* [control] */
	char *socket_path;	     /* /run/certfleet/control.sock */
	unsigned socket_mode;	     /* 0660 */
	char *socket_group;	     /* "" = the daemon's group */
	int max_connections_per_uid; /* 64 */
	int64_t request_timeout_ms;  /* 30s */
	uint64_t max_body_size;	     /* 4MiB */

	/* [keys] */
	char *master_key_file; /* "" in the file = <state_directory>/master.key */

	/* [identity] */
	char *partition; /* aws */
	char *region;	 /* local-1 */
	char *account;	 /* 000000000000 */

	/* [limits] */
	int imported_certificates;   /* 100 */
	int issued_certificates;     /* 100 */
	int domains_per_certificate; /* 10 */
	int tags_per_certificate;    /* 50 */

	/* [audit] */
	bool record_reads;	      /* yes */
	int64_t audit_retention_ms;   /* 90d */

	/* [metrics] */
	char *metrics_listen;		  /* 127.0.0.1:9469; "" = off */
	int64_t metrics_certificate_cache_ms; /* 30s */

	/* [mail] */
	char *mail_relay;		/* "" = spool folder */
	char *mail_from;		/* "" = certfleet@<host_name> */
	char *mail_spool_directory;	/* "" = <state_directory>/outbox */
	char *mail_username;
	char *mail_password_file;	/* the password never enters struct config */
	char *mail_ca_file;
	bool mail_require_tls;
	int64_t mail_timeout_ms;	/* 60s */
	int64_t mail_retry_min_ms;	/* 30s */
	int64_t mail_retry_max_ms;	/* 1h */
	int mail_max_attempts;		/* 20 */
	int mail_max_parallel;		/* 16 */

	/* [dns] */
	char *dns_servers;		/* "" = the system's resolvers */
	int64_t dns_timeout_ms;		/* 5s per try */
	int dns_tries;			/* 2 */

	/* [rdap] */
	char *rdap_base_url;
	char *rdap_bootstrap_file;
	int64_t rdap_timeout_ms;	/* 10s */

	/* [public] */
	char *public_listen;		/* 127.0.0.1:9470; "" = no approval page */
	char *public_base_url;		/* "" = http://<listen> */

	/* [validation] */
	int64_t validation_timeout_ms;	/* 72h */
	int64_t token_lifetime_ms;	/* 72h */
	char *deny_list_file;
	char *reserved_suffixes;
	int approval_rate_limit;	/* requests per minute per address */
	int discovery_max_parallel;	/* 8 */

	/* [ca] certfleet's CA and the issuer */
	int64_t ca_certificate_validity_ms; /* 395d */
	int64_t ca_backdate_ms;		    /* 1h */
	char *ca_key_algorithm;		    /* EC_prime256v1, for a created CA */
	char *ca_root_certificate;	    /* "" = certfleet creates its CA */
	char *ca_intermediate_certificate;
	char *ca_intermediate_key;
	int ca_worker_threads;		    /* 0 = one per core */
	int64_t ca_lease_duration_ms;	    /* 2m */

	/* [renewal] the scheduler */
	int64_t renewal_scan_interval_ms;	/* 2m */
	int64_t renewal_renew_before_ms;	/* 60d, capped at lifetime/3 */
	int64_t renewal_lease_duration_ms;	/* 5m */
	int64_t renewal_backoff_min_ms;		/* 1m */
	int64_t renewal_backoff_max_ms;		/* 6h */
	int64_t renewal_verify_timeout_ms;	/* 10m */
	int renewal_max_in_flight;		/* 32 */
	char *renewal_managed_networks;		/* "" = none */
	int64_t renewal_probe_timeout_ms;	/* 10s */
	int renewal_dns_max_in_flight;		/* 100 */
	int renewal_probe_max_in_flight;	/* 64 */
	int renewal_probe_max_per_host;		/* 4 */

	/* [notifications] */
	char *email;			/* "" = journal only */
	int64_t notify_expiry_interval_ms;	/* 1d */
};

/*
 * Reads the file over the defaults and fills the derived ones
 * (master_key_file, host_name). Errors, in *reterr_msg:
 *   "PATH: cannot open configuration file: No such file or directory"
 *   "PATH:LINE: unknown section [x]"
 *   "PATH:LINE: unknown key 'x' in section [y]"
 *   "PATH:LINE: key 'x' outside of any section"
 *   "PATH:LINE: [control] socket_mode: expected an octal mode like 0660, got '9z'"
 *   "PATH:LINE: syntax error"
 */
int config_load(const char *path, struct config **out, char **reterr_msg) _wur_;

/* Every default, derived ones filled in; no file is read. */
int config_load_defaults(struct config **out) _wur_;

void config_free(struct config *cfg);

/* The effective configuration as an INI file: every key, "# doc" lines above each. */
void config_print(const struct config *cfg, FILE *out);

/* The documented example: every key commented out with its default (etc/certfleetd.conf). */
void config_print_example(FILE *out);

/*
 * Copies the reloadable settings of `next` into `cur`; sets *not_reloaded
 * to a malloc'd "section.key, section.key" list of settings that differ
 * but need a restart, or NULL when there are none.
 */
void config_apply_reload(struct config *cur, const struct config *next,
    char **not_reloaded);

/* True when every setting of a and b is equal. */
bool config_equal(const struct config *a, const struct config *b);

#endif
