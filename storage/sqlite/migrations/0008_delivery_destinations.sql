-- Delivery concurrency is limited per destination: an integration, or for
-- webhook triggers one account's webhook host. Each event keeps its
-- destination (see storage/delivery_destination.h), and the dispatcher
-- claims each destination's due events from a range of its own, so a
-- destination at its limit is passed over without reading its backlog.

ALTER TABLE events ADD COLUMN destination TEXT NOT NULL DEFAULT '';

UPDATE events
  SET destination = delivery_destination(account_id, integration_id,
                                         webhook_uri);

DROP INDEX events_to_dispatch;
CREATE INDEX events_to_dispatch ON events (destination, due_time, state)
  WHERE state IN (1, 2, 5);
