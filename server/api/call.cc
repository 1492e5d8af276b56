#include "server/api/call.h"

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

Finish::Finish(grpc::ServerUnaryReactor* reactor, std::string method,
               absl::Time start)
    : state_(std::make_shared<State>(
          State{reactor, std::move(method), start, "", ""})) {}

void Finish::set_caller(const Caller& caller) {
  state_->account_id = caller.account_id;
  state_->key_id = caller.key_id;
}

void Finish::operator()(const absl::Status& outcome) const {
  const absl::Status status = ForClient(outcome, state_->method);
  const double latency_ms =
      absl::ToDoubleMilliseconds(absl::Now() - state_->start);
  // One line per call; messages are ours and never carry secrets.
  if (status.ok()) {
    spdlog::info("rpc {} code=OK latency_ms={:.3f} account={} key={}",
                 state_->method, latency_ms, state_->account_id,
                 state_->key_id);
  } else {
    spdlog::info("rpc {} code={} latency_ms={:.3f} account={} key={} error=\"{}\"",
                 state_->method, absl::StatusCodeToString(status.code()),
                 latency_ms, state_->account_id, state_->key_id,
                 std::string(status.message()));
  }
  state_->reactor->Finish(ToGrpcStatus(status));
}

grpc::ServerUnaryReactor* ServeUnary(
    ServiceEnv& env, grpc::CallbackServerContext* context,
    std::string_view method, const Roles& roles,
    const std::function<void(const Caller&, const Finish&)>& handler) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Finish finish(reactor, std::string(method), absl::Now());
  absl::StatusOr<Caller> caller = env.auth.Authenticate(*context, roles);
  if (!caller.ok()) {
    finish(caller.status());
    return reactor;
  }
  finish.set_caller(*caller);
  handler(*caller, finish);
  return reactor;
}

}  // namespace ats::server
