#include "server/engine/pipeline_access.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/contract/errors.h"
#include "server/domain/pipeline_convert.h"
#include "server/domain/trigger_spec.h"

namespace ats::server {
namespace {

// Storage reports a missing row in its own words; the client needs the
// resource name it sent.
template <typename T>
absl::StatusOr<T> NamedNotFound(absl::StatusOr<T> row,
                                const std::string& what) {
  if (absl::IsNotFound(row.status())) {
    return absl::NotFoundError(absl::StrCat(what, " not found"));
  }
  return row;
}

}  // namespace

absl::StatusOr<storage::JobRow> LoadJob(storage::Transaction& txn,
                                        const std::string& account_id,
                                        const std::string& job_id) {
  return NamedNotFound(txn.jobs().GetJob(account_id, job_id),
                       absl::StrCat("job ", JobName(job_id)));
}

absl::StatusOr<storage::StageRow> LoadStage(storage::Transaction& txn,
                                            const std::string& account_id,
                                            const std::string& job_id,
                                            const std::string& stage_id) {
  const std::string what = absl::StrCat("stage ", StageName(job_id, stage_id));
  auto stage = NamedNotFound(txn.jobs().GetStage(account_id, stage_id), what);
  if (stage.ok() && stage->job_id != job_id) {
    return absl::NotFoundError(absl::StrCat(what, " not found"));
  }
  return stage;
}

absl::StatusOr<storage::StageRow> LoadTargetStage(
    storage::Transaction& txn, const std::string& account_id,
    const std::string& job_id, const std::string& stage_job_id,
    const std::string& stage_id) {
  auto stage = LoadStage(txn, account_id, stage_job_id, stage_id);
  if (!stage.ok()) return stage.status();
  if (stage->job_id != job_id) {
    const std::string name = StageName(stage->job_id, stage->id);
    return WithErrorInfo(
        absl::FailedPreconditionError(absl::StrCat(
            "stage ", name, " belongs to another job than ", JobName(job_id),
            "; candidates only enter stages of the job they are in")),
        "STAGE_OF_ANOTHER_JOB", {{"stage", name}, {"job", JobName(job_id)}});
  }
  return stage;
}

absl::StatusOr<storage::TriggerRow> LoadTrigger(storage::Transaction& txn,
                                                const std::string& account_id,
                                                const std::string& job_id,
                                                const std::string& stage_id,
                                                const std::string& trigger_id) {
  const std::string what = absl::StrCat(
      "trigger ", TriggerName(job_id, stage_id, trigger_id));
  auto stage = txn.jobs().GetStage(account_id, stage_id);
  if (absl::IsNotFound(stage.status()) ||
      (stage.ok() && stage->job_id != job_id)) {
    return absl::NotFoundError(absl::StrCat(what, " not found"));
  }
  if (!stage.ok()) return stage.status();
  auto trigger =
      NamedNotFound(txn.jobs().GetTrigger(account_id, trigger_id), what);
  if (trigger.ok() && trigger->stage_id != stage_id) {
    return absl::NotFoundError(absl::StrCat(what, " not found"));
  }
  return trigger;
}

absl::StatusOr<storage::CandidateRow> LoadCandidate(
    storage::Transaction& txn, const std::string& account_id,
    const std::string& candidate_id) {
  return NamedNotFound(
      txn.candidates().GetCandidate(account_id, candidate_id),
      absl::StrCat("candidate ", CandidateName(candidate_id)));
}

absl::StatusOr<storage::ApplicationRow> LoadApplication(
    storage::Transaction& txn, const std::string& account_id,
    const std::string& job_id, const std::string& candidate_id) {
  auto app =
      txn.applications().GetApplication(account_id, job_id, candidate_id);
  if (absl::IsNotFound(app.status())) {
    return absl::NotFoundError(absl::StrCat(
        "application ", ApplicationName(job_id, candidate_id),
        " not found: candidate ", CandidateName(candidate_id),
        " is not in job ", JobName(job_id)));
  }
  return app;
}

absl::Status TouchJob(storage::Transaction& txn, storage::JobRow& job,
                      absl::Time now) {
  ++job.revision;
  job.update_time = now;
  return txn.jobs().UpdateJob(job);
}

absl::Status SavePosition(storage::Transaction& txn,
                          const storage::StageRow& stage) {
  return txn.jobs().UpdateStage(stage);
}

absl::Status SavePosition(storage::Transaction& txn,
                          const storage::TriggerRow& trigger) {
  return txn.jobs().UpdateTrigger(trigger);
}

absl::Status JobToProtoWithPipeline(storage::Transaction& txn,
                                    const storage::JobRow& row,
                                    bool with_triggers, ats::v1::Job* job) {
  JobToProto(row, job);
  auto stages = txn.jobs().ListStages(row.account_id, row.id);
  if (!stages.ok()) return stages.status();
  std::map<std::string, std::vector<storage::TriggerRow>> triggers_by_stage;
  if (with_triggers) {
    auto triggers = txn.jobs().ListJobTriggers(row.account_id, row.id);
    if (!triggers.ok()) return triggers.status();
    for (storage::TriggerRow& trigger : *triggers) {
      triggers_by_stage[trigger.stage_id].push_back(std::move(trigger));
    }
  }
  for (const storage::StageRow& stage_row : *stages) {
    ats::v1::Stage* stage = job->add_stages();
    StageToProto(stage_row, stage);
    for (const storage::TriggerRow& trigger : triggers_by_stage[stage_row.id]) {
      absl::Status status = TriggerToProtoWithReadiness(
          txn, trigger, row.id, stage->add_triggers());
      if (!status.ok()) return status;
    }
  }
  return absl::OkStatus();
}

absl::Status StageToProtoWithTriggers(storage::Transaction& txn,
                                      const storage::StageRow& row,
                                      ats::v1::Stage* stage) {
  StageToProto(row, stage);
  auto triggers = txn.jobs().ListTriggers(row.account_id, row.id);
  if (!triggers.ok()) return triggers.status();
  for (const storage::TriggerRow& trigger : *triggers) {
    absl::Status status = TriggerToProtoWithReadiness(txn, trigger, row.job_id,
                                                      stage->add_triggers());
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status TriggerToProtoWithReadiness(storage::Transaction& txn,
                                         const storage::TriggerRow& row,
                                         const std::string& job_id,
                                         ats::v1::Trigger* trigger) {
  TriggerToProto(row, job_id, trigger);
  return FillTriggerReadiness(txn, row.account_id, trigger);
}

}  // namespace ats::server
