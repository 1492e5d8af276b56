#ifndef ATS_SERVER_ENGINE_BULK_OPERATIONS_H_
#define ATS_SERVER_ENGINE_BULK_OPERATIONS_H_

// The bulk worker: runs bulk manual triggers (BulkTriggerIntegration) and
// recovers of dead events (RecoverEvents) on its own thread, in bounded
// batches, so that a 100,000-candidate operation neither occupies a gRPC
// thread nor holds the write lock for long. Each batch is one write
// transaction that either resolves the next part of the selection (or of
// the window's dead events) into PENDING items or handles the next PENDING
// items (an event created or re-queued and the item's outcome together, so
// a crash never leaves an event without its item or the other way round,
// nor re-queues an event twice). Operations take turns batch by batch.
//
// A batch whose write fails is tried again: after a wait growing from try to
// try when the failure may pass (lock contention, a full disk), at once one
// candidate per write when it fails for good or too often, so one candidate
// whose event cannot be written fails alone (FAILED, with the error as its
// reason) and the operation still finishes with counts that add up.
//
// Progress is published to watchers (the streaming RPC) after every batch.
// After a restart Start resumes every RUNNING operation where it was.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ats/v1/integration_service.pb.h"
#include "server/common/clock.h"
#include "server/common/random.h"
#include "storage/bulk_operation_repository.h"
#include "storage/store.h"

namespace ats::server {

// Resource name pattern of bulk operations, as Validator::Name takes it.
inline constexpr char kBulkOperationPattern[] =
    "bulkOperations/{bulk_operation}";

// Most candidates an explicit list may name; documented in the proto.
inline constexpr int kMaxBulkCandidates = 10000;

struct BulkRunnerOptions {
  // Candidates resolved or handled per write transaction.
  int batch_size = 1000;
  // How often an idle runner looks for RUNNING operations that no one
  // works on: those of a server sharing the database that died.
  absl::Duration orphan_scan_interval = absl::Seconds(5);
  // How long an operation must have gone without a batch (its update_time,
  // which each batch sets, serves as its lease) before an idle runner
  // takes it over. Taking over one whose server lives on would still be
  // safe, each batch re-reading the operation in its own write so that no
  // candidate gets a second event, but would double the work.
  absl::Duration orphan_after = absl::Seconds(15);
};

// The PENDING items of an operation that follow its cursor `after_key`,
// read on a snapshot while the store's writer was busy with the batch
// before, so that the next batch's write need not read them itself. The
// write takes them while the operation's cursor is still `after_key` and no
// candidate of the account has changed since the snapshot (the account's
// storage::CandidateRepository::ChangeCount is still `candidate_changes`);
// otherwise it reads its items as it would without them.
struct BulkItemsReadAhead {
  std::string after_key;
  // Items asked for; fewer came when these are the last.
  int limit = 0;
  int64_t candidate_changes = 0;
  // Whether the items' candidates come with their tags (read only when the
  // operation's partner wants them).
  bool with_tags = false;
  std::vector<storage::PendingBulkItem> items;
};

// Fills `operation` from `row`.
void BulkOperationToProto(const storage::BulkOperationRow& row,
                          ats::v1::BulkOperation* operation);

// Fills `item` from `row`.
void BulkItemToProto(const storage::BulkItemRow& row,
                     ats::v1::BulkOperationItem* item);

// Thread-safe.
class BulkRunner {
 public:
  // Learns an operation's progress; must be quick and must not block.
  using Listener = std::function<void(const ats::v1::BulkOperation&)>;

  // `store`, `clock` and `random` must outlive the runner;
  // `events_created` (may be empty) is called after each batch that created
  // or re-queued events.
  BulkRunner(const BulkRunnerOptions& options, storage::Store& store,
             const Clock& clock, RandomSource& random,
             std::function<void()> events_created);
  BulkRunner(const BulkRunner&) = delete;
  BulkRunner& operator=(const BulkRunner&) = delete;
  // Stops (see Stop).
  ~BulkRunner();

  // Starts the worker thread, which first queues every RUNNING operation
  // (those a stopped server left unfinished), and again whenever it has been
  // idle for options.orphan_scan_interval.
  void Start();

