#ifndef ATS_SERVER_API_RPC_METRICS_H_
#define ATS_SERVER_API_RPC_METRICS_H_

// Every RPC the server answers, counted and timed by method and status code
// by a server interceptor: calls refused before any handler runs (a bad
// key, a rate limit, a request that does not parse) are counted like the
// rest.
//
//   ats_rpc_calls_total{method, code}       counter
//   ats_rpc_duration_seconds{method, code}  histogram
//
// `method` is the RPC's full name ("ats.v1.JobService/GetJob"), one of the
// served services' methods, so the label is bounded by the protos; a path
// the server does not serve counts as method="unknown". `code` is the gRPC
// status code's name ("OK", "NOT_FOUND", ...). A call that ends without a
// status (the client went away first) counts as CANCELLED. For a streaming
// RPC the duration is the stream's whole life.

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "grpcpp/support/server_interceptor.h"
#include "grpcpp/support/status.h"
#include "server/common/metrics/registry.h"

namespace ats::server {

class RpcMetrics {
 public:
  // The series of one method, made on its first call with each code.
  struct Method;

  // Registers the RPC families in `registry` (which must outlive this) for
  // the methods of `services` (full names, e.g. "ats.v1.JobService");
  // NOT_FOUND when one is not in the generated descriptor pool.
  static absl::StatusOr<std::unique_ptr<RpcMetrics>> Create(
      metrics::Registry& registry, const std::vector<std::string>& services);

  RpcMetrics(const RpcMetrics&) = delete;
  RpcMetrics& operator=(const RpcMetrics&) = delete;
  ~RpcMetrics();

  // Returns the series of `path` ("/ats.v1.JobService/GetJob"), or the
  // unknown method's. No lock: the methods are fixed at creation.
  Method& ForPath(const char* path);

  // Counts one call of `method` that ended with `code` after `seconds`.
  // Lock-free once `method` has been called with `code`.
  void Record(Method& method, grpc::StatusCode code, double seconds);

  // Returns the interceptor factory that calls Record for every call; it
  // uses this object, which must outlive the server it is given to.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
  InterceptorFactory();

 private:
  explicit RpcMetrics(metrics::Registry& registry);

  // Returns a new method labelled `label`.
  std::unique_ptr<Method> NewMethod(std::string label) const;

  metrics::Family<metrics::Counter>& calls_;
  metrics::Family<metrics::Histogram>& durations_;
  // By path; fixed once created.
  absl::flat_hash_map<std::string, std::unique_ptr<Method>> methods_;
  std::unique_ptr<Method> unknown_;
};

}  // namespace ats::server

#endif  // ATS_SERVER_API_RPC_METRICS_H_
