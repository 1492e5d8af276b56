-- The dispatcher claims each integration's due events from a range of its
-- own, so an integration at its delivery limit is passed over without
-- reading its backlog, however long. state is in the key so that a claim
-- reads the index alone, and SENDING events are in an index of their own
-- by lease expiry: a live lease is never walked, an expired one is found at
-- once. A SENDING event always has a lease.

DROP INDEX events_to_dispatch;
CREATE INDEX events_to_dispatch ON events (integration_id, due_time, state)
  WHERE state IN (1, 2, 5);
CREATE INDEX events_leased ON events (lease_expire_time) WHERE state = 3;
