#ifndef ATS_STORAGE_SQLITE_MIGRATIONS_H_
#define ATS_STORAGE_SQLITE_MIGRATIONS_H_

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "storage/migration.h"
#include "storage/sqlite/connection.h"

namespace ats::storage::sqlite {

// SQLite records the last applied version in PRAGMA user_version, and runs
// each migration with foreign key enforcement off, as its table-rebuild
// procedure needs; references are checked before commit instead.
using ::ats::storage::Migration;
using ::ats::storage::ValidateMigrations;

// Returns the migrations built from storage/sqlite/migrations/NNNN_name.sql,
// ordered by version (the definition is generated at build time).
absl::Span<const Migration> EmbeddedMigrations();

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
