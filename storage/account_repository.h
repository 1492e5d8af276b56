#ifndef ATS_STORAGE_ACCOUNT_REPOSITORY_H_
#define ATS_STORAGE_ACCOUNT_REPOSITORY_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ats/v1/account_service.pb.h"
#include "storage/page.h"

namespace ats::storage {

struct AccountRow {
  std::string id;
  std::string display_name;
  absl::Time create_time;
  // Signs the deliveries of the account's generic webhook triggers; empty
  // while the account has none. Never shown after it is created.
  std::string webhook_signing_secret;
  // When `webhook_signing_secret` was set; nullopt while there is none.
  std::optional<absl::Time> webhook_signing_secret_create_time;
  // Where the account's notifications go (ats.v1.Account.notification_uri);
  // empty for nowhere.
  std::string notification_uri;
};

struct ApiKeyRow {
  std::string id;
  // Empty for operator keys, which belong to no account.
  std::string account_id;
  ats::v1::Role role = ats::v1::ROLE_UNSPECIFIED;
  // Partner keys only: the integration whose events the key reports on.
  std::string integration_id;
  std::string display_name;
  // SHA-256 of the secret; the secret itself is never stored.
  std::string secret_hash;
  std::string secret_prefix;
  absl::Time create_time;
  std::optional<absl::Time> revoke_time;
};

// Accounts and their API keys.
class AccountRepository {
 public:
  virtual ~AccountRepository() = default;

  // Stores a new account; ALREADY_EXISTS if its id is taken.
  virtual absl::Status InsertAccount(const AccountRow& account) = 0;
  // Returns the account `id`, or NOT_FOUND.
  virtual absl::StatusOr<AccountRow> GetAccount(std::string_view id) = 0;
  // Returns accounts oldest first.
  virtual absl::StatusOr<Page<AccountRow>> ListAccounts(
      const PageRequest& page) = 0;
  // Replaces the display_name and notification_uri of account `account.id`
  // (its other columns stay); NOT_FOUND if absent.
  virtual absl::Status UpdateAccount(const AccountRow& account) = 0;
  // Sets the webhook signing secret of account `account_id` to `secret`,
  // created at `when`, replacing any previous one; NOT_FOUND if absent.
  virtual absl::Status SetWebhookSigningSecret(std::string_view account_id,
                                               std::string_view secret,
                                               absl::Time when) = 0;

  // Stores a new key; ALREADY_EXISTS if its id or secret hash is taken.
  virtual absl::Status InsertApiKey(const ApiKeyRow& key) = 0;
  // Returns key `id` if it belongs to `account_id` (any account when
  // `account_id` is empty), or NOT_FOUND.
  virtual absl::StatusOr<ApiKeyRow> GetApiKey(std::string_view account_id,
                                              std::string_view id) = 0;
  // Returns the key whose secret hashes to `secret_hash` (revoked or not),
  // or NOT_FOUND.
  virtual absl::StatusOr<ApiKeyRow> FindApiKeyBySecretHash(
      std::string_view secret_hash) = 0;
  // Returns keys of `account_id` (of every account, operator keys included,
  // when empty), oldest first.
  virtual absl::StatusOr<Page<ApiKeyRow>> ListApiKeys(
      std::string_view account_id, bool include_revoked,
      const PageRequest& page) = 0;
  // Marks key `id` revoked at `when` unless it already is; NOT_FOUND if absent.
  virtual absl::Status RevokeApiKey(std::string_view id, absl::Time when) = 0;
  // Returns whether any API key exists at all (first start detection).
  virtual absl::StatusOr<bool> AnyApiKeyExists() = 0;
};

}  // namespace ats::storage

#endif  // ATS_STORAGE_ACCOUNT_REPOSITORY_H_
