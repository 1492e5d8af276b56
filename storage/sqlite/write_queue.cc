#include "storage/sqlite/write_queue.h"

#include <pthread.h>

#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "storage/sql/config_cache.h"

namespace ats::storage::sqlite {

WriteQueue::WriteQueue(std::unique_ptr<Connection> connection,
                       const WriteQueueOptions& options)
    : connection_(std::move(connection)), options_(options) {
  absl::MutexLock lock(&join_mu_);
  reporter_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "store-reporter");
    RunReporter();
  });
  writer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "store-writer");
    RunWriter();
  });
}

WriteQueue::~WriteQueue() { Shutdown(); }

void WriteQueue::Submit(WriteFn work, DoneFn done) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      queue_.push_back(Op{std::move(work), std::move(done)});
      work_ready_.Signal();
      return;
    }
  }
  if (done) {
    done(absl::UnavailableError(
        "the storage writer is shut down and accepts no more writes"));
  }
}

absl::Status WriteQueue::SubmitAndWait(WriteFn work) {
  absl::Notification finished;
  absl::Status result;
  Submit(std::move(work), [&](absl::Status status) {
    result = std::move(status);
    finished.Notify();
  });
  finished.WaitForNotification();
  return result;
}

void WriteQueue::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    work_ready_.Signal();
  }
  absl::MutexLock lock(&join_mu_);
  if (writer_.joinable()) writer_.join();
  {
    absl::MutexLock report_lock(&report_mu_);
    writer_ended_ = true;
    report_ready_.Signal();
  }
  if (reporter_.joinable()) reporter_.join();
}

WriteQueueStats WriteQueue::stats() const {
  absl::MutexLock lock(&mu_);
  WriteQueueStats stats = stats_;
  stats.queued = static_cast<int64_t>(queue_.size());
  return stats;
}

void WriteQueue::RunWriter() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      while (queue_.empty() && !stopping_) work_ready_.Wait(&mu_);
      // Stopping only ends the loop once the queue is drained.
      if (queue_.empty()) return;
    }
    RunBatch();
  }
}

std::optional<WriteQueue::Op> WriteQueue::PopOp() {
  absl::MutexLock lock(&mu_);
  if (queue_.empty()) return std::nullopt;
  Op op = std::move(queue_.front());
  queue_.pop_front();
  return op;
}

void WriteQueue::FailQueuedBatch(const absl::Status& status) {
  std::vector<Outcome> failed;
  {
    absl::MutexLock lock(&mu_);
    while (!queue_.empty() && failed.size() < options_.max_batch_ops) {
      failed.push_back(Outcome{std::move(queue_.front().done), status});
      queue_.pop_front();
    }
    stats_.ops_failed += static_cast<int64_t>(failed.size());
  }
  Report(std::move(failed));
}

void WriteQueue::Report(std::vector<Outcome> outcomes) {
  absl::MutexLock lock(&report_mu_);
  if (to_report_.empty()) {
    to_report_ = std::move(outcomes);
  } else {
    for (Outcome& outcome : outcomes) to_report_.push_back(std::move(outcome));
  }
  report_ready_.Signal();
}

void WriteQueue::RunReporter() {
  std::vector<Outcome> batch;
  while (true) {
    {
      absl::MutexLock lock(&report_mu_);
      while (to_report_.empty() && !writer_ended_) report_ready_.Wait(&report_mu_);
      if (to_report_.empty()) return;
      batch.swap(to_report_);
    }
    for (Outcome& outcome : batch) {
      if (outcome.done) outcome.done(std::move(outcome.status));
    }
    batch.clear();
  }
}

