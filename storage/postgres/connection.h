#ifndef ATS_STORAGE_POSTGRES_CONNECTION_H_
#define ATS_STORAGE_POSTGRES_CONNECTION_H_

// One libpq connection to PostgreSQL, and the results of its queries. Not
// thread-safe: a connection serves one thread at a time (see ConnectionPool).

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

struct pg_conn;
struct pg_result;

namespace ats::storage::postgres {

// Returns the canonical status for SQLSTATE `sqlstate` with `message`.
// Codes follow what the caller should do next, as for SQLite: a duplicate
// key is ALREADY_EXISTS; other broken constraints FAILED_PRECONDITION; a
// serialization failure or deadlock ABORTED (the transaction is worth
// running again, see IsRetryableConflict); a lost or refused connection, a
// server shutting down or out of connections UNAVAILABLE; a full disk
// RESOURCE_EXHAUSTED; anything else INTERNAL. Marked as a storage failure
// (storage/failure.h).
absl::Status PostgresError(absl::string_view sqlstate, absl::string_view message);

// Whether `status` came from a serialization failure or a deadlock: running
// the whole transaction again may succeed.
bool IsRetryableConflict(const absl::Status& status);

// A query parameter: text in PostgreSQL's input syntax, NULL, or bytes (for
// bytea, sent in binary form).
class Param {
 public:
  Param(std::nullopt_t) {}  // NULL.
  Param(absl::string_view text) : value_(text) {}
  Param(const char* text) : value_(absl::string_view(text)) {}
  Param(const std::string& text) : value_(absl::string_view(text)) {}
  Param(int64_t number);
  Param(int number) : Param(static_cast<int64_t>(number)) {}
  // Digits enough to read back the exact same double.
  Param(double number);
  Param(bool flag) : value_(flag ? "t" : "f") {}
  template <typename T>
  Param(const std::optional<T>& value) {
    if (value.has_value()) *this = Param(*value);
  }
  // Bytes for a bytea parameter.
  static Param Bytes(absl::string_view bytes);

  bool is_null() const { return !value_.has_value(); }
  bool is_binary() const { return binary_; }
  const std::string& value() const { return *value_; }

 private:
  std::optional<std::string> value_;
  bool binary_ = false;
};

// The rows a query returned, read by row and column number; values arrive in
// text form.
class Result {
 public:
  explicit Result(pg_result* result);
  Result(Result&&) noexcept;
  Result& operator=(Result&&) noexcept;
  ~Result();

  int rows() const;
  int columns() const;
  bool IsNull(int row, int column) const;
  // The value as text; "" for NULL.
  absl::string_view Text(int row, int column) const;
  // The value of an integer, numeric, floating point or boolean column read
  // as SQLite reads numbers as integers: fractions truncated, out-of-range
  // values saturated, true 1, false, NULL and non-numbers 0.
  int64_t Int64(int row, int column) const;
  // The value of a numeric or boolean column; 0 for NULL and non-numbers.
  double Double(int row, int column) const;
  bool Bool(int row, int column) const;
  // A bytea column, decoded; any other column's text as it is.
  std::string Bytes(int row, int column) const;
  // Rows an INSERT, UPDATE or DELETE touched (rows returned, for a SELECT).
  int64_t affected_rows() const;
  // Whether the statement was an INSERT, UPDATE, DELETE or MERGE, so that
  // affected_rows() counts rows it changed.
  bool is_write() const;

 private:
  pg_result* result_;
};

class Connection {
 public:
  // Connects to the libpq URI or keyword string `uri`, waiting at most
  // `connect_timeout`; UNAVAILABLE when the server cannot be reached or
  // refuses the connection.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(
      const std::string& uri, absl::Duration connect_timeout);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs `sql`, which may hold several statements and takes no parameters.
  absl::Status Exec(absl::string_view sql);

  // Runs the one statement `sql` with `params` as $1, $2, ...; the statement
  // is prepared on first use and reused after.
  absl::StatusOr<Result> Query(const std::string& sql,
                               std::initializer_list<Param> params = {});
  absl::StatusOr<Result> Query(const std::string& sql,
                               const std::vector<Param>& params);

  // Waits up to `timeout` for notifications of the channels this connection
  // LISTENs to (see Exec) and returns how many arrived; UNAVAILABLE when the
  // connection is lost.
  absl::StatusOr<int> AwaitNotifications(absl::Duration timeout);

  // Whether the connection is still usable; a broken one is dropped by its
  // pool instead of being handed out again.
  bool healthy() const;

 private:
  explicit Connection(pg_conn* conn) : conn_(conn) {}
  absl::StatusOr<Result> Check(pg_result* result, absl::string_view context);

  pg_conn* conn_;
  // Names of the statements prepared on this connection, by SQL text.
  absl::flat_hash_map<std::string, std::string> prepared_;
};

}  // namespace ats::storage::postgres

#endif  // ATS_STORAGE_POSTGRES_CONNECTION_H_
