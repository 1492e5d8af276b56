#ifndef ATS_SERVER_API_IDEMPOTENCY_H_
#define ATS_SERVER_API_IDEMPOTENCY_H_

#include <functional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "server/domain/caller.h"
#include "storage/store.h"

namespace ats::server {

// How long a request_id is remembered; documented on every request_id field.
inline constexpr absl::Duration kRequestIdRetention = absl::Hours(24);

// Runs `work` inside the write transaction `txn` at most once per
// (caller's account, `method`, `request_id`): a retry of a completed request
// fills `response` from the log instead (minus what `redact` removed before
// logging, e.g. a secret shown once). Reusing a request_id for a different
// request is INVALID_ARGUMENT. An empty `request_id` just runs `work`.
absl::Status RunOnce(storage::Transaction& txn, const Caller& caller,
                     std::string_view method, std::string_view request_id,
                     const google::protobuf::Message& request,
                     google::protobuf::Message* response, absl::Time now,
                     const std::function<absl::Status()>& work,
                     const std::function<void(google::protobuf::Message*)>&
                         redact = nullptr);

}  // namespace ats::server

#endif  // ATS_SERVER_API_IDEMPOTENCY_H_
