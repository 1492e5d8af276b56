#include "server/server.h"

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "server/api/malformed_request.h"
#include "server/delivery/metered_connector.h"
#include "server/engine/result_report.h"

namespace ats::server {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read ", path));
  }
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// A host and port to listen on.
struct HostPort {
  // A name, an IPv4 address or an IPv6 one (without its brackets).
  std::string host;
  int port = 0;
};

// Returns the parts of "host:port" (host a name, an IPv4 address or a
// bracketed IPv6 one; port 0 to 65535), or nothing.
std::optional<HostPort> SplitHostPort(absl::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) return std::nullopt;
  absl::string_view host = address.substr(0, colon);
  int port = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return std::nullopt;
  }
  const bool bracketed = absl::StartsWith(host, "[") &&
                         absl::EndsWith(host, "]") && host.size() > 2;
  if (bracketed) host = host.substr(1, host.size() - 2);
  // An unbracketed IPv6 address would leave a colon in the host.
  if ((!bracketed && absl::StrContains(host, ":")) ||
      absl::StrContains(host, "[") || absl::StrContains(host, "]") ||
      absl::StrContains(host, " ")) {
    return std::nullopt;
  }
  return HostPort{std::string(host), port};
}

// Returns OK for "host:port" (see SplitHostPort) and "unix:path".
absl::Status ValidateListenAddress(const std::string& address) {
  const absl::Status invalid = absl::InvalidArgumentError(absl::StrCat(
      "--listen must be host:port (e.g. 127.0.0.1:50051, [::1]:50051, "
      "0.0.0.0:0) or unix:path, not \"", address, "\""));
  if (absl::StartsWith(address, "unix:")) {
    return address.size() > 5 ? absl::OkStatus() : invalid;
  }
  return SplitHostPort(address).has_value() ? absl::OkStatus() : invalid;
}

// Returns where to serve metrics, if anywhere (see
// ServerOptions::metrics_listen_address).
absl::StatusOr<std::optional<HostPort>> MetricsAddress(
    const ServerOptions& options) {
  const std::string& address = options.metrics_listen_address;
  if (address.empty()) return std::nullopt;
  std::optional<HostPort> host_port = SplitHostPort(address);
  if (!host_port.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics_listen must be host:port (e.g. 127.0.0.1:9464, "
                     "[::1]:9464), not \"",
                     address, "\""));
  }
  if (options.metrics == nullptr) {
    return absl::InvalidArgumentError(
        "serving metrics needs ServerOptions::metrics");
  }
  return host_port;
}

// The full names of the services the server registers, for RpcMetrics.
std::vector<std::string> ServedServices() {
  return {grpc::health::v1::Health::service_full_name(),
          ats::v1::AccountService::service_full_name(),
          ats::v1::IntegrationService::service_full_name(),
          ats::v1::JobService::service_full_name(),
          ats::v1::TemplateService::service_full_name(),
          ats::v1::OperationsService::service_full_name(),
          // Added by InitProtoReflectionServerBuilderPlugin.
          "grpc.reflection.v1alpha.ServerReflection"};
}

// Both or neither of the TLS files; the credentials built from them.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    const ServerOptions& options) {
  if (options.tls_cert_path.empty() && options.tls_key_path.empty()) {
    return grpc::InsecureServerCredentials();
  }
  if (options.tls_cert_path.empty() || options.tls_key_path.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs both --tls_cert and --tls_key");
  }
  absl::StatusOr<std::string> cert = ReadFile(options.tls_cert_path);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadFile(options.tls_key_path);
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back({*key, *cert});
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

absl::Status ValidateServerOptions(const ServerOptions& options) {
  absl::Status status = ValidateListenAddress(options.listen_address);
  if (!status.ok()) return status;
  status = MetricsAddress(options).status();
  if (!status.ok()) return status;
  status = Credentials(options).status();
  if (!status.ok()) return status;
  if (options.max_message_bytes < 1) {
    return absl::InvalidArgumentError("--max_message_bytes must be positive");
  }
  if (options.shutdown_grace < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--shutdown_grace must not be negative");
  }
  if (options.trigger_form_cache_ttl < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--trigger_form_cache_ttl must not be negative");
  }
  status = ValidateRateLimitOptions(options.limits);
  if (!status.ok()) return status;
  if (options.dispatch) return ValidateDispatcherOptions(options.dispatcher);
  return absl::OkStatus();
}

