-- ats:no-transaction
-- As SQLite migration 19: the list by state holds no SENDING event, which
-- events_leased holds already, so a claim and the settling of its attempt
-- each change one entry of the index instead of moving one.
--
-- Built CONCURRENTLY under a new name, then swapped in for the old index,
-- as migration 8 does, so that replicas still on the previous version go on
-- writing events meanwhile; every statement may run again after a failure.
DROP INDEX CONCURRENTLY IF EXISTS events_by_state_listed;
CREATE INDEX CONCURRENTLY events_by_state_listed
  ON events (account_id, state, seq) WHERE state <> 3;
DROP INDEX CONCURRENTLY IF EXISTS events_by_state;
ALTER INDEX events_by_state_listed RENAME TO events_by_state;
