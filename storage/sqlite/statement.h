#ifndef ATS_STORAGE_SQLITE_STATEMENT_H_
#define ATS_STORAGE_SQLITE_STATEMENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/sql/session.h"

struct sqlite3;
struct sqlite3_stmt;

namespace ats::storage::sqlite {

// One prepared SQLite statement, owned and cached by a Connection (get it
// with Connection::Prepare); see sql::Statement for the contract.
class Statement final : public sql::Statement {
 public:
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() override;

  using sql::Statement::Bind;
  Statement& Bind(int index, int64_t value) override;
  Statement& Bind(int index, double value) override;
  Statement& Bind(int index, std::string_view value) override;
  Statement& BindNull(int index) override;
  Statement& BindBlob(int index, std::string_view value) override;
  Statement& BindBorrowed(int index, std::string_view value) override;
  Statement& BindBlobBorrowed(int index, std::string_view value) override;

  absl::StatusOr<bool> Step() override;
  absl::Status Run() override;

  int64_t ColumnInt64(int column) const override;
  double ColumnDouble(int column) const override;
  std::string ColumnText(int column) const override;
  // The bytes are SQLite's own: valid until the statement steps or is reset.
  std::string_view ColumnBlob(int column) const override;
  bool ColumnIsNull(int column) const override;

  // Returns the SQL text this statement was prepared from.
  const std::string& sql() const override { return sql_; }

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
  // Binds text or (`blob`) bytes, copied by SQLite when `destructor` is
  // SQLITE_TRANSIENT, referenced when it is SQLITE_STATIC.
  Statement& BindBytes(int index, std::string_view value, bool blob,
                       void (*destructor)(void*));

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
