-- As SQLite migration 18: the lists by job and by integration index only
-- the events they can list, so an event without a job or an integration
-- writes no entry in those indexes.
DROP INDEX events_by_job;
CREATE INDEX events_by_job ON events (account_id, job_id, seq)
  WHERE job_id <> '';
DROP INDEX events_by_integration;
CREATE INDEX events_by_integration ON events (account_id, integration_id, seq)
  WHERE integration_id IS NOT NULL;
