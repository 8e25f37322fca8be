# src/store: every SQL statement certfleet runs, and the migrations runner.
# sql/migrations.c is generated from the migration files (see sql/local.mk).
noinst_LIBRARIES += src/store/libstore.a
src_store_libstore_a_CFLAGS = $(AM_CFLAGS) $(LIBPQ_CFLAGS) $(JANSSON_CFLAGS)
src_store_libstore_a_SOURCES = \
	src/store/store.h \
	src/store/db.c src/store/db.h \
	src/store/migrate.c src/store/migrations.h \
	src/store/certificates.c \
	src/store/tags.c \
	src/store/account.c \
	src/store/audit.c
nodist_src_store_libstore_a_SOURCES = sql/migrations.c
# Link after the users of the store and before $(COMMON_LIBS).
STORE_LIBS = src/store/libstore.a $(LIBPQ_LIBS)
src_store_libstore_a_SOURCES += src/store/metrics.c
# certfleet's CA and the issuer's intents (issue 3)
src_store_libstore_a_SOURCES += src/store/issuance.h src/store/ca.c \
	src/store/intents.c
# issue 3: requested certificates, email validation, the mail queue
src_store_libstore_a_SOURCES += src/store/requests.c src/store/validation.c \
	src/store/outbox.c
src_store_libstore_a_CFLAGS += $(OPENSSL_CFLAGS)
# issue 4: bindings and their deployment state
src_store_libstore_a_SOURCES += src/store/bindings.c src/store/bindings.h
# issue 4: the renewal scheduler and expiry events
src_store_libstore_a_SOURCES += src/store/renewal.c src/store/renewal.h
# one round trip for DescribeCertificate
src_store_libstore_a_SOURCES += src/store/describe.c src/store/describe.h
# UpdateCertificateOptions
src_store_libstore_a_SOURCES += src/store/options.c src/store/options.h
