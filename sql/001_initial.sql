-- 001_initial.sql: certfleet's schema for the whole product.
--
-- Applied by store_migrate() inside one transaction; do not add BEGIN/COMMIT.
-- Migrations are append-only: never edit a file that has been released, add
-- the next numbered file instead (and list it in sql/local.mk).
--
-- Conventions: enums are text with CHECK constraints spelled as ACM spells
-- them; times are timestamptz (the code passes epoch seconds); secrets are
-- stored sealed (bytea) or hashed, never in plaintext. Tables whose rows
-- belong to a certificate cascade on its deletion, except bindings, which
-- make a certificate "in use" and must be removed first.

-- Epoch seconds, rounded down, for the C side. SQL-language and simple, so
-- the planner inlines it.
CREATE FUNCTION epoch_s(t timestamptz) RETURNS bigint
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	RETURN floor(extract(epoch FROM t))::bigint;

-- The status a client sees: an issued certificate past its NotAfter is
-- EXPIRED even before a background job has written that down.
CREATE FUNCTION effective_status(status text, not_after timestamptz)
	RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
	RETURN CASE WHEN status = 'ISSUED' AND not_after <= now()
		THEN 'EXPIRED' ELSE status END;

-- ---------------------------------------------------------------------------
-- Certificates: one row per ARN. Columns that DescribeCertificate and
-- ListCertificates show are kept here (copied from the current version when
-- there is one) so each of those is a single query.
CREATE TABLE certificates (
	-- Identity, never reused, in creation order: also the keyset position
	-- for ListCertificates paging (the "seq" in NextToken).
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	arn text NOT NULL UNIQUE,
	type text NOT NULL
		CHECK (type IN ('IMPORTED', 'AMAZON_ISSUED', 'PRIVATE')),
	status text NOT NULL
		CHECK (status IN ('PENDING_VALIDATION', 'ISSUED', 'INACTIVE',
		    'EXPIRED', 'VALIDATION_TIMED_OUT', 'REVOKED', 'FAILED')),
	failure_reason text CHECK (failure_reason IN ('NO_AVAILABLE_CONTACTS',
	    'ADDITIONAL_VERIFICATION_REQUIRED', 'DOMAIN_NOT_ALLOWED',
	    'INVALID_PUBLIC_DOMAIN', 'DOMAIN_VALIDATION_DENIED', 'CAA_ERROR',
	    'PCA_LIMIT_EXCEEDED', 'PCA_INVALID_ARN', 'PCA_INVALID_STATE',
	    'PCA_REQUEST_FAILED', 'PCA_NAME_CONSTRAINTS_VALIDATION',
	    'PCA_RESOURCE_NOT_FOUND', 'PCA_INVALID_ARGS', 'PCA_INVALID_DURATION',
	    'PCA_ACCESS_DENIED', 'SLR_NOT_FOUND', 'OTHER')),
	-- Free text detail for operators behind failure_reason.
	failure_detail text,
	renewal_eligibility text NOT NULL DEFAULT 'INELIGIBLE'
		CHECK (renewal_eligibility IN ('ELIGIBLE', 'INELIGIBLE')),
	-- Requested (or, for imports, found) names; known before issuance.
	domain_name text NOT NULL,
	names text[] NOT NULL DEFAULT '{}',
	key_algorithm text NOT NULL
		CHECK (key_algorithm IN ('RSA_1024', 'RSA_2048', 'RSA_3072',
		    'RSA_4096', 'EC_prime256v1', 'EC_secp384r1', 'EC_secp521r1')),
	-- From the current version; empty before issuance.
	key_usages text[] NOT NULL DEFAULT '{}',
	extended_key_usages text[] NOT NULL DEFAULT '{}',
	not_before timestamptz,
	not_after timestamptz,
	-- NULL until the first version exists (a pending request).
	current_version integer CHECK (current_version >= 1),
	validation_method text
		CHECK (validation_method IN ('EMAIL', 'DNS', 'HTTP')),
	ct_logging text NOT NULL DEFAULT 'ENABLED'
		CHECK (ct_logging IN ('ENABLED', 'DISABLED')),
	export_option text NOT NULL DEFAULT 'DISABLED'
		CHECK (export_option IN ('ENABLED', 'DISABLED')),
	exported boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL DEFAULT now(),
	imported_at timestamptz,
	issued_at timestamptz,
	revoked_at timestamptz,
	revocation_reason text CHECK (revocation_reason IN ('UNSPECIFIED',
	    'KEY_COMPROMISE', 'CA_COMPROMISE', 'AFFILIATION_CHANGED',
	    'SUPERCEDED', 'SUPERSEDED', 'CESSATION_OF_OPERATION',
	    'CERTIFICATE_HOLD', 'REMOVE_FROM_CRL', 'PRIVILEGE_WITHDRAWN',
	    'A_A_COMPROMISE')),
	updated_at timestamptz NOT NULL DEFAULT now(),

	-- Managed renewal. The scheduler picks rows whose next_due_at has
	-- passed, takes a lease (owner + expiry) so that one daemon works on a
	-- certificate at a time, and backs off after failures.
	next_due_at timestamptz,
	renewal_status text CHECK (renewal_status IN ('PENDING_AUTO_RENEWAL',
	    'PENDING_VALIDATION', 'SUCCESS', 'FAILED')),
	renewal_status_reason text CHECK (renewal_status_reason IN (
	    'NO_AVAILABLE_CONTACTS', 'ADDITIONAL_VERIFICATION_REQUIRED',
	    'DOMAIN_NOT_ALLOWED', 'INVALID_PUBLIC_DOMAIN',
	    'DOMAIN_VALIDATION_DENIED', 'CAA_ERROR', 'PCA_LIMIT_EXCEEDED',
	    'PCA_INVALID_ARN', 'PCA_INVALID_STATE', 'PCA_REQUEST_FAILED',
	    'PCA_NAME_CONSTRAINTS_VALIDATION', 'PCA_RESOURCE_NOT_FOUND',
	    'PCA_INVALID_ARGS', 'PCA_INVALID_DURATION', 'PCA_ACCESS_DENIED',
	    'SLR_NOT_FOUND', 'OTHER')),
	renewal_updated_at timestamptz,
	lease_owner text,
	lease_expires_at timestamptz,
	backoff_until timestamptz,
	failure_count integer NOT NULL DEFAULT 0 CHECK (failure_count >= 0),

	CHECK (failure_reason IS NULL OR status = 'FAILED'),
	CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL))
);

