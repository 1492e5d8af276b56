#ifndef ATS_STORAGE_SQL_ACCOUNT_REPOSITORY_H_
#define ATS_STORAGE_SQL_ACCOUNT_REPOSITORY_H_

#include "storage/account_repository.h"
#include "storage/sealer.h"
#include "storage/sql/session.h"

namespace ats::storage::sql {

// AccountRepository on one SQL session, inside its open transaction.
// Webhook signing secrets are sealed with `sealer` on write and opened on
// read.
class SqlAccountRepository final : public AccountRepository {
 public:
  SqlAccountRepository(Session& db, const Sealer& sealer)
      : db_(db), sealer_(sealer) {}

  absl::Status InsertAccount(const AccountRow& account) override;
  absl::StatusOr<AccountRow> GetAccount(std::string_view id) override;
  absl::StatusOr<Page<AccountRow>> ListAccounts(
      const PageRequest& page) override;
  absl::Status UpdateAccount(const AccountRow& account) override;
  absl::Status SetWebhookSigningSecret(std::string_view account_id,
                                       std::string_view secret,
                                       absl::Time when) override;
  absl::Status InsertApiKey(const ApiKeyRow& key) override;
  absl::StatusOr<ApiKeyRow> GetApiKey(std::string_view account_id,
                                      std::string_view id) override;
  absl::StatusOr<ApiKeyRow> FindApiKeyBySecretHash(
      std::string_view secret_hash) override;
  absl::StatusOr<Page<ApiKeyRow>> ListApiKeys(std::string_view account_id,
                                              bool include_revoked,
                                              const PageRequest& page) override;
  absl::Status RevokeApiKey(std::string_view id, absl::Time when) override;
  absl::StatusOr<bool> AnyApiKeyExists() override;

 private:
  absl::StatusOr<AccountRow> ReadAccount(const Statement& row) const;

  Session& db_;
  const Sealer& sealer_;
};

}  // namespace ats::storage::sql

#endif  // ATS_STORAGE_SQL_ACCOUNT_REPOSITORY_H_