AtsServer::AtsServer(ServerOptions options, MethodPolicies methods,
                     storage::Store& store, const Clock& clock,
                     RandomSource& random)
    : options_(std::move(options)),
      form_connector_(std::make_unique<HttpConnector>(
          clock, TriggerFormConnectorOptions(options_.destinations))),
      trigger_forms_(std::make_unique<TriggerFormFetcher>(
          *form_connector_, clock, random, options_.trigger_form_cache_ttl)),
      auth_(store, options_.limits, clock),
      methods_(std::move(methods)),
      env_{store,
           auth_,
           methods_,
           clock,
           random,
           options_.destinations,
           [this] {
             if (dispatcher_ != nullptr) dispatcher_->Wake();
           },
           trigger_forms_.get()},
      bulk_(options_.bulk, store, clock, random,
            [this] { env_.NotifyEventsCreated(); }),
      accounts_(env_),
      integrations_(env_, bulk_),
      jobs_(env_),
      templates_(env_),
      operations_(env_, options_.max_message_bytes),
      janitor_(store, clock) {
  if (!options_.dispatch) return;
  Connector* connector = options_.connector;
  if (connector == nullptr) {
    HttpConnectorOptions delivery = options_.delivery;
    delivery.destinations = options_.destinations;
    owned_connector_ = std::make_unique<HttpConnector>(clock, delivery);
    connector = owned_connector_.get();
  }
  if (!options_.metrics_listen_address.empty()) {
    metered_connector_ = std::make_unique<MeteredConnector>(
        *connector, options_.metrics->registry());
    connector = metered_connector_.get();
  }
  DispatcherOptions dispatcher = options_.dispatcher;
  // Results in webhook answers are recorded as ReportPartnerResult records
  // them, moving rules included.
  dispatcher.record_result =
      [&random](storage::Transaction& txn, storage::EventRow& event,
                const ats::v1::PartnerResult& result, absl::Time now) {
        return RecordPartnerResult(txn, event, result, "result", now, random);
      };
  dispatcher_ = std::make_unique<Dispatcher>(dispatcher, store, *connector,
                                             clock, random);
}

absl::StatusOr<std::unique_ptr<AtsServer>> AtsServer::Start(
    const ServerOptions& options, storage::Store& store, const Clock& clock,
    RandomSource& random) {
  absl::Status valid = ValidateServerOptions(options);
  if (!valid.ok()) return valid;
  auto credentials = Credentials(options);
  if (!credentials.ok()) return credentials.status();
  // Who may call what is read from the protos once, here: a served RPC
  // without a valid declaration stops the start.
  absl::StatusOr<MethodPolicies> methods = MethodPolicies::FromGeneratedPool();
  if (!methods.ok()) return methods.status();
  absl::StatusOr<std::optional<HostPort>> metrics_address =
      MetricsAddress(options);
  if (!metrics_address.ok()) return metrics_address.status();
  std::unique_ptr<AtsServer> server(new AtsServer(
      options, *std::move(methods), store, clock, random));

  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen_address, *credentials,
                           &server->port_);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(std::make_unique<MalformedRequestInterceptorFactory>());
  if (metrics_address->has_value()) {
    auto rpc_metrics =
        RpcMetrics::Create(options.metrics->registry(), ServedServices());
    if (!rpc_metrics.ok()) return rpc_metrics.status();
    server->rpc_metrics_ = *std::move(rpc_metrics);
    // After MalformedRequest: interceptors see the status being sent in
    // their order, so this one counts the status that one may change.
    interceptors.push_back(server->rpc_metrics_->InterceptorFactory());
  }
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.RegisterService(&server->health_);
  builder.RegisterService(&server->accounts_);
  builder.RegisterService(&server->integrations_);
  builder.RegisterService(&server->jobs_);
  builder.RegisterService(&server->templates_);
  builder.RegisterService(&server->operations_);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options.listen_address,
        " (address in use or invalid?)"));
  }
  // The first claim runs at once: events committed before a restart (and
  // deliveries whose claimant died) go out without waiting for a poll.
  if (server->dispatcher_ != nullptr) {
    server->dispatcher_->Start();
    // Events other servers on the database commit wake it too.
    Dispatcher* dispatcher = server->dispatcher_.get();
    store.WatchEventsDue([dispatcher] { dispatcher->Wake(); });
  }
  // Likewise bulk operations a stop left RUNNING go on at once.
  server->bulk_.Start();
  if (metrics_address->has_value()) {
    AtsServer* served = server.get();
    auto endpoint = MetricsEndpoint::Start(
        (*metrics_address)->host, (*metrics_address)->port,
        options.metrics->registry(), [served] {
          served->options_.metrics->Refresh(
              served->env_.store, served->dispatcher_.get(), served->auth_);
        });
    if (!endpoint.ok()) return endpoint.status();
    server->metrics_endpoint_ = *std::move(endpoint);
  }
  return server;
}

AtsServer::~AtsServer() { Shutdown(); }

void AtsServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (server_ == nullptr) return;  // Start failed before serving.
  health_.SetServing(false);
  // Its watchers (streaming calls) end at once rather than wait out the
  // grace period for operations that may run for minutes.
  bulk_.Stop();
  server_->Shutdown(std::chrono::system_clock::now() +
                    absl::ToChronoMilliseconds(options_.shutdown_grace));
  server_->Wait();
  // After the drain: the last calls' events are committed and stay due for
  // the next start; deliveries under way get the dispatcher's grace.
  if (dispatcher_ != nullptr) {
    env_.store.WatchEventsDue(nullptr);
    dispatcher_->Stop();
  }
  if (metrics_endpoint_ != nullptr) metrics_endpoint_->Stop();
}

}  // namespace ats::server
