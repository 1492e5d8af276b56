#include "tests/api/test_server.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "grpcpp/create_channel.h"
#include "server/bootstrap.h"
#include "tests/support/rerunning_store.h"

namespace ats::testing {
namespace {

// The harness cannot work without its fixture, so it stops the test binary
// with the reason rather than let every test fail obscurely.
void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "TestServer: %s\n", what.c_str());
    std::abort();
  }
}

std::string ReadKey(const std::string& path) {
  std::ifstream in(path);
  std::string key;
  std::getline(in, key);
  Check(!key.empty(), "no key in " + path);
  return key;
}

}  // namespace

TestServer::TestServer(const std::string& allowed_networks,
                       const server::RateLimitOptions& limits) {
  storage::SqliteStoreOptions options;
  options.path = dir_.File("ats.db");
  // The server's own connections never wait on each other (WAL, one
  // writer), so only a test holding a lock waits: its writes fail fast.
  options.busy_timeout_ms = kBusyTimeoutMs;
  auto database = TestDatabase::Create(backend_, dir_.path());
  Check(database.ok(), database.status().ToString());
  database_ = *std::move(database);
  absl::StatusOr<std::unique_ptr<storage::Store>> store;
  if (backend_ == Backend::kPostgres) {
    store = database_->Open();
  } else {
    store = storage::OpenSqliteStore(options);
  }
  Check(store.ok(), store.status().ToString());
  store_ = *std::move(store);
  if (RerunWritesOfEnvironment()) {
    store_ = std::make_unique<RerunningStore>(std::move(store_));
  }

  const server::KeyFiles key_files =
      server::KeyFilesOf(options.path, dir_.path());
  auto bootstrap =
      server::BootstrapIfEmpty(*store_, clock_, random_, key_files);
  Check(bootstrap.ok() && *bootstrap, "bootstrap failed");
  operator_key_ = ReadKey(key_files.operator_key);
  admin_key_ = ReadKey(key_files.admin_key);

  server::ServerOptions server_options;
  server_options.listen_address = "127.0.0.1:0";
  server_options.shutdown_grace = absl::Seconds(1);
  // Small, so that bulk operations of a few dozen candidates already run in
  // several batches.
  server_options.bulk.batch_size = kBulkBatchSize;
  auto destinations = server::DestinationPolicy::Parse(allowed_networks);
  Check(destinations.ok(), destinations.status().ToString());
  server_options.destinations = *std::move(destinations);
  server_options.limits = limits;
  auto server =
      server::AtsServer::Start(server_options, *store_, clock_, random_);
  Check(server.ok(), server.status().ToString());
  server_ = *std::move(server);
  channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                 grpc::InsecureChannelCredentials());

  ats::v1::ListAccountsResponse accounts;
  grpc::Status status = this->accounts()->ListAccounts(
      Context(operator_key_).get(), {}, &accounts);
  Check(status.ok() && accounts.accounts_size() == 1, "ListAccounts failed");
  account_ = accounts.accounts(0).name();
  recruiter_key_ = CreateKey(ats::v1::ROLE_RECRUITER, account_);

  ats::v1::CreateAccountRequest create;
  create.mutable_account()->set_display_name("Other company");
  ats::v1::Account other;
  status = this->accounts()->CreateAccount(Context(operator_key_).get(),
                                           create, &other);
  Check(status.ok(), "CreateAccount failed: " + status.error_message());
  other_account_ = other.name();
  other_admin_key_ = CreateKey(ats::v1::ROLE_ADMIN, other_account_);
}

TestServer::~TestServer() {
  Shutdown();
  server_.reset();
  store_.reset();
}

void TestServer::Shutdown() { server_->Shutdown(); }

std::unique_ptr<grpc::ClientContext> TestServer::Context(
    const std::string& key) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!key.empty()) context->AddMetadata("authorization", "Bearer " + key);
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(30));
  return context;
}

std::unique_ptr<ats::v1::AccountService::Stub> TestServer::accounts() const {
  return ats::v1::AccountService::NewStub(channel_);
}

std::unique_ptr<ats::v1::IntegrationService::Stub> TestServer::integrations()
    const {
  return ats::v1::IntegrationService::NewStub(channel_);
}

std::unique_ptr<ats::v1::JobService::Stub> TestServer::jobs() const {
  return ats::v1::JobService::NewStub(channel_);
}

std::unique_ptr<ats::v1::TemplateService::Stub> TestServer::templates() const {
  return ats::v1::TemplateService::NewStub(channel_);
}

std::unique_ptr<ats::v1::OperationsService::Stub> TestServer::operations()
    const {
  return ats::v1::OperationsService::NewStub(channel_);
}

std::string TestServer::CreateKey(ats::v1::Role role,
                                  const std::string& account,
                                  const std::string& integration) {
  ats::v1::CreateApiKeyRequest request;
  request.mutable_api_key()->set_display_name(
      absl::StrCat("test ", ats::v1::Role_Name(role)));
  request.mutable_api_key()->set_role(role);
  request.mutable_api_key()->set_account(account);
  request.mutable_api_key()->set_integration(integration);
  ats::v1::CreateApiKeyResponse response;
  grpc::Status status = accounts()->CreateApiKey(Context(operator_key_).get(),
                                                 request, &response);
  Check(status.ok(), "CreateApiKey failed: " + status.error_message());
  return response.secret();
}

}  // namespace ats::testing
