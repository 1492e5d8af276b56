#ifndef ATS_SERVER_API_CALL_H_
#define ATS_SERVER_API_CALL_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "server/api/auth.h"
#include "server/api/method_policy.h"
#include "server/common/clock.h"
#include "server/common/destination_guard.h"
#include "server/common/logging.h"
#include "server/common/random.h"
#include "server/domain/trigger_form.h"
#include "storage/store.h"

namespace ats::server {

// What every service handler works with. Owned by the server; outlives every
// call.
struct ServiceEnv {
  storage::Store& store;
  Authenticator& auth;
  // Who may call each RPC, and whether it reads, as the protos declare.
  const MethodPolicies& methods;
  const Clock& clock;
  RandomSource& random;
  // Where webhooks may go, checked when a URL is saved.
  const DestinationPolicy& destinations;
  // Called after a committed write that created events (from the write's
  // done callback, so it must be quick and never block): wakes the
  // dispatcher so they go out at once instead of at its next poll. May be
  // empty (no dispatcher).
  std::function<void()> events_created;
  // Fetches partners' trigger forms (Partner.trigger_form_uri); null in a
  // server that fetches none, whose calls needing one are UNAVAILABLE.
  TriggerFormSource* trigger_forms = nullptr;

  // Calls events_created if set.
  void NotifyEventsCreated() const {
    if (events_created) events_created();
  }
};

// Returns what a client of `method` sees of `status`: `status` itself, or,
// for a storage failure (whose message quotes SQL and engine codes), the same
// code with a message that says what to do ("storage is full; retry later").
// The failure is logged in full: at warn when retrying is likely to help
// (lock contention), else at error.
absl::Status ForClient(const absl::Status& status, std::string_view method);

// The scope of the writes of a call by `caller`: its account, or for an
// operator, whose calls may change any account's rows and the partner
// listings, the whole deployment.
storage::WriteScope WriteScopeOf(const Caller& caller);

// The log line of a call of `method` by `caller` that started at `start` and
// ended with `status` (as the client sees it); a streaming call adds its own
// fields before LogCall. It refers to its arguments, which must outlive it.
CallLog CallLogOf(const std::string& method, const absl::Status& status,
                  absl::Time start, const Caller& caller);

// Returns the name of the RPC whose policy is `policy`, or the full name of
// `request`'s type when no RPC takes it (`policy` null), for log lines; both
// outlive the call.
const std::string& MethodName(const MethodPolicy* policy,
                              const google::protobuf::Message& request);

// Returns the caller of the RPC whose policy is `policy` (as
// env.methods.ForRequest found it for `request`), if its key is valid,
// within its rate limit, and of a role the RPC's (ats.v1.access) option
// admits (see Authenticator::Authenticate for the errors otherwise).
absl::StatusOr<Caller> Admit(const ServiceEnv& env,
                             const grpc::ServerContextBase& context,
                             const google::protobuf::Message& request,
                             const MethodPolicy* policy);

// One unary call being served, from admitting its caller to its single
// Finish. Handlers read top to bottom, like gRPC's route_guide:
//
//   grpc::ServerUnaryReactor* JobService::GetJob(
//       grpc::CallbackServerContext* context,
//       const ats::v1::GetJobRequest* request, ats::v1::Job* response) {
//     UnaryCall call(env_, context, *request, response);
//     if (!call.admitted()) return call.Finish(call.admission());
//     ... validate `request`; on violations return call.Finish(...) ...
//     return call.Read([&](storage::Transaction& txn) { ... });
//   }
//
// The RPC is the one whose request type `request` has, so no handler names
// its method or its roles: both come from the protos (MethodPolicies).
// Copies share the call.
class UnaryCall {
 public:
  // Work inside one write transaction, at the clock's time when it runs.
  using WriteFn =
      std::function<absl::Status(storage::Transaction& txn, absl::Time now)>;
  // Removes from a response what a replay must not show again (a secret
  // shown once).
  using RedactFn = std::function<void(google::protobuf::Message* response)>;
  // Runs once a write has committed, on the store's reporting thread and
  // before the caller hears back: must be quick and must not block.
  using AfterCommitFn = std::function<void()>;

  // Starts serving `request`, whose answer goes to `response`: admits the
  // caller (see Admit) and starts the clock for the call's log line.
  UnaryCall(const ServiceEnv& env, grpc::CallbackServerContext* context,
            const google::protobuf::Message& request,
            google::protobuf::Message* response);

  // OK when the caller is admitted, else why not.
  const absl::Status& admission() const { return state_->admission; }
  bool admitted() const { return state_->admission.ok(); }

  // The admitted caller.
  const Caller& caller() const { return state_->caller; }

  // The RPC, e.g. "ats.v1.JobService/GetJob".
  const std::string& method() const { return *state_->method; }

  // Finishes the call with `status` (storage details replaced, see
  // ForClient), writes its log line, and returns its reactor.
  grpc::ServerUnaryReactor* Finish(const absl::Status& status) const;

  // Returns the call's reactor without finishing the call, for a handler
  // whose work goes on on another thread, which finishes it later (Finish,
  // Read or Write).
  grpc::ServerUnaryReactor* Pending() const { return state_->reactor; }

  // Runs `read` on a consistent snapshot and finishes with its outcome.
  grpc::ServerUnaryReactor* Read(
      const std::function<absl::Status(storage::Transaction& txn)>& read) const;

  // Runs `write` as one store write and finishes once it is durable or
  // rolled back, calling `after_commit` (when set) first if it committed.
  // For an RPC declared IDEMPOTENT, `write` runs at most once per
  // request_id: a retry gets the first response back, minus what `redact`
  // removed before it was logged (RunOnce). An RPC declared NO_SIDE_EFFECTS
  // may not write: INTERNAL.
  grpc::ServerUnaryReactor* Write(WriteFn write,
                                  AfterCommitFn after_commit = nullptr,
                                  RedactFn redact = nullptr) const;

 private:
  struct State {
    const ServiceEnv& env;
    grpc::ServerUnaryReactor* reactor;
    const MethodPolicy* policy;
    // The policy's name, or the request type's when no RPC takes it; both
    // outlive the call.
    const std::string* method;
    const google::protobuf::Message& request;
    google::protobuf::Message* response;
    absl::Time start;
    absl::Status admission;
    Caller caller;
  };

  // The request_id of the call's request, or "" when its RPC has none.
  std::string RequestId() const;

  std::shared_ptr<State> state_;
};

}  // namespace ats::server

#endif  // ATS_SERVER_API_CALL_H_
