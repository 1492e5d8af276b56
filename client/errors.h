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
  // An event that --wait followed will never be delivered: it is DEAD (or
  // CANCELED, or SKIPPED when it was created).
  kExitNotDelivered = 7,
  // --wait gave up: --timeout passed before every event was delivered.
  kExitWaitTimedOut = 8,
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

// Thrown by a command that fails for a reason of its own rather than an
// RPC's; main prints "error: <what>" and exits with `code`.
class CommandError : public std::runtime_error {
 public:
  CommandError(ExitCode code, const std::string& what)
      : std::runtime_error(what), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

// Arguments wrong in a way CLI11 cannot check (e.g. two selections at once).
class UsageError : public CommandError {
 public:
  explicit UsageError(const std::string& what)
      : CommandError(kExitUsage, what) {}
};

// No API key to call with; exits as the server's UNAUTHENTICATED would
// (kExitPermission), since what is missing is the key, not a word of the
// command line.
class NoKeyError : public CommandError {
 public:
  explicit NoKeyError(const std::string& what)
      : CommandError(kExitPermission, what) {}
};

// A local file cannot be written as a command needs (kExitOther).
class FileError : public CommandError {
 public:
  explicit FileError(const std::string& what)
      : CommandError(kExitOther, what) {}
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
