-- Delivery concurrency is limited per destination: an integration, or for
-- webhook triggers one account's webhook host. Each event keeps its
-- destination (see storage/delivery_destination.h), and the dispatcher
-- claims each destination's due events from a range of its own, so a
-- destination at its limit is passed over without reading its backlog.

ALTER TABLE events ADD COLUMN destination TEXT NOT NULL DEFAULT '';

UPDATE events SET destination = integration_id
  WHERE integration_id IS NOT NULL;
-- The same key DeliveryDestination gives: 'webhook:<account>/<host[:port]>',
-- the authority lowercased and without user info.
UPDATE events SET destination = (
  WITH after_scheme(rest) AS (
    SELECT CASE WHEN instr(webhook_uri, '://') > 0
                THEN substr(webhook_uri, instr(webhook_uri, '://') + 3)
                ELSE webhook_uri END),
  authority(text) AS (
    SELECT CASE WHEN min_end > 0 THEN substr(rest, 1, min_end - 1)
                ELSE rest END
    FROM (SELECT rest, (SELECT min(position) FROM (
            SELECT instr(rest, '/') AS position UNION ALL
            SELECT instr(rest, '?') UNION ALL SELECT instr(rest, '#'))
            WHERE position > 0) AS min_end
          FROM after_scheme)),
  host(text) AS (
    SELECT CASE WHEN instr(text, '@') > 0
                THEN substr(text, length(rtrim(text, replace(text, '@', ''))) + 1)
                ELSE text END
    FROM authority)
  SELECT 'webhook:' || account_id || '/' || lower(text) FROM host)
  WHERE integration_id IS NULL;

DROP INDEX events_to_dispatch;
CREATE INDEX events_to_dispatch ON events (destination, due_time, state)
  WHERE state IN (1, 2, 5);
