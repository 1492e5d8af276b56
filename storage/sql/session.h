#ifndef ATS_STORAGE_SQL_SESSION_H_
#define ATS_STORAGE_SQL_SESSION_H_

// The few operations the repositories need from a SQL database, so that one
// implementation of each repository serves every backend (storage/sqlite/,
// storage/postgres/). A backend adapts its own connection to them.
//
// The SQL the repositories write is the subset SQLite and PostgreSQL share:
// parameters are numbered `?1`, `?2`... (a PostgreSQL session rewrites them
// to `$1`...), and `INDEXED BY name` hints are for SQLite's planner only (a
// PostgreSQL session drops them). Where the dialects truly differ, a
// repository asks Session::dialect().

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ats::storage::sql {

class ConfigCache;

enum class Dialect { kSqlite, kPostgres };

// One prepared SQL statement, owned and cached by its Session. Values always
// go through Bind; SQL text never carries user data.
//
// Bind calls return *this so they chain; a failed bind (or a failed prepare)
// is remembered and returned by the next Step() or Run(), so callers check
// one status per execution instead of one per parameter.
//
// Not thread-safe: it belongs to its Session's single user.
class Statement {
 public:
  virtual ~Statement() = default;

  // Binds `value` to the 1-based parameter `index`.
  virtual Statement& Bind(int index, int64_t value) = 0;
  // Binds `value` to the 1-based parameter `index` as an integer.
  Statement& Bind(int index, int value) {
    return Bind(index, static_cast<int64_t>(value));
  }
  // Binds `value` to the 1-based parameter `index`.
  virtual Statement& Bind(int index, double value) = 0;
  // Binds a copy of the UTF-8 text `value`; `value` may die right after.
  virtual Statement& Bind(int index, std::string_view value) = 0;
  Statement& Bind(int index, const std::string& value) {
    return Bind(index, std::string_view(value));
  }
  Statement& Bind(int index, const char* value) {
    return Bind(index, std::string_view(value));
  }
  // Binds SQL NULL to the 1-based parameter `index`.
  virtual Statement& BindNull(int index) = 0;
  // Binds a copy of the bytes `value` as a BLOB (bytea in PostgreSQL); empty
  // is a zero-length value, not NULL.
  virtual Statement& BindBlob(int index, std::string_view value) = 0;
  // Bind and BindBlob without the copy, for the hottest writes: `value` must
  // stay alive and unchanged while the statement may still step with it,
  // that is until Prepare hands the statement out again.
  virtual Statement& BindBorrowed(int index, std::string_view value) {
    return Bind(index, value);
  }
  virtual Statement& BindBlobBorrowed(int index, std::string_view value) {
    return BindBlob(index, value);
  }
  // Binds `*value`, or NULL when `value` is empty.
  template <typename T>
  Statement& Bind(int index, const std::optional<T>& value) {
    if (!value.has_value()) return BindNull(index);
    return Bind(index, *value);
  }

  // Advances to the next row: true when a row is ready to read, false when
  // the statement has finished (it is then reset, keeping its bindings, so
  // stepping again re-runs it).
  virtual absl::StatusOr<bool> Step() = 0;

  // Steps to completion, discarding any rows; for INSERT, UPDATE, DDL...
  virtual absl::Status Run() = 0;

  // Returns column `column` (0-based) of the current row; NULL reads as 0.
  virtual int64_t ColumnInt64(int column) const = 0;
  // Returns column `column` of the current row; NULL reads as 0.0.
  virtual double ColumnDouble(int column) const = 0;
  // Returns column `column` of the current row as text; NULL reads as "".
  virtual std::string ColumnText(int column) const = 0;
  // Returns the bytes of column `column` of the current row; NULL reads as
  // "". Valid until the statement steps or is reset.
  virtual std::string_view ColumnBlob(int column) const = 0;
  // Returns whether column `column` of the current row is NULL.
  virtual bool ColumnIsNull(int column) const = 0;

  // Returns the SQL text this statement was prepared from.
  virtual const std::string& sql() const = 0;
};

// One connection's worth of SQL, inside the transaction its owner opened.
// Not thread-safe.
class Session {
 public:
  virtual ~Session() = default;

  // Returns the cached statement for `sql`, reset and with no bindings,
  // preparing it on first use. `sql` must be fixed text (values go through
  // Bind) so the cache stays small. The reference stays valid for the
  // session's life; asking for the same SQL again resets it, so two
  // interleaved uses of one SQL text must not overlap. A prepare error is
  // returned by the statement's first Step() or Run().
  virtual Statement& Prepare(const char* sql) = 0;

  // Returns the number of rows changed by the latest INSERT, UPDATE or
  // DELETE.
  virtual int64_t changes() const = 0;

  virtual Dialect dialect() const = 0;

  // Returns the rows this session keeps between transactions (see
  // ConfigCache), or nullptr when it keeps none.
  virtual ConfigCache* config_cache() { return nullptr; }

  // Notes that the transaction makes events due for delivery, so that a
  // backend shared by several servers can tell the others' dispatchers once
  // it commits. Does nothing unless the backend needs it.
  virtual void NoteEventsDue() {}
};

}  // namespace ats::storage::sql

#endif  // ATS_STORAGE_SQL_SESSION_H_
