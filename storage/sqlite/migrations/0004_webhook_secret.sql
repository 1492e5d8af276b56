-- The account's signing secret for generic webhook triggers (ats.v1.
-- WebhookAction): '' while it has none, and when it was last created or
-- replaced (Unix microseconds, UTC; NULL while it has none).

ALTER TABLE accounts
  ADD COLUMN webhook_signing_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN webhook_signing_secret_create_time INTEGER;
