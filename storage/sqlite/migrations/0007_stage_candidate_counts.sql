-- How many candidates each stage holds, kept by the database itself: every
-- way an application is added, moved or removed (cascades from deleting a
-- job or a candidate included) goes through these triggers, in the same
-- transaction. Reading a job's pipeline then costs one row per stage
-- instead of a walk over every application in it.

ALTER TABLE stages ADD COLUMN candidate_count INTEGER NOT NULL DEFAULT 0;

UPDATE stages SET candidate_count =
  (SELECT count(*) FROM applications a WHERE a.stage_id = stages.id);

CREATE TRIGGER applications_count_insert AFTER INSERT ON applications
BEGIN
  UPDATE stages SET candidate_count = candidate_count + 1
    WHERE id = new.stage_id;
END;

CREATE TRIGGER applications_count_delete AFTER DELETE ON applications
BEGIN
  UPDATE stages SET candidate_count = candidate_count - 1
    WHERE id = old.stage_id;
END;

CREATE TRIGGER applications_count_move AFTER UPDATE OF stage_id ON applications
  WHEN old.stage_id <> new.stage_id
BEGIN
  UPDATE stages SET candidate_count = candidate_count - 1
    WHERE id = old.stage_id;
  UPDATE stages SET candidate_count = candidate_count + 1
    WHERE id = new.stage_id;
END;
