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
  // After a batch had to run again (see WriteQueue), this many batches run
  // each op in its own savepoint, so that ops failing one after another do
  // not make every batch run twice: at worst, a batch in 17 runs again.
  int isolated_batches_after_failure = 16;
  // Called on the writer thread after each commit with the number of ops
  // that shared it (see StoreObserver::batch_committed); may be empty.
  std::function<void(int64_t ops)> batch_committed;
  // Called on the writer thread each time a batch is run again (see
  // WriteQueueStats::batches_run_again); may be empty.
  std::function<void()> batch_run_again;
};

struct WriteQueueStats {
  int64_t transactions_committed = 0;
  int64_t ops_committed = 0;
  int64_t ops_failed = 0;
  // Batches rolled back and run again, each op in its own savepoint,
  // because an op failed outside one.
  int64_t batches_run_again = 0;
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
// An op that fails is rolled back alone and gets its own error; the others
// still commit. Ops usually succeed, so a batch runs them without a
// savepoint each: a savepoint copies aside every page an op changes before
// changing it, about a seventh of the writer's time per move. When one
// fails, the batch is rolled back and run again from its first op, each op
// inside its own SAVEPOINT, and so are the next
// WriteQueueOptions::isolated_batches_after_failure batches. (An op that
// fails first in its batch needs no second run: the rollback restores the
// state it failed on.) Ops must therefore be safe to run again from the
// start (whatever they change outside the connection, a later run
// overwrites), and must not BEGIN, COMMIT or ROLLBACK themselves (they may
// use their own SAVEPOINTs).
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
  // Runs one op, in its own savepoint when `isolated`; sets
  // *transaction_lost when the batch's transaction did not survive it. An
  // op that fails without a savepoint leaves its changes in the transaction.
  absl::Status RunOp(const WriteFn& work, bool isolated,
                     bool* transaction_lost);
  // Rolls back the batch's transaction, whose last op failed outside a
  // savepoint, and runs `ops` again in a new one, each in its own savepoint,
  // setting `statuses` to their outcomes; sets *transaction_lost when the
  // transaction did not survive.
  void RunAgainIsolated(const std::vector<Op>& ops,
                        std::vector<absl::Status>& statuses,
                        bool* transaction_lost);
  void FailQueuedBatch(const absl::Status& status);

  // Only the writer thread touches the connection.
  const std::unique_ptr<Connection> connection_;
  const WriteQueueOptions options_;
  // Batches still to run each op in its own savepoint. Writer thread only.
  int isolated_batches_left_ = 0;

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
