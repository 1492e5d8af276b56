-- The lists by job and by integration index only the events they can list.
-- An event without a job (a manual or bulk trigger outside one, a
-- notification) is never listed by job, nor one without an integration (a
-- webhook trigger, a notification) by integration; each still paid for an
-- entry in both indexes when created. The list by job says `job_id <> ''`
-- to use its index; `integration_id = ?` already implies NOT NULL.
DROP INDEX events_by_job;
CREATE INDEX events_by_job ON events (account_id, job_id) WHERE job_id <> '';
DROP INDEX events_by_integration;
CREATE INDEX events_by_integration ON events (account_id, integration_id)
  WHERE integration_id IS NOT NULL;
