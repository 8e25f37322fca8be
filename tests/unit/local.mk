# tests/unit

# pki and base64 (src/pki, src/common/base64.c)
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_base64 tests/unit/test_pki_import \
	tests/unit/test_keyseal
TESTS += tests/unit/test_base64 tests/unit/test_pki_import \
	tests/unit/test_keyseal
endif
tests_unit_test_base64_SOURCES = tests/unit/test_base64.c
tests_unit_test_base64_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_base64_LDADD = $(COMMON_LIBS) $(CMOCKA_LIBS)
tests_unit_test_pki_import_SOURCES = tests/unit/test_pki_import.c \
	tests/unit/pki_fixtures.c tests/unit/pki_fixtures.h
tests_unit_test_pki_import_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_pki_import_LDADD = $(PKI_LIBS) $(COMMON_LIBS) $(CMOCKA_LIBS)
tests_unit_test_keyseal_SOURCES = tests/unit/test_keyseal.c
tests_unit_test_keyseal_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_keyseal_LDADD = $(PKI_LIBS) $(COMMON_LIBS) $(CMOCKA_LIBS)

# common parsers and rules, daemon config (src/common, src/daemon/config.c)
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_duration tests/unit/test_arn \
	tests/unit/test_model_rules tests/unit/test_json_util tests/unit/test_config
TESTS += tests/unit/test_duration tests/unit/test_arn \
	tests/unit/test_model_rules tests/unit/test_json_util tests/unit/test_config
