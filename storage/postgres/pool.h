#ifndef ATS_STORAGE_POSTGRES_POOL_H_
#define ATS_STORAGE_POSTGRES_POOL_H_

// Connections to one PostgreSQL database shared by a server's threads, and
// the transaction loop every store call runs in: conflicts between replicas
// and lost connections are retried here, so callers see a result or
// UNAVAILABLE, never a half-applied write.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/postgres/connection.h"

namespace ats::storage::postgres {

struct PoolOptions {
  // libpq URI of the database.
  std::string uri;
  // Connections opened at most; a call beyond that waits for a free one.
  int size = 16;
  // How long one connection attempt may take.
  absl::Duration connect_timeout = absl::Seconds(5);
  // How long a call waits for a connection, reconnecting with backoff while
  // the database is unreachable, before it fails UNAVAILABLE.
  absl::Duration acquire_timeout = absl::Seconds(10);
  // SQL each new connection runs first, outside any transaction (what its
  // session keeps: settings, temporary tables).
  std::string session_setup;
  // Runs of a transaction that keeps meeting conflicts before the caller
  // gets ABORTED: many, since under SERIALIZABLE a write that conflicts with
  // many concurrent ones (a burst into a table that is still small, whose
  // few index pages every write reads and writes) may need several tries.
  int max_attempts = 30;
};

enum class Isolation {
  // Work that must behave as if alone while other servers may run the same
  // (sealing secrets at start-up).
  kSerializable,
  // Reads: one consistent snapshot, never blocking writers.
  kRepeatableReadReadOnly,
  // Writes and claims, under advisory locks (TransactionOptions::locks):
  // every statement sees all that was committed before it.
  kReadCommitted,
};

// A session advisory lock a transaction holds from before it begins until
// it ends (see TransactionOptions::locks).
struct AdvisoryLock {
  int64_t key = 0;
  // Held beside other shared holders of `key`; else alone.
  bool shared = false;
};

// How ConnectionPool::RunTransaction runs one transaction.
struct TransactionOptions {
  Isolation isolation = Isolation::kSerializable;
  // Advisory locks the connection takes, in this order, before the
  // transaction begins, and holds until it ends: transactions under one
  // lock run one at a time across every server, and each one's snapshot,
  // taken after the locks, sees all that earlier holders committed (inside
  // a REPEATABLE READ or SERIALIZABLE transaction a lock would come after
  // its snapshot). Transactions that take several must take them in one
  // order, so that none waits for another that waits for it.
  std::vector<AdvisoryLock> locks;
};

class ConnectionPool {
 public:
  // Connects once to check `options.uri` (UNAVAILABLE when it cannot) and
  // keeps that connection.
  static absl::StatusOr<std::unique_ptr<ConnectionPool>> Open(
      const PoolOptions& options);

  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Runs `work` in one transaction as `options` say and commits it if
  // `work` returns OK, else rolls it back and returns its status. Runs it
  // again from the start, after a short random backoff, when it fails with
  // a serialization failure or deadlock, or when the connection is lost
  // before COMMIT is sent; `work` must therefore have no effects outside
  // the transaction that a later run does not overwrite. A connection lost
  // while COMMIT is under way leaves the outcome unknown: UNAVAILABLE, which
  // a caller retries with its request_id. Thread-safe.
  absl::Status RunTransaction(
      const TransactionOptions& options,
      const std::function<absl::Status(Connection&)>& work);
  // The same with the default options but `isolation`.
  absl::Status RunTransaction(
      Isolation isolation, const std::function<absl::Status(Connection&)>& work);

 private:
  explicit ConnectionPool(const PoolOptions& options) : options_(options) {}

  // Returns a connection, opening one if none is idle and fewer than
  // options_.size exist; UNAVAILABLE after options_.acquire_timeout.
  absl::StatusOr<std::unique_ptr<Connection>> Acquire();
  // Returns `connection` to the idle list, or drops it when it is broken.
  void Release(std::unique_ptr<Connection> connection);
  // One run of the loop RunTransaction repeats: the locks, then
  // RunInTransaction.
  absl::Status RunOnce(Connection& connection, const TransactionOptions& options,
                       const std::function<absl::Status(Connection&)>& work,
                       bool* commit_sent);
  // BEGIN, `work`, then COMMIT (setting `commit_sent`) or ROLLBACK.
  absl::Status RunInTransaction(
      Connection& connection, const TransactionOptions& options,
      const std::function<absl::Status(Connection&)>& work, bool* commit_sent);

  const PoolOptions options_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  // Connections handed out or idle.
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace ats::storage::postgres

#endif  // ATS_STORAGE_POSTGRES_POOL_H_
