#ifndef ATS_STORAGE_SQL_BULK_OPERATION_REPOSITORY_H_
#define ATS_STORAGE_SQL_BULK_OPERATION_REPOSITORY_H_

#include "storage/bulk_operation_repository.h"
#include "storage/sql/session.h"

namespace ats::storage::sql {

// BulkOperationRepository on one SQL session, inside its open
// transaction. The spec is stored as a serialized proto; items are keyed by
// (operation, candidate), so an operation cannot hold a candidate twice.
class SqlBulkOperationRepository final : public BulkOperationRepository {
 public:
  explicit SqlBulkOperationRepository(Session& db) : db_(db) {}

  absl::Status InsertOperation(const BulkOperationRow& operation) override;
  absl::Status UpdateOperation(const BulkOperationRow& operation) override;
  absl::StatusOr<BulkOperationRow> GetOperation(std::string_view account_id,
                                                std::string_view id) override;
  absl::StatusOr<Page<BulkOperationRow>> ListOperations(
      std::string_view account_id, const PageRequest& page) override;
  absl::StatusOr<std::vector<BulkOperationRow>> ListRunningOperations()
      override;
  absl::StatusOr<int64_t> CountRunningOperations() override;
  absl::StatusOr<std::vector<std::string>> ListSelectedCandidates(
      std::string_view account_id, const CandidateSelector& selector,
      std::string_view after_candidate_id, int limit) override;
  absl::StatusOr<std::vector<BulkItemRow>> ListDeadEventItems(
      std::string_view account_id, const DeadEventWindow& window,
      std::string_view after_key, int limit) override;
  absl::StatusOr<int64_t> AddItems(
      std::string_view account_id, std::string_view operation_id,
      const std::vector<BulkItemRow>& items) override;
  absl::StatusOr<std::vector<PendingBulkItem>> ListPendingItems(
      std::string_view account_id, std::string_view operation_id,
      std::string_view after_key, int limit, bool with_tags) override;
  absl::Status UpdateItems(std::string_view account_id,
                           std::string_view operation_id,
                           const std::vector<BulkItemRow>& items) override;
  absl::StatusOr<Page<BulkItemRow>> ListItems(
      std::string_view account_id, std::string_view operation_id,
      ats::v1::BulkItemOutcome outcome, const PageRequest& page) override;

 private:
  Session& db_;
};

}  // namespace ats::storage::sql

#endif  // ATS_STORAGE_SQL_BULK_OPERATION_REPOSITORY_H_
