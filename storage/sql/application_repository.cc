#include "storage/sql/application_repository.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "storage/sql/values.h"

namespace ats::storage::sql {
namespace {

// Qualified: the application list joins stages.
constexpr char kApplicationColumns[] =
    "a.account_id, a.job_id, a.candidate_id, a.stage_id, a.stage_enter_time, "
    "a.entry_count, a.create_time";
constexpr char kTransitionColumns[] =
    "account_id, job_id, candidate_id, entry, from_stage_id, to_stage_id, "
    "time, moved_by, moved_by_rule";

absl::Status ApplicationNotFound(std::string_view job_id,
                                 std::string_view candidate_id) {
  return absl::NotFoundError(absl::StrCat("application of candidate ",
                                          std::string(candidate_id), " to job ",
                                          std::string(job_id), " not found"));
}

// Binds ?1 to ?6 to `row`'s key (account, job, candidate), stage,
// stage_enter_time and entry_count, as insert and update both write them.
Statement& BindApplication(Statement& stmt, const ApplicationRow& row) {
  return stmt.Bind(1, row.account_id)
      .Bind(2, row.job_id)
      .Bind(3, row.candidate_id)
      .Bind(4, row.stage_id)
      .Bind(5, ToMicros(row.stage_enter_time))
      .Bind(6, row.entry_count);
}

ApplicationRow ReadApplication(const Statement& stmt) {
  ApplicationRow row;
  row.account_id = stmt.ColumnText(0);
  row.job_id = stmt.ColumnText(1);
  row.candidate_id = stmt.ColumnText(2);
  row.stage_id = stmt.ColumnText(3);
  row.stage_enter_time = FromMicros(stmt.ColumnInt64(4));
  row.entry_count = stmt.ColumnInt64(5);
  row.create_time = FromMicros(stmt.ColumnInt64(6));
  return row;
}

absl::StatusOr<TransitionRow> ReadTransition(const Statement& stmt) {
  TransitionRow row;
  row.account_id = stmt.ColumnText(0);
  row.job_id = stmt.ColumnText(1);
  row.candidate_id = stmt.ColumnText(2);
  row.entry = stmt.ColumnInt64(3);
  row.from_stage_id = stmt.ColumnText(4);
  row.to_stage_id = stmt.ColumnText(5);
  row.time = FromMicros(stmt.ColumnInt64(6));
  row.moved_by = stmt.ColumnText(7);
  if (!ParseOptionalColumn(stmt, 8, &row.moved_by_rule)) {
    return absl::DataLossError(
        absl::StrCat("stored rule of stage entry ", row.entry, " of candidate ",
                     row.candidate_id, " in job ", row.job_id, " is corrupt"));
  }
  return row;
}

// NOT_FOUND unless the account has an application of candidate
// `candidate_id` to job `job_id`.
absl::Status RequireApplication(Session& db, std::string_view account_id,
                                std::string_view job_id,
                                std::string_view candidate_id) {
  Statement& check = db.Prepare(
      "SELECT EXISTS (SELECT 1 FROM applications WHERE account_id = ?1 "
      "AND job_id = ?2 AND candidate_id = ?3)");
  check.Bind(1, account_id).Bind(2, job_id).Bind(3, candidate_id);
  absl::StatusOr<bool> found = ReadFlag(check);
  if (!found.ok()) return found.status();
  return *found ? absl::OkStatus() : ApplicationNotFound(job_id, candidate_id);
}

// Where an application list page starts: after this row.
struct ApplicationKeyset {
  int64_t stage_position = 0;
  int64_t enter_micros = 0;
  std::string candidate_id;
};

absl::StatusOr<std::optional<ApplicationKeyset>> ApplicationKeysetAfter(
    const PageRequest& page) {
  if (page.after.empty()) return std::nullopt;
  ApplicationKeyset keyset;
  if (page.after.size() != 3 ||
      !absl::SimpleAtoi(page.after[0], &keyset.stage_position) ||
      !absl::SimpleAtoi(page.after[1], &keyset.enter_micros)) {
    return absl::InvalidArgumentError("page_token is not valid for this list");
  }
  keyset.candidate_id = page.after[2];
  return keyset;
}

}  // namespace

absl::Status SqlApplicationRepository::RequireStageOfJob(
    std::string_view account_id, std::string_view job_id,
    std::string_view stage_id) {
  Statement& stmt = db_.Prepare(
      "SELECT EXISTS (SELECT 1 FROM stages WHERE account_id = ?1 "
      "AND job_id = ?2 AND id = ?3)");
  stmt.Bind(1, account_id).Bind(2, job_id).Bind(3, stage_id);
  absl::StatusOr<bool> found = ReadFlag(stmt);
  if (!found.ok()) return found.status();
  if (!*found) {
    return absl::NotFoundError(absl::StrCat("stage ", std::string(stage_id),
                                            " not found in job ",
                                            std::string(job_id)));
  }
  return absl::OkStatus();
}

absl::Status SqlApplicationRepository::InsertApplication(
    const ApplicationRow& row) {
  Statement& check = db_.Prepare(
      "SELECT EXISTS (SELECT 1 FROM jobs WHERE account_id = ?1 AND id = ?2), "
      "EXISTS (SELECT 1 FROM candidates WHERE account_id = ?1 AND id = ?3)");
  check.Bind(1, row.account_id).Bind(2, row.job_id).Bind(3, row.candidate_id);
  std::vector<bool> found(2);
  absl::Status status = ReadFlags(check, found);
  if (!status.ok()) return status;
  if (!found[0]) return RowNotFound("job", row.job_id);
  if (!found[1]) return RowNotFound("candidate", row.candidate_id);
  status = RequireStageOfJob(row.account_id, row.job_id, row.stage_id);
  if (!status.ok()) return status;
  status = BindApplication(
               db_.Prepare("INSERT INTO applications (account_id, job_id, "
                           "candidate_id, stage_id, stage_enter_time, "
                           "entry_count, create_time) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
               row)
               .Bind(7, ToMicros(row.create_time))
               .Run();
  return RewordDuplicate(std::move(status),
                         absl::StrCat("candidate ", row.candidate_id,
                                      " is already in job ", row.job_id));
}

absl::Status SqlApplicationRepository::UpdateApplication(
    const ApplicationRow& row) {
  // One statement checks the stage and updates: a move is the hottest write.
  // Only when it changes nothing are the checks run apart, to say which
  // row is missing.
  absl::Status status =
      BindApplication(
          db_.Prepare(
              "UPDATE applications SET stage_id = ?4, stage_enter_time = ?5, "
              "entry_count = ?6 "
              "WHERE account_id = ?1 AND job_id = ?2 AND candidate_id = ?3 "
              "AND EXISTS (SELECT 1 FROM stages WHERE account_id = ?1 "
              "AND job_id = ?2 AND id = ?4)"),
          row)
          .Run();
  if (!status.ok() || db_.changes() > 0) return status;
  status =
      RequireApplication(db_, row.account_id, row.job_id, row.candidate_id);
  if (!status.ok()) return status;
  return RequireStageOfJob(row.account_id, row.job_id, row.stage_id);
}

absl::StatusOr<ApplicationRow> SqlApplicationRepository::GetApplication(
    std::string_view account_id, std::string_view job_id,
    std::string_view candidate_id) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kApplicationColumns,
      " FROM applications a WHERE a.account_id = ?1 AND a.job_id = ?2 "
      "AND a.candidate_id = ?3");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.Bind(1, account_id).Bind(2, job_id).Bind(3, candidate_id);
  return ReadOne<ApplicationRow>(stmt, ReadApplication,
                                 ApplicationNotFound(job_id, candidate_id));
}

