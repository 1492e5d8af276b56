#ifndef ATS_STORAGE_SQLITE_ERRORS_H_
#define ATS_STORAGE_SQLITE_ERRORS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "storage/failure.h"

struct sqlite3;

namespace ats::storage::sqlite {


// Returns the canonical status for the failed SQLite call that returned `rc`
// on `db` (which may be null), with sqlite3_errmsg and `context` in the
// message. Codes follow what the caller should do next: a duplicate key is
// ALREADY_EXISTS, other broken constraints need state fixed first
// (FAILED_PRECONDITION), lock contention is worth retrying (UNAVAILABLE), a
// full disk is RESOURCE_EXHAUSTED, and anything else is INTERNAL. The status
// is marked as a storage failure (see storage/failure.h): its message is for
// the log, not for clients.
absl::Status SqliteError(int rc, sqlite3* db, std::string_view context);

}  // namespace ats::storage::sqlite

#endif  // ATS_STORAGE_SQLITE_ERRORS_H_
