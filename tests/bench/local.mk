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
