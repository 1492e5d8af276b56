#include "storage/sql/request_log.h"

#include "storage/sql/values.h"

namespace ats::storage::sql {

absl::StatusOr<std::optional<LoggedRequest>> SqlRequestLog::Find(
    std::string_view account_id, std::string_view method,
    std::string_view request_id) {
  Statement& stmt = db_.Prepare(
      "SELECT request_hash, response, create_time FROM request_log "
      "WHERE account_id = ?1 AND method = ?2 AND request_id = ?3");
  stmt.Bind(1, account_id).Bind(2, method).Bind(3, request_id);
  absl::StatusOr<bool> row = stmt.Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::nullopt;
  return LoggedRequest{std::string(account_id),
                       std::string(method),
                       std::string(request_id),
                       std::string(stmt.ColumnBlob(0)),
                       std::string(stmt.ColumnBlob(1)),
                       FromMicros(stmt.ColumnInt64(2))};
}

absl::Status SqlRequestLog::Insert(const LoggedRequest& request) {
  return db_
      .Prepare("INSERT INTO request_log (account_id, method, request_id, "
               "request_hash, response, create_time) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
               "ON CONFLICT (account_id, method, request_id) DO UPDATE SET "
               "request_hash = excluded.request_hash, "
               "response = excluded.response, "
               "create_time = excluded.create_time")
      .Bind(1, request.account_id)
      .Bind(2, request.method)
      .Bind(3, request.request_id)
      .BindBlob(4, request.request_hash)
      .BindBlob(5, request.response)
      .Bind(6, ToMicros(request.create_time))
      .Run();
}

absl::StatusOr<int64_t> SqlRequestLog::DeleteOlderThan(absl::Time cutoff) {
  absl::Status status =
      db_.Prepare("DELETE FROM request_log WHERE create_time < ?1")
          .Bind(1, ToMicros(cutoff))
          .Run();
  if (!status.ok()) return status;
  return db_.changes();
}

}  // namespace ats::storage::sql