absl::StatusOr<Page<ApplicationRow>>
SqlApplicationRepository::ListApplications(std::string_view account_id,
                                              std::string_view job_id,
                                              std::string_view stage_id,
                                              const PageRequest& page) {
  auto after = ApplicationKeysetAfter(page);
  if (!after.ok()) return after.status();
  // The stage position is selected last so the cursor can be built from it.
  static const std::string sql = absl::StrCat(
      "SELECT ", kApplicationColumns,
      ", s.position FROM applications a JOIN stages s ON s.id = a.stage_id "
      "WHERE a.account_id = ?1 AND a.job_id = ?2 AND s.account_id = ?1 "
      "AND (?3 = '' OR a.stage_id = ?3) "
      "AND (CAST(?4 AS BIGINT) IS NULL OR (s.position, a.stage_enter_time, a.candidate_id) > "
      "(?4, ?5, ?6)) "
      "ORDER BY s.position, a.stage_enter_time, a.candidate_id LIMIT ?7");
  Statement& stmt = db_.Prepare(sql.c_str());
  // Through std::string: a default std::string_view would bind NULL, which
  // `?3 = ''` does not match.
  stmt.Bind(1, account_id).Bind(2, job_id).Bind(3, std::string(stage_id));
  if (after->has_value()) {
    stmt.Bind(4, (*after)->stage_position)
        .Bind(5, (*after)->enter_micros)
        .Bind(6, (*after)->candidate_id);
  } else {
    stmt.BindNull(4).BindNull(5).BindNull(6);
  }
  stmt.Bind(7, page.limit + 1);
  using Positioned = std::pair<ApplicationRow, int64_t>;
  auto rows = ReadAll<Positioned>(stmt, [](const Statement& s) {
    return Positioned(ReadApplication(s), s.ColumnInt64(7));
  });
  if (!rows.ok()) return rows.status();
  return WithoutSortKeys(
      MakePage(*std::move(rows), page.limit, [](const Positioned& row) {
        return std::vector<std::string>{
            absl::StrCat(row.second),
            absl::StrCat(ToMicros(row.first.stage_enter_time)),
            row.first.candidate_id};
      }));
}

