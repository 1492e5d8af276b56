#ifndef ATS_STORAGE_JOB_REPOSITORY_H_
#define ATS_STORAGE_JOB_REPOSITORY_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ats/v1/job_service.pb.h"
#include "ats/v1/pipeline.pb.h"
#include "storage/page.h"

namespace ats::storage {

struct JobRow {
  std::string account_id;
  std::string id;
  std::string title;
  std::string description;
  ats::v1::JobState state = ats::v1::JOB_STATE_DRAFT;
  // Empty when the job was created without a template.
  std::string template_id;
  absl::Time create_time;
  absl::Time update_time;
  int64_t revision = 1;
};

struct StageRow {
  std::string account_id;
  std::string id;
  std::string job_id;
  std::string display_name;
  // 0-based, dense within the job.
  int position = 0;
  absl::Time create_time;
  // How many candidates are in the stage. Kept by storage as applications
  // come, move and go: read with the stage, ignored when it is written.
  int64_t candidate_count = 0;
};

struct TriggerRow {
  std::string account_id;
  std::string id;
  std::string stage_id;
  // 0-based order of the stage's triggers.
  int position = 0;
  // Set for integration-event triggers.
  std::string integration_id;
  // Delay and action; name and output-only fields unset.
  ats::v1::Trigger spec;
  absl::Time create_time;
};

// Filters of ListJobs; unset fields do not filter.
struct JobFilter {
  ats::v1::JobState state = ats::v1::JOB_STATE_UNSPECIFIED;
  // Case-insensitive substring of the title.
  std::string title_contains;
};

// Jobs with their stages and the stages' triggers. Every method is scoped by
// account: another account's rows are NOT_FOUND.
class JobRepository {
 public:
  virtual ~JobRepository() = default;

  // Stores a new job.
  virtual absl::Status InsertJob(const JobRow& job) = 0;
  // Replaces job `job.id`; NOT_FOUND if absent.
  virtual absl::Status UpdateJob(const JobRow& job) = 0;
  // Returns job `id`, or NOT_FOUND.
  virtual absl::StatusOr<JobRow> GetJob(std::string_view account_id,
                                        std::string_view id) = 0;
  // Returns jobs newest first.
  virtual absl::StatusOr<Page<JobRow>> ListJobs(std::string_view account_id,
                                                const JobFilter& filter,
                                                const PageRequest& page) = 0;
  // Deletes job `id` with its stages, triggers and applications; NOT_FOUND if
  // absent.
  virtual absl::Status DeleteJob(std::string_view account_id,
                                 std::string_view id) = 0;

  // Stores a new stage; positions of the others are the caller's concern.
  virtual absl::Status InsertStage(const StageRow& stage) = 0;
  // Replaces stage `stage.id` (display name, position); NOT_FOUND if absent.
  virtual absl::Status UpdateStage(const StageRow& stage) = 0;
  // Returns stage `id`, or NOT_FOUND.
  virtual absl::StatusOr<StageRow> GetStage(std::string_view account_id,
                                            std::string_view id) = 0;
  // Returns the job's stages by position.
  virtual absl::StatusOr<std::vector<StageRow>> ListStages(
      std::string_view account_id, std::string_view job_id) = 0;
  // Deletes stage `id` with its triggers; FAILED_PRECONDITION while
  // applications are in it; NOT_FOUND if absent.
  virtual absl::Status DeleteStage(std::string_view account_id,
                                   std::string_view id) = 0;

  // Stores a new trigger.
  virtual absl::Status InsertTrigger(const TriggerRow& trigger) = 0;
  // Replaces trigger `trigger.id`; NOT_FOUND if absent.
  virtual absl::Status UpdateTrigger(const TriggerRow& trigger) = 0;
  // Returns trigger `id`, or NOT_FOUND.
  virtual absl::StatusOr<TriggerRow> GetTrigger(std::string_view account_id,
                                                std::string_view id) = 0;
  // Returns the stage's triggers by position.
  virtual absl::StatusOr<std::vector<TriggerRow>> ListTriggers(
      std::string_view account_id, std::string_view stage_id) = 0;
  // Returns the triggers of every stage of the job, by stage then position.
  virtual absl::StatusOr<std::vector<TriggerRow>> ListJobTriggers(
      std::string_view account_id, std::string_view job_id) = 0;
  // Deletes trigger `id`; NOT_FOUND if absent.
  virtual absl::Status DeleteTrigger(std::string_view account_id,
                                     std::string_view id) = 0;
};

}  // namespace ats::storage

#endif  // ATS_STORAGE_JOB_REPOSITORY_H_
