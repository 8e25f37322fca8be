-- 005_check_results.sql: when the renewal checks last passed, for the
-- metrics (issue 5). The columns of 001 keep only the latest result
-- (probed_at, renewal_checked_at), which moves on failures too; staleness
-- alerts need the time of the last success, and it must come from the
-- database so that it survives restarts and covers the whole fleet.

-- The last probe that found the binding's endpoint serving the
-- certificate (every address, the expected fingerprint).
ALTER TABLE bindings ADD COLUMN probe_succeeded_at timestamptz;

-- The last renewal check in which the name passed (its DNS check, and the
-- probe of an endpoint it names).
ALTER TABLE domain_validations ADD COLUMN renewal_passed_at timestamptz;
