# doc: the manual pages of the daemon and its configuration, and the
# documents shipped in the tarball. certfleet(1) is added by src/cli/local.mk.
dist_man_MANS += doc/man/certfleetd.8 doc/man/certfleetd.conf.5
EXTRA_DIST += doc/architecture.md README.md scripts/quickstart
