#include "storage/store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/files.h"
#include "storage/sealer.h"
#include "storage/sql/secret_sealing.h"
#include "storage/sql/transaction.h"
#include "storage/sqlite/backup.h"
#include "storage/sqlite/database.h"
#include "storage/sqlite/event_state_watch.h"
#include "storage/sqlite/secret_sealing.h"

namespace ats::storage {
namespace {

// The event state changes of one write, reported once it commits.
using EventChanges = std::vector<EventStateChange>;

class SqliteStore final : public Store {
 public:
  // `path` is the database file of `db`; `watch` (may be null) watches the
  // writer connection of `db` for `observer`.
  SqliteStore(std::string path, std::unique_ptr<Sealer> sealer,
              StoreObserver observer,
              std::unique_ptr<sqlite::EventStateWatch> watch,
              std::unique_ptr<sqlite::Database> db)
      : path_(std::move(path)),
        sealer_(std::move(sealer)),
        observer_(std::move(observer)),
        watch_(std::move(watch)),
        db_(std::move(db)) {}

  using Store::WriteAndWait;

  // One writer: every write runs alone, whatever its scope.
  void Write(const WriteScope&, WorkFn work, DoneFn done) override {
    if (watch_ == nullptr) {
      db_->Write(OnConnection(std::move(work), nullptr), std::move(done));
      return;
    }
    auto changes = std::make_shared<EventChanges>();
    db_->Write(OnConnection(std::move(work), changes),
               [this, changes, done = std::move(done)](absl::Status status) {
                 if (status.ok()) Report(*changes);
                 if (done) done(std::move(status));
               });
  }

  absl::Status WriteAndWait(const WriteScope&, WorkFn work) override {
    auto changes =
        watch_ == nullptr ? nullptr : std::make_shared<EventChanges>();
    absl::Status status =
        db_->WriteAndWait(OnConnection(std::move(work), changes));
    if (status.ok() && changes != nullptr) Report(*changes);
    return status;
  }

  absl::Status Read(const WorkFn& work) override {
    return db_->Read([this, &work](sqlite::Connection& db) {
      sql::SqlTransaction transaction(db, *sealer_);
      return work(transaction);
    });
  }

  StoreStats Stats() const override {
    return StoreStats{db_->write_stats().queued, db_->wal_bytes()};
  }

  // Sealed values are copied as they are stored: the copy opens only with
  // the same secrets key file, which is not part of it.
  absl::StatusOr<BackupCopy> Backup(
      const std::function<bool()>& cancelled) override {
    return sqlite::BackupDatabase(path_, cancelled);
  }

 private:
  // Runs `work` on the writer connection; with `changes`, keeps there the
  // event state changes `work` made, unless it failed (and rolled back).
  sqlite::Database::WriteFn OnConnection(
      WorkFn work, std::shared_ptr<EventChanges> changes) {
    return [this, work = std::move(work),
            changes = std::move(changes)](sqlite::Connection& db) {
      sql::SqlTransaction transaction(db, *sealer_);
      absl::Status status = work(transaction);
      if (changes != nullptr) {
        *changes = watch_->Take();
        if (!status.ok()) changes->clear();
      }
      return status;
    };
  }

  void Report(const EventChanges& changes) const {
    if (!changes.empty()) observer_.events_changed(changes);
  }

  const std::string path_;
  // Declared before the database so they outlive its threads and its
  // writer connection.
  const std::unique_ptr<Sealer> sealer_;
  const StoreObserver observer_;
  const std::unique_ptr<sqlite::EventStateWatch> watch_;
  std::unique_ptr<sqlite::Database> db_;
};

}  // namespace

std::string SecretsKeyFileOf(const SqliteStoreOptions& options) {
  return options.secrets_key_file.empty()
             ? CompanionFile(options.path, "", "secrets.key")
             : options.secrets_key_file;
}

absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(
    const SqliteStoreOptions& options) {
  const std::string key_path = SecretsKeyFileOf(options);
  std::unique_ptr<Sealer> sealer;
  std::unique_ptr<sqlite::EventStateWatch> watch;
  sqlite::DatabaseOptions db_options;
  db_options.path = options.path;
  db_options.reader_connections = options.reader_count;
  db_options.synchronous_full = options.synchronous_full;
  db_options.busy_timeout_ms = options.busy_timeout_ms;
  db_options.after_migrations = [&](sqlite::Connection& db) -> absl::Status {
    absl::StatusOr<std::unique_ptr<Sealer>> loaded = sql::LoadSealer(
        db, options.path, key_path, options.secrets_old_key_files);
    if (!loaded.ok()) return loaded.status();
    sealer = *std::move(loaded);
    absl::Status sealed = sqlite::SealStoredSecrets(db, *sealer).status();
    if (!sealed.ok() || !options.observer.events_changed) return sealed;
    absl::StatusOr<std::unique_ptr<sqlite::EventStateWatch>> started =
        sqlite::EventStateWatch::Start(db);
    if (!started.ok()) return started.status();
    watch = *std::move(started);
    return absl::OkStatus();
  };
  db_options.writes.batch_committed = options.observer.batch_committed;
  db_options.writes.batch_run_again = options.observer.batch_run_again;
  absl::StatusOr<std::unique_ptr<sqlite::Database>> db =
      sqlite::Database::Open(db_options);
  if (!db.ok()) return db.status();
  return std::make_unique<SqliteStore>(options.path, std::move(sealer),
                                       options.observer, std::move(watch),
                                       *std::move(db));
}

}  // namespace ats::storage
