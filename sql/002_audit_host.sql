-- 002: which daemon recorded an audit event. A fleet shares one database,
-- so "who did what" also needs "where".
ALTER TABLE audit_events ADD COLUMN host_name text;
CREATE INDEX audit_events_caller_idx ON audit_events (caller_user, event_time);
