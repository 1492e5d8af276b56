-- The dispatch queue's index says which states it holds as three
-- comparisons instead of an IN list. SQLite builds a temporary table for
-- an IN list each time a statement tests it, and every insert tests the
-- index's condition once and every update of an event twice (the row before
-- and after): that was a tenth of the cost of creating an event and more of
-- claiming one. The queries that use the index spell the condition the same
-- way, which is how SQLite sees that they may.
DROP INDEX events_to_dispatch;
CREATE INDEX events_to_dispatch ON events (destination, due_time, state)
  WHERE state = 1 OR state = 2 OR state = 5;
