// How ats-admin fails: what it prints and the exit code a script can test.
#ifndef ATS_CLIENT_ERRORS_H_
#define ATS_CLIENT_ERRORS_H_

#include <functional>
#include <stdexcept>
#include <string>

#include "grpcpp/support/status.h"

namespace ats::client {

// Exit codes, documented in the README and in `ats-admin --help`.
enum ExitCode : int {
  kExitOk = 0,
  // Anything not below (an internal server error, a limit reached...).
  kExitOther = 1,
  // The command line is wrong, or the server found the input invalid
  // (INVALID_ARGUMENT, OUT_OF_RANGE).
  kExitUsage = 2,
  // NOT_FOUND: no such resource in the caller's account.
  kExitNotFound = 3,
  // UNAUTHENTICATED or PERMISSION_DENIED: no key, no valid key, or the
  // wrong role.
  kExitPermission = 4,
  // ALREADY_EXISTS, ABORTED (stale etag) or FAILED_PRECONDITION (wrong
  // state): fix the state, or read again, before retrying.
  kExitConflict = 5,
  // UNAVAILABLE or DEADLINE_EXCEEDED: the server could not be reached or did
  // not answer in time; retrying later may work.
  kExitUnavailable = 6,
};

// The help text listing the exit codes.
extern const char kExitCodesHelp[];

// Thrown by a command when an RPC fails; main prints it and exits.
class RpcError : public std::runtime_error {
 public:
  explicit RpcError(grpc::Status status)
      : std::runtime_error(status.error_message()),
        status_(std::move(status)) {}
  const grpc::Status& status() const { return status_; }

 private:
  grpc::Status status_;
};

// Thrown by a command whose arguments are wrong in a way CLI11 cannot check
// (e.g. two selections at once); main prints it and exits with kExitUsage.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown when no API key can be found to call with; exits as the server's
// UNAUTHENTICATED would (kExitPermission), since what is missing is the
// key, not a word of the command line.
class NoKeyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown when a local file cannot be written as a command needs; main
// prints it and exits with kExitOther.
class FileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws RpcError when `status` is not OK.
void Check(const grpc::Status& status);

// Returns the outcome of `call`, made again after the wait the server asks
// for each time it answers RESOURCE_EXHAUSTED with a google.rpc.RetryInfo
// (a rate limit: the server ran nothing, so repeating is safe), up to 20
// times. `call` must make a fresh ClientContext each time.
grpc::Status WaitingOutRateLimits(const std::function<grpc::Status()>& call);

// The exit code for a failed RPC's status code.
ExitCode ExitCodeFor(grpc::StatusCode code);

// Writes "error: <code>: <message>" and then one line per field violation of
// the status's google.rpc.BadRequest detail to stderr; returns ExitCodeFor.
ExitCode ReportRpcError(const grpc::Status& status);

}  // namespace ats::client

#endif  // ATS_CLIENT_ERRORS_H_
