#include "storage/sql/candidate_repository.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/sql/values.h"

namespace ats::storage::sql {
namespace {

constexpr char kCandidateColumns[] =
    "account_id, id, given_name, family_name, email, phone, create_time, "
    "update_time, revision";

// Reads the columns of kCandidateColumns; tags are read separately.
CandidateRow ReadCandidate(const Statement& stmt) {
  CandidateRow candidate;
  candidate.account_id = stmt.ColumnText(0);
  candidate.id = stmt.ColumnText(1);
  candidate.given_name = stmt.ColumnText(2);
  candidate.family_name = stmt.ColumnText(3);
  candidate.email = stmt.ColumnText(4);
  candidate.phone = stmt.ColumnText(5);
  candidate.create_time = FromMicros(stmt.ColumnInt64(6));
  candidate.update_time = FromMicros(stmt.ColumnInt64(7));
  candidate.revision = stmt.ColumnInt64(8);
  return candidate;
}

}  // namespace

absl::Status SqlCandidateRepository::CheckEmailFree(
    const CandidateRow& candidate) {
  Statement& stmt = db_.Prepare(
      "SELECT id FROM candidates WHERE account_id = ?1 AND email_key <> '' "
      "AND email_key = lower(?2) AND id <> ?3");
  stmt.Bind(1, candidate.account_id)
      .Bind(2, candidate.email)
      .Bind(3, candidate.id);
  auto other = ReadOptional<std::string>(
      stmt, [](const Statement& row) { return row.ColumnText(0); });
  if (!other.ok()) return other.status();
  if (!other->has_value()) return absl::OkStatus();
  return absl::AlreadyExistsError(absl::StrCat(
      "email \"", candidate.email, "\" is already used by candidate ", **other,
      " (emails are case-insensitive)"));
}

absl::Status SqlCandidateRepository::InsertTag(
    std::string_view account_id, std::string_view candidate_id,
    std::string_view tag, bool* added) {
  absl::Status status =
      db_.Prepare("INSERT INTO candidate_tags (account_id, candidate_id, tag) "
                  "VALUES (?1, ?2, ?3) "
                  "ON CONFLICT (candidate_id, tag) DO NOTHING")
          .Bind(1, account_id)
          .Bind(2, candidate_id)
          .Bind(3, tag)
          .Run();
  if (!status.ok()) return status;
  *added = db_.changes() > 0;
  return absl::OkStatus();
}

absl::Status SqlCandidateRepository::ReplaceTags(
    const CandidateRow& candidate) {
  absl::Status status =
      db_.Prepare("DELETE FROM candidate_tags WHERE +account_id = ?1 "
                  "AND candidate_id = ?2")
          .Bind(1, candidate.account_id)
          .Bind(2, candidate.id)
          .Run();
  for (const std::string& tag : candidate.tags) {
    if (!status.ok()) break;
    bool added = false;
    status = InsertTag(candidate.account_id, candidate.id, tag, &added);
  }
  return status;
}

absl::Status SqlCandidateRepository::ReadTags(CandidateRow& candidate) {
  // `+account_id` keeps the planner on the primary key (candidate_id, tag):
  // without statistics it would rather scan every tag of the account in
  // candidate_tags_by_tag.
  Statement& stmt = db_.Prepare(
      "SELECT tag FROM candidate_tags WHERE +account_id = ?1 "
      "AND candidate_id = ?2 ORDER BY tag");
  stmt.Bind(1, candidate.account_id).Bind(2, candidate.id);
  auto tags = ReadAll<std::string>(
      stmt, [](const Statement& row) { return row.ColumnText(0); });
  if (!tags.ok()) return tags.status();
  candidate.tags = *std::move(tags);
  return absl::OkStatus();
}

absl::Status SqlCandidateRepository::InsertCandidate(
    const CandidateRow& candidate) {
  absl::Status status = CheckEmailFree(candidate);
  if (!status.ok()) return status;
  static const std::string sql = absl::StrCat(
      "INSERT INTO candidates (", kCandidateColumns,
      ", email_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, lower(?5)) "
      "ON CONFLICT DO NOTHING");
  status = db_.Prepare(sql.c_str())
                            .Bind(1, candidate.account_id)
                            .Bind(2, candidate.id)
                            .Bind(3, candidate.given_name)
                            .Bind(4, candidate.family_name)
                            .Bind(5, candidate.email)
                            .Bind(6, candidate.phone)
                            .Bind(7, ToMicros(candidate.create_time))
                            .Bind(8, ToMicros(candidate.update_time))
                            .Bind(9, candidate.revision)
                            .Run();
  status = InsertedOrAlreadyExists(
      db_, std::move(status),
      absl::StrCat("candidate ", candidate.id, " already exists"));
  if (!status.ok()) return status;
  return ReplaceTags(candidate);
}

absl::Status SqlCandidateRepository::UpdateCandidate(
    const CandidateRow& candidate) {
  absl::Status status = CheckEmailFree(candidate);
  if (!status.ok()) return status;
  status =
      db_.Prepare("UPDATE candidates SET given_name = ?3, family_name = ?4, "
                  "email = ?5, email_key = lower(?5), phone = ?6, "
                  "update_time = ?7, revision = ?8 "
                  "WHERE account_id = ?1 AND id = ?2")
          .Bind(1, candidate.account_id)
          .Bind(2, candidate.id)
          .Bind(3, candidate.given_name)
          .Bind(4, candidate.family_name)
          .Bind(5, candidate.email)
          .Bind(6, candidate.phone)
          .Bind(7, ToMicros(candidate.update_time))
          .Bind(8, candidate.revision)
          .Run();
  if (!status.ok()) return status;
  if (db_.changes() == 0) return RowNotFound("candidate", candidate.id);
  return ReplaceTags(candidate);
}

absl::StatusOr<CandidateRow> SqlCandidateRepository::GetCandidate(
    std::string_view account_id, std::string_view id) {
  static const std::string sql =
      absl::StrCat("SELECT ", kCandidateColumns,
                   " FROM candidates WHERE account_id = ?1 AND id = ?2");
  auto candidate = SelectRow<CandidateRow>(db_, sql.c_str(), "candidate",
                                           account_id, id, ReadCandidate);
  if (!candidate.ok()) return candidate.status();
  absl::Status status = ReadTags(*candidate);
  if (!status.ok()) return status;
  return candidate;
}

absl::StatusOr<Page<CandidateRow>> SqlCandidateRepository::ListCandidates(
    std::string_view account_id, const CandidateFilter& filter,
    const PageRequest& page) {
  auto after = TimeKeysetAfter(page);
  if (!after.ok()) return after.status();
  // Newest first, so the page starts *below* the cursor (see
  // BindNewestFirstKeyset). instr() matches the user's text literally (no
  // pattern characters); lower() folds ASCII only. The name filter also
  // matches across "given family", so a full name finds its candidate.
  static const std::string sql = absl::StrCat(
      "SELECT ", kCandidateColumns,
      " FROM candidates c WHERE account_id = ?1 "
      "AND (?2 = '' OR EXISTS (SELECT 1 FROM candidate_tags t "
      "WHERE t.account_id = ?1 AND t.tag = ?2 AND t.candidate_id = c.id)) "
      "AND (?3 = '' OR email_key = lower(?3)) "
      "AND (?4 = '' OR instr(lower(given_name || ' ' || family_name), "
      "lower(?4)) > 0) "
      "AND (create_time, id) < (?5, ?6) "
      "ORDER BY create_time DESC, id DESC LIMIT ?7");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.Bind(1, account_id)
      .Bind(2, filter.tag)
      .Bind(3, filter.email)
      .Bind(4, filter.name_contains);
  BindNewestFirstKeyset(stmt, 5, *after);
  stmt.Bind(7, page.limit + 1);
  auto rows = ReadAll<CandidateRow>(stmt, ReadCandidate);
  if (!rows.ok()) return rows.status();
  Page<CandidateRow> result = MakePage(
      *std::move(rows), page.limit,
      [](const CandidateRow& c) { return TimeCursor(c.create_time, c.id); });
  for (CandidateRow& candidate : result.rows) {
    absl::Status status = ReadTags(candidate);
    if (!status.ok()) return status;
  }
  return result;
}

absl::Status SqlCandidateRepository::AddTag(std::string_view account_id,
                                               std::string_view id,
                                               std::string_view tag,
                                               absl::Time when) {
  // Checked first: candidate_tags cannot tell another account's candidate
  // from a missing one.
  absl::Status status = RequireRow(db_,
                                   "SELECT EXISTS (SELECT 1 FROM candidates "
                                   "WHERE account_id = ?1 AND id = ?2)",
                                   "candidate", account_id, id);
  if (!status.ok()) return status;

  bool added = false;
  status = InsertTag(account_id, id, tag, &added);
  if (!status.ok() || !added) return status;
  // The candidate as clients see it changed: new update time and etag.
  return db_
      .Prepare("UPDATE candidates SET update_time = ?3, "
               "revision = revision + 1 WHERE account_id = ?1 AND id = ?2")
      .Bind(1, account_id)
      .Bind(2, id)
      .Bind(3, ToMicros(when))
      .Run();
}

absl::Status SqlCandidateRepository::DeleteCandidate(
    std::string_view account_id, std::string_view id) {
  // Tags, applications and their transitions go with it (ON DELETE CASCADE).
  return DeleteRow(db_,
                   "DELETE FROM candidates WHERE account_id = ?1 AND id = ?2",
                   "candidate", account_id, id);
}

absl::StatusOr<std::optional<int64_t>> SqlCandidateRepository::ChangeCount(
    std::string_view account_id) {
  if (db_.dialect() != Dialect::kSqlite) return std::nullopt;
  // Triggers keep it (SQLite migration 20); an account nobody has written
  // candidates to has no row yet.
  Statement& stmt = db_.Prepare(
      "SELECT change_count FROM candidate_change_counts WHERE account_id = ?1");
  stmt.Bind(1, account_id);
  absl::StatusOr<std::optional<int64_t>> count = ReadOptional<int64_t>(
      stmt, [](const Statement& row) { return row.ColumnInt64(0); });
  if (!count.ok()) return count.status();
  return count->value_or(0);
}

}  // namespace ats::storage::sql
