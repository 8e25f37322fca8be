# tests/integration: black-box tests of certfleetd and certfleet against a
# throwaway PostgreSQL, run by tests/run (not by `make check`, which holds
# the unit tests only).
EXTRA_DIST += \
	tests/run \
	tests/lib/packages.txt \
	tests/integration/runner.py \
	tests/integration/harness.py \
	tests/integration/certs.py \
	tests/integration/test_account.py \
	tests/integration/test_cli.py \
	tests/integration/test_config.py \
	tests/integration/test_describe_get_delete.py \
	tests/integration/test_import.py \
	tests/integration/test_list.py \
	tests/integration/test_protocol.py \
	tests/integration/test_resilience.py \
	tests/integration/test_tags.py \
	.ci/run
EXTRA_DIST += tests/integration/test_metrics.py
EXTRA_DIST += tests/integration/test_request_flow.py
EXTRA_DIST += tests/integration/test_issuance.py
EXTRA_DIST += tests/integration/test_renewal.py
EXTRA_DIST += tests/integration/test_expiry.py
EXTRA_DIST += tests/integration/test_bindings.py
EXTRA_DIST += tests/integration/sni_server.py
EXTRA_DIST += tests/integration/test_audit.py
EXTRA_DIST += tests/integration/test_options.py
