// The Store on PostgreSQL: many replicas on one database, each with a pool
// of connections.
//
// Writes and claims are two lanes of work. Writes hold the advisory locks
// of their accounts' write lanes (storage/postgres/write_lanes.h): writes
// whose accounts share a lane run one at a time across every replica,
// writes of different lanes at once, and a whole-deployment write alone.
// Each replica's writer threads take the queued writes in batches of one
// lane set and run a batch in one transaction (a group commit), each write
// inside a savepoint of its own so that a write that fails rolls back
// alone. Claims (Store::Claim) run one at a time across every replica, in
// transactions of their own under a lock of their own. Every transaction
// takes its locks before it begins and runs at READ COMMITTED, so each
// statement sees everything committed before it: with no other write of
// its accounts at once, and other accounts' writes changing other rows, a
// write sees what a serial run would, as on SQLite's one writer.
//
// What claims and writes share are events: a claim changes only the events
// it locks with FOR UPDATE SKIP LOCKED, passing over those a write holds
// rather than waiting for them; a write changes events with conditional
// updates (a settle, a cancel), which PostgreSQL re-checks on the claim's
// committed row, or after reading them with GetEventToChange, which waits
// for the claim. Since claims follow one another, a destination's limit,
// counted inside a claim from every replica's leases, holds for all
// replicas together. A transaction that meets a deadlock or loses its
// connection before COMMIT runs again whole; the Store contract lets it.
//
// Locks rather than SERIALIZABLE transactions order the writes: writes at
// once, each SERIALIZABLE, conflicted with each other over the counters of
// the stage they enter, and retried so often that moves/s fell to a sixth.
//
// Reads run at once on their own connections, each on one REPEATABLE READ
// snapshot. A transaction that made events due NOTIFYs the other replicas,
// whose listeners wake their dispatchers.

#include "storage/store.h"

#include <pthread.h>
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
#include "storage/postgres/write_lanes.h"
#include "storage/sql/secret_sealing.h"
#include "storage/sql/transaction.h"
#include "storage/sql/values.h"

