#ifndef ATS_SERVER_SERVER_H_
#define ATS_SERVER_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ats/v1/job_service.grpc.pb.h"
#include "ats/v1/template_service.grpc.pb.h"
#include "grpcpp/server.h"
#include "server/api/account_service.h"
#include "server/api/health_service.h"
#include "server/api/integration_service.h"
#include "server/api/job_service.h"
#include "server/api/operations_service.h"
#include "server/api/rate_limiter.h"
#include "server/api/rpc_metrics.h"
#include "server/api/template_service.h"
#include "server/delivery/connector.h"
#include "server/delivery/dispatcher.h"
#include "server/delivery/http_connector.h"
#include "server/delivery/trigger_form_fetcher.h"
#include "server/engine/bulk_operations.h"
#include "server/metrics_endpoint.h"
#include "server/request_log_janitor.h"
#include "server/server_metrics.h"

namespace ats::server {

struct ServerOptions {
  // host:port to listen on; port 0 picks a free one (see AtsServer::port).
  std::string listen_address = "127.0.0.1:50051";
  // PEM files; both set serves TLS, both empty serves plaintext.
  std::string tls_cert_path;
  std::string tls_key_path;
  // Largest request or response message accepted.
  int max_message_bytes = 4 * 1024 * 1024;
  // How long Shutdown waits for calls in flight before cancelling them.
  absl::Duration shutdown_grace = absl::Seconds(10);
  // Whether to deliver events to partners (the Dispatcher). Off by default
  // so that in-process tests decide; ats-server turns it on (--dispatch).
  bool dispatch = false;
  // How the dispatcher claims, limits and retries deliveries.
  DispatcherOptions dispatcher;
  // Timeouts and limits of the HTTP deliveries (their destinations are
  // `destinations`, whatever `delivery.destinations` says).
  HttpConnectorOptions delivery;
  // Where webhooks may go: public addresses, plus these networks. Checked
  // when a partner or webhook URL is saved and again when the HttpConnector
  // connects (--allowed_destination_networks).
  DestinationPolicy destinations;
  // Delivers instead of an HttpConnector when set (a test's fake partner);
  // must outlive the server.
  Connector* connector = nullptr;
  // How long a partner's trigger form, once fetched, serves the triggers of
  // its stage without asking again (--trigger_form_cache_ttl); zero keeps
  // none.
  absl::Duration trigger_form_cache_ttl = absl::Seconds(60);
  // How the bulk worker batches bulk manual triggers.
  BulkRunnerOptions bulk;
  // Limits per API key and per client address. Off by default, like
  // `dispatch`: an in-process test's FakeClock would never refill a bucket,
  // so the tests of limits turn them on; ats-server sets them from its
  // flags.
  RateLimitOptions limits;
  // host:port to serve Prometheus metrics on over HTTP (GET /metrics; port
  // 0 picks a free one, see AtsServer::metrics_port); empty serves none and
  // counts nothing.
  std::string metrics_listen_address;
  // Where the metrics are kept, for one server (which registers its RPC and
  // delivery families in it); required with metrics_listen_address, and
  // must outlive the server. The store should report to it
  // (ServerMetrics::StoreObserver), or the event and commit metrics stay 0.
  ServerMetrics* metrics = nullptr;
};

// Returns OK when `options` can be served: a TLS certificate and key given
// together and readable, a listen address of the form host:port (or
// unix:path), a metrics address of the form host:port (with metrics to
// serve) or none, positive sizes, valid limits and dispatcher options.
// Writes nothing, so that a start with bad flags leaves no trace.
absl::Status ValidateServerOptions(const ServerOptions& options);

// The gRPC server: every ats.v1 service, the health service and server
// reflection, on one async (callback API) server.
class AtsServer {
 public:
  // Starts serving; `store`, `clock` and `random` must outlive the server.
  static absl::StatusOr<std::unique_ptr<AtsServer>> Start(
      const ServerOptions& options, storage::Store& store, const Clock& clock,
      RandomSource& random);

  AtsServer(const AtsServer&) = delete;
  AtsServer& operator=(const AtsServer&) = delete;
  ~AtsServer();

  // Returns the port actually bound.
  int port() const { return port_; }

  // Returns the port the metrics are served on, or 0 when they are not.
  int metrics_port() const {
    return metrics_endpoint_ == nullptr ? 0 : metrics_endpoint_->port();
  }

  // Reports NOT_SERVING, stops accepting calls, lets calls in flight finish
  // within the grace period and cancels the rest, then stops the dispatcher
  // (see Dispatcher::Stop), and last the metrics. The bulk worker stops
  // first, after its batch under way: its operations resume at the next
  // start. Idempotent.
  void Shutdown();

 private:
  AtsServer(ServerOptions options, MethodPolicies methods,
            storage::Store& store, const Clock& clock, RandomSource& random);

  const ServerOptions options_;
  // Declared before the services, whose ServiceEnv wakes the dispatcher, and
  // the connectors before the dispatcher that uses them.
  std::unique_ptr<Connector> owned_connector_;
  std::unique_ptr<Connector> metered_connector_;
  std::unique_ptr<Dispatcher> dispatcher_;
  // Asks partners' config endpoints for their trigger forms.
  std::unique_ptr<Connector> form_connector_;
  std::unique_ptr<TriggerFormFetcher> trigger_forms_;
  Authenticator auth_;
  const MethodPolicies methods_;
  ServiceEnv env_;
  BulkRunner bulk_;
  HealthService health_;
  AccountService accounts_;
  IntegrationService integrations_;
  JobService jobs_;
  TemplateService templates_;
  OperationsService operations_;
  RequestLogJanitor janitor_;
  // Before the gRPC server, whose interceptors use it.
  std::unique_ptr<RpcMetrics> rpc_metrics_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  // Last: its scrapes read the dispatcher, the authenticator and the store.
  std::unique_ptr<MetricsEndpoint> metrics_endpoint_;
  bool shut_down_ = false;
};

}  // namespace ats::server

#endif  // ATS_SERVER_SERVER_H_
