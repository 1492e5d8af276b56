-- The dispatch queue's condition spelled as the SQLite schema now spells it
-- (three comparisons rather than an IN list), so that both stores' queries
-- share one text and each planner sees at once that they match the index.
DROP INDEX events_to_dispatch;
CREATE INDEX events_to_dispatch ON events (destination, due_time, state, seq)
  WHERE state = 1 OR state = 2 OR state = 5;
