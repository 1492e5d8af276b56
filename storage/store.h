#ifndef ATS_STORAGE_STORE_H_
#define ATS_STORAGE_STORE_H_

#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/account_repository.h"
#include "storage/application_repository.h"
#include "storage/bulk_operation_repository.h"
#include "storage/candidate_repository.h"
#include "storage/event_repository.h"
#include "storage/integration_repository.h"
#include "storage/job_repository.h"
#include "storage/request_log.h"
#include "storage/store_observer.h"
#include "storage/template_repository.h"

namespace ats::storage {

// One atomic unit of work. Repositories reached through it read and write
// inside it: everything a write function does commits together or not at all.
class Transaction {
 public:
  virtual ~Transaction() = default;

  virtual AccountRepository& accounts() = 0;
  virtual IntegrationRepository& integrations() = 0;
  virtual RequestLog& requests() = 0;
  virtual TemplateRepository& templates() = 0;
  virtual JobRepository& jobs() = 0;
  virtual CandidateRepository& candidates() = 0;
  virtual ApplicationRepository& applications() = 0;
  virtual EventRepository& events() = 0;
  virtual BulkOperationRepository& bulk_operations() = 0;
};

// A consistent copy of a whole store (see Store::Backup), in the backend's
// own file format: a server started on it serves the data as it was.
struct BackupCopy {
  // The copy, open at its first byte. Its file has no name any more, so
  // nothing else can open it, and it goes away when this stream closes.
  std::unique_ptr<std::istream> bytes;
  // The copy's size in bytes.
  int64_t size = 0;
};

// The accounts whose rows a write may change. Every key of an account's
// rows starts with the account, so writes of different accounts change
// different rows, and a store that several servers share runs them at the
// same time; writes whose scopes share an account run one after another. A
// write scoped to accounts may read rows of the whole deployment (partner
// listings), which only whole-deployment writes change.
struct WriteScope {
  // The accounts; empty means the whole deployment: the write may change
  // any row, and runs while no other write does.
  std::vector<std::string> account_ids;

  static WriteScope WholeDeployment() { return {}; }
  static WriteScope Account(std::string account_id) {
    return {{std::move(account_id)}};
  }
  bool whole_deployment() const { return account_ids.empty(); }
};

// The service's durable state. Every write runs as if it were alone among
// the writes its scope shares an account with (batched into group commits);
// reads run concurrently on consistent snapshots.
class Store {
 public:
  using WorkFn = std::function<absl::Status(Transaction&)>;
  using DoneFn = std::function<void(absl::Status)>;

  virtual ~Store() = default;

  // Runs `work` atomically, as if no other write whose scope shares an
  // account with `scope` (or is the whole deployment) ran at the same time,
  // then calls `done` with its outcome once that is durable (or rolled
  // back). Writes of one scope submitted one after another commit in that
  // order. `work` must change rows of `scope`'s accounts only. `work`
  // returning an error rolls back exactly its own changes. A store may run
  // `work` again from the start, in a new transaction: when a concurrent
  // transaction conflicts with it, when its connection is lost before the
  // commit, or when a write grouped into its commit fails. Only the run
  // that commits counts, so whatever `work` changes outside the transaction
  // must be what a later run overwrites (a response it fills afresh), or
  // undone by that run. `done` runs on one of the store's reporting
  // threads: it must be quick and must not block.
  virtual void Write(const WriteScope& scope, WorkFn work, DoneFn done) = 0;

  // Like Write, for work that takes rows off the queue every server sharing
  // the store draws from (the dispatcher's claims): it runs after every
  // earlier Claim of every server and sees all they committed, so limits it
  // counts hold for all servers together, and EventRepository::ListDue in
  // it passes over events another write holds instead of waiting for them.
  virtual void Claim(WorkFn work, DoneFn done) {
    Write(WriteScope::WholeDeployment(), std::move(work), std::move(done));
  }

  // Like Write, but blocks until `work` is committed or rolled back.
  virtual absl::Status WriteAndWait(const WriteScope& scope, WorkFn work) = 0;
  // The same for the whole deployment.
  absl::Status WriteAndWait(WorkFn work) {
    return WriteAndWait(WriteScope::WholeDeployment(), std::move(work));
  }

  // Runs `work` on a read-only snapshot; writes inside it fail.
  virtual absl::Status Read(const WorkFn& work) = 0;

