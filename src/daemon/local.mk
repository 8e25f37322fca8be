# src/daemon, src/loop, src/api: the certfleetd daemon.
include src/daemon/config.mk

noinst_LIBRARIES += src/daemon/libdaemon.a
src_daemon_libdaemon_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(JANSSON_CFLAGS) $(LIBPQ_CFLAGS) $(OPENSSL_CFLAGS) $(SYSTEMD_CFLAGS) \
	$(PCRE2_CFLAGS) $(CARES_CFLAGS) $(CURL_CFLAGS) $(ZLIB_CFLAGS)
src_daemon_libdaemon_a_SOURCES = \
	src/api/api.h \
	src/api/actions.c \
	src/api/account.c \
	src/api/certificates.c \
	src/api/certificate_list.c \
	src/api/control.c src/api/control.h \
	src/api/events.c \
	src/api/handlers.h \
	src/api/input.c src/api/input.h \
	src/api/router.c src/api/router.h \
	src/api/read_audit.c src/api/read_audit.h \
	src/api/tags.c \
	src/audit/audit.c src/audit/audit.h \
	src/audit/retention.c src/audit/retention.h \
	src/daemon/daemon.h \
	src/daemon/lifecycle.c
# src/loop: the adapters that put c-ares, curl multi, libpq threads and CPU
# threads on the libevent base. Its own library, linked after everything
# that drives the loop (the daemon, validation, mail).
noinst_LIBRARIES += src/loop/libloop.a
src_loop_libloop_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBPQ_CFLAGS) \
	$(CARES_CFLAGS) $(CURL_CFLAGS)
src_loop_libloop_a_SOURCES = \
	src/loop/ares_loop.c src/loop/ares_loop.h \
	src/loop/curl_loop.c src/loop/curl_loop.h \
	src/loop/dbpool.c src/loop/dbpool.h \
	src/loop/workq.c src/loop/workq.h
LOOP_LIBS = src/loop/libloop.a

DAEMON_LIBS = src/daemon/libdaemon.a $(VALIDATION_LIBS) $(MAIL_LIBS) \
	$(RENEWAL_LIBS) $(LOOP_LIBS) $(STORE_LIBS) $(PKI_LIBS) \
	$(CONFIG_LIBS) $(COMMON_LIBS) $(LIBEVENT_LIBS) $(HTTP_PARSER_LIBS) \
	$(LIBPQ_LIBS) $(SYSTEMD_LIBS) $(JANSSON_LIBS) $(OPENSSL_LIBS) \
	$(CARES_LIBS) $(CURL_LIBS) $(ZLIB_LIBS) -lm

sbin_PROGRAMS += src/daemon/certfleetd
src_daemon_certfleetd_CFLAGS = $(src_daemon_libdaemon_a_CFLAGS)
src_daemon_certfleetd_SOURCES = src/daemon/main.c
src_daemon_certfleetd_LDADD = $(DAEMON_LIBS)
src_daemon_libdaemon_a_SOURCES += src/metrics/metrics.c src/metrics/metrics.h src/metrics/internal.h src/metrics/expo.c src/metrics/expo.h src/metrics/registry.c src/metrics/registry.h src/metrics/certificates.c src/metrics/process.c src/metrics/http.c src/metrics/gzpart.c src/metrics/gzpart.h
# issue 3, request flow: RequestCertificate and friends, contact discovery,
# the mail queue, the approval page and the validation timeout
src_daemon_libdaemon_a_SOURCES += src/api/requests.c
# issue 3, CA and issuer: certfleet's CA at start-up, the issuer, and
# CertFleet.GetCertificateAuthorityCertificate
src_daemon_libdaemon_a_SOURCES += src/issuance/ca_bootstrap.c \
	src/issuance/ca_bootstrap.h src/issuance/issuer.c \
	src/issuance/issuer.h src/api/authority.c
src_daemon_libdaemon_a_SOURCES += \
	src/validation/runner.c src/validation/runner.h \
	src/validation/approval_page.c src/validation/approval_page.h \
	src/validation/reaper.c src/validation/reaper.h \
	src/mail/outbox.c src/mail/outbox.h \
	src/daemon/validation_setup.c
# issue 4, bindings: CertFleet.CreateBinding and friends, the deployer
src_daemon_libdaemon_a_SOURCES += src/api/bindings.c \
	src/renewal/deploy.c src/renewal/deploy.h
# UpdateCertificateOptions, ExportCertificate
src_daemon_libdaemon_a_SOURCES += src/api/options.c
