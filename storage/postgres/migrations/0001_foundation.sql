-- The whole schema as the SQLite backend has it after its migration 11,
-- in PostgreSQL's types: times are Unix microseconds (UTC) in bigint,
-- serialized messages are bytea, and enums are the integers of their
-- ats.v1 enums. See storage/sqlite/migrations/ for why each part is as it
-- is; comments here say only where PostgreSQL differs.
--
-- Text keys compare byte by byte (COLLATE "C"), as in SQLite, whatever the
-- database's locale: lists page by them, so their order must not depend on
-- how the cluster was created. Flags are integers 0 and 1, as in SQLite, so
-- that both backends run the same statements.

-- SQLite's instr(haystack, needle): the 1-based position of the first
-- `needle` in `haystack`, 0 when there is none. Literal substring search
-- (no LIKE wildcards) in the same text for both backends.
CREATE FUNCTION instr(haystack text, needle text) RETURNS integer
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN strpos(haystack, needle);

-- SQLite's group_concat(value, separator): the non-NULL values joined by
-- the separator, NULL when there are none.
CREATE FUNCTION group_concat_step(joined text, value text, separator text)
  RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN CASE WHEN value IS NULL THEN joined
              WHEN joined IS NULL THEN value
              ELSE joined || separator || value END;
CREATE AGGREGATE group_concat(text, text) (
  SFUNC = group_concat_step,
  STYPE = text
);

-- The key every replica seals secrets under (PostgreSQL only: a SQLite
-- database has one server). A replica whose key file holds another key is
-- refused before it seals anything the others could not open.
CREATE TABLE deployment_secrets_key (
  id     integer PRIMARY KEY CHECK (id = 1),
  key_id text COLLATE "C" NOT NULL
);

CREATE TABLE accounts (
  id                                 text COLLATE "C" PRIMARY KEY,
  display_name                       text NOT NULL,
  create_time                        bigint NOT NULL,
  webhook_signing_secret             text NOT NULL DEFAULT '',
  webhook_signing_secret_create_time bigint
);
CREATE INDEX accounts_by_age ON accounts (create_time, id);

CREATE TABLE partners (
  id          text COLLATE "C" PRIMARY KEY,
  sort_name   text COLLATE "C" NOT NULL UNIQUE,
  category    integer NOT NULL,
  listing     bytea NOT NULL,
  create_time bigint NOT NULL,
  update_time bigint NOT NULL,
  revision    bigint NOT NULL
);

CREATE TABLE integrations (
  account_id                 text COLLATE "C" NOT NULL REFERENCES accounts (id),
  id                         text COLLATE "C" PRIMARY KEY,
  partner_id                 text COLLATE "C" NOT NULL REFERENCES partners (id),
  display_name               text NOT NULL,
  active                     integer NOT NULL CHECK (active IN (0, 1)),
  activation_values          bytea NOT NULL,
  signing_secret             text NOT NULL,
  signing_secret_create_time bigint NOT NULL,
  endpoint_disabled_reason   text NOT NULL DEFAULT '',
  create_time                bigint NOT NULL,
  update_time                bigint NOT NULL,
  revision                   bigint NOT NULL,
  UNIQUE (account_id, partner_id)
);
CREATE INDEX integrations_by_age ON integrations (account_id, create_time, id);

CREATE TABLE api_keys (
  id             text COLLATE "C" PRIMARY KEY,
  account_id     text COLLATE "C" REFERENCES accounts (id),
  role           integer NOT NULL CHECK (role BETWEEN 1 AND 4),
  integration_id text COLLATE "C" REFERENCES integrations (id),
  display_name   text NOT NULL,
  secret_hash    bytea NOT NULL UNIQUE,
  secret_prefix  text NOT NULL,
  create_time    bigint NOT NULL,
  revoke_time    bigint,
  CHECK ((role = 1) = (account_id IS NULL)),
  CHECK ((role = 4) = (integration_id IS NOT NULL))
);
CREATE INDEX api_keys_by_account ON api_keys (account_id, create_time, id);
CREATE INDEX api_keys_by_age ON api_keys (create_time, id);

-- The unique key is what makes a request_id idempotent across replicas.
CREATE TABLE request_log (
  account_id   text COLLATE "C" NOT NULL,
  method       text COLLATE "C" NOT NULL,
  request_id   text COLLATE "C" NOT NULL,
  request_hash bytea NOT NULL,
  response     bytea NOT NULL,
  create_time  bigint NOT NULL,
  PRIMARY KEY (account_id, method, request_id)
);
CREATE INDEX request_log_by_age ON request_log (create_time);

