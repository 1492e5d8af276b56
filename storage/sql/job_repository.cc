#include "storage/sql/job_repository.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/sql/config_cache.h"
#include "storage/sql/values.h"

namespace ats::storage::sql {
namespace {

constexpr char kJobColumns[] =
    "account_id, id, title, description, state, template_id, create_time, "
    "update_time, revision";
// Written on insert; reads add candidate_count, which storage keeps.
constexpr char kStageColumns[] =
    "account_id, id, job_id, display_name, position, create_time";
// Qualified: trigger lists join stages.
constexpr char kTriggerColumns[] =
    "t.account_id, t.id, t.stage_id, t.position, t.integration_id, t.spec, "
    "t.create_time";

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
  stage.candidate_count = stmt.ColumnInt64(6);
  return stage;
}

absl::StatusOr<TriggerRow> ReadTrigger(const Statement& stmt) {
  TriggerRow trigger;
  trigger.account_id = stmt.ColumnText(0);
  trigger.id = stmt.ColumnText(1);
  trigger.stage_id = stmt.ColumnText(2);
  trigger.position = static_cast<int>(stmt.ColumnInt64(3));
  trigger.integration_id = stmt.ColumnText(4);  // NULL reads as "".
  if (!ParseColumn(stmt, 5, &trigger.spec)) {
    return absl::DataLossError(
        absl::StrCat("stored spec of trigger ", trigger.id, " is corrupt"));
  }
  trigger.create_time = FromMicros(stmt.ColumnInt64(6));
  return trigger;
}

// The EXISTS queries RequireRow takes: ?1 = account, ?2 = id.
constexpr char kJobExists[] =
    "SELECT EXISTS (SELECT 1 FROM jobs WHERE account_id = ?1 AND id = ?2)";
constexpr char kStageExists[] =
    "SELECT EXISTS (SELECT 1 FROM stages WHERE account_id = ?1 AND id = ?2)";
constexpr char kIntegrationExists[] =
    "SELECT EXISTS (SELECT 1 FROM integrations "
    "WHERE account_id = ?1 AND id = ?2)";

// NOT_FOUND unless `id` is empty (no integration) or an integration of the
// account.
absl::Status RequireIntegrationIfSet(Session& db,
                                     std::string_view account_id,
                                     std::string_view id) {
  if (id.empty()) return absl::OkStatus();
  return RequireRow(db, kIntegrationExists, "integration", account_id, id);
}

}  // namespace

absl::Status SqlJobRepository::InsertJob(const JobRow& job) {
  ConfigChanged(db_);
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
  return RewordDuplicate(std::move(status),
                         absl::StrCat("job ", job.id, " already exists"));
}

absl::Status SqlJobRepository::UpdateJob(const JobRow& job) {
  ConfigChanged(db_);
  return RowChanged(
      db_,
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
          .Run(),
      "job", job.id);
}

absl::StatusOr<JobRow> SqlJobRepository::GetJob(std::string_view account_id,
                                                std::string_view id) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kJobColumns, " FROM jobs WHERE account_id = ?1 AND id = ?2");
  return ReadThroughConfigCache<JobRow>(db_, account_id, id, [&] {
    return SelectRow<JobRow>(db_, sql.c_str(), "job", account_id, id, ReadJob);
  });
}

absl::StatusOr<Page<JobRow>> SqlJobRepository::ListJobs(
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
    return TimeCursor(job.create_time, job.id);
  });
}

absl::Status SqlJobRepository::DeleteJob(std::string_view account_id,
                                            std::string_view id) {
  ConfigChanged(db_);
  // Stages, their triggers, applications and their transitions go with it
  // (ON DELETE CASCADE).
  return DeleteRow(db_, "DELETE FROM jobs WHERE account_id = ?1 AND id = ?2",
                   "job", account_id, id);
}

absl::Status SqlJobRepository::InsertStage(const StageRow& stage) {
  ConfigChanged(db_);
  absl::Status status =
      RequireRow(db_, kJobExists, "job", stage.account_id, stage.job_id);
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
  return RewordDuplicate(std::move(status),
                         absl::StrCat("stage ", stage.id, " already exists"));
}

absl::Status SqlJobRepository::UpdateStage(const StageRow& stage) {
  ConfigChanged(db_);
  return RowChanged(
      db_,
      db_.Prepare("UPDATE stages SET display_name = ?3, position = ?4 "
                  "WHERE account_id = ?1 AND id = ?2")
          .Bind(1, stage.account_id)
          .Bind(2, stage.id)
          .Bind(3, stage.display_name)
          .Bind(4, stage.position)
          .Run(),
      "stage", stage.id);
}

