#include "storage/postgres/pool.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "storage/failure.h"

namespace ats::storage::postgres {
namespace {

const char* BeginSql(Isolation isolation) {
  switch (isolation) {
    case Isolation::kSerializable:
      return "BEGIN ISOLATION LEVEL SERIALIZABLE";
    case Isolation::kRepeatableReadReadOnly:
      return "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    case Isolation::kReadCommitted:
      return "BEGIN ISOLATION LEVEL READ COMMITTED";
  }
  return "BEGIN";
}

// A random wait before run `attempt` (2, 3, ...) of a transaction that met
// a conflict: spread out, so the transactions that collided do not collide
// again.
absl::Duration ConflictBackoff(int attempt) {
  thread_local absl::BitGen random;
  const int64_t ceiling_micros = 1000 * (int64_t{1} << std::min(attempt, 6));
  return absl::Microseconds(absl::Uniform<int64_t>(random, 0, ceiling_micros));
}

// The statement that takes `locks`, in their order: one statement, whose
// select list PostgreSQL evaluates in order.
std::string LockStatement(const std::vector<AdvisoryLock>& locks) {
  return absl::StrCat(
      "SELECT ", absl::StrJoin(locks, ", ",
                               [](std::string* out, const AdvisoryLock& lock) {
                                 absl::StrAppend(out, "pg_advisory_lock",
                                                 lock.shared ? "_shared(" : "(",
                                                 lock.key, ")");
                               }));
}

// Opens a connection of a pool with `options`, its session set up.
absl::StatusOr<std::unique_ptr<Connection>> Connect(const PoolOptions& options) {
  auto opened = Connection::Open(options.uri, options.connect_timeout);
  if (!opened.ok() || options.session_setup.empty()) return opened;
  absl::Status set_up = (*opened)->Exec(options.session_setup);
  if (!set_up.ok()) return set_up;
  return opened;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ConnectionPool>> ConnectionPool::Open(
    const PoolOptions& options) {
  auto first = Connect(options);
  if (!first.ok()) return first.status();
  auto pool = std::unique_ptr<ConnectionPool>(new ConnectionPool(options));
  pool->Release(*std::move(first));
  absl::MutexLock lock(&pool->mu_);
  pool->open_ = 1;
  return pool;
}

absl::StatusOr<std::unique_ptr<Connection>> ConnectionPool::Acquire() {
  const absl::Time deadline = absl::Now() + options_.acquire_timeout;
  absl::Duration backoff = absl::Milliseconds(50);
  absl::Status last_error = absl::UnavailableError("every connection is busy");
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !idle_.empty() || open_ < options_.size;
      };
      if (!mu_.AwaitWithDeadline(absl::Condition(&available), deadline)) break;
      if (!idle_.empty()) {
        std::unique_ptr<Connection> connection = std::move(idle_.back());
        idle_.pop_back();
        return connection;
      }
      ++open_;
    }
    auto opened = Connect(options_);
    if (opened.ok()) return opened;
    last_error = opened.status();
    {
      absl::MutexLock lock(&mu_);
      --open_;
    }
    // The database is unreachable: wait, then try again until the deadline.
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    absl::SleepFor(std::min(backoff, left));
    backoff = std::min(backoff * 2, absl::Seconds(1));
  }
  return MarkStorageFailure(absl::UnavailableError(absl::StrCat(
      "no database connection within ",
      absl::FormatDuration(options_.acquire_timeout), ": ",
      last_error.message())));
}

void ConnectionPool::Release(std::unique_ptr<Connection> connection) {
  absl::MutexLock lock(&mu_);
  if (connection->healthy()) {
    idle_.push_back(std::move(connection));
  } else {
    --open_;
  }
}

absl::Status ConnectionPool::RunOnce(
    Connection& connection, const TransactionOptions& options,
    const std::function<absl::Status(Connection&)>& work, bool* commit_sent) {
  absl::Status status = options.locks.empty()
                            ? absl::OkStatus()
                            : connection.Exec(LockStatement(options.locks));
  if (status.ok())
    status = RunInTransaction(connection, options, work, commit_sent);
  // Whatever happened, a deadlock among the locks included; a lost
  // connection has lost its locks too.
  if (!options.locks.empty() && connection.healthy()) {
    connection.Exec("SELECT pg_advisory_unlock_all()").IgnoreError();
  }
  return status;
}

absl::Status ConnectionPool::RunInTransaction(
    Connection& connection, const TransactionOptions& options,
    const std::function<absl::Status(Connection&)>& work, bool* commit_sent) {
  absl::Status status = connection.Exec(BeginSql(options.isolation));
  if (status.ok()) status = work(connection);
  if (!status.ok()) {
    if (connection.healthy()) connection.Exec("ROLLBACK").IgnoreError();
    return status;
  }
  *commit_sent = true;
  return connection.Exec("COMMIT");
}

absl::Status ConnectionPool::RunTransaction(
    Isolation isolation, const std::function<absl::Status(Connection&)>& work) {
  TransactionOptions options;
  options.isolation = isolation;
  return RunTransaction(options, work);
}

absl::Status ConnectionPool::RunTransaction(
    const TransactionOptions& options,
    const std::function<absl::Status(Connection&)>& work) {
  const int max_attempts = options_.max_attempts;
  absl::Status status;
  for (int attempt = 1; attempt <= max_attempts; ++attempt) {
    if (attempt > 1) absl::SleepFor(ConflictBackoff(attempt));
    auto connection = Acquire();
    if (!connection.ok()) return connection.status();
    bool commit_sent = false;
    status = RunOnce(**connection, options, work, &commit_sent);
    const bool lost = !(*connection)->healthy();
    Release(*std::move(connection));
    if (status.ok()) return status;
    // A conflict reported by COMMIT itself also means nothing committed.
    const bool worth_again =
        IsRetryableConflict(status) || (lost && !commit_sent);
    if (worth_again && attempt < max_attempts) continue;
    if (lost && commit_sent) {
      return MarkStorageFailure(absl::UnavailableError(absl::StrCat(
          "the database connection was lost while committing, so whether "
          "the write took effect is unknown: ",
          status.message())));
    }
    if (lost) {
      return MarkStorageFailure(absl::UnavailableError(absl::StrCat(
          "the database connection was lost; nothing was written: ",
          status.message())));
    }
    return status;
  }
  return status;
}

}  // namespace ats::storage::postgres
