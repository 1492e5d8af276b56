// The Store on PostgreSQL: many replicas, each with a pool of connections.
// Every write is one SERIALIZABLE transaction, which behaves as if it ran
// alone, as writes do on SQLite's single writer, so the repositories'
// read-then-write code needs no locks; the pool runs a transaction again
// when PostgreSQL finds it conflicting with another.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "storage/postgres/migrations.h"
#include "storage/postgres/pool.h"
#include "storage/postgres/session.h"
#include "storage/sql/secret_sealing.h"
#include "storage/sql/transaction.h"
#include "storage/store.h"

namespace ats::storage {
namespace {

class PostgresStore final : public Store {
 public:
  PostgresStore(std::unique_ptr<postgres::ConnectionPool> pool,
                std::unique_ptr<Sealer> sealer, StoreObserver observer,
                int writers)
      : pool_(std::move(pool)),
        sealer_(std::move(sealer)),
        observer_(std::move(observer)) {
    for (int i = 0; i < writers; ++i) {
      writers_.emplace_back([this] { RunWrites(); });
    }
  }

  ~PostgresStore() override {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    for (std::thread& writer : writers_) writer.join();
  }

  void Write(WorkFn work, DoneFn done) override {
    absl::MutexLock lock(&mu_);
    queue_.push_back({std::move(work), std::move(done)});
  }

  absl::Status WriteAndWait(WorkFn work) override { return RunWrite(work); }

  absl::Status Read(const WorkFn& work) override {
    return pool_->RunTransaction(
        postgres::Isolation::kRepeatableReadReadOnly,
        [&](postgres::Connection& connection) {
          postgres::Session session(connection);
          sql::SqlTransaction transaction(session, *sealer_);
          return work(transaction);
        });
  }

  StoreStats Stats() const override {
    absl::MutexLock lock(&mu_);
    return StoreStats{static_cast<int64_t>(queue_.size()), 0};
  }

  absl::StatusOr<BackupCopy> Backup(const std::function<bool()>&) override {
    return absl::UnimplementedError(
        "the PostgreSQL store is backed up with PostgreSQL's own tools: "
        "pg_dump for a consistent copy, or continuous archiving for "
        "point-in-time recovery");
  }

 private:
  struct PendingWrite {
    WorkFn work;
    DoneFn done;
  };

  // One writer thread: takes queued writes until the store stops, having
  // finished every write queued before.
  void RunWrites() {
    for (;;) {
      PendingWrite next;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](PostgresStore* store) ABSL_EXCLUSIVE_LOCKS_REQUIRED(
                 store->mu_) {
              return store->stopping_ || !store->queue_.empty();
            },
            this));
        if (queue_.empty()) return;
        next = std::move(queue_.front());
        queue_.pop_front();
      }
      absl::Status status = RunWrite(next.work);
      if (next.done) next.done(std::move(status));
    }
  }

  absl::Status RunWrite(const WorkFn& work) {
    absl::Status status = pool_->RunTransaction(
        postgres::Isolation::kSerializable,
        [&](postgres::Connection& connection) {
          postgres::Session session(connection);
          sql::SqlTransaction transaction(session, *sealer_);
          return work(transaction);
        });
    if (status.ok() && observer_.batch_committed) observer_.batch_committed(1);
    return status;
  }

  const std::unique_ptr<postgres::ConnectionPool> pool_;
  const std::unique_ptr<Sealer> sealer_;
  const StoreObserver observer_;
  mutable absl::Mutex mu_;
  std::deque<PendingWrite> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> writers_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenPostgresStore(
    const PostgresStoreOptions& options) {
  if (options.secrets_key_file.empty()) {
    return absl::InvalidArgumentError(
        "a PostgreSQL store needs a secrets key file, the same on every "
        "replica");
  }
  postgres::PoolOptions pool_options;
  pool_options.uri = options.uri;
  pool_options.size = std::max(options.connections, 2);
  absl::StatusOr<std::unique_ptr<postgres::ConnectionPool>> pool =
      postgres::ConnectionPool::Open(pool_options);
  if (!pool.ok()) return pool.status();

  // Migrations run their own transactions, on a connection of their own.
  absl::StatusOr<std::unique_ptr<postgres::Connection>> migrating =
      postgres::Connection::Open(options.uri, pool_options.connect_timeout);
  if (!migrating.ok()) return migrating.status();
  absl::Status status = postgres::ApplyMigrations(**migrating);
  migrating->reset();
  if (!status.ok()) return status;

  std::unique_ptr<Sealer> sealer;
  status = (*pool)->RunTransaction(
      postgres::Isolation::kSerializable,
      [&](postgres::Connection& connection) -> absl::Status {
        postgres::Session session(connection);
        absl::StatusOr<std::unique_ptr<Sealer>> loaded =
            sql::LoadSealer(session, "the PostgreSQL database",
                            options.secrets_key_file,
                            options.secrets_old_key_files);
        if (!loaded.ok()) return loaded.status();
        absl::StatusOr<int> sealed =
            sql::ResealStoredSecrets(session, **loaded);
        if (!sealed.ok()) return sealed.status();
        if (*sealed > 0) {
          spdlog::info("storage: sealed {} stored secrets under key {}",
                       *sealed, (*loaded)->current_key_id());
        }
        sealer = *std::move(loaded);
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  const int writers = std::max(pool_options.size / 2, 1);
  return std::make_unique<PostgresStore>(*std::move(pool), std::move(sealer),
                                         options.observer, writers);
}

}  // namespace ats::storage
