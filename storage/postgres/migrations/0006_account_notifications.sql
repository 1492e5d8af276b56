-- Where an account's notifications (an event died, an integration's
-- endpoint was disabled, a bulk operation ended) are delivered; '' for
-- nowhere.
ALTER TABLE accounts ADD COLUMN notification_uri text NOT NULL DEFAULT '';
