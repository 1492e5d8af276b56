#include "storage/sqlite/connection.h"

// Declares the preupdate hook (WatchRowWrites), which Debian's SQLite is
// built with.
#define SQLITE_ENABLE_PREUPDATE_HOOK
#include <sqlite3.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "storage/sqlite/errors.h"

namespace ats::storage::sqlite {

namespace {

// Turns off SQLite's memory statistics, which the server never reads: with
// them, every allocation takes a process-wide mutex, and Debian's SQLite
// has no lookaside allocator, so every statement allocates many times. It
// must come before SQLite initializes, which the first open does; if
// something initialized it earlier, the statistics stay on and nothing
// else changes.
void ConfigureSqliteOnce() {
  static const int configured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)configured;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(
    const std::string& path, const ConnectionOptions& options) {
  ConfigureSqliteOnce();
  // NOMUTEX: a connection has one user at a time (see the class comment), so
  // SQLite's per-connection mutex would only cost time.
  const int flags =
      SQLITE_OPEN_NOMUTEX |
      (options.read_only ? SQLITE_OPEN_READONLY
                         : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteError(rc, db, "open " + path);
    sqlite3_close_v2(db);  // SQLite allocates a handle even on failure.
    return status;
  }
  std::unique_ptr<Connection> connection(new Connection(db, options.read_only));
  absl::Status status = connection->Configure(options);
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("open ", path, ": ", status.message()));
  }
  return connection;
}

namespace {

// The body of every function DefineBlobFunction defines; its user data is
// the BlobRewrite.
void CallBlobRewrite(sqlite3_context* context, int argc, sqlite3_value** argv) {
  if (argc != 1 || sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(context);
    return;
  }
  const auto rewrite =
      reinterpret_cast<Connection::BlobRewrite>(sqlite3_user_data(context));
  const void* bytes = sqlite3_value_blob(argv[0]);
  const int size = sqlite3_value_bytes(argv[0]);
  absl::StatusOr<std::string> rewritten = rewrite(
      std::string_view(bytes == nullptr ? "" : static_cast<const char*>(bytes),
                       static_cast<size_t>(size)));
  if (!rewritten.ok()) {
    const std::string message = rewritten.status().ToString();
    sqlite3_result_error(context, message.data(),
                         static_cast<int>(message.size()));
    return;
  }
  sqlite3_result_blob64(context, rewritten->data(), rewritten->size(),
                        SQLITE_TRANSIENT);
}

// The body of every function DefineTextFunction defines; its user data is
// the TextFunction3.
void CallTextFunction(sqlite3_context* context, int argc,
                      sqlite3_value** argv) {
  std::string_view args[3];
  for (int i = 0; i < argc && i < 3; ++i) {
    const unsigned char* text = sqlite3_value_text(argv[i]);
    if (text == nullptr) continue;
    const int size = sqlite3_value_bytes(argv[i]);
    args[i] = std::string_view(reinterpret_cast<const char*>(text),
                               static_cast<size_t>(size));
  }
  const auto function = reinterpret_cast<Connection::TextFunction3>(
      sqlite3_user_data(context));
  const std::string result = function(args[0], args[1], args[2]);
  sqlite3_result_text64(context, result.data(), result.size(),
                        SQLITE_TRANSIENT, SQLITE_UTF8);
}

}  // namespace

Connection::Connection(sqlite3* db, bool read_only)
    : db_(db), read_only_(read_only) {}

Connection::~Connection() {
  // Statements must be finalized before the handle can close.
  handed_out_.clear();
  statements_.clear();
  sqlite3_close_v2(db_);
}

absl::Status Connection::DefineBlobFunction(const char* name,
                                            BlobRewrite rewrite) {
  // A function pointer travels as user data through a data pointer, which
  // POSIX (dlsym) guarantees is wide enough.
  const int rc = sqlite3_create_function_v2(
      db_, name, 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
      reinterpret_cast<void*>(rewrite), CallBlobRewrite, nullptr, nullptr,
      nullptr);
  if (rc != SQLITE_OK) {
    return SqliteError(rc, db_, absl::StrCat("define function ", name));
  }
  return absl::OkStatus();
}

