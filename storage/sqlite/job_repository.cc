#include "storage/sqlite/job_repository.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/sqlite/values.h"

namespace ats::storage::sqlite {
namespace {

constexpr char kJobColumns[] =
    "account_id, id, title, description, state, template_id, create_time, "
    "update_time, revision";
constexpr char kStageColumns[] =
    "account_id, id, job_id, display_name, position, create_time";
// Qualified: trigger lists join stages.
constexpr char kTriggerColumns[] =
    "t.account_id, t.id, t.stage_id, t.position, t.integration_id, t.spec, "
    "t.create_time";

absl::Status NotFound(std::string_view what, std::string_view id) {
  return absl::NotFoundError(
      absl::StrCat(std::string(what), " ", std::string(id), " not found"));
}

JobRow ReadJob(const Statement& stmt) {
  JobRow job;
  job.account_id = stmt.ColumnText(0);
  job.id = stmt.ColumnText(1);
  job.title = stmt.ColumnText(2);
  job.description = stmt.ColumnText(3);
  job.state = static_cast<ats::v1::JobState>(stmt.ColumnInt64(4));
  job.template_id = stmt.ColumnText(5);
  job.create_time = FromMicros(stmt.ColumnInt64(6));
  job.update_time = FromMicros(stmt.ColumnInt64(7));
  job.revision = stmt.ColumnInt64(8);
  return job;
}

StageRow ReadStage(const Statement& stmt) {
  StageRow stage;
  stage.account_id = stmt.ColumnText(0);
  stage.id = stmt.ColumnText(1);
  stage.job_id = stmt.ColumnText(2);
  stage.display_name = stmt.ColumnText(3);
  stage.position = static_cast<int>(stmt.ColumnInt64(4));
  stage.create_time = FromMicros(stmt.ColumnInt64(5));
  return stage;
}

absl::StatusOr<TriggerRow> ReadTrigger(const Statement& stmt) {
  TriggerRow trigger;
  trigger.account_id = stmt.ColumnText(0);
  trigger.id = stmt.ColumnText(1);
  trigger.stage_id = stmt.ColumnText(2);
  trigger.position = static_cast<int>(stmt.ColumnInt64(3));
  trigger.integration_id = stmt.ColumnText(4);  // NULL reads as "".
  if (!trigger.spec.ParseFromString(stmt.ColumnBlob(5))) {
    return absl::DataLossError(
        absl::StrCat("stored spec of trigger ", trigger.id, " is corrupt"));
  }
  trigger.create_time = FromMicros(stmt.ColumnInt64(6));
  return trigger;
}

// Steps `stmt` to the end, reading every row with `read` (a function of the
// statement returning Row or StatusOr<Row>).
template <typename Row, typename ReadFn>
absl::StatusOr<std::vector<Row>> ReadAll(Statement& stmt, ReadFn read) {
  std::vector<Row> rows;
  for (;;) {
    absl::StatusOr<bool> has_row = stmt.Step();
    if (!has_row.ok()) return has_row.status();
    if (!*has_row) return rows;
    absl::StatusOr<Row> row = read(stmt);
    if (!row.ok()) return row.status();
    rows.push_back(*std::move(row));
  }
}

// Returns whether `sql`, a SELECT EXISTS with parameters ?1 = account and
// ?2 = id, finds a row.
absl::StatusOr<bool> Exists(Connection& db, const char* sql,
                            std::string_view account_id, std::string_view id) {
  Statement& stmt = db.Prepare(sql);
  stmt.Bind(1, account_id).Bind(2, id);
  absl::StatusOr<bool> row = stmt.Step();
  if (!row.ok()) return row.status();
  const bool exists = *row && stmt.ColumnInt64(0) != 0;
  absl::Status done = stmt.Run();
  if (!done.ok()) return done;
  return exists;
}

// NOT_FOUND unless the account has job `id`.
absl::Status RequireJob(Connection& db, std::string_view account_id,
                        std::string_view id) {
  absl::StatusOr<bool> exists =
      Exists(db,
             "SELECT EXISTS (SELECT 1 FROM jobs "
             "WHERE account_id = ?1 AND id = ?2)",
             account_id, id);
  if (!exists.ok()) return exists.status();
  return *exists ? absl::OkStatus() : NotFound("job", id);
}

// NOT_FOUND unless the account has stage `id`.
absl::Status RequireStage(Connection& db, std::string_view account_id,
                          std::string_view id) {
  absl::StatusOr<bool> exists =
      Exists(db,
             "SELECT EXISTS (SELECT 1 FROM stages "
             "WHERE account_id = ?1 AND id = ?2)",
             account_id, id);
  if (!exists.ok()) return exists.status();
  return *exists ? absl::OkStatus() : NotFound("stage", id);
}

// NOT_FOUND unless `id` is empty or an integration of the account.
absl::Status RequireIntegrationIfSet(Connection& db,
                                     std::string_view account_id,
                                     std::string_view id) {
  if (id.empty()) return absl::OkStatus();
  absl::StatusOr<bool> exists =
      Exists(db,
             "SELECT EXISTS (SELECT 1 FROM integrations "
             "WHERE account_id = ?1 AND id = ?2)",
             account_id, id);
  if (!exists.ok()) return exists.status();
  return *exists ? absl::OkStatus() : NotFound("integration", id);
}

// Binds where a newest-first page starts to parameters `first` and
// `first`+1 of `(create_time, id) < (?, ?)`. The first page starts below the
// largest time rather than testing for NULL, which lets SQLite seek the
// index to the cursor instead of scanning from the newest row.
void BindNewestFirstKeyset(
    Statement& stmt, int first,
    const std::optional<std::pair<int64_t, std::string>>& after) {
  if (after.has_value()) {
    stmt.Bind(first, after->first).Bind(first + 1, after->second);
  } else {
    stmt.Bind(first, std::numeric_limits<int64_t>::max())
        .Bind(first + 1, std::string_view(""));
  }
}

void BindOptionalText(Statement& stmt, int index, const std::string& value) {
  if (value.empty()) {
    stmt.BindNull(index);
  } else {
    stmt.Bind(index, value);
  }
}

}  // namespace

absl::Status SqliteJobRepository::InsertJob(const JobRow& job) {
  static const std::string sql =
      absl::StrCat("INSERT INTO jobs (", kJobColumns,
                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  absl::Status status = db_.Prepare(sql.c_str())
                            .Bind(1, job.account_id)
                            .Bind(2, job.id)
                            .Bind(3, job.title)
                            .Bind(4, job.description)
                            .Bind(5, static_cast<int64_t>(job.state))
                            .Bind(6, job.template_id)
                            .Bind(7, ToMicros(job.create_time))
                            .Bind(8, ToMicros(job.update_time))
                            .Bind(9, job.revision)
                            .Run();
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(
        absl::StrCat("job ", job.id, " already exists"));
  }
  return status;
}

absl::Status SqliteJobRepository::UpdateJob(const JobRow& job) {
  absl::Status status =
      db_.Prepare("UPDATE jobs SET title = ?3, description = ?4, state = ?5, "
                  "template_id = ?6, update_time = ?7, revision = ?8 "
                  "WHERE account_id = ?1 AND id = ?2")
          .Bind(1, job.account_id)
          .Bind(2, job.id)
          .Bind(3, job.title)
          .Bind(4, job.description)
          .Bind(5, static_cast<int64_t>(job.state))
          .Bind(6, job.template_id)
          .Bind(7, ToMicros(job.update_time))
          .Bind(8, job.revision)
          .Run();
  if (!status.ok()) return status;
  if (db_.changes() == 0) return NotFound("job", job.id);
  return absl::OkStatus();
}

absl::StatusOr<JobRow> SqliteJobRepository::GetJob(std::string_view account_id,
                                                   std::string_view id) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kJobColumns, " FROM jobs WHERE account_id = ?1 AND id = ?2");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.Bind(1, account_id).Bind(2, id);
  auto rows = ReadAll<JobRow>(stmt, ReadJob);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return NotFound("job", id);
  return std::move(rows->front());
}

