#include "storage/migration.h"

#include <cstddef>

#include "absl/strings/str_cat.h"

namespace ats::storage {

absl::Status ValidateMigrations(absl::Span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    const Migration& migration = migrations[i];
    const int expected = static_cast<int>(i) + 1;
    if (migration.version != expected) {
      return absl::InternalError(absl::StrCat(
          "migrations must be numbered 1..N without gaps: expected version ",
          expected, " but found ", migration.version, " (",
          migration.name == nullptr ? "" : migration.name, ")"));
    }
    if (migration.name == nullptr || migration.sql == nullptr) {
      return absl::InternalError(
          absl::StrCat("migration ", migration.version, " has no name or SQL"));
    }
  }
  return absl::OkStatus();
}

}  // namespace ats::storage
