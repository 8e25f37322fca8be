# src/pki: X.509 facts, import checks and private keys at rest. No daemon
# state: everything here runs in unit tests without an event base.
noinst_LIBRARIES += src/pki/libpki.a
src_pki_libpki_a_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
src_pki_libpki_a_SOURCES = \
	src/pki/certinfo.c src/pki/certinfo.h \
	src/pki/import_check.c src/pki/import_check.h \
	src/pki/keyseal.c src/pki/keyseal.h \
	src/pki/ossl.c src/pki/ossl.h
PKI_LIBS = src/pki/libpki.a $(OPENSSL_LIBS)
# certfleet's CA: key generation and issuing (issue 3)
src_pki_libpki_a_SOURCES += src/pki/keygen.c src/pki/keygen.h \
	src/pki/ca.c src/pki/ca.h
