#include "server/api/rpc_metrics.h"

#include <chrono>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"

namespace ats::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

// gRPC's codes are 0 (OK) to 16 (UNAUTHENTICATED).
constexpr int kCodes = 17;

// From half a millisecond (a health check) to ten seconds (a bulk trigger
// under load); slower calls, and streams, land in +Inf.
const std::vector<double>& DurationBuckets() {
  static const std::vector<double> buckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return buckets;
}

// Times one call from the moment the server takes it to its status, and
// records it then, or, for a call that ends without one, when it goes.
class RpcMetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  RpcMetricsInterceptor(RpcMetrics& metrics, RpcMetrics::Method& method)
      : metrics_(metrics),
        method_(method),
        start_(std::chrono::steady_clock::now()) {}

  ~RpcMetricsInterceptor() override {
    if (!recorded_) Record(grpc::StatusCode::CANCELLED);
  }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (!recorded_ && methods->QueryInterceptionHookPoint(
                          InterceptionHookPoints::PRE_SEND_STATUS)) {
      Record(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Record(grpc::StatusCode code) {
    recorded_ = true;
    const std::chrono::duration<double> elapsed =
        std::chrono::steady_clock::now() - start_;
    metrics_.Record(method_, code, elapsed.count());
  }

  RpcMetrics& metrics_;
  RpcMetrics::Method& method_;
  const std::chrono::steady_clock::time_point start_;
  bool recorded_ = false;
};

class RpcMetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RpcMetricsInterceptorFactory(RpcMetrics& metrics)
      : metrics_(metrics) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RpcMetricsInterceptor(metrics_,
                                     metrics_.ForPath(info->method()));
  }

 private:
  RpcMetrics& metrics_;
};

}  // namespace

struct RpcMetrics::Method {
  std::string label;
  // By code, null until the method first ends with it; `durations[c]` is
  // set before `calls[c]`, so whoever sees `calls[c]` set sees both.
  std::array<std::atomic<metrics::Counter*>, kCodes> calls{};
  std::array<std::atomic<metrics::Histogram*>, kCodes> durations{};
};

RpcMetrics::RpcMetrics(metrics::Registry& registry)
    : calls_(registry.AddCounter(
          "ats_rpc_calls_total",
          "RPCs answered, by full method name and gRPC status code.",
          {"method", "code"})),
      durations_(registry.AddHistogram(
          "ats_rpc_duration_seconds",
          "Time from taking an RPC to sending its status (a stream's whole "
          "life), by method and code.",
          {"method", "code"}, DurationBuckets())),
      unknown_(NewMethod("unknown")) {}

RpcMetrics::~RpcMetrics() = default;

absl::StatusOr<std::unique_ptr<RpcMetrics>> RpcMetrics::Create(
    metrics::Registry& registry, const std::vector<std::string>& services) {
  std::unique_ptr<RpcMetrics> rpc(new RpcMetrics(registry));
  for (const std::string& name : services) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            name);
    if (service == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("service ", name, " is not in the descriptor pool"));
    }
    for (int i = 0; i < service->method_count(); ++i) {
      const std::string label =
          absl::StrCat(name, "/", service->method(i)->name());
      rpc->methods_.emplace(absl::StrCat("/", label), rpc->NewMethod(label));
    }
  }
  return rpc;
}

std::unique_ptr<RpcMetrics::Method> RpcMetrics::NewMethod(
    std::string label) const {
  auto method = std::make_unique<Method>();
  method->label = std::move(label);
  return method;
}

RpcMetrics::Method& RpcMetrics::ForPath(const char* path) {
  auto it = methods_.find(absl::string_view(path == nullptr ? "" : path));
  return it == methods_.end() ? *unknown_ : *it->second;
}

void RpcMetrics::Record(Method& method, grpc::StatusCode code, double seconds) {
  const int index =
      code >= 0 && code < kCodes ? code : grpc::StatusCode::UNKNOWN;
  metrics::Counter* calls = method.calls[index].load(std::memory_order_acquire);
  if (calls == nullptr) {
    // Threads racing here find the same series.
    const std::vector<std::string> labels = {
        method.label,
        absl::StatusCodeToString(static_cast<absl::StatusCode>(index))};
    method.durations[index].store(&durations_.With(labels),
                                  std::memory_order_release);
    calls = &calls_.With(labels);
    method.calls[index].store(calls, std::memory_order_release);
  }
  calls->Increment();
  method.durations[index].load(std::memory_order_acquire)->Observe(seconds);
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
RpcMetrics::InterceptorFactory() {
  return std::make_unique<RpcMetricsInterceptorFactory>(*this);
}

}  // namespace ats::server
