// JobService: the stage RPCs. Every change bumps the job's revision, so the
// job's etag covers its whole pipeline.

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/api/job_service.h"
#include "server/common/etag.h"
#include "server/common/validation.h"
#include "server/contract/errors.h"
#include "server/domain/pipeline_convert.h"
#include "server/engine/pipeline_access.h"

namespace ats::server {
namespace {

// ALREADY_EXISTS when a stage of `stages` other than `except_id` is named
// `display_name`, compared case-insensitively.
absl::Status CheckStageNameFree(const std::vector<storage::StageRow>& stages,
                                const std::string& display_name,
                                const std::string& except_id) {
  const std::string key = DisplayNameKey(display_name);
  for (const storage::StageRow& stage : stages) {
    if (stage.id == except_id || DisplayNameKey(stage.display_name) != key) {
      continue;
    }
    const std::string name = StageName(stage.job_id, stage.id);
    return WithErrorInfo(
        absl::AlreadyExistsError(absl::StrCat(
            "job ", JobName(stage.job_id), " already has a stage named \"",
            stage.display_name, "\" (", name,
            "); stage names are compared case-insensitively")),
        "STAGE_NAME_TAKEN", {{"stage", name}});
  }
  return absl::OkStatus();
}

// Returns the stages of the job in the order `requested` names them, or
// INVALID_ARGUMENT unless it names each stage exactly once.
absl::StatusOr<std::vector<storage::StageRow>> StagesInOrder(
    std::vector<storage::StageRow> stages, const std::string& job_id,
    const std::vector<std::string>& requested) {
  std::map<std::string, storage::StageRow> by_id;
  for (storage::StageRow& stage : stages) {
    by_id.emplace(stage.id, std::move(stage));
  }
  std::vector<std::string> unknown;
  std::vector<storage::StageRow> ordered;
  for (const std::string& id : requested) {
    auto it = by_id.find(id);
    if (it == by_id.end()) {
      unknown.push_back(StageName(job_id, id));
      continue;
    }
    ordered.push_back(std::move(it->second));
    by_id.erase(it);
  }
  if (unknown.empty() && by_id.empty()) return ordered;
  std::vector<std::string> missing;
  for (const auto& [id, stage] : by_id)
    missing.push_back(StageName(job_id, id));
  std::string description = absl::StrCat("must name every stage of ",
                                         JobName(job_id), " exactly once");
  if (!missing.empty()) {
    absl::StrAppend(&description, "; missing: ", absl::StrJoin(missing, ", "));
  }
  if (!unknown.empty()) {
    absl::StrAppend(&description,
                    "; not stages of the job: ", absl::StrJoin(unknown, ", "));
  }
  return InvalidArgument({{"stages", description}});
}

}  // namespace

grpc::ServerUnaryReactor* JobService::CreateStage(
    grpc::CallbackServerContext* context,
    const ats::v1::CreateStageRequest* request, ats::v1::Stage* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("parent", request->parent(), kJobPattern, &ids);
  v.Length("stage.display_name", request->stage().display_name(), 1,
           kMaxStageNameLength);
  if (request->has_position()) {
    v.Require(request->position().value() >= 0, "position", "must not be negative");
  }
  if (!v.ok()) return call.Finish(v.status());
  return call.Write([this, request, response,
                     account_id = call.caller().account_id, job_id = ids[0]](
                        storage::Transaction& txn, absl::Time now) {
    auto job = LoadJob(txn, account_id, job_id);
    if (!job.ok()) return job.status();
    auto stages = txn.jobs().ListStages(account_id, job_id);
    if (!stages.ok()) return stages.status();
    if (stages->size() >= static_cast<size_t>(kMaxStagesPerJob)) {
      return WithErrorInfo(
          absl::ResourceExhaustedError(absl::StrCat(
              "a job has at most ", kMaxStagesPerJob, " stages, and ",
              JobName(job_id), " has them; delete one first")),
          "STAGE_LIMIT_REACHED", {{"limit", absl::StrCat(kMaxStagesPerJob)}});
    }
    const std::string& display_name = request->stage().display_name();
    absl::Status status = CheckStageNameFree(*stages, display_name, "");
    if (!status.ok()) return status;
    storage::StageRow stage;
    stage.account_id = account_id;
    stage.id = NewResourceId(env_.random);
    stage.job_id = job_id;
    stage.display_name = display_name;
    stage.position = request->has_position()
                         ? std::min(request->position().value(),
                                    static_cast<int32_t>(stages->size()))
                         : static_cast<int>(stages->size());
    stage.create_time = now;
    status = txn.jobs().InsertStage(stage);
    if (!status.ok()) return status;
    stages->insert(stages->begin() + stage.position, stage);
    status = Renumber(txn, *stages);
    if (!status.ok()) return status;
    status = TouchJob(txn, *job, now);
    if (!status.ok()) return status;
    return StageToProtoWithTriggers(txn, stage, response);
  });
}

grpc::ServerUnaryReactor* JobService::GetStage(
    grpc::CallbackServerContext* context,
    const ats::v1::GetStageRequest* request, ats::v1::Stage* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("name", request->name(), kStagePattern, &ids);
  if (!v.ok()) return call.Finish(v.status());
  return call.Read([&](storage::Transaction& txn) {
    auto stage = LoadStage(txn, call.caller().account_id, ids[0], ids[1]);
    if (!stage.ok()) return stage.status();
    return StageToProtoWithTriggers(txn, *stage, response);
  });
}

grpc::ServerUnaryReactor* JobService::UpdateStage(
    grpc::CallbackServerContext* context,
    const ats::v1::UpdateStageRequest* request, ats::v1::Stage* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("stage.name", request->stage().name(), kStagePattern, &ids);
  if (v.UpdateMask("update_mask", request->update_mask(), {"display_name"})) {
    v.Length("stage.display_name", request->stage().display_name(), 1,
             kMaxStageNameLength);
  }
  if (!v.ok()) return call.Finish(v.status());
  return call.Write(
      [request, response, account_id = call.caller().account_id,
       ids = std::move(ids)](storage::Transaction& txn, absl::Time now) {
        auto job = LoadJob(txn, account_id, ids[0]);
        if (!job.ok()) return job.status();
        auto stage = LoadStage(txn, account_id, ids[0], ids[1]);
        if (!stage.ok()) return stage.status();
        const std::string& display_name = request->stage().display_name();
        if (stage->display_name != display_name) {
          auto stages = txn.jobs().ListStages(account_id, ids[0]);
          if (!stages.ok()) return stages.status();
          absl::Status status =
              CheckStageNameFree(*stages, display_name, stage->id);
          if (!status.ok()) return status;
          stage->display_name = display_name;
          status = txn.jobs().UpdateStage(*stage);
          if (!status.ok()) return status;
          status = TouchJob(txn, *job, now);
          if (!status.ok()) return status;
        }
        return StageToProtoWithTriggers(txn, *stage, response);
      });
}

grpc::ServerUnaryReactor* JobService::ReorderStages(
    grpc::CallbackServerContext* context,
    const ats::v1::ReorderStagesRequest* request, ats::v1::Job* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> job_ids;
  v.Name("name", request->name(), kJobPattern, &job_ids);
  std::vector<std::string> stage_ids;
  std::map<std::string, int> first_index;
  for (int i = 0; i < request->stages_size(); ++i) {
    const std::string field = absl::StrCat("stages[", i, "]");
    std::vector<std::string> ids;
    if (!v.Name(field, request->stages(i), kStagePattern, &ids)) continue;
    if (!job_ids.empty() &&
        !v.Require(ids[0] == job_ids[0], field,
                   absl::StrCat("must be a stage of ", request->name()))) {
      continue;
    }
    auto [it, inserted] = first_index.emplace(ids[1], i);
    if (v.Require(inserted, field,
                  absl::StrCat("repeats stages[", it->second,
                               "]; name every stage exactly once"))) {
      stage_ids.push_back(ids[1]);
    }
  }
  if (!v.ok()) return call.Finish(v.status());
  return call.Write([request, response, account_id = call.caller().account_id,
                     job_id = job_ids[0], stage_ids = std::move(stage_ids)](
                        storage::Transaction& txn, absl::Time now) {
    auto job = LoadJob(txn, account_id, job_id);
    if (!job.ok()) return job.status();
    absl::Status status = CheckEtag(request->etag(), job->revision);
    if (!status.ok()) return status;
    auto stages = txn.jobs().ListStages(account_id, job_id);
    if (!stages.ok()) return stages.status();
    auto ordered = StagesInOrder(*std::move(stages), job_id, stage_ids);
    if (!ordered.ok()) return ordered.status();
    bool changed = false;
    for (size_t i = 0; i < ordered->size(); ++i) {
      changed = changed || (*ordered)[i].position != static_cast<int>(i);
    }
    if (changed) {
      status = Renumber(txn, *ordered);
      if (!status.ok()) return status;
      status = TouchJob(txn, *job, now);
      if (!status.ok()) return status;
    }
    return JobToProtoWithPipeline(txn, *job, /*with_triggers=*/true, response);
  });
}

grpc::ServerUnaryReactor* JobService::DeleteStage(
    grpc::CallbackServerContext* context,
    const ats::v1::DeleteStageRequest* request,
    google::protobuf::Empty* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("name", request->name(), kStagePattern, &ids);
  if (!v.ok()) return call.Finish(v.status());
  return call.Write([account_id = call.caller().account_id,
                     ids = std::move(ids)](storage::Transaction& txn,
                                           absl::Time now) {
    auto job = LoadJob(txn, account_id, ids[0]);
    if (!job.ok()) return job.status();
    auto stage = LoadStage(txn, account_id, ids[0], ids[1]);
    if (!stage.ok()) return stage.status();
    const std::string name = StageName(ids[0], ids[1]);
    const int64_t candidates = stage->candidate_count;
    if (candidates > 0) {
      return WithErrorInfo(
          absl::FailedPreconditionError(absl::StrCat(
              "stage ", name, " (\"", stage->display_name, "\") still holds ",
              candidates, candidates == 1 ? " candidate" : " candidates",
              "; move them to another stage first")),
          "STAGE_NOT_EMPTY",
          {{"stage", name}, {"candidates", absl::StrCat(candidates)}});
    }
    auto stages = txn.jobs().ListStages(account_id, ids[0]);
    if (!stages.ok()) return stages.status();
    if (stages->size() <= 1) {
      return WithErrorInfo(
          absl::FailedPreconditionError(absl::StrCat(
              "stage ", name, " is the only stage of ", JobName(ids[0]),
              ", and a job keeps at least one stage; add another first")),
          "LAST_STAGE", {{"stage", name}});
    }
    absl::Status status = txn.jobs().DeleteStage(account_id, stage->id);
    if (!status.ok()) return status;
    stages->erase(std::remove_if(stages->begin(), stages->end(),
                                 [&](const storage::StageRow& s) {
                                   return s.id == stage->id;
                                 }),
                  stages->end());
    status = Renumber(txn, *stages);
    if (!status.ok()) return status;
    return TouchJob(txn, *job, now);
  });
}

}  // namespace ats::server