  // Queues a batch of operation `id` of `account_id` (once, however often
  // it is asked): a running operation goes on; one that ended is just
  // published again, so a new watcher learns its state.
  void Enqueue(const std::string& account_id, const std::string& id);

  // Calls `listener` with each published state of operation `id` until
  // Unwatch; returns a handle for Unwatch, or 0 when the runner is stopped.
  // `on_stop` is called instead if the runner stops first.
  int64_t Watch(const std::string& id, Listener listener,
                std::function<void()> on_stop);
  // Stops calling the listener of `handle`; once it returns, neither it nor
  // its on_stop is called again.
  void Unwatch(int64_t handle);

  // Tells the watchers of `operation` its new state (e.g. after a cancel).
  void Publish(const ats::v1::BulkOperation& operation);

  // Finishes the batch under way, stops the worker and tells every watcher
  // (on_stop). Operations left RUNNING resume at the next Start. Idempotent.
  void Stop();

 private:
  struct Watcher {
    std::string operation_id;
    Listener listener;
    std::function<void()> on_stop;
  };
  using OperationKey = std::pair<std::string, std::string>;

  // How the worker goes on with an operation whose last write failed.
  struct Recovery {
    // Failed tries of the write about to be tried again.
    int tries = 0;
    // Candidates left to handle one per write, after a batch failed for
    // good; 0 for whole batches.
    int one_by_one = 0;
  };
  // Moves a RUNNING operation on inside a write, at `now`, adding the
  // events it creates to *created.
  using StepFn =
      std::function<absl::Status(storage::Transaction&,
                                 storage::BulkOperationRow&, absl::Time now,
                                 int64_t* created)>;

  void Run();
  // Queues every RUNNING operation not queued yet or, with `orphans_only`,
  // those that went without a batch for options_.orphan_after.
  void QueueRunningOperations(bool orphans_only);
  // Runs one batch of operation `key`; returns whether it is still running.
  bool RunBatch(const OperationKey& key);
  // Runs `step` on operation `key` in one write (unless the operation is
  // not RUNNING) and publishes the outcome; sets *operation to the
  // operation as stored. Calls `meanwhile` (when set) on this thread while
  // the write is queued or running.
  absl::Status RunStep(const OperationKey& key, const StepFn& step,
                       storage::BulkOperationRow* operation,
                       const std::function<void()>& meanwhile = nullptr);
  // Reads the next `limit` PENDING items of operation `key` after
  // `after_key` on a snapshot, into read_ahead_[key]; leaves it empty when
  // the read fails or the store keeps no count of candidate changes.
  void ReadAhead(const OperationKey& key, const std::string& after_key,
                 int limit);
  // Handles the failure `status` of a batch of operation `key` that was
  // `resolving` its selection (or creating events): waits and lets it try
  // again, splits the batch, or records the failure. Returns whether the
  // operation is still running.
  bool Recover(const OperationKey& key, bool resolving,
               const absl::Status& status);
  // Waits `delay` unless the runner stops first; returns whether it stops.
  bool WaitUnlessStopping(absl::Duration delay);

  const BulkRunnerOptions options_;
  storage::Store& store_;
  const Clock& clock_;
  RandomSource& random_;
  const std::function<void()> events_created_;

  absl::Mutex mu_;
  absl::CondVar work_ready_;
  std::deque<OperationKey> queue_ ABSL_GUARDED_BY(mu_);
  std::set<OperationKey> queued_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::map<int64_t, Watcher> watchers_ ABSL_GUARDED_BY(mu_);
  int64_t next_handle_ ABSL_GUARDED_BY(mu_) = 1;

  // Operations whose last write failed; the worker thread's alone.
  std::map<OperationKey, Recovery> recoveries_;
  // Each operation's next items, read ahead; the worker thread's alone.
  std::map<OperationKey, BulkItemsReadAhead> read_ahead_;
  // Whether the store keeps the count that read-ahead items need; the
  // worker thread's alone.
  bool store_counts_candidate_changes_ = true;

  std::thread worker_;
};

}  // namespace ats::server

#endif  // ATS_SERVER_ENGINE_BULK_OPERATIONS_H_
