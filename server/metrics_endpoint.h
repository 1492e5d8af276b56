#ifndef ATS_SERVER_METRICS_ENDPOINT_H_
#define ATS_SERVER_METRICS_ENDPOINT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "server/common/metrics/registry.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace ats::server {

// Serves Prometheus scrapes over HTTP (cpp-httplib) on a thread of its own:
// GET /metrics answers the text exposition format; other paths are 404.
// Scrapes are served one at a time, one per connection.
class MetricsEndpoint {
 public:
  // Listens on `host` (a name, an IPv4 address or an IPv6 one without
  // brackets) and `port` (0 picks a free one); for each scrape runs
  // `refresh`, then answers `registry`'s text. UNAVAILABLE when it cannot
  // listen. `registry` and what `refresh` uses must outlive the endpoint.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& host, int port, metrics::Registry& registry,
      std::function<void()> refresh);

  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // Stops (see Stop).
  ~MetricsEndpoint();

  // Returns the port actually bound.
  int port() const { return port_; }

  // Stops listening, finishes the scrape under way and joins the thread.
  // Idempotent.
  void Stop();

 private:
  MetricsEndpoint(std::unique_ptr<httplib::Server> http, int port);

  const std::unique_ptr<httplib::Server> http_;
  const int port_;
  std::thread thread_;
  // Set when the thread's listening loop has returned.
  std::atomic<bool> listening_ended_{false};
};

}  // namespace ats::server

#endif  // ATS_SERVER_METRICS_ENDPOINT_H_