  // Returns what the store is doing now; cheap, never waits for a write.
  virtual StoreStats Stats() const = 0;

  // Copies the whole store as it stands at one moment during the call, while
  // reads and writes go on, and returns the copy: every write whose `done`
  // ran before the call is in it. Asks `cancelled` between steps and returns
  // CANCELLED soon after it answers true. A backend whose data is not one
  // file it can copy returns UNIMPLEMENTED, naming the tools that back it up
  // (PostgreSQL's pg_dump or point-in-time recovery).
  virtual absl::StatusOr<BackupCopy> Backup(
      const std::function<bool()>& cancelled) = 0;

  // Calls `wake`, on a thread of the store's, soon after another server
  // sharing the database commits events that wait for delivery, so that
  // this server's dispatcher need not wait for its next poll. Replaces any
  // earlier `wake`; an empty one stops the calls, and once that returns no
  // call is running. A store that no other server shares (SQLite's) never
  // calls it.
  virtual void WatchEventsDue(std::function<void()> wake) { (void)wake; }
};

// Where and how the SQLite store keeps its data.
struct SqliteStoreOptions {
  // Database file; it (mode 0600) and its directory (0700) are created when
  // missing.
  std::string path;
  // The master key (32 raw bytes) that seals stored secrets (see
  // storage/sealer.h); empty means CompanionFile(path, "", "secrets.key"),
  // e.g. var/ats.secrets.key beside var/ats.db. Created (0600) when missing,
  // unless the database holds values sealed under a key that neither it nor
  // `secrets_old_key_files` provide.
  std::string secrets_key_file;
  // Earlier master keys, to rotate: values sealed under them are re-sealed
  // under `secrets_key_file` when the store opens. Each must exist.
  std::vector<std::string> secrets_old_key_files;
  // Read connections; reads beyond this many wait for a free one.
  int reader_count = 4;
  // synchronous=FULL (every commit fsynced) instead of NORMAL (WAL is
  // fsynced at checkpoints: a power loss may drop the last commits, never
  // corrupt the file).
  bool synchronous_full = false;
  // How long a connection waits for a lock another process holds on the
  // file (a backup, another server) before its call fails UNAVAILABLE.
  int busy_timeout_ms = 5000;
  // Told of group commits and of event state changes (see StoreObserver);
  // what its callbacks use must outlive the store.
  StoreObserver observer;
};

// Returns the master key file the store at `options.path` seals with:
// `options.secrets_key_file`, or when it is empty the file named after the
// database beside it.
std::string SecretsKeyFileOf(const SqliteStoreOptions& options);

// Opens (creating and migrating when needed) the SQLite store at
// `options.path`, sealing any plaintext secret it holds and re-sealing those
// under old keys. Fails with FAILED_PRECONDITION for a database written by a
// newer server, and for a secrets key file that is unreadable, or missing or
// wrong while the database holds secrets sealed under another key.
absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(
    const SqliteStoreOptions& options);

// Where and how the PostgreSQL store keeps its data. Every replica of a
// deployment opens the same database with the same secrets key.
struct PostgresStoreOptions {
  // libpq URI of the database, e.g. postgresql://ats@db:5432/ats.
  std::string uri;
  // The master key (32 raw bytes) that seals stored secrets; every replica
  // needs the same one. Created (0600) when missing and nothing stored is
  // sealed yet.
  std::string secrets_key_file;
  // Earlier master keys, to rotate (see SqliteStoreOptions).
  std::vector<std::string> secrets_old_key_files;
  // Connections to the database at most: up to four for this replica's
  // writes (batches of different write lanes at once), one for its claims,
  // and the rest for reads.
  int connections = 16;
  // Told of group commits and of the event state changes this replica's
  // writes and claims made (see StoreObserver).
  StoreObserver observer;
};

// Opens the PostgreSQL store at `options.uri`, creating and migrating its
// schema when needed and sealing as OpenSqliteStore does. UNAVAILABLE when
// the database cannot be reached; FAILED_PRECONDITION for a schema written
// by a newer server or a secrets key that does not open what is stored.
absl::StatusOr<std::unique_ptr<Store>> OpenPostgresStore(
    const PostgresStoreOptions& options);

}  // namespace ats::storage

#endif  // ATS_STORAGE_STORE_H_
