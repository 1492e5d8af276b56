#include "client/errors.h"

#include <iostream>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "server/contract/errors.h"

namespace ats::client {

const char kExitCodesHelp[] =
    "Exit codes: 0 ok; 1 other error; 2 usage (bad command line, or input "
    "the server rejected as invalid); 3 not found; 4 no key, unauthenticated "
    "or permission denied; 5 conflict (already exists, stale etag, wrong "
    "state); 6 server unavailable or too slow; 7 an event --wait followed "
    "will not be delivered (dead, canceled, skipped); 8 --wait ran out of "
    "--timeout.";

void Check(const grpc::Status& status) {
  if (!status.ok()) throw RpcError(status);
}

grpc::Status WaitingOutRateLimits(const std::function<grpc::Status()>& call) {
  constexpr int kMaxWaits = 20;
  grpc::Status status = call();
  for (int waits = 0; waits < kMaxWaits &&
                      status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
       ++waits) {
    const std::optional<absl::Duration> delay =
        server::RetryDelayOf(server::FromGrpcStatus(status));
    if (!delay.has_value()) break;
    absl::SleepFor(*delay);
    status = call();
  }
  return status;
}

ExitCode ExitCodeFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return kExitOk;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return kExitUsage;
    case grpc::StatusCode::NOT_FOUND:
      return kExitNotFound;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return kExitPermission;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::FAILED_PRECONDITION:
      return kExitConflict;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return kExitUnavailable;
    default:
      return kExitOther;
  }
}

ExitCode ReportRpcError(const grpc::Status& status) {
  // The server's rich details come back as an absl::Status with payloads.
  const absl::Status detailed = server::FromGrpcStatus(status);
  const std::vector<server::FieldViolation> violations =
      server::FieldViolationsOf(detailed);
  // The message of a request with bad fields already lists them all, on one
  // line; each is printed once, on a line of its own, instead.
  std::cerr << "error: " << absl::StatusCodeToString(detailed.code()) << ": "
            << (violations.empty() ? status.error_message()
                                   : std::string("invalid request"))
            << "\n";
  for (const server::FieldViolation& violation : violations) {
    std::cerr << "  " << violation.field << ": " << violation.description
              << "\n";
  }
  return ExitCodeFor(status.error_code());
}

}  // namespace ats::client
