# systemd: the service and socket units.
#
# They go to $(prefix)/lib/systemd/system: /usr/lib/systemd/system with
# --prefix=/usr, /usr/local/lib/systemd/system with the default prefix; both
# are on systemd's search path. Override with `make systemdunitdir=DIR`.
systemdunitdir = $(prefix)/lib/systemd/system
systemdunit_DATA = systemd/certfleetd.service
dist_systemdunit_DATA = systemd/certfleet.socket
EXTRA_DIST += systemd/certfleetd.service.in
CLEANFILES += systemd/certfleetd.service

systemd/certfleetd.service: systemd/certfleetd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' \
	    -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	    $(srcdir)/systemd/certfleetd.service.in >$@.tmp && \
	mv $@.tmp $@
