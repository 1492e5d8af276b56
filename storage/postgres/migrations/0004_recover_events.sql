-- RecoverEvents, as SQLite's migration 13: bulk operations of a second kind
-- (ats.v1.BulkOperationKind: 1 trigger, 2 recover), items keyed by their
-- place in the operation's order (the candidate id for a trigger, the
-- event's death time and seq for a recover) with outcome 5 (REQUEUED), and
-- an index of each integration's DEAD events by death time.
ALTER TABLE bulk_operations
  ADD COLUMN kind integer NOT NULL DEFAULT 1 CHECK (kind IN (1, 2));

ALTER TABLE bulk_operation_items ADD COLUMN item_key text COLLATE "C";
UPDATE bulk_operation_items SET item_key = candidate_id;
ALTER TABLE bulk_operation_items
  ALTER COLUMN item_key SET NOT NULL,
  DROP CONSTRAINT bulk_operation_items_pkey,
  ADD PRIMARY KEY (operation_id, item_key),
  DROP CONSTRAINT bulk_operation_items_outcome_check,
  ADD CONSTRAINT bulk_operation_items_outcome_check
    CHECK (outcome BETWEEN 1 AND 5);

CREATE INDEX events_dead_by_integration
  ON events (account_id, integration_id, update_time, seq) WHERE state = 8;