absl::StatusOr<std::vector<ApplicationRow>>
SqlApplicationRepository::ListCandidateApplications(
    std::string_view account_id, std::string_view candidate_id) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kApplicationColumns,
      " FROM applications a WHERE a.account_id = ?1 AND a.candidate_id = ?2 "
      "ORDER BY a.create_time, a.job_id");
  return SelectRows<ApplicationRow>(db_, sql.c_str(), account_id, candidate_id,
                                    ReadApplication);
}

absl::Status SqlApplicationRepository::DeleteApplication(
    std::string_view account_id, std::string_view job_id,
    std::string_view candidate_id) {
  // Transitions go with it (ON DELETE CASCADE).
  absl::Status status =
      db_.Prepare("DELETE FROM applications WHERE account_id = ?1 "
                  "AND job_id = ?2 AND candidate_id = ?3")
          .Bind(1, account_id)
          .Bind(2, job_id)
          .Bind(3, candidate_id)
          .Run();
  if (!status.ok()) return status;
  if (db_.changes() == 0) return ApplicationNotFound(job_id, candidate_id);
  return absl::OkStatus();
}

absl::Status SqlApplicationRepository::InsertTransition(
    const TransitionRow& row) {
  absl::Status status =
      RequireApplication(db_, row.account_id, row.job_id, row.candidate_id);
  if (!status.ok()) return status;
  static const std::string sql =
      absl::StrCat("INSERT INTO stage_transitions (", kTransitionColumns,
                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.Bind(1, row.account_id)
      .Bind(2, row.job_id)
      .Bind(3, row.candidate_id)
      .Bind(4, row.entry)
      .Bind(5, row.from_stage_id)
      .Bind(6, row.to_stage_id)
      .Bind(7, ToMicros(row.time))
      .Bind(8, row.moved_by);
  BindMessageOrNull(stmt, 9, row.moved_by_rule);
  status = stmt.Run();
  return RewordDuplicate(
      std::move(status),
      absl::StrCat("stage entry ", row.entry, " of candidate ",
                   row.candidate_id, " in job ", row.job_id,
                   " is already recorded"));
}

absl::StatusOr<std::vector<TransitionRow>>
SqlApplicationRepository::ListTransitions(std::string_view account_id,
                                             std::string_view job_id,
                                             std::string_view candidate_id) {
  // Entries count up from 1, so entry order is time order.
  static const std::string sql = absl::StrCat(
      "SELECT ", kTransitionColumns,
      " FROM stage_transitions WHERE account_id = ?1 AND job_id = ?2 "
      "AND candidate_id = ?3 ORDER BY entry");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.Bind(1, account_id).Bind(2, job_id).Bind(3, candidate_id);
  return ReadAll<TransitionRow>(stmt, ReadTransition);
}

}  // namespace ats::storage::sql
