#ifndef ATS_STORAGE_SQL_JOB_REPOSITORY_H_
#define ATS_STORAGE_SQL_JOB_REPOSITORY_H_

#include "storage/job_repository.h"
#include "storage/sql/session.h"

namespace ats::storage::sql {

// JobRepository on one SQL session, inside its open transaction.
//
// Stages and triggers are only ever attached inside the caller's account:
// InsertStage answers NOT_FOUND for a job of another account, InsertTrigger
// for a stage of another account. A stage's job and a trigger's stage are
// fixed at insertion (updates ignore them), as is every create_time.
class SqlJobRepository final : public JobRepository {
 public:
  explicit SqlJobRepository(Session& db) : db_(db) {}

  absl::Status InsertJob(const JobRow& job) override;
  absl::Status UpdateJob(const JobRow& job) override;
  absl::StatusOr<JobRow> GetJob(std::string_view account_id,
                                std::string_view id) override;
  absl::StatusOr<Page<JobRow>> ListJobs(std::string_view account_id,
                                        const JobFilter& filter,
                                        const PageRequest& page) override;
  absl::Status DeleteJob(std::string_view account_id,
                         std::string_view id) override;

  absl::Status InsertStage(const StageRow& stage) override;
  absl::Status UpdateStage(const StageRow& stage) override;
  absl::StatusOr<StageRow> GetStage(std::string_view account_id,
                                    std::string_view id) override;
  absl::StatusOr<std::vector<StageRow>> ListStages(
      std::string_view account_id, std::string_view job_id) override;
  absl::Status DeleteStage(std::string_view account_id,
                           std::string_view id) override;

  absl::Status InsertTrigger(const TriggerRow& trigger) override;
  absl::Status UpdateTrigger(const TriggerRow& trigger) override;
  absl::StatusOr<TriggerRow> GetTrigger(std::string_view account_id,
                                        std::string_view id) override;
  absl::StatusOr<std::vector<TriggerRow>> ListTriggers(
      std::string_view account_id, std::string_view stage_id) override;
  absl::StatusOr<std::vector<TriggerRow>> ListJobTriggers(
      std::string_view account_id, std::string_view job_id) override;
  absl::Status DeleteTrigger(std::string_view account_id,
                             std::string_view id) override;

 private:
  Session& db_;
};

}  // namespace ats::storage::sql

#endif  // ATS_STORAGE_SQL_JOB_REPOSITORY_H_
