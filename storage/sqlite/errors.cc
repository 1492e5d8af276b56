#include "storage/sqlite/errors.h"

#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "storage/failure.h"

namespace ats::storage::sqlite {
namespace {

absl::StatusCode CodeFor(int rc) {
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_ROWID:
      return absl::StatusCode::kAlreadyExists;
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:  // Foreign key, NOT NULL, CHECK, ...
      return absl::StatusCode::kFailedPrecondition;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::StatusCode::kUnavailable;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return absl::StatusCode::kResourceExhausted;
    case SQLITE_CANTOPEN:
      // A wrong path or permissions: an operator has to fix it, retrying
      // as-is cannot help.
      return absl::StatusCode::kFailedPrecondition;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

absl::Status SqliteError(int rc, sqlite3* db, std::string_view context) {
  // sqlite3_errmsg describes the connection's latest failure, which is not
  // necessarily `rc` if another call happened in between.
  const bool db_message_matches =
      db != nullptr && (sqlite3_extended_errcode(db) & 0xff) == (rc & 0xff);
  const char* message =
      db_message_matches ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  // This Abseil build's string_view is not std::string_view.
  const absl::string_view context_view(context.data(), context.size());
  return MarkStorageFailure(
      absl::Status(CodeFor(rc), absl::StrCat(context_view, ": ", message,
                                             " (sqlite code ", rc, ")")));
}


}  // namespace ats::storage::sqlite
