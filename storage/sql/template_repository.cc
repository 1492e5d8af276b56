#include "storage/sql/template_repository.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "storage/sql/values.h"

namespace ats::storage::sql {
namespace {

constexpr char kTemplateColumns[] =
    "account_id, id, display_name, description, stages, is_default, "
    "create_time, update_time, revision";

// Display names are unique per account regardless of case; the lower-cased
// name is also the listing order.
std::string SortName(const TemplateRow& row) {
  return absl::AsciiStrToLower(row.display_name);
}

// The stored document: the stages and nothing else, so fields a caller left
// set elsewhere in `pipeline` cannot leak into storage.
std::string EncodeStages(const TemplateRow& row) {
  ats::v1::JobTemplate stages;
  *stages.mutable_stages() = row.pipeline.stages();
  return stages.SerializeAsString();
}

absl::StatusOr<TemplateRow> ReadTemplate(const Statement& stmt) {
  TemplateRow row;
  row.account_id = stmt.ColumnText(0);
  row.id = stmt.ColumnText(1);
  row.display_name = stmt.ColumnText(2);
  row.description = stmt.ColumnText(3);
  if (!ParseColumn(stmt, 4, &row.pipeline)) {
    return absl::DataLossError(
        absl::StrCat("stored stages of job template ", row.id, " are corrupt"));
  }
  row.is_default = stmt.ColumnInt64(5) != 0;
  row.create_time = FromMicros(stmt.ColumnInt64(6));
  row.update_time = FromMicros(stmt.ColumnInt64(7));
  row.revision = stmt.ColumnInt64(8);
  return row;
}

}  // namespace

absl::StatusOr<bool> SqlTemplateRepository::Exists(
    std::string_view account_id, std::string_view id) {
  Statement& stmt = db_.Prepare(
      "SELECT EXISTS (SELECT 1 FROM job_templates "
      "WHERE account_id = ?1 AND id = ?2)");
  stmt.Bind(1, account_id).Bind(2, id);
  return ReadFlag(stmt);
}

absl::Status SqlTemplateRepository::CheckClash(const TemplateRow& row) {
  Statement& stmt = db_.Prepare(
      "SELECT EXISTS (SELECT 1 FROM job_templates WHERE account_id = ?1 "
      "AND sort_name = ?2 AND id <> ?3), "
      "EXISTS (SELECT 1 FROM job_templates WHERE account_id = ?1 "
      "AND is_default = 1 AND id <> ?3)");
  stmt.Bind(1, row.account_id).Bind(2, SortName(row)).Bind(3, row.id);
  std::vector<bool> flags(2);
  absl::Status read = ReadFlags(stmt, flags);
  if (!read.ok()) return read;
  const bool name_taken = flags[0];
  const bool has_default = flags[1];
  if (name_taken) {
    return absl::AlreadyExistsError(
        absl::StrCat("a job template named \"", row.display_name,
                     "\" already exists (names are case-insensitive)"));
  }
  if (row.is_default && has_default) {
    return absl::AlreadyExistsError(
        "the account already has a default job template");
  }
  return absl::OkStatus();
}

absl::Status SqlTemplateRepository::InsertTemplate(const TemplateRow& row) {
  absl::Status status = CheckClash(row);
  if (!status.ok()) return status;
  static const std::string sql =
      absl::StrCat("INSERT INTO job_templates (", kTemplateColumns,
                   ", sort_name) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                   "?10) ON CONFLICT DO NOTHING");
  status = db_.Prepare(sql.c_str())
                            .Bind(1, row.account_id)
                            .Bind(2, row.id)
                            .Bind(3, row.display_name)
                            .Bind(4, row.description)
                            .BindBlob(5, EncodeStages(row))
                            .Bind(6, row.is_default ? 1 : 0)
                            .Bind(7, ToMicros(row.create_time))
                            .Bind(8, ToMicros(row.update_time))
                            .Bind(9, row.revision)
                            .Bind(10, SortName(row))
                            .Run();
  return InsertedOrAlreadyExists(
      db_, std::move(status),
      absl::StrCat("job template ", row.id, " already exists"));
}

absl::Status SqlTemplateRepository::UpdateTemplate(const TemplateRow& row) {
  // is_default is not written here, so only the name can clash.
  TemplateRow name_only = row;
  name_only.is_default = false;
  absl::Status status = CheckClash(name_only);
  if (!status.ok()) return status;
  status =
      db_.Prepare("UPDATE job_templates SET display_name = ?3, "
                  "sort_name = ?4, description = ?5, stages = ?6, "
                  "update_time = ?7, revision = ?8 "
                  "WHERE account_id = ?1 AND id = ?2")
          .Bind(1, row.account_id)
          .Bind(2, row.id)
          .Bind(3, row.display_name)
          .Bind(4, SortName(row))
          .Bind(5, row.description)
          .BindBlob(6, EncodeStages(row))
          .Bind(7, ToMicros(row.update_time))
          .Bind(8, row.revision)
          .Run();
  return RowChanged(db_, std::move(status), "job template", row.id);
}

absl::StatusOr<TemplateRow> SqlTemplateRepository::GetTemplate(
    std::string_view account_id, std::string_view id) {
  static const std::string sql =
      absl::StrCat("SELECT ", kTemplateColumns,
                   " FROM job_templates WHERE account_id = ?1 AND id = ?2");
  return SelectRow<TemplateRow>(db_, sql.c_str(), "job template", account_id,
                                id, ReadTemplate);
}

absl::StatusOr<TemplateRow> SqlTemplateRepository::GetDefaultTemplate(
    std::string_view account_id) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kTemplateColumns,
      " FROM job_templates WHERE account_id = ?1 AND is_default = 1");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.Bind(1, account_id);
  return ReadOne<TemplateRow>(
      stmt, ReadTemplate,
      absl::NotFoundError("the account has no default job template"));
}

