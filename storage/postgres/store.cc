// The Store on PostgreSQL: many replicas on one database, each with a pool
// of connections.
//
// Writes and claims are two lanes, each one transaction at a time across
// every replica, the two at once. Each replica's writer thread takes the
// queued writes in batches and runs a batch in one transaction (a group
// commit), each write inside a savepoint of its own so that a write that
// fails rolls back alone; a claim (Store::Claim) is a transaction of its
// own. A lane's transaction holds that lane's advisory lock from before it
// begins until it ends, and runs at READ COMMITTED, so each statement sees
// everything committed before it: with no other write at once, a write
// sees what a serial run would, as on SQLite's one writer.
//
// What the two lanes share are events: a claim changes only the events it
// locks with FOR UPDATE SKIP LOCKED, passing over those a write holds
// rather than waiting for them; a write changes events with conditional
// updates (a settle, a cancel), which PostgreSQL re-checks on the claim's
// committed row, or after reading them with GetEventToChange, which waits
// for the claim. Since claims follow one another, a destination's limit,
// counted inside a claim from every replica's leases, holds for all
// replicas together. A transaction that meets a deadlock or loses its
// connection before COMMIT runs again whole; the Store contract lets it.
//
// Batches one at a time is what measured fastest. Batches at once, each
// SERIALIZABLE, made moves conflict with each other over the counters of
// the stage they enter and the integrations they read, and three replicas
// did half as many moves a second.
//
// Reads run at once on their own connections, each on one REPEATABLE READ
// snapshot. A transaction that made events due NOTIFYs the other replicas,
// whose listeners wake their dispatchers.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "storage/postgres/migrations.h"
#include "storage/postgres/pool.h"
#include "storage/postgres/session.h"
#include "storage/sql/secret_sealing.h"
#include "storage/sql/transaction.h"
#include "storage/sql/values.h"
#include "storage/store.h"

namespace ats::storage {
namespace {

// The advisory locks of the two lanes, "atswrite" and "atsclaim".
constexpr int64_t kWriteLock = 0x6174737772697465;
constexpr int64_t kClaimLock = 0x617473636c61696d;

// The channel on which commits that made events due notify every replica.
constexpr char kEventsDueChannel[] = "ats_events_due";

// How often the listener, waiting for notifications, looks whether the
// store is stopping: what a stop may wait for it.
constexpr absl::Duration kListenerLooksForStop = absl::Milliseconds(50);

// Rows a replica writes before it first refreshes the planner's statistics
// (see PostgresStore::NoteRowsWritten).
constexpr int64_t kRowsBeforeFirstAnalyze = 1000;

// Most writes one transaction commits together.
constexpr size_t kMaxWritesPerCommit = 64;

class PostgresStore final : public Store {
 public:
  PostgresStore(std::string uri, std::unique_ptr<postgres::ConnectionPool> pool,
                std::unique_ptr<Sealer> sealer, StoreObserver observer)
      : uri_(std::move(uri)),
        pool_(std::move(pool)),
        sealer_(std::move(sealer)),
        observer_(std::move(observer)) {
    threads_.emplace_back([this] { RunWrites(writes_); });
    threads_.emplace_back([this] { RunWrites(claims_); });
    threads_.emplace_back([this] { Listen(); });
  }

  // Finishes every write and claim already submitted, then stops.
  ~PostgresStore() override {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    for (std::thread& thread : threads_) thread.join();
  }

  void WatchEventsDue(std::function<void()> wake) override {
    absl::MutexLock lock(&wake_mu_);
    wake_ = std::move(wake);
  }

  void Write(WorkFn work, DoneFn done) override {
    absl::MutexLock lock(&mu_);
    writes_.pending.push_back({std::move(work), std::move(done)});
  }

  void Claim(WorkFn work, DoneFn done) override {
    absl::MutexLock lock(&mu_);
    claims_.pending.push_back({std::move(work), std::move(done)});
  }

  absl::Status WriteAndWait(WorkFn work) override {
    absl::Notification written;
    absl::Status outcome;
    Write(std::move(work), [&](absl::Status status) {
      outcome = std::move(status);
      written.Notify();
    });
    written.WaitForNotification();
    return outcome;
  }

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
    return StoreStats{static_cast<int64_t>(writes_.pending.size()), 0};
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