CREATE TABLE job_templates (
  account_id   text COLLATE "C" NOT NULL REFERENCES accounts (id),
  id           text COLLATE "C" PRIMARY KEY,
  display_name text NOT NULL,
  sort_name    text COLLATE "C" NOT NULL,
  description  text NOT NULL,
  stages       bytea NOT NULL,
  is_default   integer NOT NULL CHECK (is_default IN (0, 1)),
  create_time  bigint NOT NULL,
  update_time  bigint NOT NULL,
  revision     bigint NOT NULL,
  UNIQUE (account_id, sort_name)
);
CREATE UNIQUE INDEX job_templates_one_default
  ON job_templates (account_id) WHERE is_default = 1;

CREATE TABLE jobs (
  account_id  text COLLATE "C" NOT NULL REFERENCES accounts (id),
  id          text COLLATE "C" PRIMARY KEY,
  title       text NOT NULL,
  description text NOT NULL,
  state       integer NOT NULL CHECK (state BETWEEN 1 AND 4),
  template_id text COLLATE "C" NOT NULL,
  create_time bigint NOT NULL,
  update_time bigint NOT NULL,
  revision    bigint NOT NULL
);
CREATE INDEX jobs_newest_first ON jobs (account_id, create_time DESC, id DESC);

CREATE TABLE stages (
  account_id      text COLLATE "C" NOT NULL,
  id              text COLLATE "C" PRIMARY KEY,
  job_id          text COLLATE "C" NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  display_name    text NOT NULL,
  position        integer NOT NULL,
  create_time     bigint NOT NULL,
  candidate_count bigint NOT NULL DEFAULT 0
);
CREATE INDEX stages_by_job ON stages (job_id, position);

CREATE TABLE stage_triggers (
  account_id     text COLLATE "C" NOT NULL,
  id             text COLLATE "C" PRIMARY KEY,
  stage_id       text COLLATE "C" NOT NULL REFERENCES stages (id) ON DELETE CASCADE,
  position       integer NOT NULL,
  integration_id text COLLATE "C" REFERENCES integrations (id),
  spec           bytea NOT NULL,
  create_time    bigint NOT NULL
);
CREATE INDEX stage_triggers_by_stage ON stage_triggers (stage_id, position);
CREATE INDEX stage_triggers_by_integration ON stage_triggers (integration_id)
  WHERE integration_id IS NOT NULL;

CREATE TABLE candidates (
  account_id  text COLLATE "C" NOT NULL REFERENCES accounts (id),
  id          text COLLATE "C" PRIMARY KEY,
  given_name  text NOT NULL,
  family_name text NOT NULL,
  email       text NOT NULL,
  email_key   text COLLATE "C" NOT NULL,
  phone       text NOT NULL,
  create_time bigint NOT NULL,
  update_time bigint NOT NULL,
  revision    bigint NOT NULL
);
CREATE UNIQUE INDEX candidates_email ON candidates (account_id, email_key)
  WHERE email_key <> '';
CREATE INDEX candidates_newest_first
  ON candidates (account_id, create_time DESC, id DESC);
CREATE INDEX candidates_by_id ON candidates (account_id, id);

CREATE TABLE candidate_tags (
  account_id   text COLLATE "C" NOT NULL,
  candidate_id text COLLATE "C" NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
  tag          text COLLATE "C" NOT NULL,
  PRIMARY KEY (candidate_id, tag)
);
CREATE INDEX candidate_tags_by_tag
  ON candidate_tags (account_id, tag, candidate_id);

CREATE TABLE applications (
  account_id       text COLLATE "C" NOT NULL,
  job_id           text COLLATE "C" NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  candidate_id     text COLLATE "C" NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
  stage_id         text COLLATE "C" NOT NULL REFERENCES stages (id),
  stage_enter_time bigint NOT NULL,
  entry_count      bigint NOT NULL,
  create_time      bigint NOT NULL,
  PRIMARY KEY (job_id, candidate_id)
);
CREATE INDEX applications_by_stage
  ON applications (stage_id, stage_enter_time, candidate_id);
CREATE INDEX applications_by_candidate ON applications (candidate_id);

-- Each stage's candidate_count follows its applications, as in SQLite.
CREATE FUNCTION applications_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE stages SET candidate_count = candidate_count - 1
      WHERE id = OLD.stage_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE stages SET candidate_count = candidate_count + 1
      WHERE id = NEW.stage_id;
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER applications_count_insert AFTER INSERT ON applications
  FOR EACH ROW EXECUTE FUNCTION applications_count();
CREATE TRIGGER applications_count_delete AFTER DELETE ON applications
  FOR EACH ROW EXECUTE FUNCTION applications_count();
CREATE TRIGGER applications_count_move AFTER UPDATE OF stage_id ON applications
  FOR EACH ROW WHEN (OLD.stage_id <> NEW.stage_id)
  EXECUTE FUNCTION applications_count();

