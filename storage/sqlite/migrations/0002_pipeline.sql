-- Hiring pipeline: job templates, jobs with their stages and stage triggers,
-- the candidate database, and applications (a candidate in a job) with their
-- stage history. Times are Unix microseconds (UTC).

CREATE TABLE job_templates (
  account_id   TEXT NOT NULL REFERENCES accounts (id),
  id           TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  -- Lower-cased display name: unique per account, and the listing order.
  sort_name    TEXT NOT NULL,
  description  TEXT NOT NULL,
  -- Serialized ats.v1.JobTemplate holding only `stages` (with triggers): a
  -- template is read and edited as one document.
  stages       BLOB NOT NULL,
  is_default   INTEGER NOT NULL CHECK (is_default IN (0, 1)),
  create_time  INTEGER NOT NULL,
  update_time  INTEGER NOT NULL,
  revision     INTEGER NOT NULL,
  UNIQUE (account_id, sort_name)
) STRICT;

-- At most one default per account; code keeps it exactly one.
CREATE UNIQUE INDEX job_templates_one_default
  ON job_templates (account_id) WHERE is_default = 1;

CREATE TABLE jobs (
  account_id  TEXT NOT NULL REFERENCES accounts (id),
  id          TEXT PRIMARY KEY,
  title       TEXT NOT NULL,
  description TEXT NOT NULL,
  state       INTEGER NOT NULL CHECK (state BETWEEN 1 AND 4),
  -- The template copied at creation; kept as a plain id since the template
  -- may be deleted later without touching the job.
  template_id TEXT NOT NULL,
  create_time INTEGER NOT NULL,
  update_time INTEGER NOT NULL,
  revision    INTEGER NOT NULL
) STRICT;

CREATE INDEX jobs_newest_first ON jobs (account_id, create_time DESC, id DESC);

CREATE TABLE stages (
  account_id   TEXT NOT NULL,
  id           TEXT PRIMARY KEY,
  job_id       TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  display_name TEXT NOT NULL,
  -- 0-based order within the job, kept dense by the code.
  position     INTEGER NOT NULL,
  create_time  INTEGER NOT NULL
) STRICT;

CREATE INDEX stages_by_job ON stages (job_id, position);

CREATE TABLE stage_triggers (
  account_id     TEXT NOT NULL,
  id             TEXT PRIMARY KEY,
  stage_id       TEXT NOT NULL REFERENCES stages (id) ON DELETE CASCADE,
  -- 0-based order within the stage: triggers run in this order.
  position       INTEGER NOT NULL,
  -- The integration of an integration-event trigger, to answer "which
  -- triggers use this integration" without reading every action.
  integration_id TEXT REFERENCES integrations (id),
  -- Serialized ats.v1.Trigger with delay and action; name and output-only
  -- fields unset.
  spec           BLOB NOT NULL,
  create_time    INTEGER NOT NULL
) STRICT;

CREATE INDEX stage_triggers_by_stage ON stage_triggers (stage_id, position);
CREATE INDEX stage_triggers_by_integration ON stage_triggers (integration_id)
  WHERE integration_id IS NOT NULL;

CREATE TABLE candidates (
  account_id  TEXT NOT NULL REFERENCES accounts (id),
  id          TEXT PRIMARY KEY,
  given_name  TEXT NOT NULL,
  family_name TEXT NOT NULL,
  email       TEXT NOT NULL,
  -- Lower-cased email: unique per account when not empty.
  email_key   TEXT NOT NULL,
  phone       TEXT NOT NULL,
  create_time INTEGER NOT NULL,
  update_time INTEGER NOT NULL,
  revision    INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX candidates_email ON candidates (account_id, email_key)
  WHERE email_key <> '';
CREATE INDEX candidates_newest_first
  ON candidates (account_id, create_time DESC, id DESC);

CREATE TABLE candidate_tags (
  account_id   TEXT NOT NULL,
  candidate_id TEXT NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
  tag          TEXT NOT NULL,
  PRIMARY KEY (candidate_id, tag)
) STRICT, WITHOUT ROWID;

CREATE INDEX candidate_tags_by_tag ON candidate_tags (account_id, tag, candidate_id);

CREATE TABLE applications (
  account_id       TEXT NOT NULL,
  job_id           TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  candidate_id     TEXT NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
  -- No cascade: a stage holding candidates cannot be deleted.
  stage_id         TEXT NOT NULL REFERENCES stages (id),
  stage_enter_time INTEGER NOT NULL,
  -- Number of stage entries so far; identifies the current entry, so a
  -- delayed trigger can tell whether its candidate is still in that entry.
  entry_count      INTEGER NOT NULL,
  create_time      INTEGER NOT NULL,
  PRIMARY KEY (job_id, candidate_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX applications_by_stage
  ON applications (stage_id, stage_enter_time, candidate_id);
CREATE INDEX applications_by_candidate ON applications (candidate_id);

CREATE TABLE stage_transitions (
  account_id    TEXT NOT NULL,
  job_id        TEXT NOT NULL,
  candidate_id  TEXT NOT NULL,
  -- The application's entry_count after this transition (1 = added).
  entry         INTEGER NOT NULL,
  -- Empty when the candidate was added to the job.
  from_stage_id TEXT NOT NULL,
  to_stage_id   TEXT NOT NULL,
  time          INTEGER NOT NULL,
  moved_by      TEXT NOT NULL,
  PRIMARY KEY (job_id, candidate_id, entry),
  FOREIGN KEY (job_id, candidate_id)
    REFERENCES applications (job_id, candidate_id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
