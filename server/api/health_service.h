#ifndef ATS_SERVER_API_HEALTH_SERVICE_H_
#define ATS_SERVER_API_HEALTH_SERVICE_H_

#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace ats::server {

// grpc.health.v1.Health generated from grpc's own health.proto, so that
// reflection clients can describe it (the built-in one cannot be). The
// overall service ("") and every ats.v1 service share one status: SERVING
// while the server runs, NOT_SERVING once shutdown starts.
class HealthService final : public grpc::health::v1::Health::CallbackService {
 public:
  using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

  HealthService();
  ~HealthService() override;

  // Sets the status every Check answers and pushes it to every Watch.
  void SetServing(bool serving);

  grpc::ServerUnaryReactor* Check(
      grpc::CallbackServerContext* context,
      const grpc::health::v1::HealthCheckRequest* request,
      grpc::health::v1::HealthCheckResponse* response) override;

  grpc::ServerWriteReactor<grpc::health::v1::HealthCheckResponse>* Watch(
      grpc::CallbackServerContext* context,
      const grpc::health::v1::HealthCheckRequest* request) override;

 private:
  class Watcher;

  // Returns whether `service` is one this server reports on.
  static bool Known(const std::string& service);

  void Unregister(Watcher* watcher);

  absl::Mutex mu_;
  ServingStatus status_ ABSL_GUARDED_BY(mu_);
  std::set<Watcher*> watchers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ats::server

#endif  // ATS_SERVER_API_HEALTH_SERVICE_H_
