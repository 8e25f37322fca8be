/*
 * config.c: the configuration table and everything driven by it. To add a
 * setting, add a field to struct config and one line to config_table
 * (keep each section's lines together); parsing, defaults, printing, the
 * example file and reload follow. Values, defaults included, are parsed
 * from text by the same code, so a default is always a valid value.
 *
 * The file is read with inih through our own line reader, which lets us
 * report the line of every error, refuse an unknown [section] on its
 * header line, and refuse lines too long for inih instead of having them
 * split.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ini.h>

#include "common/duration.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "daemon/config.h"

enum config_type {
	CF_STRING,   /* any text, "" allowed */
	CF_PATH,     /* absolute path; "" only where the default is "" */
	CF_INT,	     /* int, min..max */
	CF_DURATION, /* int64_t milliseconds, min..max */
	CF_SIZE,     /* uint64_t bytes, min..max */
	CF_MODE,     /* unsigned, octal 0000..07777 */
	CF_LOGLEVEL, /* int, a syslog priority */
	CF_BOOL,     /* bool */
};

struct config_key {
	const char *section;
	const char *name;
	enum config_type type;
	const char *def; /* default, in the file's syntax */
	int64_t min, max;
	bool reloadable; /* SIGHUP applies it */
	size_t offset;	 /* of the field in struct config */
	const char *doc; /* one line */
	/* CF_STRING only, optional: what else a value must be, and its words. */
	bool (*valid)(const char *value);
	const char *valid_doc;
};

#define F(field) offsetof(struct config, field)
#define RELOAD true
#define RESTART false
#define MS(sec) ((int64_t)(sec) * 1000)
#define DAY MS(86400)

