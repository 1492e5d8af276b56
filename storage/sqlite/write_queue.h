#ifndef ATS_STORAGE_SQLITE_WRITE_QUEUE_H_
#define ATS_STORAGE_SQLITE_WRITE_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/sqlite/connection.h"

namespace ats::storage::sqlite {

struct WriteQueueOptions {
  // Most ops committed by one transaction. Past a few dozen, a larger group
  // saves little commit work per op, and every caller in it waits for its
  // commit: callers that all wait on one commit come back together, so the
  // writer idles while they are answered and send their next writes. With
  // groups smaller than the writes in flight, the next group runs while the
  // last one's callers are answered.
  size_t max_batch_ops = 32;
  // A batch takes no new op once it has held the write lock this long, so a
  // burst cannot delay everything queued behind it (or another process's
  // writer) for long. Every batch runs at least one op.
  absl::Duration max_batch_duration = absl::Milliseconds(50);
  // Called on the writer thread after each commit with the number of ops
  // that shared it (see StoreObserver::batch_committed); may be empty.
  std::function<void(int64_t ops)> batch_committed;
};

struct WriteQueueStats {
  int64_t transactions_committed = 0;
  int64_t ops_committed = 0;
  int64_t ops_failed = 0;
  // Ops submitted and not yet taken by a batch.
  int64_t queued = 0;
};

// The single writer: one thread owning the only writable connection, with
// group commit. Ops queued while a transaction commits share the next one,
// so many small writes cost one commit (and at most one fsync).
//
// Outcomes are reported on a second thread, in commit order, so that the
// writer goes on to the next batch while callers are answered.
//
// Each op runs inside its own SAVEPOINT of the batch's transaction: an op
// that fails is rolled back alone and gets its own error, the others still
// commit. Ops must not BEGIN, COMMIT or ROLLBACK themselves (they may use
// their own SAVEPOINTs).
//
// Thread-safe.
class WriteQueue {
 public:
  // Does the writing; returning an error rolls back everything it did.
  using WriteFn = std::function<absl::Status(Connection&)>;
  // Learns an op's outcome. It runs after the commit on the thread that
  // reports outcomes, one after another, so it must be quick and must not
  // block (in particular not on another write): hand longer work to another
  // thread.
  using DoneFn = std::function<void(absl::Status)>;

  // Starts the writer thread, which owns `connection` (writable, migrated).
  WriteQueue(std::unique_ptr<Connection> connection,
             const WriteQueueOptions& options);

  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  // Shuts down (see Shutdown) and closes the connection.
  ~WriteQueue();

  // Queues `work`; `done` (may be empty) gets OK once the work is committed,
  // or its error. After Shutdown, `done` gets UNAVAILABLE at once on the
  // calling thread.
  void Submit(WriteFn work, DoneFn done);

  // Submits `work` and returns its outcome once committed. Must not be called
  // from a WriteFn or DoneFn (the writer would wait for itself).
  absl::Status SubmitAndWait(WriteFn work);

  // Stops taking ops, runs and commits everything already queued, then stops
  // the writer thread. Idempotent; must not be called from a WriteFn or
  // DoneFn.
  void Shutdown();

  // Returns the counters so far.
  WriteQueueStats stats() const;

 private:
  struct Op {
    WriteFn work;
    DoneFn done;
  };
  struct Outcome {
    DoneFn done;
    absl::Status status;
  };

  void RunWriter();
  void RunBatch();
  // Hands outcomes to the reporting thread, which runs their DoneFns.
  void Report(std::vector<Outcome> outcomes);
  void RunReporter();
  std::optional<Op> PopOp();
  // Runs one op in its savepoint; sets *transaction_lost when the batch's
  // transaction did not survive it.
  absl::Status RunOp(const WriteFn& work, bool* transaction_lost);
  void FailQueuedBatch(const absl::Status& status);

  // Only the writer thread touches the connection.
  const std::unique_ptr<Connection> connection_;
  const WriteQueueOptions options_;

  mutable absl::Mutex mu_;
  absl::CondVar work_ready_;
  std::deque<Op> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  WriteQueueStats stats_ ABSL_GUARDED_BY(mu_);

  // Apart from mu_, so that answering callers never delays Submit.
  absl::Mutex report_mu_;
  absl::CondVar report_ready_;
  std::vector<Outcome> to_report_ ABSL_GUARDED_BY(report_mu_);
  // Set once the writer thread has ended: the reporter ends when drained.
  bool writer_ended_ ABSL_GUARDED_BY(report_mu_) = false;

  // Serializes joins when several threads call Shutdown().
  absl::Mutex join_mu_;
  std::thread writer_ ABSL_GUARDED_BY(join_mu_);
  std::thread reporter_ ABSL_GUARDED_BY(join_mu_);
};

}  // namespace ats::storage::sqlite

#endif  // ATS_STORAGE_SQLITE_WRITE_QUEUE_H_