absl::StatusOr<Page<TemplateRow>> SqlTemplateRepository::ListTemplates(
    std::string_view account_id, const PageRequest& page) {
  auto after = KeysetAfter(page);
  if (!after.ok()) return after.status();
  static const std::string sql = absl::StrCat(
      "SELECT ", kTemplateColumns,
      " FROM job_templates WHERE account_id = ?1 "
      "AND (CAST(?2 AS TEXT) IS NULL OR (sort_name, id) > (?2, ?3)) "
      "ORDER BY sort_name, id LIMIT ?4");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.Bind(1, account_id);
  BindKeysetAfter(stmt, 2, *after);
  stmt.Bind(4, page.limit + 1);
  auto rows = ReadAll<TemplateRow>(stmt, ReadTemplate);
  if (!rows.ok()) return rows.status();
  return MakePage(*std::move(rows), page.limit, [](const TemplateRow& row) {
    return std::vector<std::string>{SortName(row), row.id};
  });
}

absl::Status SqlTemplateRepository::SetDefaultTemplate(
    std::string_view account_id, std::string_view id, absl::Time when) {
  absl::StatusOr<bool> exists = Exists(account_id, id);
  if (!exists.ok()) return exists.status();
  if (!*exists) return RowNotFound("job template", id);
  // Clear the old default first: the partial unique index admits one.
  // Both templates change as seen by clients, so both get a new revision.
  absl::Status status =
      db_.Prepare("UPDATE job_templates SET is_default = 0, "
                  "update_time = ?3, revision = revision + 1 "
                  "WHERE account_id = ?1 AND is_default = 1 AND id <> ?2")
          .Bind(1, account_id)
          .Bind(2, id)
          .Bind(3, ToMicros(when))
          .Run();
  if (!status.ok()) return status;
  return db_
      .Prepare("UPDATE job_templates SET is_default = 1, "
               "update_time = ?3, revision = revision + 1 "
               "WHERE account_id = ?1 AND id = ?2 AND is_default = 0")
      .Bind(1, account_id)
      .Bind(2, id)
      .Bind(3, ToMicros(when))
      .Run();
}

absl::Status SqlTemplateRepository::DeleteTemplate(
    std::string_view account_id, std::string_view id) {
  return DeleteRow(
      db_, "DELETE FROM job_templates WHERE account_id = ?1 AND id = ?2",
      "job template", account_id, id);
}

}  // namespace ats::storage::sql
