#include "storage/sqlite/statement.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/sqlite/errors.h"

namespace ats::storage::sqlite {

Statement::Statement(sqlite3* db, std::string sql)
    : db_(db), sql_(std::move(sql)) {}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::PrepareIfNeeded() {
  if (stmt_ != nullptr) return;
  const char* tail = nullptr;
  // PERSISTENT: cached statements live as long as the connection.
  const int rc =
      sqlite3_prepare_v3(db_, sql_.data(), static_cast<int>(sql_.size()),
                         SQLITE_PREPARE_PERSISTENT, &stmt_, &tail);
  if (rc != SQLITE_OK) {
    status_ = SqliteError(rc, db_, "prepare `" + AbbreviateSql(sql_) + "`");
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
    return;
  }
  if (stmt_ == nullptr) {
    status_ = absl::InternalError(
        absl::StrCat("prepare `", AbbreviateSql(sql_), "`: no SQL statement"));
    return;
  }
  // Anything after the first statement would be silently ignored by SQLite.
  for (; tail != nullptr && *tail != '\0'; ++tail) {
    if (*tail != ' ' && *tail != '\n' && *tail != '\t' && *tail != '\r' &&
        *tail != ';') {
      status_ = absl::InternalError(absl::StrCat(
          "prepare `", AbbreviateSql(sql_), "`: more than one SQL statement"));
      sqlite3_finalize(stmt_);
      stmt_ = nullptr;
      return;
    }
  }
  status_ = absl::OkStatus();
}

void Statement::ResetForReuse() {
  if (stmt_ == nullptr) {
    // A failed prepare is retried: the schema may have changed since.
    PrepareIfNeeded();
    return;
  }
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  status_ = absl::OkStatus();
}

void Statement::ResetCursor() {
  if (stmt_ != nullptr) sqlite3_reset(stmt_);
}

void Statement::RememberBindError(int rc, int index) {
  if (rc == SQLITE_OK || !status_.ok()) return;
  status_ = SqliteError(rc, db_,
                        absl::StrCat("bind parameter ", index, " of `",
                                     AbbreviateSql(sql_), "`"));
}

Statement& Statement::Bind(int index, int64_t value) {
  if (stmt_ != nullptr) {
    RememberBindError(sqlite3_bind_int64(stmt_, index, value), index);
  }
  return *this;
}

Statement& Statement::Bind(int index, double value) {
  if (stmt_ != nullptr) {
    RememberBindError(sqlite3_bind_double(stmt_, index, value), index);
  }
  return *this;
}

Statement& Statement::Bind(int index, std::string_view value) {
  return BindBytes(index, value, /*blob=*/false, SQLITE_TRANSIENT);
}

Statement& Statement::BindNull(int index) {
  if (stmt_ != nullptr) {
    RememberBindError(sqlite3_bind_null(stmt_, index), index);
  }
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view value) {
  return BindBytes(index, value, /*blob=*/true, SQLITE_TRANSIENT);
}

Statement& Statement::BindBorrowed(int index, std::string_view value) {
  return BindBytes(index, value, /*blob=*/false, SQLITE_STATIC);
}

Statement& Statement::BindBlobBorrowed(int index, std::string_view value) {
  return BindBytes(index, value, /*blob=*/true, SQLITE_STATIC);
}

Statement& Statement::BindBytes(int index, std::string_view value, bool blob,
                                void (*destructor)(void*)) {
  if (stmt_ == nullptr) return *this;
  int rc;
  if (blob) {
    // sqlite3_bind_blob with a null pointer binds NULL, which an empty
    // string_view may carry.
    rc = value.empty() ? sqlite3_bind_zeroblob(stmt_, index, 0)
                       : sqlite3_bind_blob64(stmt_, index, value.data(),
                                             value.size(), destructor);
  } else {
    // SQLite binds NULL for a null pointer, but an empty view is empty text.
    const char* text = value.data() != nullptr ? value.data() : "";
    rc = sqlite3_bind_text64(stmt_, index, text, value.size(), destructor,
                             SQLITE_UTF8);
  }
  RememberBindError(rc, index);
  return *this;
}

absl::StatusOr<bool> Statement::Step() {
  if (!status_.ok()) return status_;
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) {
    sqlite3_reset(stmt_);
    return false;
  }
  // Build the status before reset, which may replace the error message.
  absl::Status error =
      SqliteError(rc, db_, "step `" + AbbreviateSql(sql_) + "`");
  sqlite3_reset(stmt_);
  return error;
}

absl::Status Statement::Run() {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

int64_t Statement::ColumnInt64(int column) const {
  if (stmt_ == nullptr) return 0;
  return sqlite3_column_int64(stmt_, column);
}

double Statement::ColumnDouble(int column) const {
  if (stmt_ == nullptr) return 0.0;
  return sqlite3_column_double(stmt_, column);
}

std::string Statement::ColumnText(int column) const {
  if (stmt_ == nullptr) return std::string();
  // Fetch the pointer before the size: sqlite3_column_bytes after
  // sqlite3_column_text reports the size of the converted text.
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return std::string();
  const int size = sqlite3_column_bytes(stmt_, column);
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(size));
}

std::string_view Statement::ColumnBlob(int column) const {
  if (stmt_ == nullptr) return std::string_view();
  const void* data = sqlite3_column_blob(stmt_, column);
  if (data == nullptr) return std::string_view();
  const int size = sqlite3_column_bytes(stmt_, column);
  return std::string_view(static_cast<const char*>(data),
                          static_cast<size_t>(size));
}

bool Statement::ColumnIsNull(int column) const {
  if (stmt_ == nullptr) return true;
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

}  // namespace ats::storage::sqlite