absl::Status Connection::DefineTextFunction(const char* name,
                                            TextFunction3 function) {
  const int rc = sqlite3_create_function_v2(
      db_, name, 3, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
      reinterpret_cast<void*>(function), CallTextFunction, nullptr, nullptr,
      nullptr);
  if (rc != SQLITE_OK) {
    return SqliteError(rc, db_, absl::StrCat("define function ", name));
  }
  return absl::OkStatus();
}

absl::Status Connection::Configure(const ConnectionOptions& options) {
  // Extended codes tell a UNIQUE violation from a FOREIGN KEY one.
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, options.busy_timeout_ms);

  absl::Status status = Exec("PRAGMA foreign_keys = ON");
  if (!status.ok()) return status;
  status = Exec(options.synchronous_full ? "PRAGMA synchronous = FULL"
                                         : "PRAGMA synchronous = NORMAL");
  if (!status.ok()) return status;
  // PRAGMA values cannot be bound; these are integers from our own options.
  if (options.cache_kib > 0) {
    // Negative: a size in KiB rather than in pages.
    status = Exec(
        absl::StrCat("PRAGMA cache_size = -", options.cache_kib).c_str());
    if (!status.ok()) return status;
  }
  // The write queue runs each op in a SAVEPOINT, whose statement journal
  // (the pages' content before the op, for ROLLBACK TO) would otherwise go
  // to a temporary file: a pwrite per page an op touches first. Nothing in
  // it needs to survive the transaction.
  status = Exec("PRAGMA temp_store = MEMORY");
  if (!status.ok()) return status;
  // The journal mode is stored in the file, so readers inherit the writer's.
  if (read_only_) return absl::OkStatus();
  Statement& journal = Prepare("PRAGMA journal_mode = WAL");
  absl::StatusOr<bool> row = journal.Step();
  if (!row.ok()) return row.status();
  const std::string mode =
      *row ? absl::AsciiStrToLower(journal.ColumnText(0)) : std::string();
  ResetStatements();
  // SQLite answers with the mode it could set rather than failing; an
  // in-memory database can never be WAL and has nothing to make durable.
  if (mode != "wal" && mode != "memory") {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot enable WAL journal mode (got '", mode,
        "'); is the file on a filesystem without shared memory support?"));
  }
  return absl::OkStatus();
}

absl::Status Connection::Exec(const char* sql) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) return absl::OkStatus();
  return SqliteError(rc, db_, "exec `" + AbbreviateSql(sql) + "`");
}

Statement& Connection::Prepare(const char* sql) {
  auto it = statements_.find(absl::string_view(sql));
  Statement* statement;
  if (it == statements_.end()) {
    auto created = std::unique_ptr<Statement>(new Statement(db_, sql));
    statement = created.get();
    statements_.emplace(statement->sql(), std::move(created));
    statement->PrepareIfNeeded();
  } else {
    statement = it->second.get();
    statement->ResetForReuse();
  }
  if (!statement->handed_out_) {
    statement->handed_out_ = true;
    handed_out_.push_back(statement);
  }
  return *statement;
}

void Connection::ResetStatements() {
  for (Statement* statement : handed_out_) {
    statement->ResetCursor();
    statement->handed_out_ = false;
  }
  handed_out_.clear();
}

bool Connection::in_transaction() const {
  return sqlite3_get_autocommit(db_) == 0;
}

int64_t Connection::changes() const { return sqlite3_changes64(db_); }

void Connection::CacheConfig() {
  config_cache_ = std::make_unique<sql::ConfigCache>();
  ForgetConfigChangedElsewhere();
}

void Connection::ForgetConfigChangedElsewhere() {
  if (config_cache_ == nullptr) return;
  Statement& stmt = Prepare("PRAGMA data_version");
  absl::StatusOr<bool> row = stmt.Step();
  const int64_t version = row.ok() && *row ? stmt.ColumnInt64(0) : -1;
  stmt.Run().IgnoreError();
  // An unreadable version counts as a change.
  if (version < 0 || version != data_version_) config_cache_->Clear();
  data_version_ = version;
}

int64_t Connection::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}

bool Connection::has_deferred_foreign_key_violations() const {
  int current = 0;
  int highwater = 0;
  if (sqlite3_db_status(db_, SQLITE_DBSTATUS_DEFERRED_FKS, &current, &highwater,
                        0) != SQLITE_OK) {
    return false;
  }
  return current != 0;
}