-- What the renewal scan can pick up; small, because most rows are imported
-- or not yet issued.
CREATE INDEX certificates_renewal_due_idx ON certificates (next_due_at)
	WHERE type = 'AMAZON_ISSUED' AND status = 'ISSUED';
CREATE INDEX certificates_not_after_idx ON certificates (not_after);
CREATE INDEX certificates_status_idx ON certificates (status);
-- Counting imported certificates against the limit.
CREATE INDEX certificates_type_idx ON certificates (type);

-- Every version of a certificate: each issuance, renewal or (re-)import.
-- The private key is sealed by the daemon before it reaches the database.
CREATE TABLE certificate_versions (
	certificate_id bigint NOT NULL
		REFERENCES certificates (id) ON DELETE CASCADE,
	version integer NOT NULL CHECK (version >= 1),
	source text NOT NULL
		CHECK (source IN ('IMPORT', 'ISSUE', 'RENEWAL')),
	certificate_pem text NOT NULL,
	chain_pem text,
	sealed_key bytea NOT NULL,
	serial text NOT NULL,
	subject text NOT NULL,
	issuer text NOT NULL,
	domain_name text NOT NULL,
	names text[] NOT NULL DEFAULT '{}',
	not_before timestamptz NOT NULL,
	not_after timestamptz NOT NULL,
	key_algorithm text NOT NULL,
	signature_algorithm text NOT NULL,
	key_usages text[] NOT NULL DEFAULT '{}',
	extended_key_usages text[] NOT NULL DEFAULT '{}',
	fingerprint_sha256 text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (certificate_id, version)
);
CREATE INDEX certificate_versions_fingerprint_idx
	ON certificate_versions (fingerprint_sha256);

-- The current-version pointer. Deferrable so that a certificate and its
-- first version can be written in either order within a transaction.
ALTER TABLE certificates ADD CONSTRAINT certificates_current_version_fkey
	FOREIGN KEY (id, current_version)
	REFERENCES certificate_versions (certificate_id, version)
	DEFERRABLE INITIALLY DEFERRED;

-- The current names, one row each, for look-ups by name (validation,
-- search). Kept in step with certificates.names.
CREATE TABLE certificate_names (
	certificate_id bigint NOT NULL
		REFERENCES certificates (id) ON DELETE CASCADE,
	position integer NOT NULL,
	name text NOT NULL,
	PRIMARY KEY (certificate_id, position)
);
CREATE INDEX certificate_names_name_idx ON certificate_names (lower(name));

