#ifndef ATS_STORAGE_MIGRATION_H_
#define ATS_STORAGE_MIGRATION_H_

// A schema step of a storage backend. Each backend compiles its own
// migrations in from storage/<backend>/migrations/NNNN_name.sql (see
// storage/embed_migrations.cmake) and records the last version applied.

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace ats::storage {

struct Migration {
  int version;
  // From the file name: "foundation" for 0001_foundation.sql.
  const char* name;
  // The statements; each backend runs a migration in a transaction of its
  // own, so no BEGIN/COMMIT here.
  const char* sql;
};

// Returns OK if `migrations` are numbered 1..N in order with no gaps, and
// INTERNAL (a build defect) otherwise.
absl::Status ValidateMigrations(absl::Span<const Migration> migrations);

}  // namespace ats::storage

#endif  // ATS_STORAGE_MIGRATION_H_
