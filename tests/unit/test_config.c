/*
 * test_config.c: the configuration table: defaults, file:line errors for
 * every kind of bad input, printing that loads back to the same settings,
 * the shipped example file, and which settings a reload applies.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/config.h"

/* Writes text to a new temporary file; returns its malloc'd path. */
static char *
write_temp(const char *text)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *path;
	FILE *f;
	int fd;

	assert_true(asprintf(&path, "%s/certfleet-test-config-XXXXXX", dir) > 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Loads text; returns the error message with the temp path replaced by "F". */
static char *
load_error(const char *text)
{
	char *path = write_temp(text), *msg = NULL, *out;
	struct config *cfg = NULL;
	size_t plen = strlen(path);

	assert_int_equal(config_load(path, &cfg, &msg), -EINVAL);
	assert_null(cfg);
	assert_non_null(msg);
	assert_memory_equal(msg, path, plen);
	assert_true(asprintf(&out, "F%s", msg + plen) > 0);
	unlink(path);
	free(path);
	free(msg);
	return out;
}

static struct config *
load_text(const char *text)
{
	char *path = write_temp(text), *msg = NULL;
	struct config *cfg = NULL;

	if (config_load(path, &cfg, &msg) != 0)
		fail_msg("load failed: %s", msg);
	unlink(path);
	free(path);
	return cfg;
}

static void
test_defaults_match_documented_values(void **state)
{
	struct config *c = NULL;
	char host[256];

	assert_int_equal(config_load_defaults(&c), 0);
	assert_string_equal(c->state_directory, "/var/lib/certfleet");
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	assert_string_equal(c->host_name, host);
	assert_int_equal(c->log_level, LOG_INFO);
	assert_int_equal(c->shutdown_grace_ms, 10000);
	assert_string_equal(c->dsn, "");
	assert_int_equal(c->pool_size, 8);
	assert_int_equal(c->connect_timeout_ms, 5000);
	assert_int_equal(c->reconnect_max_backoff_ms, 5000);
	assert_string_equal(c->socket_path, "/run/certfleet/control.sock");
	assert_int_equal(c->socket_mode, 0660);
	assert_string_equal(c->socket_group, "");
	assert_int_equal(c->max_connections_per_uid, 64);
	assert_int_equal(c->request_timeout_ms, 30000);
	assert_int_equal(c->max_body_size, 4 * 1024 * 1024);
	assert_string_equal(c->master_key_file, "/var/lib/certfleet/master.key");
	assert_string_equal(c->partition, "aws");
	assert_string_equal(c->region, "local-1");
	assert_string_equal(c->account, "000000000000");
	assert_int_equal(c->imported_certificates, 100);
	assert_int_equal(c->issued_certificates, 100);
	assert_int_equal(c->domains_per_certificate, 10);
	assert_int_equal(c->tags_per_certificate, 50);
	config_free(c);
	config_free(NULL);
}

static void
test_file_overrides_defaults_and_derives_master_key(void **state)
{
	struct config *c = load_text(
	    "; a comment\n"
	    "# another\n"
	    "[daemon]\n"
	    "state_directory = /srv/cf\n"
	    "host_name = node1.example.com\n"
	    "log_level = debug\n"
	    "shutdown_grace = 1m30s\n"
	    "\n"
	    "[database]\n"
	    "dsn = host=/run/postgresql dbname=cf\n"
	    "pool_size = 64\n"
	    "[control]\n"
	    "socket_mode = 0600\n"
	    "max_body_size = 512KiB ; inline comment\n"
	    "request_timeout = 250ms\n"
	    "[limits]\n"
	    "tags_per_certificate = 0\n");

	assert_string_equal(c->state_directory, "/srv/cf");
	assert_string_equal(c->master_key_file, "/srv/cf/master.key");
	assert_string_equal(c->host_name, "node1.example.com");
	assert_int_equal(c->log_level, LOG_DEBUG);
	assert_int_equal(c->shutdown_grace_ms, 90000);
	assert_string_equal(c->dsn, "host=/run/postgresql dbname=cf");
	assert_int_equal(c->pool_size, 64);
	assert_int_equal(c->socket_mode, 0600);
	assert_int_equal(c->max_body_size, 512 * 1024);
	assert_int_equal(c->request_timeout_ms, 250);
	assert_int_equal(c->tags_per_certificate, 0);
	assert_int_equal(c->issued_certificates, 100);
	config_free(c);
}

static void
test_missing_file_is_named(void **state)
{
	struct config *c = NULL;
	char *msg = NULL;

	assert_int_equal(config_load("/nonexistent/certfleetd.conf", &c, &msg),
	    -ENOENT);
	assert_null(c);
	assert_string_equal(msg, "/nonexistent/certfleetd.conf: cannot open "
				 "configuration file: No such file or directory");
	free(msg);
}

static void
expect_error(const char *text, const char *want)
{
	char *msg = load_error(text);

	assert_string_equal(msg, want);
	free(msg);
}

static void
test_unknown_keys_and_sections_name_the_line(void **state)
{
	expect_error("[daemon]\nlog_level = info\nlog_levle = debug\n",
	    "F:3: unknown key 'log_levle' in section [daemon]");
	expect_error("[daemon]\n\n[bogus]\nx = 1\n", "F:3: unknown section [bogus]");
	expect_error("[daemon]\n[empty_unknown]\n[control]\n",
	    "F:2: unknown section [empty_unknown]");
	expect_error("pool_size = 4\n[database]\n",
	    "F:1: key 'pool_size' outside of any section");
	expect_error("[database]\npool_size = 4\n[daemon]\npool_size = 4\n",
	    "F:4: unknown key 'pool_size' in section [daemon]");
	/* The first error wins. */
	expect_error("[daemon]\na = 1\nb = 2\n", "F:2: unknown key 'a' in section [daemon]");
}

static void
test_malformed_values_say_what_was_expected(void **state)
{
	expect_error("[control]\nsocket_mode = 9z\n",
	    "F:2: [control] socket_mode: expected an octal mode like 0660, got '9z'");
	expect_error("[control]\nsocket_mode = 0668\n",
	    "F:2: [control] socket_mode: expected an octal mode like 0660, got '0668'");
	expect_error("[control]\nsocket_mode = 12345\n",
	    "F:2: [control] socket_mode: expected an octal mode like 0660, got '12345'");
	expect_error("[daemon]\nshutdown_grace = 10 s\n",
	    "F:2: [daemon] shutdown_grace: expected a duration like 30s, 5m or "
	    "1h30m, from 0s to 1h, got '10 s'");
	expect_error("[daemon]\nshutdown_grace = 2h\n",
	    "F:2: [daemon] shutdown_grace: expected a duration like 30s, 5m or "
	    "1h30m, from 0s to 1h, got '2h'");
	expect_error("[database]\npool_size = 100\n",
	    "F:2: [database] pool_size: expected an integer from 1 to 64, got '100'");
	expect_error("[database]\npool_size = 0\n",
	    "F:2: [database] pool_size: expected an integer from 1 to 64, got '0'");
	expect_error("[database]\npool_size = 4x\n",
	    "F:2: [database] pool_size: expected an integer from 1 to 64, got '4x'");
	expect_error("[database]\npool_size =\n",
	    "F:2: [database] pool_size: expected an integer from 1 to 64, got ''");
	expect_error("[database]\npool_size = 99999999999999999999\n",
	    "F:2: [database] pool_size: expected an integer from 1 to 64, got "
	    "'99999999999999999999'");
	expect_error("[control]\nmax_body_size = 4MB\n",
	    "F:2: [control] max_body_size: expected a size like 512KiB or 4MiB, "
	    "from 1KiB to 1GiB, got '4MB'");
	expect_error("[daemon]\nlog_level = verbose\n",
	    "F:2: [daemon] log_level: expected one of error, warning, notice, "
	    "info, debug, got 'verbose'");
	expect_error("[daemon]\nstate_directory = var/lib\n",
	    "F:2: [daemon] state_directory: expected an absolute path, got 'var/lib'");
	expect_error("[identity]\naccount = 12ab\n",
	    "F:2: [identity] account: expected 1 to 31 digits, got '12ab'");
	expect_error("[identity]\npartition = a:b\n",
	    "F:2: [identity] partition: expected 1 to 63 letters, digits and "
	    "_+=,.@-, got 'a:b'");
	expect_error("[daemon]\nstate_directory =\n",
	    "F:2: [daemon] state_directory: expected an absolute path, got ''");
}

static void
test_syntax_errors_and_long_lines(void **state)
{
	char text[600];

	expect_error("[daemon]\nlog_level info\n", "F:2: syntax error");
	expect_error("[daemon\nlog_level = info\n", "F:1: syntax error");
	/* A syntax error before a value error is the one reported. */
	expect_error("[daemon]\njunk\nlog_level = x\n", "F:2: syntax error");
	snprintf(text, sizeof(text), "[database]\ndsn = %0500d\n", 0);
	expect_error(text, "F:2: line longer than 198 characters");
}

static void
test_empty_values_and_blank_file(void **state)
{
	struct config *c = load_text(""), *d = NULL;

	assert_int_equal(config_load_defaults(&d), 0);
	assert_true(config_equal(c, d));
	config_free(c);
	c = load_text("[keys]\nmaster_key_file =\n[daemon]\nhost_name =\n");
	assert_true(config_equal(c, d));
	config_free(c);
	config_free(d);
}

/* Prints cfg, loads the output, and checks that nothing changed. */
static void
check_round_trip(const struct config *cfg)
{
	char *text = NULL, *path;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct config *back = NULL;
	char *msg = NULL;

	config_print(cfg, f);
	assert_int_equal(fclose(f), 0);
	path = write_temp(text);
	if (config_load(path, &back, &msg) != 0)
		fail_msg("printed config does not load: %s\n%s", msg, text);
	assert_true(config_equal(cfg, back));
	config_free(back);
	unlink(path);
	free(path);
	free(text);
}

static void
test_print_loads_back_to_the_same_config(void **state)
{
	struct config *c = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(config_load_defaults(&c), 0);
	check_round_trip(c);
	config_free(c);
	c = load_text("[daemon]\nlog_level = warning\nshutdown_grace = 1s500ms\n"
		      "[database]\ndsn = host=/tmp port=5 dbname=x\n"
		      "connect_timeout = 3000s\n"
		      "[control]\nsocket_mode = 0600\nsocket_group = certfleet\n"
		      "max_body_size = 1536KiB\n"
		      "[identity]\nregion = eu-west-3\naccount = 123456789012\n");
	check_round_trip(c);

	/* Every key is printed with a doc comment above it. */
	f = open_memstream(&text, &len);
	config_print(c, f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(text, "\n[control]\n"));
	assert_non_null(strstr(text, "\nsocket_mode = 0600\n"));
	assert_non_null(strstr(text, "\nsocket_group = certfleet\n"));
	assert_non_null(strstr(text, "\nshutdown_grace = 1s500ms\n"));
	assert_non_null(strstr(text, "\nmax_body_size = 1536KiB\n"));
	assert_non_null(strstr(text, "\nconnect_timeout = 50m\n"));
	assert_non_null(strstr(text, "\nlog_level = warning\n"));
	assert_non_null(strstr(text, "\ndsn = host=/tmp port=5 dbname=x\n"));
	assert_non_null(strstr(text, "# Permissions of the control socket, in octal.\n"
				     "# Value: an octal mode like 0660. Needs a restart.\n"
				     "socket_mode = 0600\n"));
	free(text);
	config_free(c);
}

static char *
example_text(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	config_print_example(f);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void
test_example_matches_shipped_file_and_loads_as_defaults(void **state)
{
	char *text = example_text(), *shipped, *path;
	FILE *f = fopen(TOP_SRCDIR "/etc/certfleetd.conf", "r");
	struct config *c = NULL, *d = NULL;
	char *msg = NULL;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	shipped = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(shipped, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	if (strcmp(text, shipped) != 0)
		fail_msg("etc/certfleetd.conf is out of date: regenerate it "
			 "with src/daemon/certfleetd-config-example");
	assert_non_null(strstr(text, "\n[limits]\n"));
	assert_non_null(strstr(text, "\n#socket_mode = 0660\n"));
	assert_non_null(strstr(text, "\n#host_name =\n"));

	path = write_temp(text);
	assert_int_equal(config_load(path, &c, &msg), 0);
	assert_int_equal(config_load_defaults(&d), 0);
	assert_true(config_equal(c, d));
	unlink(path);
	free(path);
	free(shipped);
	free(text);
	config_free(c);
	config_free(d);
}

static void
test_reload_applies_reloadable_and_lists_the_rest(void **state)
{
	struct config *cur = NULL, *next;
	char *not_reloaded = (char *)"unset";

	assert_int_equal(config_load_defaults(&cur), 0);
	next = load_text("[daemon]\nlog_level = debug\n"
			 "[database]\npool_size = 16\nconnect_timeout = 1s\n"
			 "[control]\nsocket = /run/x.sock\n"
			 "max_body_size = 1MiB\n"
			 "[identity]\nregion = eu-west-1\n"
			 "[limits]\ntags_per_certificate = 10\n");
	config_apply_reload(cur, next, &not_reloaded);
	assert_string_equal(not_reloaded, "database.pool_size, "
	    "database.connect_timeout, control.socket, identity.region");
	free(not_reloaded);
	assert_int_equal(cur->log_level, LOG_DEBUG);
	assert_int_equal(cur->connect_timeout_ms, 5000);
	assert_int_equal(cur->max_body_size, 1024 * 1024);
	assert_int_equal(cur->tags_per_certificate, 10);
	assert_int_equal(cur->pool_size, 8);
	assert_string_equal(cur->socket_path, "/run/certfleet/control.sock");
	assert_string_equal(cur->region, "local-1");
	assert_false(config_equal(cur, next));

	/* Back to the defaults: only reloadable settings differ, all applied. */
	config_free(next);
	assert_int_equal(config_load_defaults(&next), 0);
	config_apply_reload(cur, next, &not_reloaded);
	assert_null(not_reloaded);
	assert_true(config_equal(cur, next));
	config_apply_reload(cur, cur, &not_reloaded);
	assert_null(not_reloaded);
	config_free(next);
	config_free(cur);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_match_documented_values),
		cmocka_unit_test(test_file_overrides_defaults_and_derives_master_key),
		cmocka_unit_test(test_missing_file_is_named),
		cmocka_unit_test(test_unknown_keys_and_sections_name_the_line),
		cmocka_unit_test(test_malformed_values_say_what_was_expected),
		cmocka_unit_test(test_syntax_errors_and_long_lines),
		cmocka_unit_test(test_empty_values_and_blank_file),
		cmocka_unit_test(test_print_loads_back_to_the_same_config),
		cmocka_unit_test(test_example_matches_shipped_file_and_loads_as_defaults),
		cmocka_unit_test(test_reload_applies_reloadable_and_lists_the_rest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