absl::StatusOr<Page<JobRow>> SqliteJobRepository::ListJobs(
    std::string_view account_id, const JobFilter& filter,
    const PageRequest& page) {
  auto after = TimeKeysetAfter(page);
  if (!after.ok()) return after.status();
  // Newest first, so the page starts *below* the cursor (see
  // BindNewestFirstKeyset). instr() matches the user's text literally (no
  // pattern characters); lower() folds ASCII only.
  static const std::string sql = absl::StrCat(
      "SELECT ", kJobColumns,
      " FROM jobs WHERE account_id = ?1 "
      "AND (?2 = 0 OR state = ?2) "
      "AND (?3 = '' OR instr(lower(title), lower(?3)) > 0) "
      "AND (create_time, id) < (?4, ?5) "
      "ORDER BY create_time DESC, id DESC LIMIT ?6");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.Bind(1, account_id)
      .Bind(2, static_cast<int64_t>(filter.state))
      .Bind(3, filter.title_contains);
  BindNewestFirstKeyset(stmt, 4, *after);
  stmt.Bind(6, page.limit + 1);
  auto rows = ReadAll<JobRow>(stmt, ReadJob);
  if (!rows.ok()) return rows.status();
  return MakePage(*std::move(rows), page.limit, [](const JobRow& job) {
    return std::vector<std::string>{absl::StrCat(ToMicros(job.create_time)),
                                    job.id};
  });
}

