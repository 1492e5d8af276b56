-- Foundation: accounts, API keys, the Marketplace, integrations, and the
-- request log behind idempotent retries. Times are Unix microseconds (UTC).
-- Every table holding tenant data carries account_id, and every query of
-- tenant data filters by it.

CREATE TABLE accounts (
  id           TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  create_time  INTEGER NOT NULL
) STRICT;

CREATE INDEX accounts_by_age ON accounts (create_time, id);

CREATE TABLE partners (
  id           TEXT PRIMARY KEY,
  -- Lower-cased display name: listing names are unique case-insensitively
  -- and the Marketplace is browsed in this order.
  sort_name    TEXT NOT NULL UNIQUE,
  category     INTEGER NOT NULL,
  -- Serialized ats.v1.Partner with the operator-written fields.
  listing      BLOB NOT NULL,
  create_time  INTEGER NOT NULL,
  update_time  INTEGER NOT NULL,
  revision     INTEGER NOT NULL
) STRICT;

CREATE TABLE integrations (
  account_id                 TEXT NOT NULL REFERENCES accounts (id),
  id                         TEXT PRIMARY KEY,
  partner_id                 TEXT NOT NULL REFERENCES partners (id),
  display_name               TEXT NOT NULL,
  active                     INTEGER NOT NULL CHECK (active IN (0, 1)),
  -- Serialized google.protobuf.Struct of string values, secrets included.
  activation_values          BLOB NOT NULL,
  signing_secret             TEXT NOT NULL,
  signing_secret_create_time INTEGER NOT NULL,
  endpoint_disabled_reason   TEXT NOT NULL DEFAULT '',
  create_time                INTEGER NOT NULL,
  update_time                INTEGER NOT NULL,
  revision                   INTEGER NOT NULL,
  UNIQUE (account_id, partner_id)
) STRICT;

CREATE INDEX integrations_by_age ON integrations (account_id, create_time, id);

CREATE TABLE api_keys (
  id             TEXT PRIMARY KEY,
  -- NULL for operator keys, which belong to no account.
  account_id     TEXT REFERENCES accounts (id),
  role           INTEGER NOT NULL CHECK (role BETWEEN 1 AND 4),
  integration_id TEXT REFERENCES integrations (id),
  display_name   TEXT NOT NULL,
  secret_hash    BLOB NOT NULL UNIQUE,
  secret_prefix  TEXT NOT NULL,
  create_time    INTEGER NOT NULL,
  revoke_time    INTEGER,
  CHECK ((role = 1) = (account_id IS NULL)),
  CHECK ((role = 4) = (integration_id IS NOT NULL))
) STRICT;

CREATE INDEX api_keys_by_account ON api_keys (account_id, create_time, id);
CREATE INDEX api_keys_by_age ON api_keys (create_time, id);

CREATE TABLE request_log (
  -- '' for operator calls.
  account_id   TEXT NOT NULL,
  method       TEXT NOT NULL,
  request_id   TEXT NOT NULL,
  request_hash BLOB NOT NULL,
  response     BLOB NOT NULL,
  create_time  INTEGER NOT NULL,
  PRIMARY KEY (account_id, method, request_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX request_log_by_age ON request_log (create_time);