endif
EXTRA_DIST += tests/unit/vectors/durations.txt
UNIT_SRCDIR_CPPFLAGS = $(AM_CPPFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_test_duration_SOURCES = tests/unit/test_duration.c
tests_unit_test_duration_CPPFLAGS = $(UNIT_SRCDIR_CPPFLAGS)
tests_unit_test_duration_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_duration_LDADD = $(COMMON_LIBS) $(CMOCKA_LIBS)
tests_unit_test_arn_SOURCES = tests/unit/test_arn.c
tests_unit_test_arn_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_arn_LDADD = $(COMMON_LIBS) $(CMOCKA_LIBS)
tests_unit_test_model_rules_SOURCES = tests/unit/test_model_rules.c
tests_unit_test_model_rules_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_model_rules_LDADD = $(COMMON_LIBS) $(CMOCKA_LIBS)
tests_unit_test_json_util_SOURCES = tests/unit/test_json_util.c
tests_unit_test_json_util_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_json_util_LDADD = $(COMMON_LIBS) $(CMOCKA_LIBS)
tests_unit_test_config_SOURCES = tests/unit/test_config.c
tests_unit_test_config_CPPFLAGS = $(UNIT_SRCDIR_CPPFLAGS)
tests_unit_test_config_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_config_LDADD = $(CONFIG_LIBS) $(COMMON_LIBS) $(CMOCKA_LIBS)


# store against a real PostgreSQL (skipped unless CERTFLEET_TEST_DSN is set)
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_store
TESTS += tests/unit/test_store
endif
tests_unit_test_store_SOURCES = tests/unit/test_store.c
tests_unit_test_store_CFLAGS = $(AM_CFLAGS) $(LIBPQ_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_store_LDADD = $(STORE_LIBS) $(COMMON_LIBS) $(CMOCKA_LIBS)

# the API's request decoding (src/api/input.c)
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_api_input
TESTS += tests/unit/test_api_input
endif
tests_unit_test_api_input_SOURCES = tests/unit/test_api_input.c
tests_unit_test_api_input_CFLAGS = $(src_daemon_libdaemon_a_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_api_input_LDADD = $(DAEMON_LIBS) $(CMOCKA_LIBS)

# the certfleet CLI: shorthand, option values, requests, output (src/cli)
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_cli_args
TESTS += tests/unit/test_cli_args
endif
tests_unit_test_cli_args_SOURCES = tests/unit/test_cli_args.c
tests_unit_test_cli_args_CFLAGS = $(CLI_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_cli_args_LDADD = $(CLI_LIBS) $(CMOCKA_LIBS)

# mail: message building (src/mail/message.c) and delivery against a real
# SMTP sink (src/mail/delivery.c; run-mail-delivery.sh starts the sink and
# exits 77 when python3-aiosmtpd is missing)
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_mail_message tests/unit/test_mail_delivery
TESTS += tests/unit/test_mail_message tests/unit/run-mail-delivery.sh
endif
EXTRA_DIST += tests/unit/run-mail-delivery.sh tests/unit/smtp_sink.py
tests_unit_test_mail_message_SOURCES = tests/unit/test_mail_message.c
tests_unit_test_mail_message_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_mail_message_LDADD = $(MAIL_LIBS) $(COMMON_LIBS) $(CMOCKA_LIBS)
tests_unit_test_mail_delivery_SOURCES = tests/unit/test_mail_delivery.c
tests_unit_test_mail_delivery_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) \
	$(LIBEVENT_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_mail_delivery_LDADD = $(MAIL_LIBS) $(DAEMON_LIBS) $(CMOCKA_LIBS)

# domain-name rules of RequestCertificate (src/validation/names.c)
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_names
TESTS += tests/unit/test_names
endif
EXTRA_DIST += tests/unit/vectors/names.txt
tests_unit_test_names_SOURCES = tests/unit/test_names.c
tests_unit_test_names_CPPFLAGS = $(UNIT_SRCDIR_CPPFLAGS)
tests_unit_test_names_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_names_LDADD = $(VALIDATION_LIBS) $(COMMON_LIBS) $(CMOCKA_LIBS)

# who gets the validation email: RDAP parsing (src/validation/rdap.c), and
# the contact finder against dnsmasq and an RDAP server on loopback
# (src/validation/contacts.c, run by run-contacts.sh)
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_rdap tests/unit/test_contacts
TESTS += tests/unit/test_rdap tests/unit/run-contacts.sh
endif
EXTRA_DIST += tests/unit/run-contacts.sh tests/unit/rdap_server.py \
	tests/unit/rdap/domain/example.com tests/unit/rdap/domain/bigcorp.com \
	tests/unit/rdap/domain/redacted.com tests/unit/rdap/domain/rdaponly.com
tests_unit_test_rdap_SOURCES = tests/unit/test_rdap.c
tests_unit_test_rdap_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_rdap_LDADD = $(VALIDATION_LIBS) $(COMMON_LIBS) $(CMOCKA_LIBS)
tests_unit_test_contacts_SOURCES = tests/unit/test_contacts.c \
	src/loop/ares_loop.c src/loop/curl_loop.c
tests_unit_test_contacts_CFLAGS = $(AM_CFLAGS) $(CARES_CFLAGS) \
	$(CURL_CFLAGS) $(LIBEVENT_CFLAGS) $(JANSSON_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_contacts_LDADD = $(VALIDATION_LIBS) $(COMMON_LIBS) \
	$(CMOCKA_LIBS)

# certfleet's CA and key generation (src/pki/ca.c, src/pki/keygen.c)
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_ca tests/unit/test_keygen
TESTS += tests/unit/test_ca tests/unit/test_keygen
endif
tests_unit_test_ca_SOURCES = tests/unit/test_ca.c \
	tests/unit/pki_fixtures.c tests/unit/pki_fixtures.h
tests_unit_test_ca_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_ca_LDADD = $(PKI_LIBS) $(COMMON_LIBS) $(CMOCKA_LIBS)
tests_unit_test_keygen_SOURCES = tests/unit/test_keygen.c
tests_unit_test_keygen_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_keygen_LDADD = $(PKI_LIBS) $(COMMON_LIBS) $(CMOCKA_LIBS)

# the metrics registry and exposition formats (src/metrics)
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_metrics
TESTS += tests/unit/test_metrics
endif
tests_unit_test_metrics_SOURCES = tests/unit/test_metrics.c
tests_unit_test_metrics_CFLAGS = $(src_daemon_libdaemon_a_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_metrics_LDADD = $(DAEMON_LIBS) $(CMOCKA_LIBS)

# renewal checks: managed_networks (src/renewal/cidr.c), and the DNS check
# and TLS probe against real servers (src/renewal/dns_check.c,
# tls_probe.c; run-renewal-checks.sh starts dnsmasq and openssl s_server
# and exits 77 when either is missing)
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_cidr tests/unit/test_renewal_checks
TESTS += tests/unit/test_cidr tests/unit/run-renewal-checks.sh
endif
EXTRA_DIST += tests/unit/run-renewal-checks.sh
tests_unit_test_cidr_SOURCES = tests/unit/test_cidr.c
tests_unit_test_cidr_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_cidr_LDADD = $(RENEWAL_LIBS) $(COMMON_LIBS) $(CMOCKA_LIBS)
tests_unit_test_renewal_checks_SOURCES = tests/unit/test_renewal_checks.c
tests_unit_test_renewal_checks_CFLAGS = $(AM_CFLAGS) $(CARES_CFLAGS) \
	$(LIBEVENT_CFLAGS) $(OPENSSL_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_renewal_checks_LDADD = $(RENEWAL_LIBS) $(LOOP_LIBS) \
	$(COMMON_LIBS) $(CARES_LIBS) $(LIBEVENT_LIBS) $(CMOCKA_LIBS)

# issue 4, bindings: writing a binding's files (src/renewal/deploy_files.c)
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_deploy_files
TESTS += tests/unit/test_deploy_files
endif
tests_unit_test_deploy_files_SOURCES = tests/unit/test_deploy_files.c
tests_unit_test_deploy_files_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) \
	$(JANSSON_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_deploy_files_LDADD = src/renewal/librenewal.a \
	$(COMMON_LIBS) $(JANSSON_LIBS) $(OPENSSL_LIBS) $(CMOCKA_LIBS)

# certfleetd.conf(5) documents every key of the configuration table, with
# its default and reload flag (reads src/daemon/certfleetd-config-example)
TESTS += tests/unit/check-config-docs.sh
EXTRA_DIST += tests/unit/check-config-docs.sh

# issue 4: the wall-clock step watcher (src/renewal/clock_step.c)
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_clock_step
TESTS += tests/unit/test_clock_step
endif
tests_unit_test_clock_step_SOURCES = tests/unit/test_clock_step.c
tests_unit_test_clock_step_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(CMOCKA_CFLAGS)
tests_unit_test_clock_step_LDADD = $(RENEWAL_LIBS) $(COMMON_LIBS) \
	$(LIBEVENT_LIBS) $(CMOCKA_LIBS)
