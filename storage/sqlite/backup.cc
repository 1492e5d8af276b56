#include "storage/sqlite/backup.h"

#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "storage/files.h"
#include "storage/sqlite/connection.h"

namespace ats::storage::sqlite {
namespace {

// Creates a new empty file (mode 0600) beside the database at `db_path` and
// returns its path.
absl::StatusOr<std::string> CreateBackupFile(const std::string& db_path) {
  std::string path = CompanionFile(db_path, "", "backup-XXXXXX");
  const int fd = ::mkstemp(path.data());
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create a backup file beside ", db_path, ": ",
                     std::strerror(errno)));
  }
  ::close(fd);
  return path;
}

// Copies the database at `db_path`, as one read transaction of a connection
// of its own sees it, into the empty database file `path`.
absl::Status CopySnapshot(const std::string& db_path, const std::string& path,
                          const std::function<bool()>& cancelled,
                          int pages_per_step) {
  ConnectionOptions options;
  options.read_only = true;
  absl::StatusOr<std::unique_ptr<Connection>> source =
      Connection::Open(db_path, options);
  if (!source.ok()) return source.status();
  Connection& db = **source;
  // A deferred BEGIN takes its snapshot at the first read: read once, so
  // that every step copies from that snapshot.
  absl::Status status = db.Prepare("BEGIN").Run();
  if (status.ok()) {
    status = db.Prepare("SELECT count(*) FROM sqlite_schema").Step().status();
  }
  db.ResetStatements();
  if (status.ok()) {
    status = db.BackupTo(path, pages_per_step,
                         [&cancelled] { return !cancelled(); });
  }
  if (db.in_transaction()) {
    absl::Status end = db.Exec("ROLLBACK");
    if (status.ok()) status = end;
  }
  return status;
}

}  // namespace

absl::StatusOr<BackupCopy> BackupDatabase(
    const std::string& db_path, const std::function<bool()>& cancelled,
    int pages_per_step) {
  if (pages_per_step < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a backup copies at least one page per step, not ", pages_per_step));
  }
  const absl::Time start = absl::Now();
  absl::StatusOr<std::string> path = CreateBackupFile(db_path);
  if (!path.ok()) return path.status();
  absl::Status status = CopySnapshot(db_path, *path, cancelled, pages_per_step);
  BackupCopy copy;
  if (status.ok()) {
    auto file = std::make_unique<std::ifstream>(
        *path, std::ios::binary | std::ios::ate);
    if (*file) {
      copy.size = static_cast<int64_t>(file->tellg());
      file->seekg(0);
    }
    if (!*file || copy.size < 0) {
      status = absl::InternalError(
          absl::StrCat("cannot read back the backup file ", *path));
    }
    copy.bytes = std::move(file);
  }
  // The open stream keeps the data; no name is left behind for anyone else
  // to find, nor to clean up if the server dies while it is read.
  ::unlink(path->c_str());
  if (!status.ok()) return status;
  spdlog::info("storage: backed up {} ({} bytes) in {:.1f} ms", db_path,
               copy.size, absl::ToDoubleMilliseconds(absl::Now() - start));
  return copy;
}

}  // namespace ats::storage::sqlite
