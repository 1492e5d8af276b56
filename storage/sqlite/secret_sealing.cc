#include "storage/sqlite/secret_sealing.h"

#include <spdlog/spdlog.h>

#include "storage/sql/secret_sealing.h"

namespace ats::storage::sqlite {
namespace {

// Empties the WAL into the database file and truncates it to nothing.
// Returns false when another process's reader kept part of it.
absl::StatusOr<bool> TruncateWal(Connection& db) {
  Statement& checkpoint = db.Prepare("PRAGMA wal_checkpoint(TRUNCATE)");
  absl::StatusOr<bool> row = checkpoint.Step();
  if (!row.ok()) return row.status();
  const bool complete = *row && checkpoint.ColumnInt64(0) == 0;
  db.ResetStatements();
  return complete;
}

}  // namespace

absl::StatusOr<int> SealStoredSecrets(Connection& db, const Sealer& sealer) {
  absl::Status status = db.Exec("BEGIN IMMEDIATE");
  if (!status.ok()) return status;
  absl::StatusOr<int> written = sql::ResealStoredSecrets(db, sealer);
  db.ResetStatements();
  status = written.ok() ? db.Exec("COMMIT") : written.status();
  if (!status.ok()) {
    db.Exec("ROLLBACK").IgnoreError();
    return status;
  }
  if (*written == 0) return 0;
  // The old bytes (plaintext, or values under a key being retired) are
  // still in freed pages and in the WAL: rebuild every page, then empty the
  // WAL so its frames go too.
  spdlog::info("storage: sealed {} stored secrets under key {}; rewriting "
               "the database file so no old copy remains",
               *written, sealer.current_key_id());
  status = db.Exec("VACUUM");
  if (!status.ok()) return status;
  absl::StatusOr<bool> truncated = TruncateWal(db);
  if (!truncated.ok()) return truncated.status();
  if (!*truncated) {
    spdlog::warn("storage: another process has the database open, so its "
                 "WAL could not be emptied; old copies of secrets stay in "
                 "the -wal file until its next checkpoint");
  }
  return *written;
}

}  // namespace ats::storage::sqlite