  // A lane: writes waiting for a thread, and how the thread commits them.
  struct Queue {
    std::deque<PendingWrite> pending;
    // Most writes one transaction commits together.
    size_t batch_limit;
    // The lane's advisory lock.
    int64_t lock;
  };

  // Counts rows this replica committed. Tables grow from nothing within
  // seconds (a bulk trigger, a busy start), and until autovacuum analyzes
  // them, a minute later by default, PostgreSQL plans their queries as if
  // they were empty: several times slower. So once a tenth as many rows
  // again as were written before (and at least kRowsBeforeFirstAnalyze)
  // have been written since the last refresh, the listener refreshes the
  // statistics, at most once a second.
  void NoteRowsWritten(int64_t rows) {
    absl::MutexLock lock(&analyze_mu_);
    rows_written_ += rows;
    rows_since_analyze_ += rows;
    const absl::Time now = absl::Now();
    if (rows_since_analyze_ >=
            std::max(kRowsBeforeFirstAnalyze, rows_written_ / 10) &&
        now - last_analyze_ >= absl::Seconds(1)) {
      analyze_requested_ = true;
      rows_since_analyze_ = 0;
      last_analyze_ = now;
    }
  }

  bool TakeAnalyzeRequest() {
    absl::MutexLock lock(&analyze_mu_);
    return std::exchange(analyze_requested_, false);
  }

  bool Stopping() {
    absl::MutexLock lock(&mu_);
    return stopping_;
  }

  // Waits `delay`, or less if the store stops meanwhile.
  void Pause(absl::Duration delay) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), delay);
  }

  void Wake() {
    absl::MutexLock lock(&wake_mu_);
    if (wake_) wake_();
  }

  // The listener thread: LISTENs on a connection of its own until the
  // store stops, reconnecting with backoff when the connection is lost.
  void Listen() {
    absl::Duration backoff = absl::Milliseconds(100);
    while (!Stopping()) {
      auto connection = postgres::Connection::Open(uri_, absl::Seconds(5));
      absl::Status status = connection.status();
      if (status.ok()) {
        status = (*connection)->Exec(absl::StrCat("LISTEN ", kEventsDueChannel));
      }
      if (!status.ok()) {
        spdlog::warn("storage: cannot listen for other replicas' events, "
                     "trying again in {}: {}",
                     absl::FormatDuration(backoff), std::string(status.message()));
        Pause(backoff);
        backoff = std::min(2 * backoff, absl::Seconds(5));
        continue;
      }
      backoff = absl::Milliseconds(100);
      // Whatever was notified while no one listened is looked for now.
      Wake();
      while (!Stopping()) {
        absl::StatusOr<int> notified =
            (*connection)->AwaitNotifications(kListenerLooksForStop);
        if (!notified.ok()) break;
        if (*notified > 0) Wake();
        if (TakeAnalyzeRequest()) {
          absl::Status analyzed = (*connection)->Exec("ANALYZE");
          if (!analyzed.ok()) {
            spdlog::warn("storage: cannot refresh the planner's statistics: {}",
                         std::string(analyzed.message()));
          }
        }
      }
    }
  }

  // A thread that commits `queue`'s writes in batches until the store stops
  // with nothing queued.
  void RunWrites(Queue& queue) {
    for (;;) {
      std::vector<PendingWrite> batch;
      {
        absl::MutexLock lock(&mu_);
        auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || !queue.pending.empty();
        };
        mu_.Await(absl::Condition(&ready));
        if (queue.pending.empty()) return;
        while (!queue.pending.empty() && batch.size() < queue.batch_limit) {
          batch.push_back(std::move(queue.pending.front()));
          queue.pending.pop_front();
        }
      }
      std::vector<absl::Status> outcomes = Commit(queue, batch);
      for (size_t i = 0; i < batch.size(); ++i) {
        if (batch[i].done) batch[i].done(std::move(outcomes[i]));
      }
    }
  }

  // Runs `batch` in one transaction of `queue`'s lane, each write in a
  // savepoint of its own; returns each write's outcome.
  std::vector<absl::Status> Commit(const Queue& queue,
                                   const std::vector<PendingWrite>& batch) {
    std::vector<absl::Status> outcomes;
    int64_t rows_written = 0;
    postgres::TransactionOptions options;
    options.isolation = postgres::Isolation::kReadCommitted;
    options.exclusive_lock = queue.lock;
    absl::Status committed = pool_->RunTransaction(
        options, [&](postgres::Connection& connection) -> absl::Status {
          outcomes.assign(batch.size(), absl::OkStatus());
          absl::Status status;
          postgres::Session session(connection);
          sql::SqlTransaction transaction(session, *sealer_);
          for (size_t i = 0; i < batch.size() && status.ok(); ++i) {
            status = connection.Exec("SAVEPOINT ats_write");
            if (!status.ok()) break;
            outcomes[i] = batch[i].work(transaction);
            session.Reset();
            // A deadlock dooms the whole transaction, not just this write:
            // the batch runs again.
            if (postgres::IsRetryableConflict(outcomes[i])) return outcomes[i];
            status = connection.Exec(
                outcomes[i].ok() ? "RELEASE SAVEPOINT ats_write"
                                 : "ROLLBACK TO SAVEPOINT ats_write; "
                                   "RELEASE SAVEPOINT ats_write");
          }
          // Delivered at COMMIT, and only if it commits.
          if (status.ok() && session.events_due()) {
            status = connection.Exec(absl::StrCat("NOTIFY ", kEventsDueChannel));
          }
          rows_written = session.rows_written();
          return status;
        });
    if (committed.ok()) {
      NoteRowsWritten(rows_written);
      if (observer_.batch_committed) {
        observer_.batch_committed(static_cast<int64_t>(batch.size()));
      }
      return outcomes;
    }
    // Nothing of the batch committed: a write that succeeded inside it
    // did not happen after all.
    outcomes.resize(batch.size());
    for (absl::Status& outcome : outcomes) {
      if (outcome.ok()) outcome = committed;
    }
    return outcomes;
  }

  const std::string uri_;
  const std::unique_ptr<postgres::ConnectionPool> pool_;
  const std::unique_ptr<Sealer> sealer_;
  const StoreObserver observer_;
  mutable absl::Mutex mu_;
  Queue writes_ ABSL_GUARDED_BY(mu_){{}, kMaxWritesPerCommit, kWriteLock};
  // One claim to a transaction: a claim is already a batch of events.
  Queue claims_ ABSL_GUARDED_BY(mu_){{}, 1, kClaimLock};
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Mutex analyze_mu_;
  int64_t rows_written_ ABSL_GUARDED_BY(analyze_mu_) = 0;
  int64_t rows_since_analyze_ ABSL_GUARDED_BY(analyze_mu_) = 0;
  absl::Time last_analyze_ ABSL_GUARDED_BY(analyze_mu_) = absl::InfinitePast();
  bool analyze_requested_ ABSL_GUARDED_BY(analyze_mu_) = false;
  absl::Mutex wake_mu_;
  std::function<void()> wake_ ABSL_GUARDED_BY(wake_mu_);
  // Declared last: they start once everything they use exists.
  std::vector<std::thread> threads_;
};

