#include "storage/postgres/connection.h"

#include <spdlog/spdlog.h>

#include <libpq-fe.h>

#include <poll.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "storage/failure.h"

namespace ats::storage::postgres {
namespace {

// Marks a status as a retryable conflict: the payload survives the wrapping
// that callers add to the message.
constexpr char kRetryablePayload[] = "ats.storage/retryable-conflict";

absl::StatusCode CodeOf(absl::string_view sqlstate) {
  if (sqlstate == "23505") return absl::StatusCode::kAlreadyExists;
  if (absl::StartsWith(sqlstate, "23")) {
    return absl::StatusCode::kFailedPrecondition;
  }
  if (sqlstate == "40001" || sqlstate == "40P01") {
    return absl::StatusCode::kAborted;
  }
  // Connection exceptions, a server shutting down or in recovery, too many
  // connections, cannot connect now.
  if (absl::StartsWith(sqlstate, "08") || absl::StartsWith(sqlstate, "57P") ||
      sqlstate == "53300") {
    return absl::StatusCode::kUnavailable;
  }
  if (sqlstate == "53100") return absl::StatusCode::kResourceExhausted;
  return absl::StatusCode::kInternal;
}

// PostgreSQL's type OID for bytea (catalog/pg_type_d.h, a server header).
constexpr Oid kByteaOid = 17;

// A one-line message of libpq's, without its trailing newline.
std::string OneLine(const char* message) {
  std::string text = message == nullptr ? "" : message;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

// Where libpq's notices go instead of stderr: PostgreSQL's notes about
// statements that did nothing ("relation ... already exists, skipping")
// are for debugging, not for an operator's log.
void LogNotice(void*, const char* message) {
  spdlog::debug("postgres: {}", OneLine(message));
}

}  // namespace

absl::Status PostgresError(absl::string_view sqlstate,
                           absl::string_view message) {
  absl::Status status(CodeOf(sqlstate),
                      absl::StrCat(message, " (sqlstate ", sqlstate, ")"));
  if (status.code() == absl::StatusCode::kAborted) {
    status.SetPayload(kRetryablePayload, absl::Cord());
  }
  return MarkStorageFailure(std::move(status));
}

bool IsRetryableConflict(const absl::Status& status) {
  return status.GetPayload(kRetryablePayload).has_value();
}

Param::Param(int64_t number) : value_(absl::StrCat(number)) {}

Param::Param(double number) : value_(absl::StrFormat("%.17g", number)) {}

Param Param::Bytes(absl::string_view bytes) {
  Param param{bytes};
  param.binary_ = true;
  return param;
}

Result::Result(pg_result* result) : result_(result) {}
Result::Result(Result&& other) noexcept
    : result_(std::exchange(other.result_, nullptr)) {}
Result& Result::operator=(Result&& other) noexcept {
  if (this != &other) {
    PQclear(result_);
    result_ = std::exchange(other.result_, nullptr);
  }
  return *this;
}
Result::~Result() { PQclear(result_); }

int Result::rows() const { return PQntuples(result_); }

int Result::columns() const { return PQnfields(result_); }

bool Result::IsNull(int row, int column) const {
  return PQgetisnull(result_, row, column) == 1;
}

absl::string_view Result::Text(int row, int column) const {
  return absl::string_view(PQgetvalue(result_, row, column),
                          PQgetlength(result_, row, column));
}

int64_t Result::Int64(int row, int column) const {
  const absl::string_view text = Text(row, column);
  int64_t value = 0;
  if (absl::SimpleAtoi(text, &value)) return value;
  // PostgreSQL answers comparisons and EXISTS with a boolean where SQLite
  // answers 1 or 0.
  if (text == "t") return 1;
  double number = 0;
  if (!absl::SimpleAtod(text, &number) || std::isnan(number)) return 0;
  // 2^63, the first double past the largest int64.
  constexpr double kLimit = 9223372036854775808.0;
  if (number >= kLimit) return std::numeric_limits<int64_t>::max();
  if (number <= -kLimit) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(number);
}

double Result::Double(int row, int column) const {
  const absl::string_view text = Text(row, column);
  double value = 0;
  if (absl::SimpleAtod(text, &value)) return value;
  return text == "t" ? 1 : 0;
}

bool Result::Bool(int row, int column) const { return Text(row, column) == "t"; }

std::string Result::Bytes(int row, int column) const {
  if (PQftype(result_, column) != kByteaOid) {
    return std::string(Text(row, column));
  }
  size_t length = 0;
  unsigned char* bytes = PQunescapeBytea(
      reinterpret_cast<const unsigned char*>(PQgetvalue(result_, row, column)),
      &length);
  if (bytes == nullptr) return "";
  std::string decoded(reinterpret_cast<char*>(bytes), length);
  PQfreemem(bytes);
  return decoded;
}

int64_t Result::affected_rows() const {
  int64_t rows = 0;
  (void)absl::SimpleAtoi(PQcmdTuples(result_), &rows);
  return rows;
}

bool Result::is_write() const {
  const absl::string_view tag = PQcmdStatus(result_);
  return absl::StartsWith(tag, "INSERT ") || absl::StartsWith(tag, "UPDATE ") ||
         absl::StartsWith(tag, "DELETE ") || absl::StartsWith(tag, "MERGE ");
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(
    const std::string& uri, absl::Duration connect_timeout) {
  // connect_timeout rides along as a keyword beside the URI's own.
  const std::string timeout =
      absl::StrCat(std::max<int64_t>(2, absl::ToInt64Seconds(connect_timeout)));
  const char* keywords[] = {"dbname", "connect_timeout", nullptr};
  const char* values[] = {uri.c_str(), timeout.c_str(), nullptr};
  pg_conn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) {
    return absl::ResourceExhaustedError("libpq cannot allocate a connection");
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    absl::Status status = MarkStorageFailure(absl::UnavailableError(
        absl::StrCat("cannot connect to PostgreSQL: ",
                     OneLine(PQerrorMessage(conn)))));
    PQfinish(conn);
    return status;
  }
  PQsetNoticeProcessor(conn, LogNotice, nullptr);
  auto connection = std::unique_ptr<Connection>(new Connection(conn));
  // Times are integers (Unix microseconds) and text is UTF-8 everywhere;
  // say so rather than depend on the server's defaults.
  absl::Status status = connection->Exec(
      "SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'");
  if (!status.ok()) return status;
  return connection;
}

Connection::~Connection() { PQfinish(conn_); }

bool Connection::healthy() const { return PQstatus(conn_) == CONNECTION_OK; }

absl::StatusOr<Result> Connection::Check(pg_result* raw,
                                         absl::string_view context) {
  Result result(raw);
  const ExecStatusType status =
      raw == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(raw);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  // SQL with no statement in it is a mistake in the code, not a lost
  // connection.
  if (status == PGRES_EMPTY_QUERY) {
    return MarkStorageFailure(absl::InternalError(
        absl::StrCat("no SQL statement in `", context, "`")));
  }
  const char* sqlstate =
      raw == nullptr ? nullptr : PQresultErrorField(raw, PG_DIAG_SQLSTATE);
  const std::string message =
      absl::StrCat(context, ": ", OneLine(PQerrorMessage(conn_)));
  // No SQLSTATE: libpq itself failed, almost always a lost connection.
  if (sqlstate == nullptr || !healthy()) return PostgresError("08006", message);
  return PostgresError(sqlstate, message);
}

absl::StatusOr<int> Connection::AwaitNotifications(absl::Duration timeout) {
  const auto lost = [this] {
    return MarkStorageFailure(absl::UnavailableError(absl::StrCat(
        "lost the connection waiting for notifications: ",
        OneLine(PQerrorMessage(conn_)))));
  };
  // Takes the notifications libpq has read; returns how many.
  const auto take = [this] {
    int count = 0;
    for (PGnotify* notify; (notify = PQnotifies(conn_)) != nullptr; ++count) {
      PQfreemem(notify);
    }
    return count;
  };
  // Notifications that arrived with earlier results are already read.
  if (const int count = take(); count > 0) return count;
  pollfd socket{PQsocket(conn_), POLLIN, 0};
  if (socket.fd < 0) return lost();
  const int ready = ::poll(
      &socket, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (ready < 0 && errno != EINTR) return lost();
  if (ready > 0 && PQconsumeInput(conn_) == 0) return lost();
  return take();
}

absl::Status Connection::Exec(absl::string_view sql) {
  const std::string text(sql);
  return Check(PQexec(conn_, text.c_str()), text.substr(0, 60)).status();
}

absl::StatusOr<Result> Connection::Query(const std::string& sql,
                                         std::initializer_list<Param> params) {
  return Query(sql, std::vector<Param>(params));
}

absl::StatusOr<Result> Connection::Query(const std::string& sql,
                                         const std::vector<Param>& params) {
  const std::string context = sql.substr(0, 60);
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    const std::string name = absl::StrCat("ats_", prepared_.size());
    absl::StatusOr<Result> prepared = Check(
        PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr), context);
    if (!prepared.ok()) return prepared.status();
    it = prepared_.emplace(sql, name).first;
  }
  std::vector<const char*> values(params.size());
  std::vector<int> lengths(params.size());
  std::vector<int> formats(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].is_null()) continue;
    values[i] = params[i].value().data();
    lengths[i] = static_cast<int>(params[i].value().size());
    formats[i] = params[i].is_binary() ? 1 : 0;
  }
  return Check(PQexecPrepared(conn_, it->second.c_str(),
                              static_cast<int>(params.size()), values.data(),
                              lengths.data(), formats.data(),
                              /*resultFormat=*/0),
               context);
}

}  // namespace ats::storage::postgres
