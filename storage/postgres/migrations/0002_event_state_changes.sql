-- Event state changes, noted for the metrics of the replica that made them
-- (StoreObserver::events_changed). The sessions of a replica's pool set
-- ats.note_event_changes and hold the temporary table ats_event_changes,
-- which empties at each commit; the rows a savepoint rolls back go with
-- it, and the replica reads what is left before it commits. Sessions that
-- do not ask (psql, migrations) note nothing.
CREATE FUNCTION note_event_state_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO pg_temp.ats_event_changes
      (integration_id, from_state, to_state, due_time)
    VALUES (NEW.integration_id,
            CASE WHEN TG_OP = 'INSERT' THEN 0 ELSE OLD.state END,
            NEW.state, NEW.due_time);
  RETURN NULL;
END;
$$;
CREATE TRIGGER events_note_insert AFTER INSERT ON events
  FOR EACH ROW
  WHEN (current_setting('ats.note_event_changes', true) = 'on')
  EXECUTE FUNCTION note_event_state_change();
CREATE TRIGGER events_note_state AFTER UPDATE OF state ON events
  FOR EACH ROW
  WHEN (OLD.state <> NEW.state
        AND current_setting('ats.note_event_changes', true) = 'on')
  EXECUTE FUNCTION note_event_state_change();