// Records `sealer`'s current key as the deployment's when none is yet, or
// when the recorded one is among its old keys (a rotation); FAILED_PRECONDITION
// when the deployment seals under a key `sealer` does not hold, so that two
// replicas never seal under different keys.
absl::Status AgreeOnSealingKey(sql::Session& db, const Sealer& sealer) {
  auto found = sql::ReadOptional<std::string>(
      db.Prepare("SELECT key_id FROM deployment_secrets_key WHERE id = 1"),
      [](const sql::Statement& row) { return row.ColumnText(0); });
  if (!found.ok()) return found.status();
  const std::string recorded = found->value_or("");
  if (recorded == sealer.current_key_id()) return absl::OkStatus();
  if (!recorded.empty() && !sealer.HasKey(recorded)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the deployment seals secrets under key ", recorded,
        ", but this server's secrets key file holds key ",
        sealer.current_key_id(),
        ": install the deployment's key file (every replica needs the same "
        "one)"));
  }
  return db
      .Prepare("INSERT INTO deployment_secrets_key (id, key_id) "
               "VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET key_id = "
               "excluded.key_id")
      .Bind(1, sealer.current_key_id())
      .Run();
}

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
  pool_options.size = std::max(options.connections, 3);
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
        absl::Status agreed = AgreeOnSealingKey(session, **loaded);
        if (!agreed.ok()) return agreed;
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
  return std::make_unique<PostgresStore>(options.uri, *std::move(pool),
                                         std::move(sealer), options.observer);
}

}  // namespace ats::storage
