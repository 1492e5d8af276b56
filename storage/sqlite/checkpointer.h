#ifndef ATS_STORAGE_SQLITE_CHECKPOINTER_H_
#define ATS_STORAGE_SQLITE_CHECKPOINTER_H_

#include <atomic>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "storage/sqlite/connection.h"

namespace ats::storage::sqlite {

// Copies the WAL back into the database file on its own thread and
// connection, so the writer never pays for it: left to SQLite, the commit
// that crosses the WAL threshold runs the checkpoint (and its syncs) on the
// writer thread, stalling every write queued behind it.
//
// The checkpoints are PASSIVE: they copy what no reader still needs and never
// wait for the writer or readers, so the writer can restart the WAL from its
// beginning once a checkpoint has copied all of it.
//
// Thread-safe.
class Checkpointer {
 public:
  // Starts the thread, which owns `connection` (writable, in WAL mode).
  // Checkpoints start once the WAL reaches `threshold_pages`.
  Checkpointer(std::unique_ptr<Connection> connection, int threshold_pages);

  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Stops (see Stop) and closes the connection.
  ~Checkpointer();

  // Tells it that `writer` (the connection that writes) committed and the
  // WAL now holds `wal_pages` pages; meant for the writer's commit hook.
  // Usually cheap and never waits for a checkpoint. Past twice the threshold
  // it checkpoints on `writer` itself (after any checkpoint under way): the
  // WAL restarts from its beginning only when a checkpoint has copied all of
  // it before the next write transaction begins, which under steady load
  // only the writer can arrange. The tail left to copy by then is short.
  void Committed(Connection& writer, int wal_pages);

  // Returns the WAL's size in pages after the latest commit, as Committed
  // was told.
  int wal_pages() const { return wal_pages_.load(std::memory_order_relaxed); }

  // Finishes a checkpoint under way, then stops the thread. Idempotent.
  void Stop();

 private:
  void Run();
  bool ShouldWake() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Checkpoints on `connection`, one checkpoint at a time: a second one
  // would fail at once (SQLITE_BUSY) rather than wait.
  void Checkpoint(Connection& connection);

  const std::unique_ptr<Connection> connection_;
  const int threshold_pages_;
  std::atomic<int> wal_pages_{0};

  absl::Mutex checkpoint_mu_;
  absl::Mutex mu_;
  bool due_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  // Serializes joins when several threads call Stop().
  absl::Mutex join_mu_;
  std::thread thread_ ABSL_GUARDED_BY(join_mu_);
};

}  // namespace ats::storage::sqlite

#endif  // ATS_STORAGE_SQLITE_CHECKPOINTER_H_
