#ifndef ATS_STORAGE_SQLITE_CONNECTION_H_
#define ATS_STORAGE_SQLITE_CONNECTION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/sql/config_cache.h"
#include "storage/sqlite/statement.h"

struct sqlite3;

namespace ats::storage::sqlite {

// A row an INSERT or UPDATE on a Connection is about to write, as SQLite's
// preupdate hook shows it (see Connection::WatchRowWrites). Columns are
// numbered by their position in the table; NULL reads as 0 or "". Valid only
// during the call it is passed to.
class RowWrite {
 public:
  RowWrite(sqlite3* db, bool inserted, const char* table)
      : db_(db), inserted_(inserted), table_(table) {}

  // The table written.
  const char* table() const { return table_; }
  // Whether the row is new (else an existing row is updated).
  bool inserted() const { return inserted_; }
  // Column `column` of the row before an update.
  int64_t OldInt64(int column) const;
  // Column `column` of the row as written.
  int64_t NewInt64(int column) const;
  std::string_view NewText(int column) const;

 private:
  sqlite3* const db_;
  const bool inserted_;
  const char* const table_;
};

struct ConnectionOptions {
  // Open without write access; such a connection never changes the file.
  bool read_only = false;
  // FULL syncs the WAL on every commit (survives power loss); NORMAL only at
  // checkpoints (survives a process crash, may lose the last commits on power
  // loss) and is much faster.
  bool synchronous_full = false;
  // How long a statement waits for another connection's lock before failing
  // with UNAVAILABLE.
  int busy_timeout_ms = 5000;
  // Page cache size in KiB; 0 keeps SQLite's default (2 MiB). The writer
  // wants one that holds a whole group commit: a transaction whose dirty
  // pages overflow the cache writes them to the WAL early, and again later.
  int cache_kib = 0;
};

// One SQLite connection (RAII owner of a sqlite3 handle) with a cache of
// prepared statements.
//
// Not thread-safe: the owner (WriteQueue's writer thread, or the ReaderPool
// borrower) is its only user at any time.
class Connection final : public sql::Session {
 public:
  // Opens the database file at `path` (creating it unless read-only) with
  // foreign keys on, the given busy timeout and synchronous level, and, for a
  // writable connection, the WAL journal.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(
      const std::string& path, const ConnectionOptions& options);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() override;

  // Runs `sql`, one or more statements without parameters or results. Only
  // for fixed SQL written in the source (schema, BEGIN, COMMIT...): values
  // from anywhere else must go through Prepare and Bind.
  absl::Status Exec(const char* sql);

  // Returns the cached statement for `sql`, reset and with no bindings,
  // compiling it on first use. `sql` must be fixed text (values go through
  // Bind) so the cache stays small. The reference stays valid for the
  // connection's life; asking for the same SQL again resets it, so two
  // interleaved uses of one SQL text must not overlap. A compile error is
  // returned by the statement's first Step() or Run().
  Statement& Prepare(const char* sql) override;

  // Resets every statement handed out since the last call, so none keeps a
  // cursor (and its read snapshot) open past the end of a transaction.
  void ResetStatements();

  // Returns whether a transaction is open on this connection.
  bool in_transaction() const;

  // Returns the number of rows changed by the latest INSERT, UPDATE or DELETE.
  int64_t changes() const override;

  sql::Dialect dialect() const override { return sql::Dialect::kSqlite; }

  // Returns the rowid of the latest successful INSERT on this connection.
  int64_t last_insert_rowid() const;

  // Returns whether deferred foreign key constraints are violated in the
  // open transaction (COMMIT would then fail).
  bool has_deferred_foreign_key_violations() const;

  // Stops commits on this connection from checkpointing the WAL; instead
  // `committed` learns the WAL's size in pages after each one, on the
  // committing thread, and someone else checkpoints (see Checkpointer).
  void HandOffCheckpoints(std::function<void(int wal_pages)> committed);

  // Copies into the database file the WAL frames no reader needs any more,
  // without waiting for the writer or readers.
  absl::Status CheckpointPassive();

  // Copies this connection's database, as its open read transaction sees it,
  // into the empty database file `path` with SQLite's online backup API,
  // `pages_per_step` pages per step. Calls `keep_going` after each step and
  // stops with CANCELLED once it returns false. Must run inside a read
  // transaction that has read something: its snapshot is what gets copied,
  // so writes committed meanwhile by other connections neither show in the
  // copy nor restart it.
  absl::Status BackupTo(const std::string& path, int pages_per_step,
                        const std::function<bool()>& keep_going);

  // Rewrites a BLOB: the new value, or an error that fails the statement.
  using BlobRewrite = absl::StatusOr<std::string> (*)(std::string_view blob);

  // Makes the one-argument SQL function `name` available on this
  // connection: it returns `rewrite` of its argument (a BLOB; NULL stays
  // NULL). For migrations that change what serialized protos hold, which SQL
  // alone cannot.
  absl::Status DefineBlobFunction(const char* name, BlobRewrite rewrite);

  // Computes a TEXT value from three TEXT arguments (NULL reads as "").
  using TextFunction3 = std::string (*)(std::string_view, std::string_view,
                                        std::string_view);

  // Makes the three-argument SQL function `name` available on this
  // connection: it returns `function` of its arguments. For migrations that
  // fill a column with what the code computes, so that SQL does not restate
  // it.
  absl::Status DefineTextFunction(const char* name, TextFunction3 function);

  // Calls `watcher` for each row an INSERT or UPDATE on this connection is
  // about to write, on the thread running the statement, whether or not
  // its transaction later commits; replaces any earlier watcher, and an
  // empty one stops watching. Deleted rows are not shown.
  void WatchRowWrites(std::function<void(const RowWrite&)> watcher);

  // Returns whether this connection was opened read-only.
  bool read_only() const { return read_only_; }

  // Keeps the rows sql::ConfigCache holds between transactions, for the
  // connection that makes the process's writes (reads on any other would
  // not see what it changes). Forgetting them when another connection
  // commits is the caller's: see ForgetConfigChangedElsewhere.
  void CacheConfig();
  sql::ConfigCache* config_cache() override { return config_cache_.get(); }
  // Forgets the cached rows (see CacheConfig) when another connection, of
  // this process or another, committed since the last call: that commit may
  // have changed them. Called at the start of each write transaction, after
  // it holds the write lock, so no other commit can come before its own.
  void ForgetConfigChangedElsewhere();

 private:
  Connection(sqlite3* db, bool read_only);

  absl::Status Configure(const ConnectionOptions& options);

  sqlite3* const db_;
  const bool read_only_;
  absl::flat_hash_map<std::string, std::unique_ptr<Statement>> statements_;
  // Statements that may be mid-step; see ResetStatements().
  std::vector<Statement*> handed_out_;
  std::function<void(int)> committed_;
  std::function<void(const RowWrite&)> row_watcher_;
  std::unique_ptr<sql::ConfigCache> config_cache_;
  // PRAGMA data_version when last read: it changes with every commit of
  // another connection.
  int64_t data_version_ = 0;
};

}  // namespace ats::storage::sqlite

#endif  // ATS_STORAGE_SQLITE_CONNECTION_H_