absl::StatusOr<StageRow> SqlJobRepository::GetStage(
    std::string_view account_id, std::string_view id) {
  static const std::string sql =
      absl::StrCat("SELECT ", kStageColumns,
                   ", candidate_count FROM stages WHERE account_id = ?1 "
                   "AND id = ?2");
  return SelectRow<StageRow>(db_, sql.c_str(), "stage", account_id, id,
                             ReadStage);
}

absl::StatusOr<std::vector<StageRow>> SqlJobRepository::ListStages(
    std::string_view account_id, std::string_view job_id) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kStageColumns,
      ", candidate_count FROM stages WHERE account_id = ?1 AND job_id = ?2 "
      "ORDER BY position, id");
  return SelectRows<StageRow>(db_, sql.c_str(), account_id, job_id, ReadStage);
}

absl::Status SqlJobRepository::DeleteStage(std::string_view account_id,
                                              std::string_view id) {
  ConfigChanged(db_);
  absl::Status status = RequireRow(db_, kStageExists, "stage", account_id, id);
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
  return DeleteRow(db_, "DELETE FROM stages WHERE account_id = ?1 AND id = ?2",
                   "stage", account_id, id);
}

absl::Status SqlJobRepository::InsertTrigger(const TriggerRow& trigger) {
  ConfigChanged(db_);
  absl::Status status = RequireRow(db_, kStageExists, "stage",
                                   trigger.account_id, trigger.stage_id);
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
  BindTextOrNull(stmt, 5, trigger.integration_id);
  stmt.BindBlob(6, trigger.spec.SerializeAsString())
      .Bind(7, ToMicros(trigger.create_time));
  return RewordDuplicate(
      stmt.Run(), absl::StrCat("trigger ", trigger.id, " already exists"));
}

absl::Status SqlJobRepository::UpdateTrigger(const TriggerRow& trigger) {
  ConfigChanged(db_);
  absl::Status status =
      RequireIntegrationIfSet(db_, trigger.account_id, trigger.integration_id);
  if (!status.ok()) return status;
  Statement& stmt = db_.Prepare(
      "UPDATE stage_triggers SET position = ?3, integration_id = ?4, "
      "spec = ?5 WHERE account_id = ?1 AND id = ?2");
  stmt.Bind(1, trigger.account_id)
      .Bind(2, trigger.id)
      .Bind(3, trigger.position);
  BindTextOrNull(stmt, 4, trigger.integration_id);
  stmt.BindBlob(5, trigger.spec.SerializeAsString());
  return RowChanged(db_, stmt.Run(), "trigger", trigger.id);
}

absl::StatusOr<TriggerRow> SqlJobRepository::GetTrigger(
    std::string_view account_id, std::string_view id) {
  static const std::string sql =
      absl::StrCat("SELECT ", kTriggerColumns,
                   " FROM stage_triggers t WHERE t.account_id = ?1 "
                   "AND t.id = ?2");
  return SelectRow<TriggerRow>(db_, sql.c_str(), "trigger", account_id, id,
                               ReadTrigger);
}

absl::StatusOr<std::vector<TriggerRow>> SqlJobRepository::ListTriggers(
    std::string_view account_id, std::string_view stage_id) {
  static const std::string sql =
      absl::StrCat("SELECT ", kTriggerColumns,
                   " FROM stage_triggers t WHERE t.account_id = ?1 "
                   "AND t.stage_id = ?2 ORDER BY t.position, t.id");
  return ReadThroughConfigCache<std::vector<TriggerRow>>(
      db_, account_id, stage_id, [&] {
        return SelectRows<TriggerRow>(db_, sql.c_str(), account_id, stage_id,
                                      ReadTrigger);
      });
}

absl::StatusOr<std::vector<TriggerRow>> SqlJobRepository::ListJobTriggers(
    std::string_view account_id, std::string_view job_id) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kTriggerColumns,
      " FROM stages s JOIN stage_triggers t ON t.stage_id = s.id "
      "WHERE s.account_id = ?1 AND s.job_id = ?2 AND t.account_id = ?1 "
      "ORDER BY s.position, s.id, t.position, t.id");
  return SelectRows<TriggerRow>(db_, sql.c_str(), account_id, job_id,
                                ReadTrigger);
}

absl::Status SqlJobRepository::DeleteTrigger(std::string_view account_id,
                                                std::string_view id) {
  ConfigChanged(db_);
  return DeleteRow(
      db_, "DELETE FROM stage_triggers WHERE account_id = ?1 AND id = ?2",
      "trigger", account_id, id);
}

}  // namespace ats::storage::sql
