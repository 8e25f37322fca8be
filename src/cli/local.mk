# src/cli: the certfleet command, a client of certfleetd's control socket
# that mirrors `aws acm`. Everything but main.c is a library so the unit
# tests can drive the parser, the request builder and the formatters.
CLI_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS) $(OPENSSL_CFLAGS)
noinst_LIBRARIES += src/cli/libcli.a
src_cli_libcli_a_CFLAGS = $(CLI_CFLAGS)
src_cli_libcli_a_SOURCES = \
	src/cli/args.c src/cli/args.h \
	src/cli/shorthand.c \
	src/cli/commands.c src/cli/commands.h \
	src/cli/request.c src/cli/request.h \
	src/cli/paginate.c src/cli/paginate.h \
	src/cli/output.c src/cli/output.h \
	src/cli/help.c src/cli/help.h \
	src/cli/transport.c src/cli/transport.h
CLI_LIBS = src/cli/libcli.a src/common/libcommon.a $(COMMON_LIBS) \
	$(CURL_LIBS) $(JANSSON_LIBS)

bin_PROGRAMS += src/cli/certfleet
src_cli_certfleet_SOURCES = src/cli/main.c
src_cli_certfleet_CFLAGS = $(CLI_CFLAGS)
src_cli_certfleet_LDADD = $(CLI_LIBS)

dist_man_MANS += doc/man/certfleet.1