#define K_STR(sec, key, def, rel, doc) \
	{ sec, #key, CF_STRING, def, 0, 0, rel, F(key), doc, NULL, NULL }
#define K_STRV(sec, key, def, rel, valid, valid_doc, doc) \
	{ sec, #key, CF_STRING, def, 0, 0, rel, F(key), doc, valid, valid_doc }
#define K_PATH(sec, key, def, rel, doc) \
	{ sec, #key, CF_PATH, def, 0, 0, rel, F(key), doc, NULL, NULL }
#define K_INT(sec, key, def, lo, hi, rel, doc) \
	{ sec, #key, CF_INT, def, lo, hi, rel, F(key), doc, NULL, NULL }
#define K_DUR(sec, key, field, def, lo, hi, rel, doc) \
	{ sec, key, CF_DURATION, def, lo, hi, rel, F(field), doc, NULL, NULL }
#define K_SIZE(sec, key, def, lo, hi, rel, doc) \
	{ sec, #key, CF_SIZE, def, lo, hi, rel, F(key), doc, NULL, NULL }
#define K_MODE(sec, key, def, rel, doc) \
	{ sec, #key, CF_MODE, def, 0, 07777, rel, F(key), doc, NULL, NULL }
#define K_BOOL(sec, key, def, rel, doc) \
	{ sec, #key, CF_BOOL, def, 0, 0, rel, F(key), doc, NULL, NULL }
#define K_LEVEL(sec, key, def, rel, doc) \
	{ sec, #key, CF_LOGLEVEL, def, 0, 0, rel, F(key), doc, NULL, NULL }

/* Fields that go into ARNs keep to the characters the Arn pattern allows. */
static bool
arn_field_ok(const char *s, size_t max, bool digits_only)
{
	size_t n = strlen(s);

	if (n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool digit = c >= '0' && c <= '9';

		if (digits_only ? !digit :
				  !(digit || (c >= 'a' && c <= 'z') ||
				      (c >= 'A' && c <= 'Z') ||
				      strchr("_+=,.@-", c) != NULL))
			return false;
	}
	return true;
}

static bool
valid_partition(const char *s)
{
	return s[0] != '\0' && arn_field_ok(s, 63, false);
}

static bool
valid_region(const char *s)
{
	return arn_field_ok(s, 63, false);
}

static bool
valid_account(const char *s)
{
	return s[0] != '\0' && arn_field_ok(s, 31, true);
}

#define ARN_CHARS "letters, digits and _+=,.@-"

static int parse_int(const char *s, int64_t min, int64_t max, int64_t *out);

/* "" (off), "IPV4:PORT" or "[IPV6]:PORT": an address to bind, no name. */
static bool
valid_listen(const char *s)
{
	const char *colon = strrchr(s, ':');
	char host[INET6_ADDRSTRLEN + 2];
	unsigned char addr[sizeof(struct in6_addr)];
	size_t n;
	int64_t port;

	if (s[0] == '\0')
		return true;
	if (colon == NULL || parse_int(colon + 1, 1, 65535, &port) < 0)
		return false;
	n = (size_t)(colon - s);
	if (n >= sizeof(host))
		return false;
	memcpy(host, s, n);
	host[n] = '\0';
	if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
		host[n - 1] = '\0';
		return inet_pton(AF_INET6, host + 1, addr) == 1;
	}
	return inet_pton(AF_INET, host, addr) == 1;
}

/* The key types certfleet's own CA may have (ACM's KeyAlgorithm names). */
static bool
valid_ca_key_algorithm(const char *s)
{
	static const char *const algs[] = { "RSA_2048", "RSA_3072",
		"RSA_4096", "EC_prime256v1", "EC_secp384r1" };

	for (size_t i = 0; i < ELEMENTSOF(algs); i++)
		if (strcmp(s, algs[i]) == 0)
			return true;
	return false;
}

static bool
valid_relay(const char *s)
{
	return s[0] == '\0' || strncmp(s, "smtp://", 7) == 0 ||
	    strncmp(s, "smtps://", 8) == 0;
}

static bool
valid_base_url(const char *s)
{
	return s[0] == '\0' || strncmp(s, "http://", 7) == 0 ||
	    strncmp(s, "https://", 8) == 0;
}

static const struct config_key config_table[] = {
	K_PATH("daemon", state_directory, "/var/lib/certfleet", RESTART,
	    "Folder for the embedded database, the master key and other state."),
	K_STR("daemon", host_name, "", RESTART,
	    "Name of this host in messages and audit records; empty: the system host name."),
	K_LEVEL("daemon", log_level, "info", RELOAD,
	    "Least important messages logged: error, warning, notice, info or debug."),
	K_DUR("daemon", "shutdown_grace", shutdown_grace_ms, "10s", 0, MS(3600),
	    RELOAD, "How long a stop waits for running requests and jobs to finish."),

	K_STR("database", dsn, "", RESTART,
	    "libpq connection string; empty: the embedded PostgreSQL in <state_directory>/pg, port 5433."),
	K_INT("database", pool_size, "8", 1, 64, RESTART,
	    "Connections kept open to the database."),
	K_DUR("database", "connect_timeout", connect_timeout_ms, "5s", 1,
	    MS(3600), RESTART, "Give up on a database connection attempt after this long."),
	K_DUR("database", "reconnect_max_backoff", reconnect_max_backoff_ms,
	    "5s", 1, MS(3600), RESTART,
	    "Longest wait between attempts to reconnect to the database; requests meanwhile get ServiceUnavailableException."),

	{ "control", "socket", CF_PATH, "/run/certfleet/control.sock", 0, 0,
	    RESTART, F(socket_path), "UNIX socket on which the API and the certfleet command are served.", NULL, NULL },
	K_MODE("control", socket_mode, "0660", RESTART,
	    "Permissions of the control socket, in octal."),
	K_STR("control", socket_group, "", RESTART,
	    "Group owning the control socket; empty: the daemon's group."),
	K_INT("control", max_connections_per_uid, "64", 1, 100000, RELOAD,
	    "Most control connections one user may hold open at once."),
	K_DUR("control", "request_timeout", request_timeout_ms, "30s", 1,
	    MS(3600), RELOAD, "Close a control connection whose request takes longer than this."),
	K_SIZE("control", max_body_size, "4MiB", 1024, (int64_t)1 << 30,
	    RELOAD, "Largest request body accepted."),

	K_PATH("keys", master_key_file, "", RESTART,
	    "Key that seals private keys at rest; empty: <state_directory>/master.key."),

	K_STRV("identity", partition, "aws", RESTART, valid_partition,
	    "1 to 63 " ARN_CHARS, "Partition written into certificate ARNs."),
	K_STRV("identity", region, "local-1", RESTART, valid_region,
	    "up to 63 " ARN_CHARS,
	    "Region written into certificate ARNs and answered by the API."),
	K_STRV("identity", account, "000000000000", RESTART, valid_account,
	    "1 to 31 digits", "Account ID written into certificate ARNs."),

	K_INT("limits", imported_certificates, "100", 0, 1000000, RELOAD,
	    "Most imported certificates kept at once."),
	K_INT("limits", issued_certificates, "100", 0, 1000000, RELOAD,
	    "Most certificates issued by certfleet kept at once."),
	K_INT("limits", domains_per_certificate, "10", 1, 100, RELOAD,
	    "Most domain names (the name and its alternative names) on one certificate."),
	K_INT("limits", tags_per_certificate, "50", 0, 50, RELOAD,
	    "Most tags on one certificate."),

	K_BOOL("audit", record_reads, "yes", RESTART,
	    "Record successful read-only calls (Describe, List, Get) too, not only changes and failures; their events are written in groups just after the answer."),
	K_DUR("audit", "retention", audit_retention_ms, "90d", MS(3600),
	    MS(86400) * 3650, RELOAD,
	    "Audit events older than this are deleted."),

	{ "metrics", "listen", CF_STRING, "127.0.0.1:9469", 0, 0, RESTART,
	    F(metrics_listen), "Address of the HTTP listener for Prometheus (/metrics) and health checks (/healthz, /readyz); empty: none.",
	    valid_listen, "an IPv4 address and port, [IPv6]:port, or empty" },
	K_DUR("metrics", "certificate_cache", metrics_certificate_cache_ms,
	    "30s", MS(1), MS(3600), RELOAD,
	    "How long per-certificate figures read from the database are served before they are read again."),

	{ "mail", "relay", CF_STRING, "", 0, 0, RESTART, F(mail_relay),
	    "SMTP relay for validation emails: smtp://host:port (STARTTLS when offered) or smtps://host:port; empty: write each message as an .eml file to spool_directory.",
	    valid_relay, "empty, or an smtp:// or smtps:// URL" },
	{ "mail", "from", CF_STRING, "", 0, 0, RESTART, F(mail_from),
	    "Sender address of the emails certfleet sends; empty: certfleet@<host_name>.", NULL, NULL },
	{ "mail", "spool_directory", CF_PATH, "", 0, 0, RESTART,
	    F(mail_spool_directory), "Folder for outgoing messages when no relay is set; empty: <state_directory>/outbox.", NULL, NULL },
	{ "mail", "username", CF_STRING, "", 0, 0, RESTART, F(mail_username),
	    "User name for SMTP authentication at the relay; empty: none.", NULL, NULL },
	{ "mail", "password_file", CF_PATH, "", 0, 0, RESTART,
	    F(mail_password_file), "File holding the SMTP password (first line); the password itself never goes into this file.", NULL, NULL },
	{ "mail", "ca_file", CF_PATH, "", 0, 0, RESTART, F(mail_ca_file),
	    "PEM bundle that verifies the relay's certificate; empty: the system's trust store.", NULL, NULL },
	{ "mail", "require_tls", CF_BOOL, "no", 0, 0, RESTART,
	    F(mail_require_tls), "With an smtp:// relay, send only after STARTTLS succeeded.", NULL, NULL },
	K_DUR("mail", "timeout", mail_timeout_ms, "60s", MS(1), MS(3600),
	    RESTART, "Longest time one SMTP delivery may take."),
	K_DUR("mail", "retry_min", mail_retry_min_ms, "30s", 1, DAY,
	    RESTART, "Wait before the first retry of a message the relay did not take; doubled after each failure (with jitter)."),
	K_DUR("mail", "retry_max", mail_retry_max_ms, "1h", 1, DAY * 7,
	    RESTART, "Longest wait between two attempts to deliver a message."),
	{ "mail", "max_attempts", CF_INT, "20", 1, 1000, RESTART,
	    F(mail_max_attempts), "Attempts after which a message that keeps failing temporarily is given up.", NULL, NULL },
	{ "mail", "max_parallel", CF_INT, "16", 1, 1000, RESTART,
	    F(mail_max_parallel), "Most messages being delivered at once.", NULL, NULL },

	{ "dns", "servers", CF_STRING, "", 0, 0, RESTART, F(dns_servers),
	    "DNS servers for contact discovery (MX look-ups), the renewal DNS checks and endpoint probes, comma-separated address:port ([v6]:port); empty: the system's resolvers.", NULL, NULL },
	K_DUR("dns", "timeout", dns_timeout_ms, "5s", 1, MS(600), RESTART,
	    "How long one DNS query waits for an answer before it is tried again."),
	{ "dns", "tries", CF_INT, "2", 1, 20, RESTART, F(dns_tries),
	    "How often a DNS query is sent before the look-up counts as a temporary failure.", NULL, NULL },

	{ "rdap", "base_url", CF_STRING, "", 0, 0, RESTART, F(rdap_base_url),
	    "One RDAP server asked for every domain's contacts (wins over bootstrap_file); empty: use bootstrap_file.", NULL, NULL },
	{ "rdap", "bootstrap_file", CF_PATH, "", 0, 0, RESTART,
	    F(rdap_bootstrap_file), "RFC 9224 bootstrap file (IANA's dns.json) mapping TLDs to RDAP servers; empty with no base_url: no RDAP contacts.", NULL, NULL },
	K_DUR("rdap", "timeout", rdap_timeout_ms, "10s", MS(1), MS(600),
	    RESTART, "Longest time one RDAP fetch may take."),

	{ "public", "listen", CF_STRING, "127.0.0.1:9470", 0, 0, RESTART,
	    F(public_listen), "Address of the approval page's HTTP listener (put a TLS reverse proxy in front of it); empty: none.",
	    valid_listen, "an IPv4 address and port, [IPv6]:port, or empty" },
	{ "public", "base_url", CF_STRING, "", 0, 0, RESTART,
	    F(public_base_url), "How approval links in emails begin, e.g. https://certfleet.example.com; empty: http://<listen>.",
	    valid_base_url, "empty, or an http:// or https:// URL" },

	K_DUR("validation", "timeout", validation_timeout_ms, "72h", MS(1),
	    DAY * 365, RELOAD,
	    "A request not approved for every name within this time ends VALIDATION_TIMED_OUT."),
	K_DUR("validation", "token_lifetime", token_lifetime_ms, "72h", MS(1),
	    DAY * 365, RESTART, "How long an approval link stays valid."),
	{ "validation", "deny_list_file", CF_PATH, "", 0, 0, RESTART,
	    F(deny_list_file), "File of denied domains, one a line ('#' comments): requests for them or names under them end FAILED with DOMAIN_NOT_ALLOWED.", NULL, NULL },
	{ "validation", "reserved_suffixes", CF_STRING, "", 0, 0, RESTART,
	    F(reserved_suffixes), "Comma-separated domains under which requests end FAILED with ADDITIONAL_VERIFICATION_REQUIRED; the host of [public] base_url is always reserved.", NULL, NULL },
	{ "validation", "rate_limit", CF_INT, "30", 1, 100000, RESTART,
	    F(approval_rate_limit), "Requests per minute one client address may make to the approval page (429 beyond).", NULL, NULL },
	{ "validation", "max_parallel", CF_INT, "8", 1, 1000, RESTART,
	    F(discovery_max_parallel), "Most names whose contacts are looked up at once.", NULL, NULL },

	K_DUR("ca", "certificate_validity", ca_certificate_validity_ms, "395d",
	    MS(1), DAY * 36500, RELOAD,
	    "Validity of the certificates certfleet issues (never beyond its intermediate's)."),
	K_DUR("ca", "backdate", ca_backdate_ms, "1h", 0, DAY * 7, RELOAD,
	    "NotBefore of an issued certificate lies this far in the past, for clients whose clock is slow."),
	{ "ca", "key_algorithm", CF_STRING, "EC_prime256v1", 0, 0, RESTART,
	    F(ca_key_algorithm), "Key type of the root and intermediate certfleet creates on first start.",
	    valid_ca_key_algorithm, "RSA_2048, RSA_3072, RSA_4096, EC_prime256v1 or EC_secp384r1" },
	{ "ca", "root_certificate", CF_PATH, "", 0, 0, RESTART,
	    F(ca_root_certificate), "PEM root of an operator-supplied CA; empty: certfleet creates and keeps its own.", NULL, NULL },
	{ "ca", "intermediate_certificate", CF_PATH, "", 0, 0, RESTART,
	    F(ca_intermediate_certificate), "PEM certificate of the operator-supplied intermediate that signs, issued by root_certificate.", NULL, NULL },
	{ "ca", "intermediate_key", CF_PATH, "", 0, 0, RESTART,
	    F(ca_intermediate_key), "Unencrypted PEM private key of intermediate_certificate (stored sealed in the database).", NULL, NULL },
	{ "ca", "worker_threads", CF_INT, "0", 0, 1024, RESTART,
	    F(ca_worker_threads), "Threads that generate keys and sign certificates; 0: one per core.", NULL, NULL },
	K_DUR("ca", "lease_duration", ca_lease_duration_ms, "2m", MS(1),
	    MS(3600), RELOAD,
	    "How long a daemon holds an issuance it claimed before another may redo it (after a crash)."),

	/* [renewal] the scheduler (renewal/scheduler.c) */
	K_DUR("renewal", "scan_interval", renewal_scan_interval_ms, "2m",
	    MS(1) / 10, DAY, RELOAD,
	    "How often each daemon looks for certificates due for renewal (and expiry events)."),
	K_DUR("renewal", "renew_before", renewal_renew_before_ms, "60d",
	    MS(1), DAY * 3650, RELOAD,
	    "Renew this long before NotAfter, but never more than a third of the certificate's lifetime."),
	K_DUR("renewal", "lease_duration", renewal_lease_duration_ms, "5m",
	    MS(1), DAY, RELOAD,
	    "How long a daemon holds a renewal it claimed before another may take it over (after a crash)."),
	K_DUR("renewal", "backoff_min", renewal_backoff_min_ms, "1m", MS(1) / 10,
	    DAY, RELOAD, "First wait after a failed renewal attempt; doubles with each failure, with jitter."),
	K_DUR("renewal", "backoff_max", renewal_backoff_max_ms, "6h", MS(1),
	    DAY * 7, RELOAD, "Longest wait between renewal attempts of one certificate."),
	K_DUR("renewal", "verify_timeout", renewal_verify_timeout_ms, "10m",
	    MS(1), DAY, RELOAD,
	    "How long a renewal waits for every endpoint to serve the new certificate before it backs off and retries."),
	{ "renewal", "managed_networks", CF_STRING, "", 0, 0, RESTART,
	    F(renewal_managed_networks), "IPv4 and IPv6 networks (CIDR, comma-separated) every name of a certificate must resolve into for automatic renewal; empty: none, so every renewal falls back to email.", NULL, NULL },
	K_DUR("renewal", "probe_timeout", renewal_probe_timeout_ms, "10s",
	    MS(1) / 10, MS(600), RESTART,
	    "Time for the connection and TLS handshake of one probe of one endpoint address."),
	{ "renewal", "dns_max_in_flight", CF_INT, "100", 1, 100000, RESTART,
	    F(renewal_dns_max_in_flight), "Most names the DNS check resolves at once.", NULL, NULL },
	{ "renewal", "probe_max_in_flight", CF_INT, "64", 1, 100000, RESTART,
	    F(renewal_probe_max_in_flight), "Most TLS handshakes of probes at once.", NULL, NULL },
	{ "renewal", "probe_max_per_host", CF_INT, "4", 1, 1000, RESTART,
	    F(renewal_probe_max_per_host), "Most TLS handshakes of probes at once to one endpoint address.", NULL, NULL },
	/* A renewal mostly waits (issuance, deployment, verification take
	 * about 1.5 s of polls), so this bounds a daemon's renewal rate to
	 * about max_in_flight / 1.5 s: 32 held P-256 renewals to ~17/s
	 * where the machine's raw costs allowed ~80/s (run-renewal-bench). */
	{ "renewal", "max_in_flight", CF_INT, "256", 1, 100000, RELOAD,
	    F(renewal_max_in_flight), "Most renewals one daemon works on at once (more due ones wait for the next tick).", NULL, NULL },

	/* [notifications] the operator's address */
	K_STR("notifications", email, "", RELOAD,
	    "The operator's address for failed renewals and expiry events; empty: journal only."),
	K_DUR("notifications", "expiry_event_interval",
	    notify_expiry_interval_ms, "1d", MS(1), DAY * 30, RELOAD,
	    "Expiry events repeat at most once per this interval and certificate."),
};

static void *
field_ptr(const struct config *cfg, const struct config_key *k)
{
	return (char *)cfg + k->offset;
}

static char **
str_field(const struct config *cfg, const struct config_key *k)
{
	return field_ptr(cfg, k);
}

static bool
is_string_type(enum config_type t)
{
	return t == CF_STRING || t == CF_PATH;
}

/* What a value of the key's type looks like, for error messages. */
static char *
expected_text(const struct config_key *k)
{
	char lo[DURATION_FORMAT_MAX], hi[DURATION_FORMAT_MAX];

	switch (k->type) {
	case CF_INT:
		return xasprintf("an integer from %lld to %lld",
		    (long long)k->min, (long long)k->max);
	case CF_DURATION:
		duration_format(k->min, lo, sizeof(lo));
		duration_format(k->max, hi, sizeof(hi));
		return xasprintf("a duration like 30s, 5m or 1h30m, from %s to %s",
		    lo, hi);
	case CF_SIZE:
		size_format((uint64_t)k->min, lo, sizeof(lo));
		size_format((uint64_t)k->max, hi, sizeof(hi));
		return xasprintf("a size like 512KiB or 4MiB, from %s to %s",
		    lo, hi);
	case CF_MODE:
		return xstrdup("an octal mode like 0660");
	case CF_LOGLEVEL:
		return xstrdup("one of error, warning, notice, info, debug");
	case CF_BOOL:
		return xstrdup("yes or no");
	case CF_PATH:
		return xstrdup("an absolute path");
	case CF_STRING:
		break;
	}
	return xstrdup(k->valid_doc ? k->valid_doc : "text");
}

static int
parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (*s == '\0')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int
parse_mode(const char *s, unsigned *out)
{
	size_t n = strlen(s);
	unsigned v = 0;

	if (n < 3 || n > 4)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '7')
			return -EINVAL;
		v = v * 8 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* Parses text into the key's field; -EINVAL when the text does not fit the type. */
static int
set_value(struct config *cfg, const struct config_key *k, const char *text)
{
	void *p = field_ptr(cfg, k);
	int64_t i;
	uint64_t u;
	int level;

	switch (k->type) {
	case CF_PATH:
		if (text[0] != '/' && !(text[0] == '\0' && k->def[0] == '\0'))
			return -EINVAL;
		/* fall through */
	case CF_STRING:
		if (k->valid && !k->valid(text))
			return -EINVAL;
		free(*(char **)p);
		*(char **)p = xstrdup(text);
		return 0;
	case CF_INT:
		if (parse_int(text, k->min, k->max, &i) < 0)
			return -EINVAL;
		*(int *)p = (int)i;
		return 0;
	case CF_DURATION:
		if (duration_parse(text, &i) < 0 || i < k->min || i > k->max)
			return -EINVAL;
		*(int64_t *)p = i;
		return 0;
	case CF_SIZE:
		if (size_parse(text, &u) < 0 || u < (uint64_t)k->min ||
		    u > (uint64_t)k->max)
			return -EINVAL;
		*(uint64_t *)p = u;
		return 0;
	case CF_MODE:
		return parse_mode(text, p);
	case CF_LOGLEVEL:
		if ((level = log_level_from_string(text)) < 0)
			return -EINVAL;
		*(int *)p = level;
		return 0;
	case CF_BOOL:
		return parse_bool(text, p);
	}
	return -EINVAL;
}

/* The value in the file's syntax, malloc'd. */
static char *
format_value(const struct config *cfg, const struct config_key *k)
{
	const void *p = field_ptr(cfg, k);
	char buf[DURATION_FORMAT_MAX];

	switch (k->type) {
	case CF_STRING:
	case CF_PATH:
		return xstrdup(*(char *const *)p ? *(char *const *)p : "");
	case CF_INT:
		return xasprintf("%d", *(const int *)p);
	case CF_DURATION:
		duration_format(*(const int64_t *)p, buf, sizeof(buf));
		return xstrdup(buf);
	case CF_SIZE:
		size_format(*(const uint64_t *)p, buf, sizeof(buf));
		return xstrdup(buf);
	case CF_MODE:
		return xasprintf("%04o", *(const unsigned *)p);
	case CF_LOGLEVEL:
		return xstrdup(log_level_to_string(*(const int *)p));
	case CF_BOOL:
		return xstrdup(*(const bool *)p ? "yes" : "no");
	}
	return xstrdup("");
}

static bool
value_equal(const struct config *a, const struct config *b,
    const struct config_key *k)
{
	const void *pa = field_ptr(a, k), *pb = field_ptr(b, k);

	switch (k->type) {
	case CF_STRING:
	case CF_PATH:
		return strcmp(*(char *const *)pa ? *(char *const *)pa : "",
			   *(char *const *)pb ? *(char *const *)pb : "") == 0;
	case CF_INT:
	case CF_LOGLEVEL:
		return *(const int *)pa == *(const int *)pb;
	case CF_DURATION:
		return *(const int64_t *)pa == *(const int64_t *)pb;
	case CF_SIZE:
		return *(const uint64_t *)pa == *(const uint64_t *)pb;
	case CF_MODE:
		return *(const unsigned *)pa == *(const unsigned *)pb;
	case CF_BOOL:
		return *(const bool *)pa == *(const bool *)pb;
	}
	return false;
}

/* Copies one value from src to dst, duplicating strings. */
static void
copy_value(struct config *dst, const struct config *src,
    const struct config_key *k)
{
	if (is_string_type(k->type)) {
		char **d = str_field(dst, k), *const *s = str_field(src, k);

		free(*d);
		*d = xstrdup(*s ? *s : "");
		return;
	}
	switch (k->type) {
	case CF_INT:
	case CF_LOGLEVEL:
		*(int *)field_ptr(dst, k) = *(const int *)field_ptr(src, k);
		break;
	case CF_DURATION:
		*(int64_t *)field_ptr(dst, k) =
		    *(const int64_t *)field_ptr(src, k);
		break;
	case CF_SIZE:
		*(uint64_t *)field_ptr(dst, k) =
		    *(const uint64_t *)field_ptr(src, k);
		break;
	case CF_MODE:
		*(unsigned *)field_ptr(dst, k) =
		    *(const unsigned *)field_ptr(src, k);
		break;
	case CF_BOOL:
		*(bool *)field_ptr(dst, k) = *(const bool *)field_ptr(src, k);
		break;
	default:
		break;
	}
}

static const struct config_key *
find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(config_table); i++)
		if (strcmp(config_table[i].section, section) == 0 &&
		    strcmp(config_table[i].name, name) == 0)
			return &config_table[i];
	return NULL;
}

static bool
section_known(const char *section)
{
	for (size_t i = 0; i < ELEMENTSOF(config_table); i++)
		if (strcmp(config_table[i].section, section) == 0)
			return true;
	return false;
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < ELEMENTSOF(config_table); i++)
		if (is_string_type(config_table[i].type))
			free(*str_field(cfg, &config_table[i]));
	free(cfg);
}

/* The defaults every load starts from, before derived values. */
static struct config *
config_new_defaults(void)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));

	for (size_t i = 0; i < ELEMENTSOF(config_table); i++) {
		if (set_value(cfg, &config_table[i], config_table[i].def) < 0) {
			/* A bad default is a bug in the table. */
			log_debug("config: bad default for %s.%s",
			    config_table[i].section, config_table[i].name);
			config_free(cfg);
			return NULL;
		}
	}
	return cfg;
}

/* Fills the settings whose empty value stands for a computed one. */
static void
fill_derived(struct config *cfg)
{
	char host[HOST_NAME_MAX + 1];

	if (cfg->master_key_file[0] == '\0') {
		free(cfg->master_key_file);
		cfg->master_key_file = xasprintf("%s/master.key",
		    cfg->state_directory);
	}
	if (cfg->mail_spool_directory[0] == '\0') {
		free(cfg->mail_spool_directory);
		cfg->mail_spool_directory = xasprintf("%s/outbox",
		    cfg->state_directory);
	}
	if (cfg->public_base_url[0] == '\0' && cfg->public_listen[0] != '\0') {
		free(cfg->public_base_url);
		cfg->public_base_url = xasprintf("http://%s",
		    cfg->public_listen);
	}
	if (cfg->host_name[0] == '\0') {
		if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		free(cfg->host_name);
		cfg->host_name = xstrdup(host);
	}
	if (cfg->mail_from[0] == '\0') {
		free(cfg->mail_from);
		cfg->mail_from = xasprintf("certfleet@%s", cfg->host_name);
	}
}

/* An operator's CA is three files; one or two of them is a mistake. */
static bool
ca_files_consistent(const struct config *cfg)
{
	int set = (cfg->ca_root_certificate[0] != '\0') +
	    (cfg->ca_intermediate_certificate[0] != '\0') +
	    (cfg->ca_intermediate_key[0] != '\0');

	return set == 0 || set == 3;
}

int
config_load_defaults(struct config **out)
{
	struct config *cfg = config_new_defaults();

	if (cfg == NULL)
		return -EINVAL;
	fill_derived(cfg);
	*out = cfg;
	return 0;
}

struct load_ctx {
	struct config *cfg;
	const char *path;
	FILE *f;
	int lineno;   /* of the line inih is handling, counted as inih does */
	int err_line; /* first error we found, 0 if none */
	char *err;    /* its message, without "PATH:LINE: " */
};

static void
load_error(struct load_ctx *ctx, char *msg)
{
	if (ctx->err_line != 0) {
		free(msg);
		return;
	}
	ctx->err_line = ctx->lineno;
	ctx->err = msg;
}

/* Refuses an unknown section on its header line, even if it holds no keys. */
static void
check_section_header(struct load_ctx *ctx, const char *line)
{
	const char *end;

	if (line[0] != '[' || (end = strchr(line, ']')) == NULL)
		return;
	_cleanup_free_ char *name = xstrndup(line + 1, (size_t)(end - line - 1));
	if (!section_known(name))
		load_error(ctx, xasprintf("unknown section [%s]", name));
}

/* inih's line reader: fgets plus line counting and the checks above. */
static char *
read_line(char *str, int num, void *stream)
{
	struct load_ctx *ctx = stream;
	size_t len;
	int c;

	if (fgets(str, num, ctx->f) == NULL)
		return NULL;
	ctx->lineno++;
	len = strlen(str);
	if (len > 0 && str[len - 1] != '\n' && (c = fgetc(ctx->f)) != EOF &&
	    c != '\n') {
		load_error(ctx, xasprintf("line longer than %d characters",
				    num - 2));
		/* Skip the rest so inih sees no fragments of it. */
		while ((c = fgetc(ctx->f)) != EOF && c != '\n')
			;
		str[0] = '\0';
	}
	check_section_header(ctx, str);
	return str;
}

static int
handle_key(void *user, const char *section, const char *name,
    const char *value)
{
	struct load_ctx *ctx = user;
	const struct config_key *k;

	if (section[0] == '\0')
		load_error(ctx,
		    xasprintf("key '%s' outside of any section", name));
	else if (!section_known(section))
		load_error(ctx, xasprintf("unknown section [%s]", section));
	else if ((k = find_key(section, name)) == NULL)
		load_error(ctx, xasprintf("unknown key '%s' in section [%s]",
				    name, section));
	else if (set_value(ctx->cfg, k, value) < 0) {
		_cleanup_free_ char *exp = expected_text(k);

		load_error(ctx, xasprintf("[%s] %s: expected %s, got '%s'",
				    section, name, exp, value));
	}
	/* Our errors are collected in ctx; inih's own syntax errors are not. */
	return 1;
}

int
config_load(const char *path, struct config **out, char **reterr_msg)
{
	struct load_ctx ctx = { .path = path };
	int r;

	ctx.f = fopen(path, "re");
	if (ctx.f == NULL) {
		r = -errno;
		if (reterr_msg)
			*reterr_msg = xasprintf(
			    "%s: cannot open configuration file: %s", path,
			    strerror(-r));
		return r;
	}
	ctx.cfg = config_new_defaults();
	r = ctx.cfg ? ini_parse_stream(read_line, &ctx, handle_key, &ctx) : -2;
	fclose(ctx.f);
	if (r > 0 && (ctx.err_line == 0 || r < ctx.err_line)) {
		free(ctx.err);
		ctx.err_line = r;
		ctx.err = xstrdup("syntax error");
	} else if (r < 0 && ctx.err_line == 0) {
		ctx.err_line = ctx.lineno;
		ctx.err = xstrdup("cannot parse the file");
	}
	if (ctx.err_line != 0) {
		if (reterr_msg)
			*reterr_msg = xasprintf("%s:%d: %s", path,
			    ctx.err_line, ctx.err);
		free(ctx.err);
		config_free(ctx.cfg);
		return -EINVAL;
	}
	fill_derived(ctx.cfg);
	if (!ca_files_consistent(ctx.cfg)) {
		if (reterr_msg)
			*reterr_msg = xasprintf("%s: [ca] root_certificate, "
			    "intermediate_certificate and intermediate_key "
			    "go together: set all three or none", path);
		config_free(ctx.cfg);
		return -EINVAL;
	}
	*out = ctx.cfg;
	return 0;
}

/* "# doc" and "# <type>; <reload>" above a key. */
static void
print_doc(const struct config_key *k, FILE *out)
{
	_cleanup_free_ char *exp = expected_text(k);
	const char *when = k->reloadable ? "Applied on reload (SIGHUP)." :
					   "Needs a restart.";

	fprintf(out, "# %s\n", k->doc);
	if (k->type == CF_STRING && k->valid == NULL)
		fprintf(out, "# %s\n", when);
	else
		fprintf(out, "# Value: %s. %s\n", exp, when);
}

static void
print_table(const struct config *cfg, bool example, FILE *out)
{
	const char *section = NULL;

	for (size_t i = 0; i < ELEMENTSOF(config_table); i++) {
		const struct config_key *k = &config_table[i];
		_cleanup_free_ char *v = NULL;

		if (section == NULL || strcmp(section, k->section) != 0) {
			section = k->section;
			fprintf(out, "[%s]\n", section);
		}
		print_doc(k, out);
		v = example ? xstrdup(k->def) : format_value(cfg, k);
		fprintf(out, "%s%s =%s%s\n\n", example ? "#" : "", k->name,
		    v[0] ? " " : "", v);
	}
}

void
config_print(const struct config *cfg, FILE *out)
{
	fputs("# certfleetd: the effective configuration, every key with its "
	      "current value.\n\n",
	    out);
	print_table(cfg, false, out);
}

void
config_print_example(FILE *out)
{
	fputs("# certfleetd configuration.\n"
	      "#\n"
	      "# Every key is listed with its default value, commented out:\n"
	      "# uncomment a line and change the value to override it.\n"
	      "# Durations take the units ms, s, m, h, d and w (\"30s\", "
	      "\"1h30m\");\n"
	      "# sizes take B, KiB, MiB, GiB and TiB (\"4MiB\"). A ';' after "
	      "a space\n"
	      "# starts a comment, also at the end of a value.\n\n",
	    out);
	print_table(NULL, true, out);
}

bool
config_equal(const struct config *a, const struct config *b)
{
	for (size_t i = 0; i < ELEMENTSOF(config_table); i++)
		if (!value_equal(a, b, &config_table[i]))
			return false;
	return true;
}

void
config_apply_reload(struct config *cur, const struct config *next,
    char **not_reloaded)
{
	char *list = NULL;

	for (size_t i = 0; i < ELEMENTSOF(config_table); i++) {
		const struct config_key *k = &config_table[i];
		char *joined;

		if (value_equal(cur, next, k))
			continue;
		if (k->reloadable) {
			copy_value(cur, next, k);
			continue;
		}
		joined = list ? xasprintf("%s, %s.%s", list, k->section,
					k->name) :
				xasprintf("%s.%s", k->section, k->name);
		free(list);
		list = joined;
	}
	*not_reloaded = list;
}
