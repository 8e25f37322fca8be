# src/common: helpers with no daemon state, shared by the daemon and the CLI.
noinst_LIBRARIES += src/common/libcommon.a
src_common_libcommon_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(OPENSSL_CFLAGS) $(SYSTEMD_CFLAGS)
src_common_libcommon_a_SOURCES = \
	src/common/cleanup.h \
	src/common/log.c src/common/log.h \
	src/common/xmalloc.c src/common/xmalloc.h
COMMON_LIBS = src/common/libcommon.a $(JANSSON_LIBS) $(OPENSSL_LIBS) $(SYSTEMD_LIBS)
src_common_libcommon_a_SOURCES += src/common/base64.c src/common/base64.h
src_common_libcommon_a_SOURCES += src/common/duration.c src/common/duration.h src/common/arn.c src/common/arn.h src/common/model_rules.c src/common/model_rules.h src/common/json_util.c src/common/json_util.h
src_common_libcommon_a_CFLAGS += $(PCRE2_CFLAGS)
COMMON_LIBS += $(PCRE2_LIBS)
src_common_libcommon_a_SOURCES += src/common/acm_model.c src/common/acm_model.h
src_common_libcommon_a_SOURCES += src/common/json_wipe.c src/common/json_wipe.h
