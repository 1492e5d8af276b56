#include "storage/postgres/migrations.h"

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace ats::storage::postgres {
namespace {

// The advisory lock every replica migrating this database takes: the
// characters "atsmigr" as a number, so it is recognisable in pg_locks.
constexpr int64_t kMigrationLock = 0x6174736d696772;

absl::StatusOr<int64_t> ReadVersion(Connection& connection) {
  auto result = connection.Query(
      "SELECT coalesce(max(version), 0) FROM ats_schema_migrations");
  if (!result.ok()) return result.status();
  return result->Int64(0, 0);
}

absl::Status NotNewer(int64_t current, int64_t newest) {
  if (current <= newest) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "database schema version ", current, " is newer than this server (",
      newest, "); upgrade ats-server"));
}

// Applies `migration` unless another replica did meanwhile.
absl::Status ApplyInTransaction(Connection& connection,
                                const Migration& migration, int64_t newest) {
  auto locked = connection.Query("SELECT pg_advisory_xact_lock($1)",
                                 {Param(kMigrationLock)});
  if (!locked.ok()) return locked.status();
  absl::StatusOr<int64_t> current = ReadVersion(connection);
  if (!current.ok()) return current.status();
  absl::Status status = NotNewer(*current, newest);
  if (!status.ok() || *current >= migration.version) return status;
  status = connection.Exec(migration.sql);
  if (!status.ok()) return status;
  return connection
      .Query("INSERT INTO ats_schema_migrations (version, name, apply_time) "
             "VALUES ($1, $2, "
             "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint)",
             {Param(migration.version), Param(migration.name)})
      .status();
}

absl::Status ApplyOne(Connection& connection, const Migration& migration,
                      int64_t newest) {
  absl::Status status = connection.Exec("BEGIN");
  if (status.ok()) status = ApplyInTransaction(connection, migration, newest);
  if (status.ok()) {
    status = connection.Exec("COMMIT");
  } else {
    connection.Exec("ROLLBACK").IgnoreError();
  }
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrCat("migration ", migration.version, " (",
                                   migration.name, ") failed: ",
                                   status.message()));
}

}  // namespace

absl::Status ApplyMigrations(Connection& connection) {
  return ApplyMigrations(connection, EmbeddedMigrations());
}

absl::Status ApplyMigrations(Connection& connection,
                             absl::Span<const Migration> migrations) {
  absl::Status status = ValidateMigrations(migrations);
  if (!status.ok()) return status;
  // IF NOT EXISTS races when two replicas create it at once; the advisory
  // lock makes them take turns.
  status = connection.Exec(absl::StrCat(
      "BEGIN; SELECT pg_advisory_xact_lock(", kMigrationLock,
      "); CREATE TABLE IF NOT EXISTS ats_schema_migrations ("
      "version integer PRIMARY KEY, name text NOT NULL, "
      "apply_time bigint NOT NULL); COMMIT"));
  if (!status.ok()) {
    connection.Exec("ROLLBACK").IgnoreError();
    return status;
  }
  absl::StatusOr<int64_t> current = ReadVersion(connection);
  if (!current.ok()) return current.status();
  const int64_t newest = static_cast<int64_t>(migrations.size());
  status = NotNewer(*current, newest);
  if (!status.ok()) return status;
  for (const Migration& migration : migrations) {
    if (migration.version <= *current) continue;
    status = ApplyOne(connection, migration, newest);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace ats::storage::postgres
