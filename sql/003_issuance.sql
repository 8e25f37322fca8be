-- 003_issuance.sql: requested certificates, email validation and the mail
-- queue (issue 3).
--
-- Contact discovery runs per name: domain_validations rows carry its state
-- and a lease, so several daemons sharing the database never look up (and
-- mail) the same name twice. Validation emails are queued in mail_outbox
-- without a body: the approval token is never stored, only a nonce from
-- which the daemon derives it with a key held outside the database
-- (HMAC-SHA-256 keyed by the master key), and approval_tokens keeps only
-- the token's SHA-256.

ALTER TABLE certificates ADD COLUMN managed_by text
	CHECK (managed_by IN ('CLOUDFRONT'));

ALTER TABLE domain_validations
	-- Order of the name in the request (DomainName first).
	ADD COLUMN position integer NOT NULL DEFAULT 1,
	-- The ValidationDomain came from DomainValidationOptions (or a
	-- resend): admin addresses are formed on it, with no MX walk.
	ADD COLUMN validation_domain_given boolean NOT NULL DEFAULT false,
	ADD COLUMN discovery_state text NOT NULL DEFAULT 'PENDING'
		CHECK (discovery_state IN ('PENDING', 'DONE', 'FAILED')),
	ADD COLUMN discovery_attempts integer NOT NULL DEFAULT 0,
	ADD COLUMN discovery_next_at timestamptz NOT NULL DEFAULT now(),
	ADD COLUMN discovery_lease_owner text,
	ADD COLUMN discovery_lease_expires_at timestamptz,
	ADD COLUMN discovery_error text;
CREATE INDEX domain_validations_discovery_idx
	ON domain_validations (discovery_next_at)
	WHERE discovery_state = 'PENDING';

-- A token approves one name of one request.
ALTER TABLE approval_tokens ADD COLUMN domain_name text;

ALTER TABLE mail_outbox
	ALTER COLUMN body DROP NOT NULL,
	ADD COLUMN domain_name text,
	ADD COLUMN validation_domain text,
	-- 16 random bytes; the token is HMAC(token key, nonce). Cleared once
	-- the message is sent or given up.
	ADD COLUMN token_nonce bytea CHECK (length(token_nonce) = 16),
	ADD CONSTRAINT mail_outbox_body_check CHECK (body IS NOT NULL OR
	    kind = 'VALIDATION');
