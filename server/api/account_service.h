#ifndef ATS_SERVER_API_ACCOUNT_SERVICE_H_
#define ATS_SERVER_API_ACCOUNT_SERVICE_H_

#include <string>

#include "absl/status/statusor.h"
#include "ats/v1/account_service.grpc.pb.h"
#include "server/api/call.h"

namespace ats::server {

// A new API key with its secret, which exists only until it is shown.
struct NewApiKey {
  storage::ApiKeyRow row;
  std::string secret;
};

// Creates an account with everything a new account starts with, inside
// `txn`.
absl::StatusOr<storage::AccountRow> CreateAccountIn(storage::Transaction& txn,
                                                    std::string display_name,
                                                    absl::Time now,
                                                    RandomSource& random);

// Creates an API key inside `txn`; `key` carries role, account, integration
// and display name.
absl::StatusOr<NewApiKey> CreateApiKeyIn(storage::Transaction& txn,
                                         storage::ApiKeyRow key, absl::Time now,
                                         RandomSource& random);

// ats.v1.AccountService: accounts (their notification endpoints included),
// API keys and webhook signing secrets. The roles each RPC admits are
// declared in account_service.proto; within them, an account's keys see and
// change that account only (another account is NOT_FOUND), while operator
// keys reach every account and alone create operator keys.
class AccountService final : public ats::v1::AccountService::CallbackService {
 public:
  explicit AccountService(ServiceEnv env) : env_(env) {}

  grpc::ServerUnaryReactor* CreateAccount(
      grpc::CallbackServerContext* context,
      const ats::v1::CreateAccountRequest* request,
      ats::v1::Account* response) override;
  grpc::ServerUnaryReactor* GetAccount(
      grpc::CallbackServerContext* context,
      const ats::v1::GetAccountRequest* request,
      ats::v1::Account* response) override;
  grpc::ServerUnaryReactor* UpdateAccount(
      grpc::CallbackServerContext* context,
      const ats::v1::UpdateAccountRequest* request,
      ats::v1::Account* response) override;
  grpc::ServerUnaryReactor* ListAccounts(
      grpc::CallbackServerContext* context,
      const ats::v1::ListAccountsRequest* request,
      ats::v1::ListAccountsResponse* response) override;
  grpc::ServerUnaryReactor* CreateApiKey(
      grpc::CallbackServerContext* context,
      const ats::v1::CreateApiKeyRequest* request,
      ats::v1::CreateApiKeyResponse* response) override;
  grpc::ServerUnaryReactor* ListApiKeys(
      grpc::CallbackServerContext* context,
      const ats::v1::ListApiKeysRequest* request,
      ats::v1::ListApiKeysResponse* response) override;
  grpc::ServerUnaryReactor* RevokeApiKey(
      grpc::CallbackServerContext* context,
      const ats::v1::RevokeApiKeyRequest* request,
      ats::v1::ApiKey* response) override;
  grpc::ServerUnaryReactor* RotateWebhookSigningSecret(
      grpc::CallbackServerContext* context,
      const ats::v1::RotateWebhookSigningSecretRequest* request,
      ats::v1::RotateWebhookSigningSecretResponse* response) override;

 private:
  ServiceEnv env_;
};

}  // namespace ats::server

#endif  // ATS_SERVER_API_ACCOUNT_SERVICE_H_
