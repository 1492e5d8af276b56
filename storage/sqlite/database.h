#ifndef ATS_STORAGE_SQLITE_DATABASE_H_
#define ATS_STORAGE_SQLITE_DATABASE_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "storage/sqlite/checkpointer.h"
#include "storage/sqlite/connection.h"
#include "storage/sqlite/migrations.h"
#include "storage/sqlite/reader_pool.h"
#include "storage/sqlite/write_queue.h"

namespace ats::storage::sqlite {

struct DatabaseOptions {
  // The database file; it (mode 0600) and its directory (0700) are created
  // if missing.
  std::string path;
  // Reads that can run at once.
  int reader_connections = 4;
  // See ConnectionOptions::synchronous_full.
  bool synchronous_full = false;
  // How the writer groups writes into commits, and what it reports.
  WriteQueueOptions writes;
  // See ConnectionOptions::busy_timeout_ms.
  int busy_timeout_ms = 5000;
  // WAL size at which the checkpointer copies it back into the database
  // (about 40 MiB). Larger means fewer checkpoints, each writing
  // often-changed pages (index roots, table tails) once instead of many
  // times.
  int checkpoint_threshold_pages = 10000;
  // Runs on the writer connection once the schema is current, before any
  // other connection opens, for upgrades that need code rather than SQL
  // (sealing stored secrets) and for setting the writer up (watching its
  // writes); its error fails Open.
  std::function<absl::Status(Connection&)> after_migrations;
};

// A SQLite database in WAL mode: one writer thread with group commit, a
// checkpointer thread and a pool of readers. Thread-safe.
class Database {
 public:
  using WriteFn = WriteQueue::WriteFn;
  using DoneFn = WriteQueue::DoneFn;
  using ReadFn = ReaderPool::ReadFn;

  // Opens (creating if needed) the database at `options.path` and brings its
  // schema up to the embedded migrations before any reader opens.
  static absl::StatusOr<std::unique_ptr<Database>> Open(
      const DatabaseOptions& options);

  // Same, with `migrations` in place of the embedded ones (for tests).
  static absl::StatusOr<std::unique_ptr<Database>> Open(
      const DatabaseOptions& options, absl::Span<const Migration> migrations);

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Commits every write already submitted, then closes.
  ~Database();

  // Queues `work` for the writer; `done` gets its outcome on the reporting
  // thread (see WriteQueue::Submit and WriteQueue::DoneFn).
  void Write(WriteFn work, DoneFn done);

  // Runs `work` on the writer and returns its outcome once committed; not
  // from inside a WriteFn or DoneFn.
  absl::Status WriteAndWait(WriteFn work);

  // Runs `fn` on a reader in one read snapshot (see ReaderPool::Read).
  absl::Status Read(const ReadFn& fn);

  // Returns the writer's counters.
  WriteQueueStats write_stats() const;

  // Returns the bytes of the pages in the WAL after the latest commit.
  int64_t wal_bytes() const;

  // Stops accepting writes and commits everything queued; later writes get
  // UNAVAILABLE. Reads keep working until destruction.
  void ShutdownWrites();

 private:
  Database(std::unique_ptr<WriteQueue> writer,
           std::unique_ptr<Checkpointer> checkpointer,
           std::unique_ptr<ReaderPool> readers, int64_t page_bytes);

  const int64_t page_bytes_;
  std::unique_ptr<WriteQueue> writer_;
  std::unique_ptr<Checkpointer> checkpointer_;
  std::unique_ptr<ReaderPool> readers_;
};

}  // namespace ats::storage::sqlite

#endif  // ATS_STORAGE_SQLITE_DATABASE_H_
