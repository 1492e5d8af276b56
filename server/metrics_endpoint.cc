#include "server/metrics_endpoint.h"

#include <httplib.h>
#include <pthread.h>
#include <sys/socket.h>

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ats::server {

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& host, int port, metrics::Registry& registry,
    std::function<void()> refresh) {
  auto http = std::make_unique<httplib::Server>();
  // One worker, and one request per connection so that a scraper keeping
  // its connection open never holds the worker from another.
  http->new_task_queue = [] { return new httplib::ThreadPool(1); };
  http->set_keep_alive_max_count(1);
  // SO_REUSEADDR alone, so that a restart binds at once: httplib's default
  // adds SO_REUSEPORT, which would let a second server bind the same port
  // and take some of the scrapes.
  http->set_socket_options([](socket_t sock) {
    const int on = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  });
  http->Get("/metrics", [&registry, refresh = std::move(refresh)](
                            const httplib::Request&, httplib::Response& res) {
    refresh();
    res.set_content(registry.Expose(), metrics::kExpositionContentType);
  });
  const int bound = port == 0 ? http->bind_to_any_port(host)
                              : (http->bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", host, ":", port,
                     " (address in use or invalid?)"));
  }
  std::unique_ptr<MetricsEndpoint> endpoint(
      new MetricsEndpoint(std::move(http), bound));
  MetricsEndpoint* started = endpoint.get();
  endpoint->thread_ = std::thread([started] {
    pthread_setname_np(pthread_self(), "metrics-http");
    started->http_->listen_after_bind();
    started->listening_ended_ = true;
  });
  // httplib's stop() does nothing to a server not yet running: wait until
  // it runs (at once), so that Stop works however soon it is called.
  while (!started->http_->is_running() && !started->listening_ended_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return endpoint;
}

MetricsEndpoint::MetricsEndpoint(std::unique_ptr<httplib::Server> http,
                                 int port)
    : http_(std::move(http)), port_(port) {}

MetricsEndpoint::~MetricsEndpoint() { Stop(); }

void MetricsEndpoint::Stop() {
  http_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace ats::server
