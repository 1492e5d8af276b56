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

  void Write(WorkFn work, DoneFn done) override {
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

  absl::Status WriteAndWait(WorkFn work) override {
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

// Returns the key file at `path`, or why it cannot be used.
absl::StatusOr<SealingKey> ReadOldKey(const std::string& path) {
  absl::StatusOr<SealingKey> key = ReadSealingKeyFile(path);
  if (absl::IsNotFound(key.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat("--secrets_old_key_files: ", key.status().message()));
  }
  return key;
}

// Returns the sealer for the database on `db`: the current key from
// `key_path` (created when missing, if nothing stored needs another key) and
// the old keys of `options`. Fails when a value stored in `db` is sealed
// under a key it does not hold: starting without it would leave integrations
// unable to sign their deliveries.
absl::StatusOr<std::unique_ptr<Sealer>> LoadSealer(
    sqlite::Connection& db, const SqliteStoreOptions& options,
    const std::string& key_path) {
  std::vector<SealingKey> old_keys;
  for (const std::string& path : options.secrets_old_key_files) {
    absl::StatusOr<SealingKey> key = ReadOldKey(path);
    if (!key.ok()) return key.status();
    old_keys.push_back(*std::move(key));
  }
  absl::StatusOr<std::set<std::string>> sealed_under = sql::SealedKeyIds(db);
  if (!sealed_under.ok()) return sealed_under.status();
  absl::StatusOr<SealingKey> current = ReadSealingKeyFile(key_path);
  if (absl::IsNotFound(current.status())) {
    for (const std::string& key_id : *sealed_under) {
      const bool old = std::any_of(
          old_keys.begin(), old_keys.end(),
          [&key_id](const SealingKey& key) { return key.id == key_id; });
      if (old) continue;
      return absl::FailedPreconditionError(absl::StrCat(
          options.path, " holds secrets sealed under key ", key_id,
          ", but the secrets key file ", key_path,
          " does not exist: restore it, or pass the key file they were "
          "sealed with as --secrets_key_file"));
    }
    current = CreateSealingKeyFile(key_path);
    if (current.ok()) {
      spdlog::info("storage: created secrets key file {} (key {}); keep it "
                   "and back it up apart from the database",
                   key_path, current->id);
    }
  }
  if (!current.ok()) return current.status();
  auto sealer = std::make_unique<Sealer>(*std::move(current), old_keys);
  for (const std::string& key_id : *sealed_under) {
    if (sealer->HasKey(key_id)) continue;
    return absl::FailedPreconditionError(absl::StrCat(
        options.path, " holds secrets sealed under key ", key_id,
        ", which neither the secrets key file ", key_path, " (key ",
        sealer->current_key_id(),
        ") nor --secrets_old_key_files holds: start with the key file they "
        "were sealed with"));
  }
  return sealer;
}

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
    absl::StatusOr<std::unique_ptr<Sealer>> loaded =
        LoadSealer(db, options, key_path);
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
  db_options.batch_committed = options.observer.batch_committed;
  absl::StatusOr<std::unique_ptr<sqlite::Database>> db =
      sqlite::Database::Open(db_options);
  if (!db.ok()) return db.status();
  return std::make_unique<SqliteStore>(options.path, std::move(sealer),
                                       options.observer, std::move(watch),
                                       *std::move(db));
}

}  // namespace ats::storage
