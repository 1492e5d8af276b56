#ifndef ATS_STORAGE_SQLITE_MIGRATIONS_H_
#define ATS_STORAGE_SQLITE_MIGRATIONS_H_

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "storage/sqlite/connection.h"

namespace ats::storage::sqlite {

// One schema step. The database records the last applied version in
// PRAGMA user_version; versions run 1..N without gaps.
struct Migration {
  int version;
  // From the file name: "foundation" for 0001_foundation.sql.
  const char* name;
  // Runs in its own transaction (so no BEGIN/COMMIT here) with foreign key
  // enforcement off, as SQLite's table-rebuild procedure needs; references
  // are checked before commit instead.
  const char* sql;
};

// Returns the migrations built from storage/sqlite/migrations/NNNN_name.sql,
// ordered by version (the definition is generated at build time).
absl::Span<const Migration> EmbeddedMigrations();

// Returns OK if `migrations` are numbered 1..N in order with no gaps, and
// INTERNAL (a build defect) otherwise.
absl::Status ValidateMigrations(absl::Span<const Migration> migrations);

// Brings the database on `connection` (writable, not in a transaction) up to
// the newest embedded migration.
absl::Status ApplyMigrations(Connection& connection);

// Applies each of `migrations` newer than the database's user_version (with
// the SQL functions of migration_functions.h defined on `connection`), each
// in its own transaction that also records its version, stopping at the
// first failure (whose transaction leaves no trace). Returns
// FAILED_PRECONDITION if the database is newer than every migration, since a
// newer schema must not be written by older code.
absl::Status ApplyMigrations(Connection& connection,
                             absl::Span<const Migration> migrations);

}  // namespace ats::storage::sqlite

#endif  // ATS_STORAGE_SQLITE_MIGRATIONS_H_
