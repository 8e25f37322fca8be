# src/validation: the rules that decide whether a name may be requested and
# who may approve it. No daemon state: everything here runs in unit tests
# without an event base. Other parts append their sources with +=.
noinst_LIBRARIES += src/validation/libvalidation.a
src_validation_libvalidation_a_CFLAGS = $(AM_CFLAGS) $(LIBPSL_CFLAGS) $(LIBIDN2_CFLAGS)
src_validation_libvalidation_a_SOURCES = \
	src/validation/names.c src/validation/names.h
VALIDATION_LIBS = src/validation/libvalidation.a $(LIBPSL_LIBS) $(LIBIDN2_LIBS)
# contacts: who gets the validation email (RDAP parsing, MX walk, fetches)
src_validation_libvalidation_a_SOURCES += \
	src/validation/rdap.c src/validation/rdap.h \
	src/validation/contacts.c src/validation/contacts.h
src_validation_libvalidation_a_CFLAGS += $(CARES_CFLAGS) $(CURL_CFLAGS) \
	$(LIBEVENT_CFLAGS) $(JANSSON_CFLAGS)
VALIDATION_LIBS += $(CARES_LIBS) $(CURL_LIBS) $(LIBEVENT_LIBS) $(JANSSON_LIBS)
# approval tokens: derivation, rendering, hashing (OpenSSL)
src_validation_libvalidation_a_SOURCES += \
	src/validation/token.c src/validation/token.h
src_validation_libvalidation_a_CFLAGS += $(OPENSSL_CFLAGS)
VALIDATION_LIBS += $(OPENSSL_LIBS)
