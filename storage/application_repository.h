#ifndef ATS_STORAGE_APPLICATION_REPOSITORY_H_
#define ATS_STORAGE_APPLICATION_REPOSITORY_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ats/v1/pipeline.pb.h"
#include "storage/page.h"

namespace ats::storage {

// A candidate in a job.
struct ApplicationRow {
  std::string account_id;
  std::string job_id;
  std::string candidate_id;
  std::string stage_id;
  absl::Time stage_enter_time;
  // Stage entries so far, 1 once added: identifies the current entry.
  int64_t entry_count = 1;
  absl::Time create_time;
};

// One stage entry of an application.
struct TransitionRow {
  std::string account_id;
  std::string job_id;
  std::string candidate_id;
  // The application's entry_count after this transition.
  int64_t entry = 1;
  // Empty when the candidate was added to the job.
  std::string from_stage_id;
  std::string to_stage_id;
  absl::Time time;
  // Id of the API key that made the move.
  std::string moved_by;
  // The moving rule that made it, for an automatic move.
  std::optional<ats::v1::RuleRef> moved_by_rule;
};

// Applications and their stage history. Scoped by account like every
// repository.
class ApplicationRepository {
 public:
  virtual ~ApplicationRepository() = default;

  // Stores a new application; ALREADY_EXISTS if the candidate is in the job.
  virtual absl::Status InsertApplication(const ApplicationRow& row) = 0;
  // Replaces the application's stage, entry time and entry count; NOT_FOUND
  // if absent.
  virtual absl::Status UpdateApplication(const ApplicationRow& row) = 0;
  // Returns the candidate's application to the job, or NOT_FOUND.
  virtual absl::StatusOr<ApplicationRow> GetApplication(
      std::string_view account_id, std::string_view job_id,
      std::string_view candidate_id) = 0;
  // Returns the job's applications by stage position then entry time, only
  // those in `stage_id` unless it is empty.
  virtual absl::StatusOr<Page<ApplicationRow>> ListApplications(
      std::string_view account_id, std::string_view job_id,
      std::string_view stage_id, const PageRequest& page) = 0;
  // Returns every application of the candidate, in any job.
  virtual absl::StatusOr<std::vector<ApplicationRow>> ListCandidateApplications(
      std::string_view account_id, std::string_view candidate_id) = 0;
  // Deletes the application and its history; NOT_FOUND if absent.
  virtual absl::Status DeleteApplication(std::string_view account_id,
                                         std::string_view job_id,
                                         std::string_view candidate_id) = 0;

  // Appends a stage entry to an application's history.
  virtual absl::Status InsertTransition(const TransitionRow& row) = 0;
  // Returns an application's history, oldest first.
  virtual absl::StatusOr<std::vector<TransitionRow>> ListTransitions(
      std::string_view account_id, std::string_view job_id,
      std::string_view candidate_id) = 0;
};

}  // namespace ats::storage

#endif  // ATS_STORAGE_APPLICATION_REPOSITORY_H_
