# src/daemon/config.mk: the configuration table (libconfig.a), and the
# program that prints the example shipped as etc/certfleetd.conf. Included
# from src/daemon/local.mk.
noinst_LIBRARIES += src/daemon/libconfig.a
src_daemon_libconfig_a_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS)
src_daemon_libconfig_a_SOURCES = src/daemon/config.c src/daemon/config.h
CONFIG_LIBS = src/daemon/libconfig.a $(INIH_LIBS)

noinst_PROGRAMS += src/daemon/certfleetd-config-example
src_daemon_certfleetd_config_example_SOURCES = src/daemon/config_example.c
src_daemon_certfleetd_config_example_LDADD = $(CONFIG_LIBS) $(COMMON_LIBS)
