#ifndef ATS_STORAGE_SQLITE_REQUEST_LOG_H_
#define ATS_STORAGE_SQLITE_REQUEST_LOG_H_

#include "storage/request_log.h"
#include "storage/sqlite/connection.h"

namespace ats::storage::sqlite {

// RequestLog on one SQLite connection, inside its open transaction.
class SqliteRequestLog final : public RequestLog {
 public:
  explicit SqliteRequestLog(Connection& db) : db_(db) {}

  absl::StatusOr<std::optional<LoggedRequest>> Find(
      std::string_view account_id, std::string_view method,
      std::string_view request_id) override;
  absl::Status Insert(const LoggedRequest& request) override;
  absl::StatusOr<int64_t> DeleteOlderThan(absl::Time cutoff) override;

 private:
  Connection& db_;
};

}  // namespace ats::storage::sqlite

#endif  // ATS_STORAGE_SQLITE_REQUEST_LOG_H_
