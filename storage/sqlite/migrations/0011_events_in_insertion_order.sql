-- Events are listed in insertion order, by an integer sequence that is the
-- table's own key, instead of by (create_time, id). Every index entry then
-- ends in that 8-byte integer, which SQLite keeps in every index anyway,
-- rather than in a time and a 16-character id; the lists' indexes shrink to
-- their filter columns, an insert lands at the end of each index range, and
-- the table key is no longer a text B-tree of its own beside the table.
-- Creating an event writes about a third fewer bytes. The public id stays
-- as it was, unique, and is what every call names an event by.
--
-- Rows are copied in the order they were listed in, so lists and the
-- dispatcher's ties keep their order across the upgrade.

CREATE TABLE events_in_order (
  seq               INTEGER PRIMARY KEY,
  account_id        TEXT NOT NULL REFERENCES accounts (id),
  id                TEXT NOT NULL UNIQUE,
  -- ats.v1.EventState.
  state             INTEGER NOT NULL CHECK (state BETWEEN 1 AND 10),
  state_reason      TEXT NOT NULL,
  -- NULL for webhook triggers.
  integration_id    TEXT REFERENCES integrations (id),
  webhook_uri       TEXT NOT NULL,
  candidate_id      TEXT NOT NULL,
  -- '' for a manual trigger without a job.
  job_id            TEXT NOT NULL,
  -- ats.v1.EventSource.
  source            INTEGER NOT NULL,
  trigger_id        TEXT NOT NULL,
  stage_id          TEXT NOT NULL,
  -- The application's entry_count when the trigger fired: a delayed event
  -- whose candidate has entered another stage since is cancelled.
  stage_entry       INTEGER NOT NULL,
  bulk_operation_id TEXT NOT NULL,
  -- Id of the API key that caused the event.
  triggered_by      TEXT NOT NULL,
  -- Serialized ats.v1.PartnerEvent: exactly what is delivered, fixed when
  -- the event is created.
  payload           BLOB NOT NULL,
  create_time       INTEGER NOT NULL,
  due_time          INTEGER NOT NULL,
  update_time       INTEGER NOT NULL,
  attempt_count     INTEGER NOT NULL,
  -- Set while a dispatcher holds the event (state SENDING); an expired lease
  -- makes it claimable again.
  lease_expire_time INTEGER,
  -- Serialized ats.v1.PartnerResult, once the partner reported one.
  result            BLOB,
  -- See storage/delivery_destination.h.
  destination       TEXT NOT NULL
) STRICT;

INSERT INTO events_in_order (
    account_id, id, state, state_reason, integration_id, webhook_uri,
    candidate_id, job_id, source, trigger_id, stage_id, stage_entry,
    bulk_operation_id, triggered_by, payload, create_time, due_time,
    update_time, attempt_count, lease_expire_time, result, destination)
  SELECT account_id, id, state, state_reason, integration_id, webhook_uri,
         candidate_id, job_id, source, trigger_id, stage_id, stage_entry,
         bulk_operation_id, triggered_by, payload, create_time, due_time,
         update_time, attempt_count, lease_expire_time, result, destination
  FROM events ORDER BY create_time, id;

DROP TABLE events;
ALTER TABLE events_in_order RENAME TO events;

-- The dispatcher's queues, as in migrations 6 and 8.
CREATE INDEX events_to_dispatch ON events (destination, due_time, state)
  WHERE state IN (1, 2, 5);
CREATE INDEX events_leased ON events (lease_expire_time) WHERE state = 3;
-- The lists, newest first by walking each range backwards.
CREATE INDEX events_by_account ON events (account_id);
CREATE INDEX events_by_candidate ON events (account_id, candidate_id);
CREATE INDEX events_by_job ON events (account_id, job_id);
CREATE INDEX events_by_integration ON events (account_id, integration_id);
CREATE INDEX events_by_state ON events (account_id, state);
