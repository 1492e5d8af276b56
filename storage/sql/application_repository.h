#ifndef ATS_STORAGE_SQL_APPLICATION_REPOSITORY_H_
#define ATS_STORAGE_SQL_APPLICATION_REPOSITORY_H_

#include "storage/application_repository.h"
#include "storage/sql/session.h"

namespace ats::storage::sql {

// ApplicationRepository on one SQL session, inside its open
// transaction.
//
// Writes only link rows of the caller's account: the job, the candidate and
// the stage must all be the account's, and the stage must belong to the job
// (NOT_FOUND otherwise). ListApplications pages by (stage position, stage
// enter time, candidate id): reordering stages between two pages may repeat
// or skip rows, as any change of a sort key would.
class SqlApplicationRepository final : public ApplicationRepository {
 public:
  explicit SqlApplicationRepository(Session& db) : db_(db) {}

  absl::Status InsertApplication(const ApplicationRow& row) override;
  absl::Status UpdateApplication(const ApplicationRow& row) override;
  absl::StatusOr<ApplicationRow> GetApplication(
      std::string_view account_id, std::string_view job_id,
      std::string_view candidate_id) override;
  absl::StatusOr<Page<ApplicationRow>> ListApplications(
      std::string_view account_id, std::string_view job_id,
      std::string_view stage_id, const PageRequest& page) override;
  absl::StatusOr<std::vector<ApplicationRow>> ListCandidateApplications(
      std::string_view account_id, std::string_view candidate_id) override;
  absl::Status DeleteApplication(std::string_view account_id,
                                 std::string_view job_id,
                                 std::string_view candidate_id) override;

  absl::Status InsertTransition(const TransitionRow& row) override;
  absl::StatusOr<std::vector<TransitionRow>> ListTransitions(
      std::string_view account_id, std::string_view job_id,
      std::string_view candidate_id) override;

 private:
  // NOT_FOUND unless `stage_id` is a stage of job `job_id` of the account.
  absl::Status RequireStageOfJob(std::string_view account_id,
                                 std::string_view job_id,
                                 std::string_view stage_id);

  Session& db_;
};

}  // namespace ats::storage::sql

#endif  // ATS_STORAGE_SQL_APPLICATION_REPOSITORY_H_
