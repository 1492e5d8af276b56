-- Bulk manual triggers: one operation per BulkTriggerIntegration call, and
-- one item per distinct candidate it selected. The selection is resolved
-- into items (outcome PENDING) before any event is created, so progress has
-- a fixed total and a restart resumes from the items. Times are Unix
-- microseconds (UTC).

CREATE TABLE bulk_operations (
  account_id     TEXT NOT NULL REFERENCES accounts (id),
  id             TEXT PRIMARY KEY,
  integration_id TEXT NOT NULL REFERENCES integrations (id),
  -- Serialized ats.v1.BulkTriggerIntegrationRequest as accepted, without
  -- request_id and without an explicit list's names (those are the items).
  spec           BLOB NOT NULL,
  -- ats.v1.BulkOperationState.
  state          INTEGER NOT NULL CHECK (state BETWEEN 1 AND 4),
  state_reason   TEXT NOT NULL,
  total_count    INTEGER NOT NULL,
  created_count  INTEGER NOT NULL,
  skipped_count  INTEGER NOT NULL,
  failed_count   INTEGER NOT NULL,
  -- Id of the API key that started it.
  created_by     TEXT NOT NULL,
  -- 1 once every selected candidate has its item.
  resolved       INTEGER NOT NULL CHECK (resolved IN (0, 1)),
  -- The last candidate id resolved into an item, while resolving.
  resolve_cursor TEXT NOT NULL,
  -- The last candidate id whose item was handled (items go in id order).
  process_cursor TEXT NOT NULL,
  create_time    INTEGER NOT NULL,
  update_time    INTEGER NOT NULL,
  end_time       INTEGER
) STRICT;

CREATE INDEX bulk_operations_newest_first
  ON bulk_operations (account_id, create_time DESC, id DESC);
-- What the worker resumes after a restart.
CREATE INDEX bulk_operations_running ON bulk_operations (create_time)
  WHERE state = 1;

-- The primary key makes "one event per candidate per operation" a
-- constraint: an item and its event are written in one transaction.
CREATE TABLE bulk_operation_items (
  account_id   TEXT NOT NULL,
  operation_id TEXT NOT NULL REFERENCES bulk_operations (id) ON DELETE CASCADE,
  candidate_id TEXT NOT NULL,
  -- ats.v1.BulkItemOutcome; 4 (PENDING) until handled.
  outcome      INTEGER NOT NULL CHECK (outcome BETWEEN 1 AND 4),
  event_id     TEXT NOT NULL,
  reason       TEXT NOT NULL,
  PRIMARY KEY (operation_id, candidate_id)
) STRICT, WITHOUT ROWID;

-- The "whole candidate database" selection walks an account's candidates
-- in id order.
CREATE INDEX candidates_by_id ON candidates (account_id, id);
