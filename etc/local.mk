# etc: the documented example configuration. It is the output of
# src/daemon/certfleetd-config-example, so the config table and the example
# cannot drift apart (tests/unit/test_config.c compares them).
examplesdir = $(docdir)/examples
dist_examples_DATA = etc/certfleetd.conf
dist_examples_DATA += etc/prometheus/certfleet-alerts.yml
