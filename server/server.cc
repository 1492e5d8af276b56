#include "server/server.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "server/api/malformed_request.h"

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

// Returns OK for "host:port" (host a name, an IPv4 address or a bracketed
// IPv6 one; port 0 to 65535) and "unix:path".
absl::Status ValidateListenAddress(const std::string& address) {
  const absl::Status invalid = absl::InvalidArgumentError(absl::StrCat(
      "--listen must be host:port (e.g. 127.0.0.1:50051, [::1]:50051, "
      "0.0.0.0:0) or unix:path, not \"", address, "\""));
  if (absl::StartsWith(address, "unix:")) {
    return address.size() > 5 ? absl::OkStatus() : invalid;
  }
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return invalid;
  const absl::string_view host = absl::string_view(address).substr(0, colon);
  int port = 0;
  if (!absl::SimpleAtoi(absl::string_view(address).substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return invalid;
  }
  const bool bracketed = absl::StartsWith(host, "[") &&
                         absl::EndsWith(host, "]") && host.size() > 2;
  // An unbracketed IPv6 address would leave a colon in the host.
  if (!bracketed && (absl::StrContains(host, ":") ||
                     absl::StrContains(host, "[") ||
                     absl::StrContains(host, "]"))) {
    return invalid;
  }
  if (absl::StrContains(host, " ")) return invalid;
  return absl::OkStatus();
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
  status = Credentials(options).status();
  if (!status.ok()) return status;
  if (options.max_message_bytes < 1) {
    return absl::InvalidArgumentError("--max_message_bytes must be positive");
  }
  if (options.shutdown_grace < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--shutdown_grace must not be negative");
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
      auth_(store, options_.limits, clock),
      methods_(std::move(methods)),
      env_{store, auth_, methods_, clock, random, options_.destinations,
           [this] {
             if (dispatcher_ != nullptr) dispatcher_->Wake();
           }},
      bulk_(options_.bulk, store, clock, random,
            [this] { env_.NotifyEventsCreated(); }),
      accounts_(env_),
      integrations_(env_, bulk_),
      jobs_(env_),
      templates_(env_),
      janitor_(store, clock) {
  if (!options_.dispatch) return;
  Connector* connector = options_.connector;
  if (connector == nullptr) {
    HttpConnectorOptions delivery = options_.delivery;
    delivery.destinations = options_.destinations;
    owned_connector_ = std::make_unique<HttpConnector>(clock, delivery);
    connector = owned_connector_.get();
  }
  dispatcher_ = std::make_unique<Dispatcher>(options_.dispatcher, store,
                                             *connector, clock, random);
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
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.RegisterService(&server->health_);
  builder.RegisterService(&server->accounts_);
  builder.RegisterService(&server->integrations_);
  builder.RegisterService(&server->jobs_);
  builder.RegisterService(&server->templates_);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options.listen_address,
        " (address in use or invalid?)"));
  }
  // The first claim runs at once: events committed before a restart (and
  // deliveries whose claimant died) go out without waiting for a poll.
  if (server->dispatcher_ != nullptr) server->dispatcher_->Start();
  // Likewise bulk operations a stop left RUNNING go on at once.
  server->bulk_.Start();
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
  if (dispatcher_ != nullptr) dispatcher_->Stop();
}

}  // namespace ats::server
