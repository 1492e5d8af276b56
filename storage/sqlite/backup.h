#ifndef ATS_STORAGE_SQLITE_BACKUP_H_
#define ATS_STORAGE_SQLITE_BACKUP_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "storage/store.h"

namespace ats::storage::sqlite {

// Pages (4 KiB each) a backup copies per step of SQLite's backup API: about
// 4 MiB, a few milliseconds of copying between checks for cancellation.
inline constexpr int kBackupPagesPerStep = 1024;

// Copies the database at `db_path` as it stands when the copy begins into a
// new file beside it (mode 0600, named `<db stem>.backup-XXXXXX`), and
// returns it open for reading with that name already removed.
//
// The copy reads one snapshot through a read-only connection of its own,
// holding a read transaction from start to end, and hands it to SQLite's
// online backup API `pages_per_step` pages at a time. In WAL mode a reader
// neither waits for the writer nor makes it wait, and since the snapshot
// never changes the backup never restarts, however busy the writer is. The
// cost is that WAL checkpoints cannot pass the snapshot meanwhile, so the
// WAL grows by what is written during the copy. `cancelled` is asked after
// every step (CANCELLED once it answers true). Needs free space beside the
// database for a copy of it: RESOURCE_EXHAUSTED otherwise.
absl::StatusOr<BackupCopy> BackupDatabase(
    const std::string& db_path, const std::function<bool()>& cancelled,
    int pages_per_step = kBackupPagesPerStep);

}  // namespace ats::storage::sqlite

#endif  // ATS_STORAGE_SQLITE_BACKUP_H_