-- Tags: keys are case-sensitive and sort bytewise; a tag may have no value
-- (NULL), which is not the same as the empty string.
CREATE TABLE certificate_tags (
	certificate_id bigint NOT NULL
		REFERENCES certificates (id) ON DELETE CASCADE,
	key text COLLATE "C" NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
	value text CHECK (length(value) <= 256),
	PRIMARY KEY (certificate_id, key)
);

-- ---------------------------------------------------------------------------
-- Bindings: a certificate deployed to files on a fleet host, with the
-- action that makes the service pick it up and the endpoint that proves it.
-- While a binding exists the certificate is "in use" and cannot be deleted.
CREATE TABLE bindings (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	arn text NOT NULL UNIQUE,
	certificate_id bigint NOT NULL
		REFERENCES certificates (id) ON DELETE RESTRICT,
	host_name text NOT NULL,
	endpoint_address text,
	endpoint_port integer CHECK (endpoint_port BETWEEN 1 AND 65535),
	server_name text,
	-- [{"path": ..., "content": "CERTIFICATE|CHAIN|FULLCHAIN|KEY", "mode":
	-- ..., "owner": ..., "group": ...}, ...]
	file_targets jsonb NOT NULL DEFAULT '[]',
	-- {"command": [...]} or {"systemd_unit": ..., "action": ...}; NULL: none
	reload jsonb,
	-- Deployment state of the last attempt.
	deployed_version integer,
	deploy_status text NOT NULL DEFAULT 'PENDING'
		CHECK (deploy_status IN ('PENDING', 'DEPLOYED', 'FAILED')),
	deploy_error text,
	deployed_at timestamptz,
	-- What the endpoint served when last probed.
	probed_at timestamptz,
	probe_fingerprint_sha256 text,
	probe_error text,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CHECK (jsonb_typeof(file_targets) = 'array')
);
CREATE INDEX bindings_certificate_idx ON bindings (certificate_id);
CREATE INDEX bindings_host_idx ON bindings (host_name);

-- ---------------------------------------------------------------------------
-- Email domain validation, one row per certificate and name. The renewal_*
-- columns hold the last automatic re-check of the name during renewal.
CREATE TABLE domain_validations (
	certificate_id bigint NOT NULL
		REFERENCES certificates (id) ON DELETE CASCADE,
	domain_name text NOT NULL,
	validation_domain text NOT NULL,
	validation_method text NOT NULL DEFAULT 'EMAIL'
		CHECK (validation_method IN ('EMAIL', 'DNS', 'HTTP')),
	status text NOT NULL DEFAULT 'PENDING_VALIDATION'
		CHECK (status IN ('PENDING_VALIDATION', 'SUCCESS', 'FAILED')),
	emails text[] NOT NULL DEFAULT '{}',
	failure_reason text,
	sent_at timestamptz,
	send_count integer NOT NULL DEFAULT 0,
	validated_at timestamptz,
	renewal_status text
		CHECK (renewal_status IN ('PENDING_VALIDATION', 'SUCCESS', 'FAILED')),
	renewal_checked_at timestamptz,
	renewal_detail text,
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (certificate_id, domain_name)
);
CREATE INDEX domain_validations_pending_idx ON domain_validations (certificate_id)
	WHERE status = 'PENDING_VALIDATION';

-- Approval links sent by email. Only a hash of the token is stored.
CREATE TABLE approval_tokens (
	token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
	certificate_id bigint NOT NULL
		REFERENCES certificates (id) ON DELETE CASCADE,
	validation_domain text NOT NULL,
	purpose text NOT NULL DEFAULT 'ISSUE'
		CHECK (purpose IN ('ISSUE', 'RENEWAL')),
	recipients text[] NOT NULL DEFAULT '{}',
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	used_at timestamptz,
	used_by text
);
CREATE INDEX approval_tokens_certificate_idx ON approval_tokens (certificate_id);
CREATE INDEX approval_tokens_expires_idx ON approval_tokens (expires_at);

-- ---------------------------------------------------------------------------
-- Outgoing mail, written in the same transaction as the change that causes
-- it and delivered by the mail runner with retries.
CREATE TABLE mail_outbox (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	message_id text NOT NULL UNIQUE,
	certificate_id bigint REFERENCES certificates (id) ON DELETE SET NULL,
	kind text NOT NULL
		CHECK (kind IN ('VALIDATION', 'EXPIRY', 'RENEWAL', 'OTHER')),
	sender text NOT NULL,
	recipients text[] NOT NULL CHECK (cardinality(recipients) >= 1),
	-- The whole RFC 5322 message, headers included.
	body text NOT NULL,
	state text NOT NULL DEFAULT 'PENDING'
		CHECK (state IN ('PENDING', 'SENDING', 'SENT', 'FAILED')),
	attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	lease_owner text,
	lease_expires_at timestamptz,
	last_error text,
	created_at timestamptz NOT NULL DEFAULT now(),
	sent_at timestamptz
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at)
	WHERE state IN ('PENDING', 'SENDING');
