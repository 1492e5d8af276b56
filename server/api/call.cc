#include "server/api/call.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/api/idempotency.h"
#include "server/common/logging.h"
#include "server/contract/errors.h"
#include "spdlog/spdlog.h"
#include "storage/failure.h"

namespace ats::server {

absl::Status ForClient(const absl::Status& status, std::string_view method) {
  if (!storage::IsStorageFailure(status)) return status;
  const std::string detail(status.message());
  if (absl::IsUnavailable(status)) {
    spdlog::warn("rpc {}: storage failure: {}", method, detail);
  } else {
    spdlog::error("rpc {}: storage failure: {}", method, detail);
  }
  return storage::WithoutStorageDetail(status);
}

const std::string& MethodName(const MethodPolicy* policy,
                              const google::protobuf::Message& request) {
  return policy == nullptr ? request.GetDescriptor()->full_name()
                           : policy->name;
}

absl::StatusOr<Caller> Admit(const ServiceEnv& env,
                             const grpc::ServerContextBase& context,
                             const google::protobuf::Message& request,
                             const MethodPolicy* policy) {
  // The policies are checked at start for every served RPC, so this is a
  // handler serving a request type no RPC takes.
  if (policy == nullptr) {
    return absl::InternalError(
        absl::StrCat("no RPC takes ", request.GetDescriptor()->full_name()));
  }
  return env.auth.Authenticate(context, policy->roles);
}

UnaryCall::UnaryCall(const ServiceEnv& env,
                     grpc::CallbackServerContext* context,
                     const google::protobuf::Message& request,
                     google::protobuf::Message* response) {
  const MethodPolicy* policy = env.methods.ForRequest(*request.GetDescriptor());
  state_ = std::make_shared<State>(State{
      env, context->DefaultReactor(), policy, &MethodName(policy, request),
      request, response, absl::Now(), absl::OkStatus(), Caller()});
  absl::StatusOr<Caller> caller = Admit(env, *context, request, policy);
  if (caller.ok()) {
    state_->caller = *std::move(caller);
  } else {
    state_->admission = caller.status();
  }
}

storage::WriteScope WriteScopeOf(const Caller& caller) {
  if (caller.account_id.empty()) return storage::WriteScope::WholeDeployment();
  return storage::WriteScope::Account(caller.account_id);
}

CallLog CallLogOf(const std::string& method, const absl::Status& status,
                  absl::Time start, const Caller& caller) {
  CallLog log;
  log.method = method;
  log.code = status.code();
  log.error = status.message();
  log.latency = absl::Now() - start;
  log.account = caller.account_id;
  log.key = caller.key_id;
  return log;
}

grpc::ServerUnaryReactor* UnaryCall::Finish(const absl::Status& outcome) const {
  const absl::Status status = ForClient(outcome, *state_->method);
  LogCall(CallLogOf(*state_->method, status, state_->start, state_->caller));
  state_->reactor->Finish(ToGrpcStatus(status));
  return state_->reactor;
}

grpc::ServerUnaryReactor* UnaryCall::Read(
    const std::function<absl::Status(storage::Transaction& txn)>& read) const {
  return Finish(state_->env.store.Read(read));
}

grpc::ServerUnaryReactor* UnaryCall::Write(WriteFn write,
                                           AfterCommitFn after_commit,
                                           RedactFn redact) const {
  if (state_->policy->read_only) {
    return Finish(absl::InternalError(absl::StrCat(
        *state_->method, " is declared NO_SIDE_EFFECTS but writes")));
  }
  UnaryCall call = *this;
  const std::string request_id = RequestId();
  grpc::ServerUnaryReactor* reactor = state_->reactor;
  state_->env.store.Write(
      WriteScopeOf(state_->caller),
      [call, request_id, write = std::move(write),
       redact = std::move(redact)](storage::Transaction& txn) {
        const State& state = *call.state_;
        // A run again after a conflict answers afresh.
        state.response->Clear();
        const absl::Time now = state.env.clock.Now();
        if (!state.policy->idempotent_by_request_id) return write(txn, now);
        return RunOnce(
            txn, state.caller, *state.method, request_id, state.request,
            state.response, now, [&] { return write(txn, now); }, redact);
      },
      [call, after_commit = std::move(after_commit)](absl::Status status) {
        if (status.ok() && after_commit) after_commit();
        call.Finish(status);
      });
  return reactor;
}

std::string UnaryCall::RequestId() const {
  if (!state_->policy->idempotent_by_request_id) return "";
  const google::protobuf::Message& request = state_->request;
  const google::protobuf::FieldDescriptor* field =
      request.GetDescriptor()->FindFieldByName("request_id");
  return request.GetReflection()->GetString(request, field);
}

}  // namespace ats::server
