-- 004_renewal.sql: the renewal scheduler and expiry events (issue 4).
--
-- The scan reads only what is due: every certificate a daemon could act on
-- carries the time it next needs attention in an indexed column, and
-- everything else (leased work, backoff, a validation waiting for approval)
-- is expressed by moving that time, never by a condition the scan would
-- have to read rows to test.

ALTER TABLE certificates
	-- Where a renewal in progress stands; NULL: none. Stored so that a
	-- daemon taking over an expired lease resumes where the last stopped.
	ADD COLUMN renewal_state text CHECK (renewal_state IN ('CHECKING',
	    'ISSUING', 'DEPLOYING', 'VERIFYING', 'VALIDATING')),
	-- When the current state is overdue (the reaper's clock).
	ADD COLUMN renewal_deadline timestamptz,
	-- The version a renewal in progress produces.
	ADD COLUMN renewal_version integer,
	-- Free text behind renewal_status_reason, and what last went wrong.
	ADD COLUMN renewal_detail text,
	-- next_due_at needs (re)computing: set by triggers when the validity
	-- changes or a binding comes or goes, cleared by the next tick, which
	-- knows [renewal] renew_before.
	ADD COLUMN renewal_due_dirty boolean NOT NULL DEFAULT false,
	-- When the next expiry event is due: the window's start, then one
	-- interval after each event, never past NotAfter (when the row turns
	-- EXPIRED). NULL for certificates that are not ISSUED.
	ADD COLUMN next_expiry_event_at timestamptz;

-- The scan of renewals: certificates whose due time has passed.
-- (certificates_renewal_due_idx from 001 serves it.)
CREATE INDEX certificates_due_dirty_idx ON certificates (id)
	WHERE renewal_due_dirty;
-- Renewals in progress, for the per-host deployment step.
CREATE INDEX certificates_renewal_state_idx ON certificates (renewal_state)
	WHERE renewal_state IS NOT NULL;
-- Expiry events and the EXPIRED transition.
CREATE INDEX certificates_expiry_event_idx ON certificates
	(next_expiry_event_at) WHERE status = 'ISSUED';

-- The start of the expiry window of a certificate.
CREATE FUNCTION expiry_window_start(not_after timestamptz)
	RETURNS timestamptz LANGUAGE sql STABLE
	RETURN not_after - (SELECT days_before_expiry FROM account_config)
	    * interval '1 day';

CREATE FUNCTION certificates_renewal_mark() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.not_after IS DISTINCT FROM OLD.not_after
	    OR NEW.status IS DISTINCT FROM OLD.status THEN
		IF NEW.type = 'AMAZON_ISSUED' THEN
			NEW.renewal_due_dirty := true;
		END IF;
		NEW.next_expiry_event_at := CASE WHEN NEW.status = 'ISSUED'
		    AND NEW.not_after IS NOT NULL
		    THEN expiry_window_start(NEW.not_after) END;
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER certificates_renewal_mark BEFORE UPDATE OF not_after, status
	ON certificates FOR EACH ROW EXECUTE FUNCTION certificates_renewal_mark();

CREATE FUNCTION certificates_expiry_init() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.status = 'ISSUED' AND NEW.not_after IS NOT NULL THEN
		NEW.next_expiry_event_at := expiry_window_start(NEW.not_after);
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER certificates_expiry_init BEFORE INSERT ON certificates
	FOR EACH ROW EXECUTE FUNCTION certificates_expiry_init();

CREATE FUNCTION bindings_renewal_mark() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	UPDATE certificates SET renewal_due_dirty = true
	    WHERE id = CASE TG_OP WHEN 'DELETE' THEN OLD.certificate_id
		ELSE NEW.certificate_id END
	    AND type = 'AMAZON_ISSUED' AND NOT renewal_due_dirty;
	RETURN NULL;
END $$;
CREATE TRIGGER bindings_renewal_mark AFTER INSERT OR DELETE ON bindings
	FOR EACH ROW EXECUTE FUNCTION bindings_renewal_mark();

-- DaysBeforeExpiry changed: every window moves (expiry_events still keeps
-- each certificate to one event per interval).
CREATE FUNCTION account_config_expiry_mark() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.days_before_expiry IS DISTINCT FROM OLD.days_before_expiry THEN
		UPDATE certificates SET next_expiry_event_at =
		    not_after - NEW.days_before_expiry * interval '1 day'
		    WHERE status = 'ISSUED' AND not_after IS NOT NULL;
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER account_config_expiry_mark AFTER UPDATE ON account_config
	FOR EACH ROW EXECUTE FUNCTION account_config_expiry_mark();

-- Certificates already stored.
UPDATE certificates SET next_expiry_event_at =
    expiry_window_start(not_after)
    WHERE status = 'ISSUED' AND not_after IS NOT NULL;
UPDATE certificates SET renewal_due_dirty = true
    WHERE type = 'AMAZON_ISSUED' AND status = 'ISSUED';
