#ifndef ATS_STORAGE_SQL_INTEGRATION_REPOSITORY_H_
#define ATS_STORAGE_SQL_INTEGRATION_REPOSITORY_H_

#include <map>
#include <string>
#include <utility>

#include "storage/integration_repository.h"
#include "storage/sealer.h"
#include "storage/sql/session.h"

namespace ats::storage::sql {

// IntegrationRepository on one SQL session, inside its open transaction.
// Lives as long as that transaction, so it remembers the integrations it has
// read: a job's triggers often name the same one, and every write to the
// table goes through this object, which forgets them. Signing secrets and
// activation values are sealed with `sealer` on write and opened on read.
class SqlIntegrationRepository final : public IntegrationRepository {
 public:
  SqlIntegrationRepository(Session& db, const Sealer& sealer)
      : db_(db), sealer_(sealer) {}

  absl::Status InsertPartner(const PartnerRow& partner) override;
  absl::Status UpdatePartner(const PartnerRow& partner) override;
  absl::StatusOr<PartnerRow> GetPartner(std::string_view id) override;
  absl::StatusOr<Page<PartnerRow>> ListPartners(
      ats::v1::PartnerCategory category, const PageRequest& page) override;
  absl::Status InsertIntegration(const IntegrationRow& integration) override;
  absl::Status UpdateIntegration(const IntegrationRow& integration) override;
  absl::StatusOr<IntegrationRow> GetIntegration(std::string_view account_id,
                                                std::string_view id) override;
  absl::StatusOr<IntegrationState> GetIntegrationState(
      std::string_view account_id, std::string_view id) override;
  absl::StatusOr<std::optional<IntegrationRow>> FindIntegrationByPartner(
      std::string_view account_id, std::string_view partner_id) override;
  absl::StatusOr<Page<IntegrationRow>> ListIntegrations(
      std::string_view account_id, std::optional<bool> active,
      const PageRequest& page) override;

 private:
  absl::StatusOr<std::vector<IntegrationRow>> ReadIntegrations(Statement& stmt);
  absl::StatusOr<IntegrationRow> ReadIntegration(const Statement& row) const;
  // Binds every column of `integration` in the order of the table's columns,
  // its secrets sealed.
  absl::Status BindIntegration(Statement& stmt,
                               const IntegrationRow& integration) const;

  Session& db_;
  const Sealer& sealer_;
  // Integrations read so far, by (account, id).
  std::map<std::pair<std::string, std::string>, IntegrationRow> known_;
};

}  // namespace ats::storage::sql

#endif  // ATS_STORAGE_SQL_INTEGRATION_REPOSITORY_H_
