#ifndef ATS_STORAGE_SQLITE_STATEMENT_H_
#define ATS_STORAGE_SQLITE_STATEMENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct sqlite3;
struct sqlite3_stmt;

namespace ats::storage::sqlite {

// One prepared SQL statement, owned and cached by a Connection (get it with
// Connection::Prepare). Values always go through Bind; SQL text never carries
// user data.
//
// Bind calls return *this so they chain; a failed bind (or a failed prepare)
// is remembered and returned by the next Step() or Run(), so callers check
// one status per execution instead of one per parameter.
//
// Not thread-safe: it belongs to its Connection's single user.
class Statement {
 public:
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binds `value` to the 1-based parameter `index`.
  Statement& Bind(int index, int64_t value);
  // Binds `value` to the 1-based parameter `index` as an integer.
  Statement& Bind(int index, int value);
  // Binds `value` to the 1-based parameter `index`.
  Statement& Bind(int index, double value);
  // Binds a copy of the UTF-8 text `value`; `value` may die right after.
  Statement& Bind(int index, std::string_view value);
  // Binds SQL NULL to the 1-based parameter `index`.
  Statement& BindNull(int index);
  // Binds a copy of the bytes `value` as a BLOB (empty is a zero-length
  // BLOB, not NULL).
  Statement& BindBlob(int index, std::string_view value);
  // Binds `*value`, or NULL when `value` is empty.
  template <typename T>
  Statement& Bind(int index, const std::optional<T>& value) {
    if (!value.has_value()) return BindNull(index);
    return Bind(index, *value);
  }

  // Advances to the next row: true when a row is ready to read, false when
  // the statement has finished (it is then reset, keeping its bindings, so
  // stepping again re-runs it).
  absl::StatusOr<bool> Step();

  // Steps to completion, discarding any rows; for INSERT, UPDATE, DDL...
  absl::Status Run();

  // Returns column `column` (0-based) of the current row; NULL reads as 0.
  int64_t ColumnInt64(int column) const;
  // Returns column `column` of the current row; NULL reads as 0.0.
  double ColumnDouble(int column) const;
  // Returns column `column` of the current row as text; NULL reads as "".
  std::string ColumnText(int column) const;
  // Returns the bytes of column `column` of the current row; NULL reads as "".
  // They are SQLite's own: valid until the statement steps or is reset.
  std::string_view ColumnBlob(int column) const;
  // Returns whether column `column` of the current row is NULL.
  bool ColumnIsNull(int column) const;

  // Returns the SQL text this statement was prepared from.
  const std::string& sql() const { return sql_; }

 private:
  friend class Connection;

  Statement(sqlite3* db, std::string sql);

  // Compiles sql_ if it is not compiled yet; the outcome is also remembered
  // in status_.
  void PrepareIfNeeded();
  // Makes the statement ready for a new user: no cursor, no bindings, no
  // remembered bind error.
  void ResetForReuse();
  // Drops the cursor (so no read lock is held) but keeps bindings.
  void ResetCursor();
  void RememberBindError(int rc, int index);

  sqlite3* const db_;
  const std::string sql_;
  sqlite3_stmt* stmt_ = nullptr;
  absl::Status status_;
  // Whether the owning Connection lists this statement as possibly
  // mid-step; saves it from tracking every cached statement.
  bool handed_out_ = false;
};

}  // namespace ats::storage::sqlite

#endif  // ATS_STORAGE_SQLITE_STATEMENT_H_
