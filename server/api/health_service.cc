#include "server/api/health_service.h"

#include "absl/strings/str_cat.h"

namespace ats::server {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// One Watch stream: sends the current status, then every change, until the
// client cancels or the server shuts down.
class HealthService::Watcher final
    : public grpc::ServerWriteReactor<HealthCheckResponse> {
 public:
  Watcher(HealthService* service, ServingStatus status) : service_(service) {
    Send(status);
  }

  // Queues `status` for the client; writes happen one at a time.
  void Send(ServingStatus status) {
    absl::MutexLock lock(&mu_);
    pending_ = status;
    has_pending_ = true;
    if (!writing_) WriteLocked();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      if (!finished_) {
        finished_ = true;
        Finish(grpc::Status::CANCELLED);
      }
      return;
    }
    if (has_pending_) WriteLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    if (!finished_) {
      finished_ = true;
      Finish(grpc::Status::CANCELLED);
    }
  }

  void OnDone() override {
    service_->Unregister(this);
    delete this;
  }

 private:
  void WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    response_.set_status(pending_);
    has_pending_ = false;
    writing_ = true;
    StartWrite(&response_);
  }

  HealthService* const service_;
  absl::Mutex mu_;
  HealthCheckResponse response_ ABSL_GUARDED_BY(mu_);
  ServingStatus pending_ ABSL_GUARDED_BY(mu_) = HealthCheckResponse::UNKNOWN;
  bool has_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

HealthService::HealthService() : status_(HealthCheckResponse::SERVING) {}

HealthService::~HealthService() = default;

bool HealthService::Known(const std::string& service) {
  return service.empty() || service == "ats.v1.JobService" ||
         service == "ats.v1.TemplateService" ||
         service == "ats.v1.IntegrationService" ||
         service == "ats.v1.AccountService" ||
         service == "ats.v1.OperationsService";
}

void HealthService::SetServing(bool serving) {
  absl::MutexLock lock(&mu_);
  status_ = serving ? HealthCheckResponse::SERVING
                    : HealthCheckResponse::NOT_SERVING;
  for (Watcher* watcher : watchers_) watcher->Send(status_);
}

grpc::ServerUnaryReactor* HealthService::Check(
    grpc::CallbackServerContext* context, const HealthCheckRequest* request,
    HealthCheckResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!Known(request->service())) {
    reactor->Finish(grpc::Status(
        grpc::StatusCode::NOT_FOUND,
        absl::StrCat("unknown service '", request->service(), "'")));
    return reactor;
  }
  {
    absl::MutexLock lock(&mu_);
    response->set_status(status_);
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<HealthCheckResponse>* HealthService::Watch(
    grpc::CallbackServerContext* /*context*/,
    const HealthCheckRequest* request) {
  absl::MutexLock lock(&mu_);
  // Per the health protocol, an unknown service is reported, not refused;
  // its status never changes, so it gets no updates.
  if (!Known(request->service())) {
    return new Watcher(this, HealthCheckResponse::SERVICE_UNKNOWN);
  }
  Watcher* watcher = new Watcher(this, status_);
  watchers_.insert(watcher);
  return watcher;
}

void HealthService::Unregister(Watcher* watcher) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(watcher);
}

}  // namespace ats::server
