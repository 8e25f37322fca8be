# src/daemon, src/loop, src/api: the certfleetd daemon.
sbin_PROGRAMS += src/daemon/certfleetd
src_daemon_certfleetd_SOURCES = src/daemon/main.c
