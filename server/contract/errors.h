#ifndef ATS_SERVER_CONTRACT_ERRORS_H_
#define ATS_SERVER_CONTRACT_ERRORS_H_

// Rich errors for the RPC handlers. Handlers work with absl::Status; the
// details a client needs (which fields were wrong, a machine-readable reason)
// ride along as payloads keyed by their google.protobuf.Any type URL, and
// ToGrpcStatus turns them into the `grpc-status-details-bin` trailer that
// grpcurl, buf curl and the generated clients decode as google.rpc.Status.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/support/status.h"

namespace ats::server {

// The ErrorInfo domain of every error this service raises.
// (Character arrays rather than string_view: this Abseil build's
// absl::string_view is not std::string_view, and arrays convert to both.)
inline constexpr char kErrorDomain[] = "ats.v1";
// Payload type URLs, as google.protobuf.Any spells them.
inline constexpr char kBadRequestTypeUrl[] =
    "type.googleapis.com/google.rpc.BadRequest";
inline constexpr char kErrorInfoTypeUrl[] =
    "type.googleapis.com/google.rpc.ErrorInfo";
inline constexpr char kRetryInfoTypeUrl[] =
    "type.googleapis.com/google.rpc.RetryInfo";

// One bad field of a request: `field` is its path in the request
// ("job.title", "update_mask"), `description` says what a valid value is.
struct FieldViolation {
  std::string field;
  std::string description;

  friend bool operator==(const FieldViolation& a, const FieldViolation& b) {
    return a.field == b.field && a.description == b.description;
  }
};

// The machine-readable part of an error: an UPPER_SNAKE `reason` unique in
// `domain`, plus facts about this occurrence.
struct ErrorInfo {
  std::string reason;
  std::string domain;
  std::map<std::string, std::string> metadata;
};

// Returns INVALID_ARGUMENT whose message lists every violation ("invalid
// request: job.title: must be 1 to 200 characters; page_size: must not be
// negative") and which carries them as a google.rpc.BadRequest payload.
absl::Status InvalidArgument(std::vector<FieldViolation> violations);

// Returns `status` with a google.rpc.ErrorInfo payload of domain "ats.v1",
// `reason` (UPPER_SNAKE, e.g. "ETAG_MISMATCH") and `metadata`; an OK status
// is returned unchanged since OK carries no payloads.
absl::Status WithErrorInfo(absl::Status status, std::string reason,
                           std::map<std::string, std::string> metadata = {});

// Returns `status` with a google.rpc.RetryInfo payload telling the client to
// wait `retry_delay` (rounded up to whole milliseconds) before calling
// again; an OK status is returned unchanged.
absl::Status WithRetryInfo(absl::Status status, absl::Duration retry_delay);

// Returns `status` as a log line shows it: code and message, without its
// payloads (markers and error details meant for clients, not operators).
inline std::string LogText(const absl::Status& status) {
  return status.ToString(absl::StatusToStringMode::kWithNoExtraData);
}

// Returns the gRPC status with the code and message of `status`; when
// `status` has payloads, its binary error details are a serialized
// google.rpc.Status listing each payload as a google.protobuf.Any.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Returns the absl::Status that ToGrpcStatus would map to `status`: same code
// and message, payloads restored from the error details (undecodable details
// are ignored, since a client cannot do better than the code and message).
absl::Status FromGrpcStatus(const grpc::Status& status);

// Returns the field violations of the BadRequest payload of `status`, or
// none when it carries no (decodable) BadRequest.
std::vector<FieldViolation> FieldViolationsOf(const absl::Status& status);

// Returns the ErrorInfo payload of `status`, or nullopt when it has none.
std::optional<ErrorInfo> ErrorInfoOf(const absl::Status& status);

// Returns the retry delay of the RetryInfo payload of `status`, or nullopt
// when it has none.
std::optional<absl::Duration> RetryDelayOf(const absl::Status& status);

}  // namespace ats::server

#endif  // ATS_SERVER_CONTRACT_ERRORS_H_