namespace ats::storage {
namespace {

// The advisory lock of claims, "atsclaim".
constexpr int64_t kClaimLock = 0x617473636c61696d;

// Has a session note the event state changes its transactions make, in a
// table of its own that empties at each commit (see migration 0002).
constexpr char kNoteEventChanges[] =
    "CREATE TEMP TABLE ats_event_changes ("
    "n bigint GENERATED ALWAYS AS IDENTITY, integration_id text, "
    "from_state integer NOT NULL, to_state integer NOT NULL, "
    "due_time bigint NOT NULL) ON COMMIT DELETE ROWS; "
    "SET ats.note_event_changes = 'on'";
constexpr char kReadEventChanges[] =
    "SELECT integration_id, from_state, to_state, due_time "
    "FROM pg_temp.ats_event_changes ORDER BY n";

// Threads of a replica that run write batches, each on a connection of its
// own while it does.
constexpr int kWriterThreads = 4;

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
    for (int i = 0; i < kWriterThreads; ++i) {
      threads_.emplace_back([this] {
        pthread_setname_np(pthread_self(), "store-writes");
        RunWrites(writes_);
      });
    }
    threads_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "store-claims");
      RunWrites(claims_);
    });
    threads_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "store-listen");
      Listen();
    });
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

  using Store::WriteAndWait;

  void Write(const WriteScope& scope, WorkFn work, DoneFn done) override {
    const postgres::WriteLanes lanes = postgres::LanesOf(scope);
    absl::MutexLock lock(&mu_);
    writes_.pending.push_back({lanes, std::move(work), std::move(done)});
  }

  void Claim(WorkFn work, DoneFn done) override {
    absl::MutexLock lock(&mu_);
    claims_.pending.push_back(
        {postgres::WriteLanes().set(), std::move(work), std::move(done)});
  }

  absl::Status WriteAndWait(const WriteScope& scope, WorkFn work) override {
    absl::Notification written;
    absl::Status outcome;
    Write(scope, std::move(work), [&](absl::Status status) {
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
    postgres::WriteLanes lanes;
    WorkFn work;
    DoneFn done;
  };

  // Work waiting for a thread, and how the threads commit it.
  struct Queue {
    std::deque<PendingWrite> pending;
    // The lanes of the batches this replica's threads run now.
    postgres::WriteLanes busy;
    // Most writes one transaction commits together.
    size_t batch_limit;
    // Claims: under the claim lock, instead of their lanes' locks.
    bool claims;
  };

  // Whether `queue` holds a write whose lanes no running batch holds and
  // no write queued before it shares: one that may run now without passing
  // an earlier write of its accounts.
  static bool HasRunnable(const Queue& queue) {
    postgres::WriteLanes passed = queue.busy;
    for (const PendingWrite& write : queue.pending) {
      if ((write.lanes & passed).none()) return true;
      passed |= write.lanes;
    }
    return false;
  }

  // Takes from `queue` the first runnable write (see HasRunnable), and
  // after it, up to the batch limit, those runnable writes whose lanes are
  // among its own; marks their lanes busy and returns them with the lanes.
  static std::vector<PendingWrite> TakeBatch(Queue& queue,
                                             postgres::WriteLanes* lanes) {
    std::vector<PendingWrite> batch;
    postgres::WriteLanes passed = queue.busy;
    for (auto it = queue.pending.begin();
         it != queue.pending.end() && batch.size() < queue.batch_limit;) {
      const bool fits = (it->lanes & passed).none() &&
                        (batch.empty() || (it->lanes & ~*lanes).none());
      if (!fits) {
        passed |= it->lanes;
        ++it;
        continue;
      }
      if (batch.empty()) *lanes = it->lanes;
      batch.push_back(std::move(*it));
      it = queue.pending.erase(it);
    }
    queue.busy |= *lanes;
    return batch;
  }

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
    postgres::WriteLanes lanes;
    for (;;) {
      std::vector<PendingWrite> batch;
      {
        absl::MutexLock lock(&mu_);
        // The lanes of the batch just committed are free, and this thread,
        // already awake, takes whatever may run next before any other does.
        queue.busy &= ~lanes;
        auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return (stopping_ && queue.pending.empty()) || HasRunnable(queue);
        };
        mu_.Await(absl::Condition(&ready));
        if (queue.pending.empty()) return;
        batch = TakeBatch(queue, &lanes);
      }
      std::vector<absl::Status> outcomes =
          Commit(queue.claims ? std::vector<postgres::AdvisoryLock>{{kClaimLock}}
                              : postgres::LocksOf(lanes),
                 batch);
      // Answered before the lanes are free, so that the writes their
      // callers send next join the lanes' next batch.
      for (size_t i = 0; i < batch.size(); ++i) {
        if (batch[i].done) batch[i].done(std::move(outcomes[i]));
      }
    }
  }

  // The event state changes the transaction on `connection` noted so far,
  // in the order made; those of writes rolled back to their savepoints are
  // gone with them.
  static absl::StatusOr<std::vector<EventStateChange>> ReadEventChanges(
      postgres::Connection& connection) {
    absl::StatusOr<postgres::Result> rows = connection.Query(kReadEventChanges);
    if (!rows.ok()) return rows.status();
    std::vector<EventStateChange> changes(rows->rows());
    for (int row = 0; row < rows->rows(); ++row) {
      EventStateChange& change = changes[row];
      change.integration_id = std::string(rows->Text(row, 0));
      change.from = static_cast<ats::v1::EventState>(rows->Int64(row, 1));
      change.to = static_cast<ats::v1::EventState>(rows->Int64(row, 2));
      change.due_time = sql::FromMicros(rows->Int64(row, 3));
    }
    return changes;
  }

  // Runs `batch` in one transaction under `locks`, each write in a
  // savepoint of its own; returns each write's outcome.
  std::vector<absl::Status> Commit(std::vector<postgres::AdvisoryLock> locks,
                                   const std::vector<PendingWrite>& batch) {
    std::vector<absl::Status> outcomes;
    int64_t rows_written = 0;
    const bool note_changes = static_cast<bool>(observer_.events_changed);
    std::vector<EventStateChange> changes;
    postgres::TransactionOptions options;
    options.isolation = postgres::Isolation::kReadCommitted;
    options.locks = std::move(locks);
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
          if (status.ok() && note_changes) {
            absl::StatusOr<std::vector<EventStateChange>> noted =
                ReadEventChanges(connection);
            if (!noted.ok()) return noted.status();
            changes = *std::move(noted);
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
      if (!changes.empty()) observer_.events_changed(changes);
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
  Queue writes_ ABSL_GUARDED_BY(mu_){{}, {}, kMaxWritesPerCommit, false};
  // One claim to a transaction, each holding every lane of the queue: a
  // claim is already a batch of events.
  Queue claims_ ABSL_GUARDED_BY(mu_){{}, {}, 1, true};
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
  if (options.observer.events_changed) {
    pool_options.session_setup = kNoteEventChanges;
  }
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
