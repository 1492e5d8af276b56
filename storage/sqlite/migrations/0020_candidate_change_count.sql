-- How many times each account's candidates (or their tags) were written.
-- A bulk operation reads its next candidates on a snapshot while the
-- store's one writer is busy with the previous batch; the batch's write
-- reads this count again, and equal counts show that no candidate of the
-- account changed in between, so the write may use what the snapshot read
-- instead of reading it again. Triggers keep it, so every write counts,
-- whatever statement (or cascade) made it; a migration that rebuilds
-- either table must create its triggers again.
CREATE TABLE candidate_change_counts (
  account_id   TEXT PRIMARY KEY,
  change_count INTEGER NOT NULL
) STRICT;

-- Every trigger below counts one change of its row's account through this
-- view, so the counting is written once.
CREATE VIEW candidate_changes (account_id) AS
  SELECT account_id FROM candidate_change_counts WHERE 0;
CREATE TRIGGER count_candidate_change INSTEAD OF INSERT ON candidate_changes
BEGIN
  INSERT INTO candidate_change_counts VALUES (NEW.account_id, 1)
    ON CONFLICT (account_id) DO UPDATE SET change_count = change_count + 1;
END;

CREATE TRIGGER candidate_inserted AFTER INSERT ON candidates
BEGIN INSERT INTO candidate_changes VALUES (NEW.account_id); END;
CREATE TRIGGER candidate_updated AFTER UPDATE ON candidates
BEGIN INSERT INTO candidate_changes VALUES (NEW.account_id); END;
CREATE TRIGGER candidate_deleted AFTER DELETE ON candidates
BEGIN INSERT INTO candidate_changes VALUES (OLD.account_id); END;
CREATE TRIGGER candidate_tag_inserted AFTER INSERT ON candidate_tags
BEGIN INSERT INTO candidate_changes VALUES (NEW.account_id); END;
CREATE TRIGGER candidate_tag_updated AFTER UPDATE ON candidate_tags
BEGIN INSERT INTO candidate_changes VALUES (NEW.account_id); END;
CREATE TRIGGER candidate_tag_deleted AFTER DELETE ON candidate_tags
BEGIN INSERT INTO candidate_changes VALUES (OLD.account_id); END;
