#include "storage/sqlite/migrations.h"

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "storage/sqlite/migration_functions.h"

namespace ats::storage::sqlite {
namespace {

absl::StatusOr<int64_t> ReadUserVersion(Connection& connection) {
  Statement& statement = connection.Prepare("PRAGMA user_version");
  absl::StatusOr<bool> row = statement.Step();
  if (!row.ok()) return row.status();
  const int64_t version = *row ? statement.ColumnInt64(0) : 0;
  connection.ResetStatements();
  return version;
}

// Migrations run with foreign key enforcement off (see ApplyOne), so this
// check is what stops one from committing dangling references.
absl::Status CheckForeignKeys(Connection& connection) {
  Statement& check = connection.Prepare("PRAGMA foreign_key_check");
  absl::StatusOr<bool> row = check.Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::OkStatus();
  std::string table = check.ColumnText(0);
  std::string parent = check.ColumnText(2);
  connection.ResetStatements();
  return absl::FailedPreconditionError(absl::StrCat(
      "foreign key violation in table ", table, " referencing ", parent));
}

absl::Status ApplyInTransaction(Connection& connection,
                                const Migration& migration) {
  // Another process may have migrated since we looked; re-read under the
  // write lock that BEGIN IMMEDIATE took.
  absl::StatusOr<int64_t> current = ReadUserVersion(connection);
  if (!current.ok()) return current.status();
  if (*current >= migration.version) return absl::OkStatus();

  absl::Status status = connection.Exec(migration.sql);
  if (!status.ok()) return status;
  status = CheckForeignKeys(connection);
  if (!status.ok()) return status;
  // PRAGMA takes no bound parameters; the number comes from the compiled-in
  // migration list, never from outside.
  const std::string set_version =
      absl::StrCat("PRAGMA user_version = ", migration.version);
  return connection.Exec(set_version.c_str());
}

absl::Status ApplyOne(Connection& connection, const Migration& migration) {
  // Rebuilding a table (create new, copy, drop old, rename) is how SQLite
  // changes most of a schema, and dropping a referenced table with
  // enforcement on would delete or orphan its children. The pragma is a
  // no-op inside a transaction, hence before BEGIN; CheckForeignKeys makes
  // up for it before COMMIT.
  absl::Status status = connection.Exec("PRAGMA foreign_keys = OFF");
  if (status.ok()) status = connection.Exec("BEGIN IMMEDIATE");
  if (status.ok()) status = ApplyInTransaction(connection, migration);
  connection.ResetStatements();
  if (status.ok()) status = connection.Exec("COMMIT");
  if (!status.ok() && connection.in_transaction()) {
    connection.Exec("ROLLBACK").IgnoreError();
  }
  absl::Status enforce = connection.Exec("PRAGMA foreign_keys = ON");
  if (status.ok()) status = enforce;
  if (!status.ok()) {
    return absl::Status(
        status.code(),
        absl::StrCat("migration ", migration.version, " (", migration.name,
                     ") failed: ", status.message()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyMigrations(Connection& connection) {
  return ApplyMigrations(connection, EmbeddedMigrations());
}

absl::Status ApplyMigrations(Connection& connection,
                             absl::Span<const Migration> migrations) {
  absl::Status status = ValidateMigrations(migrations);
  if (!status.ok()) return status;
  status = DefineMigrationFunctions(connection);
  if (!status.ok()) return status;
  absl::StatusOr<int64_t> current = ReadUserVersion(connection);
  if (!current.ok()) return current.status();
  const int64_t newest = static_cast<int64_t>(migrations.size());
  if (*current > newest) {
    return absl::FailedPreconditionError(absl::StrCat(
        "database schema version ", *current, " is newer than this server (",
        newest, "); upgrade ats-server"));
  }
  for (const Migration& migration : migrations) {
    if (migration.version <= *current) continue;
    status = ApplyOne(connection, migration);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace ats::storage::sqlite
