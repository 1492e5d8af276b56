#ifndef ATS_TESTS_SERVER_TEST_SERVER_H_
#define ATS_TESTS_SERVER_TEST_SERVER_H_

#include <memory>
#include <optional>
#include <string>

#include "ats/v1/account_service.grpc.pb.h"
#include "ats/v1/integration_service.grpc.pb.h"
#include "ats/v1/job_service.grpc.pb.h"
#include "ats/v1/operations_service.grpc.pb.h"
#include "ats/v1/template_service.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "server/common/clock.h"
#include "server/common/random.h"
#include "server/server.h"
#include "storage/store.h"
#include "tests/support/backends.h"
#include "tests/support/temp_dir.h"

namespace ats::testing {

// A real server in this process: every service on a loopback port, over a
// fresh SQLite file, with a fake clock. It starts with:
//   - an operator key;
//   - account A (the bootstrap's default account) with an admin and a
//     recruiter key;
//   - account B with an admin key, to prove tenants cannot see each other.
class TestServer {
 public:
  // Candidates per batch of the server's bulk worker.
  static constexpr int kBulkBatchSize = 7;
  // How long the server's SQLite connections wait for a lock held by
  // another connection (a test's) before failing UNAVAILABLE.
  static constexpr int kBusyTimeoutMs = 200;
  // Where the tests' partners listen, opened to webhooks as
  // --allowed_destination_networks opens networks.
  static constexpr char kLoopbackNetworks[] = "127.0.0.0/8,::1/128";

  // Opens `allowed_networks` (CIDRs, comma-separated) to webhooks besides
  // public addresses. Limits are off unless given: the fake clock never
  // refills a bucket.
  explicit TestServer(const std::string& allowed_networks = kLoopbackNetworks,
                      const server::RateLimitOptions& limits = {});
  // Loopback opened, with `limits`.
  explicit TestServer(const server::RateLimitOptions& limits)
      : TestServer(kLoopbackNetworks, limits) {}
  ~TestServer();

  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

  // A client context that authenticates with `key` (no header when empty).
  static std::unique_ptr<grpc::ClientContext> Context(const std::string& key);

  std::unique_ptr<ats::v1::AccountService::Stub> accounts() const;
  std::unique_ptr<ats::v1::IntegrationService::Stub> integrations() const;
  std::unique_ptr<ats::v1::JobService::Stub> jobs() const;
  std::unique_ptr<ats::v1::TemplateService::Stub> templates() const;
  std::unique_ptr<ats::v1::OperationsService::Stub> operations() const;

  // Creates a key through the API with the operator key and returns its
  // secret. `account` and `integration` are resource names or empty.
  std::string CreateKey(ats::v1::Role role, const std::string& account,
                        const std::string& integration = "");

  const std::string& operator_key() const { return operator_key_; }
  const std::string& admin_key() const { return admin_key_; }
  const std::string& recruiter_key() const { return recruiter_key_; }
  const std::string& other_admin_key() const { return other_admin_key_; }
  // `accounts/{id}` of accounts A and B.
  const std::string& account() const { return account_; }
  const std::string& other_account() const { return other_account_; }

  server::FakeClock& clock() { return clock_; }
  storage::Store& store() { return *store_; }
  const std::string& dir() const { return dir_.path(); }

  // The storage backend the server runs on: SQLite, or PostgreSQL when the
  // environment sets ATS_TEST_BACKEND=postgres (CTest runs the binaries
  // that exercise storage both ways).
  Backend backend() const { return backend_; }
  // The database the store is on, for SQL behind the server's back.
  const TestDatabase& database() const { return *database_; }

  // Stops serving and waits until every call in flight has ended; the store
  // and the files stay until the TestServer goes.
  void Shutdown();

 private:
  // Declared first so that it goes last, after the store's files close.
  TempDir dir_;
  const Backend backend_ = BackendOfEnvironment();
  std::optional<TestDatabase> database_;
  server::FakeClock clock_;
  server::SecureRandom random_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<server::AtsServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::string operator_key_;
  std::string admin_key_;
  std::string recruiter_key_;
  std::string other_admin_key_;
  std::string account_;
  std::string other_account_;
};

}  // namespace ats::testing

#endif  // ATS_TESTS_SERVER_TEST_SERVER_H_