void Connection::HandOffCheckpoints(
    std::function<void(int wal_pages)> committed) {
  committed_ = std::move(committed);
  // Replaces SQLite's automatic checkpoint, which is itself a WAL hook.
  sqlite3_wal_hook(
      db_,
      [](void* self, sqlite3*, const char*, int wal_pages) {
        static_cast<Connection*>(self)->committed_(wal_pages);
        return SQLITE_OK;
      },
      this);
}

namespace {

// Column `column` of the row `read` (sqlite3_preupdate_old or _new) shows.
sqlite3_value* PreupdateValue(int (*read)(sqlite3*, int, sqlite3_value**),
                              sqlite3* db, int column) {
  sqlite3_value* value = nullptr;
  if (read(db, column, &value) != SQLITE_OK) return nullptr;
  return value;
}

}  // namespace

int64_t RowWrite::OldInt64(int column) const {
  sqlite3_value* value = PreupdateValue(sqlite3_preupdate_old, db_, column);
  return value == nullptr ? 0 : sqlite3_value_int64(value);
}

int64_t RowWrite::NewInt64(int column) const {
  sqlite3_value* value = PreupdateValue(sqlite3_preupdate_new, db_, column);
  return value == nullptr ? 0 : sqlite3_value_int64(value);
}

std::string_view RowWrite::NewText(int column) const {
  sqlite3_value* value = PreupdateValue(sqlite3_preupdate_new, db_, column);
  const unsigned char* text =
      value == nullptr ? nullptr : sqlite3_value_text(value);
  if (text == nullptr) return "";
  return std::string_view(reinterpret_cast<const char*>(text),
                          static_cast<size_t>(sqlite3_value_bytes(value)));
}

void Connection::WatchRowWrites(std::function<void(const RowWrite&)> watcher) {
  row_watcher_ = std::move(watcher);
  if (!row_watcher_) {
    sqlite3_preupdate_hook(db_, nullptr, nullptr);
    return;
  }
  sqlite3_preupdate_hook(
      db_,
      [](void* self, sqlite3* db, int op, const char*, const char* table,
         sqlite3_int64, sqlite3_int64) {
        if (op != SQLITE_INSERT && op != SQLITE_UPDATE) return;
        static_cast<Connection*>(self)->row_watcher_(
            RowWrite(db, op == SQLITE_INSERT, table));
      },
      this);
}

absl::Status Connection::CheckpointPassive() {
  const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr,
                                           SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                           nullptr);
  if (rc == SQLITE_OK) return absl::OkStatus();
  return SqliteError(rc, db_, "WAL checkpoint");
}

absl::Status Connection::BackupTo(const std::string& path, int pages_per_step,
                                  const std::function<bool()>& keep_going) {
  if (!in_transaction()) {
    return absl::FailedPreconditionError(
        "a backup needs an open read transaction to copy from");
  }
  sqlite3* destination = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &destination,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  absl::Status status;
  if (rc != SQLITE_OK) {
    status = SqliteError(rc, destination, "open backup file " + path);
  } else {
    // The copy is read once and thrown away if anything fails, so it needs
    // neither a rollback journal nor syncs.
    rc = sqlite3_exec(destination,
                      "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF",
                      nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
      status = SqliteError(rc, destination, "configure backup file " + path);
    }
  }
  sqlite3_backup* backup =
      status.ok() ? sqlite3_backup_init(destination, "main", db_, "main")
                  : nullptr;
  if (status.ok() && backup == nullptr) {
    status = SqliteError(sqlite3_errcode(destination), destination,
                         "start backup to " + path);
  }
  while (status.ok()) {
    rc = sqlite3_backup_step(backup, pages_per_step);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_OK) {
      status = SqliteError(rc, destination, "backup step to " + path);
    } else if (!keep_going()) {
      status = absl::CancelledError("backup cancelled");
    }
  }
  if (backup != nullptr) {
    rc = sqlite3_backup_finish(backup);
    if (status.ok() && rc != SQLITE_OK) {
      status = SqliteError(rc, destination, "finish backup to " + path);
    }
  }
  rc = sqlite3_close_v2(destination);
  if (status.ok() && rc != SQLITE_OK) {
    status = SqliteError(rc, nullptr, "close backup file " + path);
  }
  return status;
}

}  // namespace ats::storage::sqlite
