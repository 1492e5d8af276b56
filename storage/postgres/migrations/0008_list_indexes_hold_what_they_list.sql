-- ats:no-transaction
-- As SQLite migration 18: the lists by job and by integration index only
-- the events they can list, so an event without a job or an integration
-- writes no entry in those indexes.
--
-- Each index is built CONCURRENTLY under a new name, then swapped in for
-- the old one, so that replicas still on the previous version go on writing
-- events while it is built. Every statement may run again after a failure:
-- a build that failed midway leaves an invalid index, dropped by the next
-- run's first statement.
DROP INDEX CONCURRENTLY IF EXISTS events_by_job_listed;
CREATE INDEX CONCURRENTLY events_by_job_listed
  ON events (account_id, job_id, seq) WHERE job_id <> '';
DROP INDEX CONCURRENTLY IF EXISTS events_by_job;
ALTER INDEX events_by_job_listed RENAME TO events_by_job;

DROP INDEX CONCURRENTLY IF EXISTS events_by_integration_listed;
CREATE INDEX CONCURRENTLY events_by_integration_listed
  ON events (account_id, integration_id, seq) WHERE integration_id IS NOT NULL;
DROP INDEX CONCURRENTLY IF EXISTS events_by_integration;
ALTER INDEX events_by_integration_listed RENAME TO events_by_integration;