absl::Status SqliteJobRepository::DeleteJob(std::string_view account_id,
                                            std::string_view id) {
  // Stages, their triggers, applications and their transitions go with it
  // (ON DELETE CASCADE).
  absl::Status status =
      db_.Prepare("DELETE FROM jobs WHERE account_id = ?1 AND id = ?2")
          .Bind(1, account_id)
          .Bind(2, id)
          .Run();
  if (!status.ok()) return status;
  if (db_.changes() == 0) return NotFound("job", id);
  return absl::OkStatus();
}

absl::Status SqliteJobRepository::InsertStage(const StageRow& stage) {
  absl::Status status = RequireJob(db_, stage.account_id, stage.job_id);
  if (!status.ok()) return status;
  static const std::string sql =
      absl::StrCat("INSERT INTO stages (", kStageColumns,
                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  status = db_.Prepare(sql.c_str())
               .Bind(1, stage.account_id)
               .Bind(2, stage.id)
               .Bind(3, stage.job_id)
               .Bind(4, stage.display_name)
               .Bind(5, stage.position)
               .Bind(6, ToMicros(stage.create_time))
               .Run();
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(
        absl::StrCat("stage ", stage.id, " already exists"));
  }
  return status;
}

absl::Status SqliteJobRepository::UpdateStage(const StageRow& stage) {
  absl::Status status =
      db_.Prepare("UPDATE stages SET display_name = ?3, position = ?4 "
                  "WHERE account_id = ?1 AND id = ?2")
          .Bind(1, stage.account_id)
          .Bind(2, stage.id)
          .Bind(3, stage.display_name)
          .Bind(4, stage.position)
          .Run();
  if (!status.ok()) return status;
  if (db_.changes() == 0) return NotFound("stage", stage.id);
  return absl::OkStatus();
}

absl::StatusOr<StageRow> SqliteJobRepository::GetStage(
    std::string_view account_id, std::string_view id) {
  static const std::string sql =
      absl::StrCat("SELECT ", kStageColumns,
                   " FROM stages WHERE account_id = ?1 AND id = ?2");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.Bind(1, account_id).Bind(2, id);
  auto rows = ReadAll<StageRow>(stmt, ReadStage);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return NotFound("stage", id);
  return std::move(rows->front());
}

absl::StatusOr<std::vector<StageRow>> SqliteJobRepository::ListStages(
    std::string_view account_id, std::string_view job_id) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kStageColumns,
      " FROM stages WHERE account_id = ?1 AND job_id = ?2 "
      "ORDER BY position, id");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.Bind(1, account_id).Bind(2, job_id);
  return ReadAll<StageRow>(stmt, ReadStage);
}

absl::Status SqliteJobRepository::DeleteStage(std::string_view account_id,
                                              std::string_view id) {
  absl::Status status = RequireStage(db_, account_id, id);
  if (!status.ok()) return status;
  // Checked here for a message a person can act on; the foreign key from
  // applications is the backstop.
  Statement& count = db_.Prepare(
      "SELECT count(*) FROM applications WHERE account_id = ?1 "
      "AND stage_id = ?2");
  count.Bind(1, account_id).Bind(2, id);
  absl::StatusOr<bool> row = count.Step();
  if (!row.ok()) return row.status();
  const int64_t candidates = *row ? count.ColumnInt64(0) : 0;
  status = count.Run();
  if (!status.ok()) return status;
  if (candidates > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "stage ", std::string(id), " has ", candidates,
        candidates == 1 ? " candidate" : " candidates", "; move them first"));
  }
  status = db_.Prepare("DELETE FROM stages WHERE account_id = ?1 AND id = ?2")
               .Bind(1, account_id)
               .Bind(2, id)
               .Run();
  if (!status.ok()) return status;
  if (db_.changes() == 0) return NotFound("stage", id);
  return absl::OkStatus();
}

