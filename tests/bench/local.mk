# tests/bench: benchmark programs (built, never run by "make check").
# tests/bench/run-inventory-bench builds them, starts PostgreSQL and the
# daemon, and prints the figures.
noinst_PROGRAMS += tests/bench/bench_control_api tests/bench/bench_pg_lookup
EXTRA_DIST += tests/bench/run-inventory-bench

tests_bench_bench_control_api_SOURCES = tests/bench/bench_control_api.c \
	tests/bench/bench_util.c tests/bench/bench_util.h
tests_bench_bench_control_api_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) \
	$(OPENSSL_CFLAGS)
tests_bench_bench_control_api_LDADD = $(COMMON_LIBS) $(HTTP_PARSER_LIBS) \
	$(JANSSON_LIBS) $(OPENSSL_LIBS)

tests_bench_bench_pg_lookup_SOURCES = tests/bench/bench_pg_lookup.c \
	tests/bench/bench_util.c tests/bench/bench_util.h
tests_bench_bench_pg_lookup_CFLAGS = $(AM_CFLAGS) $(LIBPQ_CFLAGS) \
	$(OPENSSL_CFLAGS)
tests_bench_bench_pg_lookup_LDADD = $(COMMON_LIBS) $(LIBPQ_LIBS) \
	$(OPENSSL_LIBS)

# bench_issue: key generation and ca_issue against raw OpenSSL (src/pki)
noinst_PROGRAMS += tests/bench/bench_issue
tests_bench_bench_issue_SOURCES = tests/bench/bench_issue.c \
	tests/bench/bench_util.c tests/bench/bench_util.h
tests_bench_bench_issue_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
tests_bench_bench_issue_LDADD = $(PKI_LIBS) $(COMMON_LIBS) $(OPENSSL_LIBS)
EXTRA_DIST += tests/bench/bench_scrape
EXTRA_DIST += tests/bench/run-mail-bench
# bench_issuance: certificates issued per second by certfleetd, end to end,
# against raw OpenSSL (bench_issue) measured in the same run
EXTRA_DIST += tests/bench/bench_issuance
# bench_dns and bench_probe: the renewal checks (src/renewal) against bare
# c-ares, a bare OpenSSL client and blackbox_exporter in the same run
# (run-dns-bench starts dnsmasq; run-probe-bench nginx and blackbox_exporter)
noinst_PROGRAMS += tests/bench/bench_dns tests/bench/bench_probe
EXTRA_DIST += tests/bench/run-dns-bench tests/bench/run-probe-bench
tests_bench_bench_dns_SOURCES = tests/bench/bench_dns.c \
	tests/bench/bench_util.c tests/bench/bench_util.h
tests_bench_bench_dns_CFLAGS = $(AM_CFLAGS) $(CARES_CFLAGS) \
	$(LIBEVENT_CFLAGS) $(OPENSSL_CFLAGS)
tests_bench_bench_dns_LDADD = $(RENEWAL_LIBS) $(LOOP_LIBS) $(COMMON_LIBS) \
	$(CARES_LIBS) $(LIBEVENT_LIBS) $(OPENSSL_LIBS)
tests_bench_bench_probe_SOURCES = tests/bench/bench_probe.c \
	tests/bench/bench_util.c tests/bench/bench_util.h
tests_bench_bench_probe_CFLAGS = $(AM_CFLAGS) $(CARES_CFLAGS) \
	$(LIBEVENT_CFLAGS) $(OPENSSL_CFLAGS) $(CURL_CFLAGS)
tests_bench_bench_probe_LDADD = $(RENEWAL_LIBS) $(LOOP_LIBS) $(COMMON_LIBS) \
	$(CARES_LIBS) $(LIBEVENT_LIBS) $(OPENSSL_LIBS) $(CURL_LIBS)
# bench_renewal_scan: the renewal scheduler's tick at 1,000,000 stored
# certificates (run-renewal-scan-bench starts PostgreSQL and fills it)
noinst_PROGRAMS += tests/bench/bench_renewal_scan
EXTRA_DIST += tests/bench/run-renewal-scan-bench
tests_bench_bench_renewal_scan_SOURCES = tests/bench/bench_renewal_scan.c
tests_bench_bench_renewal_scan_CFLAGS = $(AM_CFLAGS) $(LIBPQ_CFLAGS)
tests_bench_bench_renewal_scan_LDADD = $(STORE_LIBS) $(COMMON_LIBS) \
	$(LIBPQ_LIBS) $(JANSSON_LIBS) $(OPENSSL_LIBS)
# run-renewal-bench: managed renewal end to end (DNS check, probe, key
# generation, signing, storage, deployment, verification) against the raw
# costs measured in the same run (bench_issue, bench_renewal_raw), with
# bench_sni_server as the endpoints
noinst_PROGRAMS += tests/bench/bench_sni_server tests/bench/bench_renewal_raw
EXTRA_DIST += tests/bench/run-renewal-bench
tests_bench_bench_sni_server_SOURCES = tests/bench/bench_sni_server.c \
	tests/bench/bench_util.c tests/bench/bench_util.h
tests_bench_bench_sni_server_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
tests_bench_bench_sni_server_LDADD = $(COMMON_LIBS) $(OPENSSL_LIBS)
tests_bench_bench_renewal_raw_SOURCES = tests/bench/bench_renewal_raw.c \
	tests/bench/bench_util.c tests/bench/bench_util.h
tests_bench_bench_renewal_raw_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) \
	$(LIBPQ_CFLAGS)
tests_bench_bench_renewal_raw_LDADD = $(COMMON_LIBS) $(LIBPQ_LIBS) \
	$(OPENSSL_LIBS)
EXTRA_DIST += doc/benchmarks.md