CREATE TABLE stage_transitions (
  account_id    text COLLATE "C" NOT NULL,
  job_id        text COLLATE "C" NOT NULL,
  candidate_id  text COLLATE "C" NOT NULL,
  entry         bigint NOT NULL,
  from_stage_id text COLLATE "C" NOT NULL,
  to_stage_id   text COLLATE "C" NOT NULL,
  time          bigint NOT NULL,
  moved_by      text NOT NULL,
  PRIMARY KEY (job_id, candidate_id, entry),
  FOREIGN KEY (job_id, candidate_id)
    REFERENCES applications (job_id, candidate_id) ON DELETE CASCADE
);

-- seq is the list order, as in SQLite; an identity column here. Lists walk
-- (account_id, ..., seq) backwards: PostgreSQL indexes do not end in the
-- table's key by themselves, so seq is written out.
CREATE TABLE events (
  seq               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id        text COLLATE "C" NOT NULL REFERENCES accounts (id),
  id                text COLLATE "C" NOT NULL UNIQUE,
  state             integer NOT NULL CHECK (state BETWEEN 1 AND 10),
  state_reason      text NOT NULL,
  integration_id    text COLLATE "C" REFERENCES integrations (id),
  webhook_uri       text NOT NULL,
  candidate_id      text COLLATE "C" NOT NULL,
  job_id            text COLLATE "C" NOT NULL,
  source            integer NOT NULL,
  trigger_id        text COLLATE "C" NOT NULL,
  stage_id          text COLLATE "C" NOT NULL,
  stage_entry       bigint NOT NULL,
  bulk_operation_id text COLLATE "C" NOT NULL,
  triggered_by      text NOT NULL,
  payload           bytea NOT NULL,
  create_time       bigint NOT NULL,
  due_time          bigint NOT NULL,
  update_time       bigint NOT NULL,
  attempt_count     integer NOT NULL,
  lease_expire_time bigint,
  result            bytea,
  destination       text COLLATE "C" NOT NULL
);
CREATE INDEX events_to_dispatch ON events (destination, due_time, state, seq)
  WHERE state IN (1, 2, 5);
CREATE INDEX events_leased ON events (lease_expire_time) WHERE state = 3;
CREATE INDEX events_by_account ON events (account_id, seq);
CREATE INDEX events_by_candidate ON events (account_id, candidate_id, seq);
CREATE INDEX events_by_job ON events (account_id, job_id, seq);
CREATE INDEX events_by_integration ON events (account_id, integration_id, seq);
CREATE INDEX events_by_state ON events (account_id, state, seq);

CREATE TABLE delivery_attempts (
  account_id     text COLLATE "C" NOT NULL,
  event_id       text COLLATE "C" NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  number         integer NOT NULL,
  attempt_time   bigint NOT NULL,
  http_status    integer NOT NULL,
  latency_micros bigint NOT NULL,
  error          text NOT NULL,
  PRIMARY KEY (event_id, number)
);

CREATE TABLE bulk_operations (
  account_id     text COLLATE "C" NOT NULL REFERENCES accounts (id),
  id             text COLLATE "C" PRIMARY KEY,
  integration_id text COLLATE "C" NOT NULL REFERENCES integrations (id),
  spec           bytea NOT NULL,
  state          integer NOT NULL CHECK (state BETWEEN 1 AND 4),
  state_reason   text NOT NULL,
  total_count    bigint NOT NULL,
  created_count  bigint NOT NULL,
  skipped_count  bigint NOT NULL,
  failed_count   bigint NOT NULL,
  created_by     text NOT NULL,
  resolved       integer NOT NULL CHECK (resolved IN (0, 1)),
  resolve_cursor text COLLATE "C" NOT NULL,
  process_cursor text COLLATE "C" NOT NULL,
  create_time    bigint NOT NULL,
  update_time    bigint NOT NULL,
  end_time       bigint
);
CREATE INDEX bulk_operations_newest_first
  ON bulk_operations (account_id, create_time DESC, id DESC);
CREATE INDEX bulk_operations_running ON bulk_operations (create_time)
  WHERE state = 1;

CREATE TABLE bulk_operation_items (
  account_id   text COLLATE "C" NOT NULL,
  operation_id text COLLATE "C" NOT NULL REFERENCES bulk_operations (id) ON DELETE CASCADE,
  candidate_id text COLLATE "C" NOT NULL,
  outcome      integer NOT NULL CHECK (outcome BETWEEN 1 AND 4),
  event_id     text COLLATE "C" NOT NULL,
  reason       text NOT NULL,
  PRIMARY KEY (operation_id, candidate_id)
);