absl::Status SqliteJobRepository::InsertTrigger(const TriggerRow& trigger) {
  absl::Status status = RequireStage(db_, trigger.account_id, trigger.stage_id);
  if (status.ok()) {
    status = RequireIntegrationIfSet(db_, trigger.account_id,
                                     trigger.integration_id);
  }
  if (!status.ok()) return status;
  Statement& stmt = db_.Prepare(
      "INSERT INTO stage_triggers (account_id, id, stage_id, position, "
      "integration_id, spec, create_time) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  stmt.Bind(1, trigger.account_id)
      .Bind(2, trigger.id)
      .Bind(3, trigger.stage_id)
      .Bind(4, trigger.position);
  BindOptionalText(stmt, 5, trigger.integration_id);
  stmt.BindBlob(6, trigger.spec.SerializeAsString())
      .Bind(7, ToMicros(trigger.create_time));
  status = stmt.Run();
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(
        absl::StrCat("trigger ", trigger.id, " already exists"));
  }
  return status;
}

absl::Status SqliteJobRepository::UpdateTrigger(const TriggerRow& trigger) {
  absl::Status status =
      RequireIntegrationIfSet(db_, trigger.account_id, trigger.integration_id);
  if (!status.ok()) return status;
  Statement& stmt = db_.Prepare(
      "UPDATE stage_triggers SET position = ?3, integration_id = ?4, "
      "spec = ?5 WHERE account_id = ?1 AND id = ?2");
  stmt.Bind(1, trigger.account_id)
      .Bind(2, trigger.id)
      .Bind(3, trigger.position);
  BindOptionalText(stmt, 4, trigger.integration_id);
  stmt.BindBlob(5, trigger.spec.SerializeAsString());
  status = stmt.Run();
  if (!status.ok()) return status;
  if (db_.changes() == 0) return NotFound("trigger", trigger.id);
  return absl::OkStatus();
}

absl::StatusOr<TriggerRow> SqliteJobRepository::GetTrigger(
    std::string_view account_id, std::string_view id) {
  static const std::string sql =
      absl::StrCat("SELECT ", kTriggerColumns,
                   " FROM stage_triggers t WHERE t.account_id = ?1 "
                   "AND t.id = ?2");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.Bind(1, account_id).Bind(2, id);
  auto rows = ReadAll<TriggerRow>(stmt, ReadTrigger);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return NotFound("trigger", id);
  return std::move(rows->front());
}

absl::StatusOr<std::vector<TriggerRow>> SqliteJobRepository::ListTriggers(
    std::string_view account_id, std::string_view stage_id) {
  static const std::string sql =
      absl::StrCat("SELECT ", kTriggerColumns,
                   " FROM stage_triggers t WHERE t.account_id = ?1 "
                   "AND t.stage_id = ?2 ORDER BY t.position, t.id");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.Bind(1, account_id).Bind(2, stage_id);
  return ReadAll<TriggerRow>(stmt, ReadTrigger);
}

absl::StatusOr<std::vector<TriggerRow>> SqliteJobRepository::ListJobTriggers(
    std::string_view account_id, std::string_view job_id) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kTriggerColumns,
      " FROM stages s JOIN stage_triggers t ON t.stage_id = s.id "
      "WHERE s.account_id = ?1 AND s.job_id = ?2 AND t.account_id = ?1 "
      "ORDER BY s.position, s.id, t.position, t.id");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.Bind(1, account_id).Bind(2, job_id);
  return ReadAll<TriggerRow>(stmt, ReadTrigger);
}

absl::Status SqliteJobRepository::DeleteTrigger(std::string_view account_id,
                                                std::string_view id) {
  absl::Status status =
      db_.Prepare("DELETE FROM stage_triggers "
                  "WHERE account_id = ?1 AND id = ?2")
          .Bind(1, account_id)
          .Bind(2, id)
          .Run();
  if (!status.ok()) return status;
  if (db_.changes() == 0) return NotFound("trigger", id);
  return absl::OkStatus();
}

}  // namespace ats::storage::sqlite
