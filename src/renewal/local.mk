# src/renewal: managed renewal. librenewal.a holds the parts that need no
# daemon context: the managed_networks list (cidr), the DNS check and the
# TLS probe (both on the event loop through src/loop's ares_loop, which
# lives in libloop.a: link RENEWAL_LIBS before LOOP_LIBS, as DAEMON_LIBS
# does).
#
# Other engineers: append pure sources (no struct daemon_ctx) here with
#   src_renewal_librenewal_a_SOURCES += src/renewal/foo.c src/renewal/foo.h
# and sources that need the daemon context (store, dbpool, ctx) to
# libdaemon.a instead (this fragment is included after src/daemon/local.mk
# for that reason):
#   src_daemon_libdaemon_a_SOURCES += src/renewal/scheduler.c ...
noinst_LIBRARIES += src/renewal/librenewal.a
src_renewal_librenewal_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(CARES_CFLAGS) $(OPENSSL_CFLAGS)
src_renewal_librenewal_a_SOURCES = \
	src/renewal/cidr.c src/renewal/cidr.h \
	src/renewal/dns_check.c src/renewal/dns_check.h \
	src/renewal/tls_probe.c src/renewal/tls_probe.h \
	src/renewal/clock_step.c src/renewal/clock_step.h
RENEWAL_LIBS = src/renewal/librenewal.a $(LIBEVENT_LIBS) $(CARES_LIBS) \
	$(OPENSSL_LIBS)
# issue 4, bindings: writing a binding's files (no daemon context)
src_renewal_librenewal_a_SOURCES += src/renewal/deploy_files.c \
	src/renewal/deploy_files.h
src_renewal_librenewal_a_CFLAGS += $(JANSSON_CFLAGS)
# issue 4: the scheduler and expiry events (need the daemon context)
src_daemon_libdaemon_a_SOURCES += src/renewal/scheduler.c \
	src/renewal/scheduler.h src/renewal/expiry.c src/renewal/expiry.h
# the scheduler in three: the scan (scheduler.c), one certificate's
# states (machine.c) and the database jobs (renewal_jobs.c)
src_daemon_libdaemon_a_SOURCES += src/renewal/machine.c \
	src/renewal/machine.h src/renewal/renewal_jobs.c \
	src/renewal/renewal_jobs.h
src_daemon_libdaemon_a_SOURCES += src/api/renewal.c
