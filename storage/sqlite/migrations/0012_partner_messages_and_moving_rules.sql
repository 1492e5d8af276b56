-- What partners say and what moving rules do with their results: an
-- event's and an attempt's partner message (the start of an error
-- response's body), the outcome of the rule that matched an event's result
-- (a serialized ats.v1.AutomaticMove), and, on a stage entry a rule made,
-- which rule it was (a serialized ats.v1.RuleRef).
ALTER TABLE events ADD COLUMN partner_message TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN automatic_move BLOB;
ALTER TABLE delivery_attempts ADD COLUMN partner_message TEXT NOT NULL
  DEFAULT '';
ALTER TABLE stage_transitions ADD COLUMN moved_by_rule BLOB;
