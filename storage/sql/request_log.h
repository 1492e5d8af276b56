#ifndef ATS_STORAGE_SQL_REQUEST_LOG_H_
#define ATS_STORAGE_SQL_REQUEST_LOG_H_

#include "storage/request_log.h"
#include "storage/sql/session.h"

namespace ats::storage::sql {

// RequestLog on one SQL session, inside its open transaction.
class SqlRequestLog final : public RequestLog {
 public:
  explicit SqlRequestLog(Session& db) : db_(db) {}

  absl::StatusOr<std::optional<LoggedRequest>> Find(
      std::string_view account_id, std::string_view method,
      std::string_view request_id) override;
  absl::Status Insert(const LoggedRequest& request) override;
  absl::StatusOr<int64_t> DeleteOlderThan(absl::Time cutoff) override;

 private:
  Session& db_;
};

}  // namespace ats::storage::sql

#endif  // ATS_STORAGE_SQL_REQUEST_LOG_H_
