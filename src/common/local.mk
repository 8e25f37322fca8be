# src/common: helpers with no daemon state, shared by the daemon and the CLI.
noinst_LIBRARIES += src/common/libcommon.a
src_common_libcommon_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(OPENSSL_CFLAGS) $(SYSTEMD_CFLAGS)
src_common_libcommon_a_SOURCES = \
	src/common/cleanup.h \
	src/common/log.c src/common/log.h \
	src/common/xmalloc.c src/common/xmalloc.h
COMMON_LIBS = src/common/libcommon.a $(JANSSON_LIBS) $(OPENSSL_LIBS) $(SYSTEMD_LIBS)