CREATE INDEX mail_outbox_certificate_idx ON mail_outbox (certificate_id);

-- ---------------------------------------------------------------------------
-- Issuance intents: written before a certificate is signed, so that a
-- daemon that crashes between signing and recording finishes (or abandons)
-- the same issuance instead of signing twice.
CREATE TABLE issuance_intents (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	certificate_id bigint NOT NULL
		REFERENCES certificates (id) ON DELETE CASCADE,
	purpose text NOT NULL CHECK (purpose IN ('ISSUE', 'RENEWAL')),
	-- The version this issuance will become.
	version integer NOT NULL CHECK (version >= 1),
	state text NOT NULL DEFAULT 'PREPARED'
		CHECK (state IN ('PREPARED', 'SIGNED', 'COMMITTED', 'ABANDONED')),
	serial text NOT NULL UNIQUE,
	sealed_key bytea,
	csr_pem text,
	certificate_pem text,
	chain_pem text,
	lease_owner text,
	lease_expires_at timestamptz,
	last_error text,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (certificate_id, version)
);
CREATE INDEX issuance_intents_open_idx ON issuance_intents (created_at)
	WHERE state IN ('PREPARED', 'SIGNED');

-- certfleet's own certificate authorities (one active at a time; old ones
-- kept to build chains for certificates they issued).
CREATE TABLE certificate_authorities (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name text NOT NULL UNIQUE,
	certificate_pem text NOT NULL,
	chain_pem text,
	sealed_key bytea NOT NULL,
	fingerprint_sha256 text NOT NULL UNIQUE,
	not_before timestamptz NOT NULL,
	not_after timestamptz NOT NULL,
	active boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX certificate_authorities_one_active_idx
	ON certificate_authorities ((true)) WHERE active;

-- ---------------------------------------------------------------------------
-- Idempotency tokens of requests (RequestCertificate,
-- PutAccountConfiguration, ...): the same token within its lifetime returns
-- the first result; with different parameters it is a conflict.
CREATE TABLE request_tokens (
	action text NOT NULL,
	token text NOT NULL,
	-- Digest (or canonical text) of the parameters that matter.
	request_hash text NOT NULL,
	arn text,
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	PRIMARY KEY (action, token)
);
CREATE INDEX request_tokens_expires_idx ON request_tokens (expires_at);

-- The account's configuration: exactly one row.
CREATE TABLE account_config (
	id boolean PRIMARY KEY DEFAULT true CHECK (id),
	days_before_expiry integer NOT NULL DEFAULT 45
		CHECK (days_before_expiry >= 1),
	updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO account_config DEFAULT VALUES;

-- Expiry events: one per certificate per day inside the window.
CREATE TABLE expiry_events (
	certificate_id bigint PRIMARY KEY
		REFERENCES certificates (id) ON DELETE CASCADE,
	last_notified_on date NOT NULL,
	last_notified_at timestamptz NOT NULL DEFAULT now(),
	-- The NotAfter the last event was about; a renewal resets the series.
	not_after timestamptz NOT NULL
);

-- ---------------------------------------------------------------------------
-- Audit events: who did what through the API (and what the daemon did on
-- its own). Append-only; the retention job deletes by event_time in
-- batches, hence the index. No foreign key: events outlive certificates.
CREATE TABLE audit_events (
	event_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	event_time timestamptz NOT NULL DEFAULT now(),
	event_name text NOT NULL,
	read_only boolean NOT NULL,
	caller_uid bigint,
	caller_gid bigint,
	caller_pid bigint,
	caller_user text,
	caller_process text,
	-- "api", "scheduler", "approval", "cli", ...
	source text NOT NULL,
	user_agent text,
	request_params jsonb,
	response_elements jsonb,
	error_code text,
	error_message text,
	request_id text,
	certificate_arn text
);
CREATE INDEX audit_events_time_idx ON audit_events (event_time);
CREATE INDEX audit_events_certificate_idx
	ON audit_events (certificate_arn, event_time) WHERE certificate_arn IS NOT NULL;
CREATE INDEX audit_events_name_idx ON audit_events (event_name, event_time);
