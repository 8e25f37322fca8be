# src/mail: message building and delivery (SMTP relay through curl_loop, or
# the spool folder). curl_loop itself lives in libdaemon.a: link MAIL_LIBS
# before DAEMON_LIBS.
noinst_LIBRARIES += src/mail/libmail.a
src_mail_libmail_a_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(OPENSSL_CFLAGS)
src_mail_libmail_a_SOURCES = \
	src/mail/delivery.c src/mail/delivery.h \
	src/mail/message.c src/mail/message.h \
	src/mail/spool.c src/mail/spool.h
MAIL_LIBS = src/mail/libmail.a $(CURL_LIBS)
