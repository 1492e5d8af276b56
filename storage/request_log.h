#ifndef ATS_STORAGE_REQUEST_LOG_H_
#define ATS_STORAGE_REQUEST_LOG_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ats::storage {

// A mutating call's outcome, kept so that a retry with the same request_id
// returns it instead of acting twice.
struct LoggedRequest {
  // Empty for operator calls, which belong to no account.
  std::string account_id;
  // Full gRPC method name.
  std::string method;
  std::string request_id;
  // Fingerprint of the request, to refuse a reused request_id on a different
  // request.
  std::string request_hash;
  // The serialized response.
  std::string response;
  absl::Time create_time;
};

// Remembers completed mutating requests for idempotent retries.
class RequestLog {
 public:
  virtual ~RequestLog() = default;

  // Returns the logged request for this key, if any.
  virtual absl::StatusOr<std::optional<LoggedRequest>> Find(
      std::string_view account_id, std::string_view method,
      std::string_view request_id) = 0;
  // Logs a completed request, replacing an expired entry with the same key.
  virtual absl::Status Insert(const LoggedRequest& request) = 0;
  // Forgets requests logged before `cutoff`; returns how many.
  virtual absl::StatusOr<int64_t> DeleteOlderThan(absl::Time cutoff) = 0;
};

}  // namespace ats::storage

#endif  // ATS_STORAGE_REQUEST_LOG_H_
