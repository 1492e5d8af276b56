#ifndef ATS_SERVER_API_CALL_H_
#define ATS_SERVER_API_CALL_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "server/api/auth.h"
#include "server/common/clock.h"
#include "server/common/destination_guard.h"
#include "server/common/random.h"
#include "storage/store.h"

namespace ats::server {

// What every service handler works with. Owned by the server; outlives every
// call.
struct ServiceEnv {
  storage::Store& store;
  Authenticator& auth;
  const Clock& clock;
  RandomSource& random;
  // Where webhooks may go, checked when a URL is saved.
  const DestinationPolicy& destinations;
  // Called after a committed write that created events (from the write's
  // done callback, so it must be quick and never block): wakes the
  // dispatcher so they go out at once instead of at its next poll. May be
  // empty (no dispatcher).
  std::function<void()> events_created;

  // Calls events_created if set.
  void NotifyEventsCreated() const {
    if (events_created) events_created();
  }
};

// Finishes one unary call: converts the outcome to a gRPC status with rich
// error details and writes the call's log line. Copyable; must be invoked
// exactly once, from any thread.
class Finish {
 public:
  Finish(grpc::ServerUnaryReactor* reactor, std::string method,
         absl::Time start);

  // Records the caller for the log line.
  void set_caller(const Caller& caller);

  void operator()(const absl::Status& status) const;

 private:
  struct State {
    grpc::ServerUnaryReactor* reactor;
    std::string method;
    absl::Time start;
    std::string account_id;
    std::string key_id;
  };
  std::shared_ptr<State> state_;
};

// Returns what a client of `method` sees of `status`: `status` itself, or,
// for a storage failure (whose message quotes SQL and engine codes), the same
// code with a message that says what to do ("storage is full; retry later").
// The failure is logged in full: at warn when retrying is likely to help
// (lock contention), else at error.
absl::Status ForClient(const absl::Status& status, std::string_view method);

// Serves one unary call: authenticates the caller against `roles`, then runs
// `handler`, which must eventually invoke the Finish it is given (directly
// after a quick read, or as the `done` of a store write). `method` is the
// full method name, e.g. "ats.v1.JobService/CreateJob".
grpc::ServerUnaryReactor* ServeUnary(
    ServiceEnv& env, grpc::CallbackServerContext* context,
    std::string_view method, const Roles& roles,
    const std::function<void(const Caller&, const Finish&)>& handler);

}  // namespace ats::server

#endif  // ATS_SERVER_API_CALL_H_
