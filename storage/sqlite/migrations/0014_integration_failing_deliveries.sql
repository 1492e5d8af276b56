-- Since when every delivery to an integration's endpoint has failed, and
-- how many attempts failed since then: an endpoint failing for days is
-- disabled (DispatcherOptions::auto_disable_after). NULL and 0 once a
-- delivery succeeds.
ALTER TABLE integrations ADD COLUMN failing_since INTEGER;
ALTER TABLE integrations ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT 0;
