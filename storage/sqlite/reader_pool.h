#ifndef ATS_STORAGE_SQLITE_READER_POOL_H_
#define ATS_STORAGE_SQLITE_READER_POOL_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "storage/sqlite/connection.h"

namespace ats::storage::sqlite {

struct ReaderPoolOptions {
  // How many reads can run at once; more callers wait for a free connection.
  int connections = 4;
  bool synchronous_full = false;
  int busy_timeout_ms = 5000;
  // See ConnectionOptions::cache_kib.
  int cache_kib = 0;
};

// Read-only connections to one database file, lent out one read at a time.
// In WAL mode readers neither block nor are blocked by the writer.
//
// Thread-safe.
class ReaderPool {
 public:
  using ReadFn = std::function<absl::Status(Connection&)>;

  // Opens `options.connections` read-only connections to the existing,
  // already migrated database at `path`.
  static absl::StatusOr<std::unique_ptr<ReaderPool>> Open(
      const std::string& path, const ReaderPoolOptions& options);

  ReaderPool(const ReaderPool&) = delete;
  ReaderPool& operator=(const ReaderPool&) = delete;

  // Must not run while a Read is in progress.
  ~ReaderPool() = default;

  // Runs `fn` on a free connection (waiting for one if all are busy) inside
  // a read transaction, so everything it reads comes from one snapshot, and
  // returns fn's status (or the error of starting or ending the
  // transaction). `fn` must not call Read itself: with every connection
  // taken, it would wait forever.
  absl::Status Read(const ReadFn& fn);

 private:
  explicit ReaderPool(std::vector<std::unique_ptr<Connection>> connections);

  Connection* Borrow();
  void GiveBack(Connection* connection);

  // Owns the connections; fixed after construction.
  const std::vector<std::unique_ptr<Connection>> connections_;

  absl::Mutex mu_;
  absl::CondVar returned_;
  std::vector<Connection*> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ats::storage::sqlite

#endif  // ATS_STORAGE_SQLITE_READER_POOL_H_