void WriteQueue::RunBatch() {
  Connection& connection = *connection_;
  // IMMEDIATE takes the write lock now rather than at the first write, so a
  // lock conflict surfaces here, before any op has run, instead of midway.
  absl::Status begin = connection.Prepare("BEGIN IMMEDIATE").Run();
  if (!begin.ok()) {
    FailQueuedBatch(begin);
    return;
  }
  connection.ForgetConfigChangedElsewhere();

  const absl::Time deadline = absl::Now() + options_.max_batch_duration;
  bool isolated = isolated_batches_left_ > 0;
  if (isolated) --isolated_batches_left_;
  std::vector<Op> ops;
  std::vector<absl::Status> statuses;
  bool transaction_lost = false;
  while (ops.size() < options_.max_batch_ops && !transaction_lost) {
    if (!ops.empty() && absl::Now() >= deadline) break;
    std::optional<Op> op = PopOp();
    if (!op.has_value()) break;
    absl::Status status = RunOp(op->work, isolated, &transaction_lost);
    ops.push_back(*std::move(op));
    statuses.push_back(std::move(status));
    if (!statuses.back().ok() && !isolated && !transaction_lost) {
      isolated = true;
      RunAgainIsolated(ops, statuses, &transaction_lost);
    }
  }

  absl::Status commit;
  if (transaction_lost) {
    commit = absl::UnavailableError(
        "the write batch was rolled back because another write in it ended "
        "the transaction; retry");
  } else {
    commit = connection.Prepare("COMMIT").Run();
  }
  if (!commit.ok()) {
    if (connection.in_transaction()) {
      connection.Prepare("ROLLBACK").Run().IgnoreError();
    }
    sql::ConfigChanged(connection);
  }
  connection.ResetStatements();
  if (commit.ok() && options_.batch_committed) {
    options_.batch_committed(static_cast<int64_t>(ops.size()));
  }

  std::vector<Outcome> outcomes;
  outcomes.reserve(ops.size());
  int64_t committed = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    absl::Status& status = statuses[i];
    if (status.ok()) {
      if (commit.ok()) {
        ++committed;
      } else {
        status = commit;
      }
    }
    outcomes.push_back(Outcome{std::move(ops[i].done), std::move(status)});
  }
  {
    absl::MutexLock lock(&mu_);
    if (commit.ok()) ++stats_.transactions_committed;
    stats_.ops_committed += committed;
    stats_.ops_failed += static_cast<int64_t>(outcomes.size()) - committed;
  }
  Report(std::move(outcomes));
}

void WriteQueue::RunAgainIsolated(const std::vector<Op>& ops,
                                  std::vector<absl::Status>& statuses,
                                  bool* transaction_lost) {
  Connection& connection = *connection_;
  absl::Status status = connection.Prepare("ROLLBACK").Run();
  // The rows the ops changed are as they were before them, and so must be
  // what the connection keeps of them.
  sql::ConfigChanged(connection);
  if (status.ok()) status = connection.Prepare("BEGIN IMMEDIATE").Run();
  if (!status.ok()) {
    // The ops that succeeded get the batch's error at its end.
    *transaction_lost = true;
    return;
  }
  // Alone, the op failed on the state the rollback restored: its outcome
  // stands.
  if (ops.size() == 1) return;
  isolated_batches_left_ = options_.isolated_batches_after_failure;
  {
    absl::MutexLock lock(&mu_);
    ++stats_.batches_run_again;
  }
  if (options_.batch_run_again) options_.batch_run_again();
  for (size_t i = 0; i < ops.size() && !*transaction_lost; ++i) {
    statuses[i] = RunOp(ops[i].work, /*isolated=*/true, transaction_lost);
  }
}

absl::Status WriteQueue::RunOp(const WriteFn& work, bool isolated,
                               bool* transaction_lost) {
  Connection& connection = *connection_;
  if (isolated) {
    absl::Status status = connection.Prepare("SAVEPOINT write_queue_op").Run();
    if (!status.ok()) {
      *transaction_lost = !connection.in_transaction();
      return status;
    }
  }
  absl::Status result =
      work ? work(connection)
           : absl::InvalidArgumentError("empty write function submitted");
  // A cursor left open by the op would keep ROLLBACK TO or COMMIT busy.
  connection.ResetStatements();

  if (!connection.in_transaction()) {
    // The op ran COMMIT/ROLLBACK, or SQLite rolled back after a fatal error
    // (disk full, I/O error): the ops before it are not in a transaction any
    // more.
    *transaction_lost = true;
    if (!result.ok()) return result;
    return absl::InternalError(
        "a write op ended the batch transaction; ops must not run BEGIN, "
        "COMMIT or ROLLBACK");
  }
  // A deferred foreign key violation would only fail the COMMIT, and with it
  // every op in the batch; pin it on the op that caused it. (The ops before
  // it left none: they would have failed.)
  if (result.ok() && connection.has_deferred_foreign_key_violations()) {
    result = absl::FailedPreconditionError(
        "the write leaves deferred foreign key constraints violated");
  }
  if (!isolated) return result;
  if (result.ok()) {
    absl::Status status = connection.Prepare("RELEASE write_queue_op").Run();
    if (status.ok()) return absl::OkStatus();
    result = status;
  }
  // The rows the op changed are as they were before it, and so must be
  // what the connection keeps of them.
  sql::ConfigChanged(connection);
  absl::Status status = connection.Prepare("ROLLBACK TO write_queue_op").Run();
  if (status.ok()) status = connection.Prepare("RELEASE write_queue_op").Run();
  if (!status.ok()) *transaction_lost = true;
  return result;
}

}  // namespace ats::storage::sqlite
