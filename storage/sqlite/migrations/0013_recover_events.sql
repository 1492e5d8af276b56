-- RecoverEvents: bulk operations of a second kind, which re-queue an
-- integration's DEAD events of a time window instead of creating events.
--
-- An operation says its kind (ats.v1.BulkOperationKind: 1 trigger, 2
-- recover); its spec is then a serialized ats.v1.RecoverEventsRequest.
ALTER TABLE bulk_operations
  ADD COLUMN kind INTEGER NOT NULL DEFAULT 1 CHECK (kind IN (1, 2));

-- A recover has one item per event, and a candidate may have several, so
-- items are keyed by their place in the operation's order, item_key: the
-- candidate id for a trigger (as before), the event's death time and seq
-- for a recover. Outcome 5 is REQUEUED.
CREATE TABLE bulk_operation_items_keyed (
  account_id   TEXT NOT NULL,
  operation_id TEXT NOT NULL REFERENCES bulk_operations (id) ON DELETE CASCADE,
  item_key     TEXT NOT NULL,
  candidate_id TEXT NOT NULL,
  -- ats.v1.BulkItemOutcome; 4 (PENDING) until handled.
  outcome      INTEGER NOT NULL CHECK (outcome BETWEEN 1 AND 5),
  event_id     TEXT NOT NULL,
  reason       TEXT NOT NULL,
  PRIMARY KEY (operation_id, item_key)
) STRICT, WITHOUT ROWID;

INSERT INTO bulk_operation_items_keyed (
    account_id, operation_id, item_key, candidate_id, outcome, event_id,
    reason)
  SELECT account_id, operation_id, candidate_id, candidate_id, outcome,
         event_id, reason
  FROM bulk_operation_items;

DROP TABLE bulk_operation_items;
ALTER TABLE bulk_operation_items_keyed RENAME TO bulk_operation_items;

-- A recover walks an integration's DEAD events by death time (update_time),
-- then seq, which ends every index. Only DEAD events are in it, so it stays
-- small, and an event enters or leaves it only as it dies or is retried.
CREATE INDEX events_dead_by_integration
  ON events (account_id, integration_id, update_time) WHERE state = 8;
