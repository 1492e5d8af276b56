#ifndef ATS_SERVER_ENGINE_PIPELINE_ACCESS_H_
#define ATS_SERVER_ENGINE_PIPELINE_ACCESS_H_

// What the JobService RPCs do inside a transaction, shared by its files:
// loading rows with NOT_FOUND errors that name the resource as the client
// wrote it, assembling jobs and stages for responses, the bookkeeping every
// pipeline change shares, and a candidate entering a stage.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ats/v1/event.pb.h"
#include "ats/v1/job_service.pb.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "server/common/random.h"
#include "server/domain/caller.h"
#include "storage/store.h"

namespace ats::server {

// Returns job `job_id` of the account, or NOT_FOUND naming it.
absl::StatusOr<storage::JobRow> LoadJob(storage::Transaction& txn,
                                        const std::string& account_id,
                                        const std::string& job_id);

// Returns stage `stage_id` of job `job_id`, or NOT_FOUND naming it (also when
// the stage exists but belongs to another job: the name is wrong).
absl::StatusOr<storage::StageRow> LoadStage(storage::Transaction& txn,
                                            const std::string& account_id,
                                            const std::string& job_id,
                                            const std::string& stage_id);

// Returns the stage named `jobs/{stage_job_id}/stages/{stage_id}` for a
// candidate of job `job_id` to enter: NOT_FOUND if there is no such stage,
// FAILED_PRECONDITION (ErrorInfo STAGE_OF_ANOTHER_JOB) if it is a stage of
// another job.
absl::StatusOr<storage::StageRow> LoadTargetStage(
    storage::Transaction& txn, const std::string& account_id,
    const std::string& job_id, const std::string& stage_job_id,
    const std::string& stage_id);

// Returns trigger `trigger_id` of that stage of that job, or NOT_FOUND.
absl::StatusOr<storage::TriggerRow> LoadTrigger(storage::Transaction& txn,
                                                const std::string& account_id,
                                                const std::string& job_id,
                                                const std::string& stage_id,
                                                const std::string& trigger_id);

// Returns candidate `candidate_id` of the account, or NOT_FOUND naming it.
absl::StatusOr<storage::CandidateRow> LoadCandidate(
    storage::Transaction& txn, const std::string& account_id,
    const std::string& candidate_id);

// Returns the candidate's application to the job, or NOT_FOUND saying that
// the candidate is not in the job.
absl::StatusOr<storage::ApplicationRow> LoadApplication(
    storage::Transaction& txn, const std::string& account_id,
    const std::string& job_id, const std::string& candidate_id);

// Records a change of the job or its pipeline: bumps its revision (so its
// etag changes) and update time, and stores it.
absl::Status TouchJob(storage::Transaction& txn, storage::JobRow& job,
                      absl::Time now);

// Stores the new position of a stage or of a trigger.
absl::Status SavePosition(storage::Transaction& txn,
                          const storage::StageRow& stage);
absl::Status SavePosition(storage::Transaction& txn,
                          const storage::TriggerRow& trigger);

// Stores the position of every row of `rows` (stages of a job, or triggers
// of a stage) that differs from its index, keeping positions dense (0..n-1)
// in that order.
template <typename Row>
absl::Status Renumber(storage::Transaction& txn, std::vector<Row>& rows) {
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].position == static_cast<int>(i)) continue;
    rows[i].position = static_cast<int>(i);
    absl::Status status = SavePosition(txn, rows[i]);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

// Fills `job` from `row` with its stages in order and their candidate counts,
// and with their triggers (readiness included) when `with_triggers`.
absl::Status JobToProtoWithPipeline(storage::Transaction& txn,
                                    const storage::JobRow& row,
                                    bool with_triggers, ats::v1::Job* job);

// Fills `stage` from `row` with its candidate count and its triggers
// (readiness included).
absl::Status StageToProtoWithTriggers(storage::Transaction& txn,
                                      const storage::StageRow& row,
                                      ats::v1::Stage* stage);

// Fills `trigger` from `row` of job `job_id`, readiness included.
absl::Status TriggerToProtoWithReadiness(storage::Transaction& txn,
                                         const storage::TriggerRow& row,
                                         const std::string& job_id,
                                         ats::v1::Trigger* trigger);

}  // namespace ats::server

#endif  // ATS_SERVER_ENGINE_PIPELINE_ACCESS_H_
