-- Events: one per candidate, per integration (or webhook), per firing; the
-- transactional outbox the dispatcher delivers from. Times are Unix
-- microseconds (UTC).

CREATE TABLE events (
  account_id        TEXT NOT NULL REFERENCES accounts (id),
  id                TEXT PRIMARY KEY,
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
  result            BLOB
) STRICT;

-- What the dispatcher claims: due events in a deliverable state, and
-- deliveries whose lease expired. Kept small: final events leave it.
CREATE INDEX events_to_dispatch ON events (due_time)
  WHERE state IN (1, 2, 3, 5);
CREATE INDEX events_newest_first ON events (account_id, create_time DESC, id DESC);
CREATE INDEX events_by_candidate
  ON events (account_id, candidate_id, create_time DESC, id DESC);
CREATE INDEX events_by_job ON events (account_id, job_id, create_time DESC, id DESC);
CREATE INDEX events_by_integration
  ON events (account_id, integration_id, create_time DESC, id DESC);
CREATE INDEX events_by_state ON events (account_id, state, create_time DESC, id DESC);

CREATE TABLE delivery_attempts (
  account_id     TEXT NOT NULL,
  event_id       TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  number         INTEGER NOT NULL,
  attempt_time   INTEGER NOT NULL,
  http_status    INTEGER NOT NULL,
  latency_micros INTEGER NOT NULL,
  error          TEXT NOT NULL,
  PRIMARY KEY (event_id, number)
) STRICT, WITHOUT ROWID;
