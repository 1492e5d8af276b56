// JobService: applications, i.e. candidates in jobs, and moving them through
// a job's stages. Every stage entry goes through EnterStage, inside the
// write transaction of the call that causes it.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/api/job_service.h"
#include "server/api/list_page.h"
#include "server/common/page_token.h"
#include "server/common/validation.h"
#include "server/contract/errors.h"
#include "server/domain/event_convert.h"
#include "server/domain/pipeline_convert.h"
#include "server/engine/pipeline_access.h"
#include "server/engine/trigger_engine.h"

namespace ats::server {
namespace {

// Returns the stage a candidate added to `job_id` starts in: the one named
// by `stage_ids` ({job, stage}) or, when empty, the job's first stage.
absl::StatusOr<storage::StageRow> StartStage(
    storage::Transaction& txn, const std::string& account_id,
    const std::string& job_id, const std::vector<std::string>& stage_ids) {
  if (!stage_ids.empty()) {
    return LoadTargetStage(txn, account_id, job_id, stage_ids[0], stage_ids[1]);
  }
  auto stages = txn.jobs().ListStages(account_id, job_id);
  if (!stages.ok()) return stages.status();
  if (stages->empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "job ", JobName(job_id), " has no stages; add one with CreateStage"));
  }
  return stages->front();
}

absl::Status AlreadyInJob(const storage::ApplicationRow& existing) {
  const std::string name =
      ApplicationName(existing.job_id, existing.candidate_id);
  return WithErrorInfo(
      absl::AlreadyExistsError(absl::StrCat(
          "candidate ", CandidateName(existing.candidate_id),
          " is already in job ", JobName(existing.job_id), " (stage ",
          StageName(existing.job_id, existing.stage_id),
          "); use MoveCandidate to change its stage")),
      "APPLICATION_EXISTS", {{"application", name}});
}

// Enters `app` into `stage` (EnterStage) unless it is there already, and
// adds the events that creates to the call's response `events`; returns
// whether it entered. A new application is in no stage, so it always enters.
absl::StatusOr<bool> MoveToStage(
    storage::Transaction& txn, const Caller& caller,
    storage::ApplicationRow& app, const storage::StageRow& stage,
    absl::Time now, RandomSource& random,
    google::protobuf::RepeatedPtrField<ats::v1::Event>* events) {
  if (app.stage_id == stage.id) return false;
  std::vector<storage::EventRow> created;
  absl::Status status =
      EnterStage(txn, caller, app, stage, now, random, &created);
  for (storage::EventRow& event : created) {
    EventToProto(std::move(event), events->Add());
  }
  if (!status.ok()) return status;
  return true;
}

// Returns the stage named by `stage_ids` ({job, stage}) that candidates of
// the job `job_id` move to, once the job is found (LoadTargetStage).
absl::StatusOr<storage::StageRow> LoadMoveTarget(
    storage::Transaction& txn, const std::string& account_id,
    const std::string& job_id, const std::vector<std::string>& stage_ids) {
  auto job = LoadJob(txn, account_id, job_id);
  if (!job.ok()) return job.status();
  return LoadTargetStage(txn, account_id, job_id, stage_ids[0], stage_ids[1]);
}

// Returns a move's after-commit step: when the move created events, wakes
// the dispatcher so they go out now rather than at its next poll. (A
// replayed request wakes it needlessly, which is harmless.)
template <typename Response>
UnaryCall::AfterCommitFn WakeDispatcherIfEvents(const ServiceEnv& env,
                                                const Response* response) {
  return [&env, response] {
    if (response->events_size() > 0) env.NotifyEventsCreated();
  };
}

}  // namespace

grpc::ServerUnaryReactor* JobService::AddCandidateToJob(
    grpc::CallbackServerContext* context,
    const ats::v1::AddCandidateToJobRequest* request,
    ats::v1::AddCandidateToJobResponse* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> job_ids;
  v.Name("job", request->job(), kJobPattern, &job_ids);
  std::vector<std::string> candidate_ids;
  v.Name("candidate", request->candidate(), kCandidatePattern, &candidate_ids);
  std::vector<std::string> stage_ids;
  v.Name("stage", request->stage(), kStagePattern, &stage_ids,
         /*required=*/false);
  v.RequestId("request_id", request->request_id());
  if (!v.ok()) return call.Finish(v.status());
  return call.Write(
      [this, response, caller = call.caller(), job_id = job_ids[0],
       candidate_id = candidate_ids[0], stage_ids = std::move(stage_ids)](
          storage::Transaction& txn, absl::Time now) {
        auto job = LoadJob(txn, caller.account_id, job_id);
        if (!job.ok()) return job.status();
        auto candidate = LoadCandidate(txn, caller.account_id, candidate_id);
        if (!candidate.ok()) return candidate.status();
        auto stage = StartStage(txn, caller.account_id, job_id, stage_ids);
        if (!stage.ok()) return stage.status();
        auto existing = txn.applications().GetApplication(caller.account_id,
                                                          job_id, candidate_id);
        if (existing.ok()) return AlreadyInJob(*existing);
        if (!absl::IsNotFound(existing.status())) return existing.status();
        storage::ApplicationRow app;
        app.account_id = caller.account_id;
        app.job_id = job_id;
        app.candidate_id = candidate_id;
        app.entry_count = 0;
        auto entered = MoveToStage(txn, caller, app, *stage, now, env_.random,
                                   response->mutable_events());
        if (!entered.ok()) return entered.status();
        ApplicationToProto(app, response->mutable_application());
        return absl::OkStatus();
      },
      WakeDispatcherIfEvents(env_, response));
}

grpc::ServerUnaryReactor* JobService::GetApplication(
    grpc::CallbackServerContext* context,
    const ats::v1::GetApplicationRequest* request,
    ats::v1::Application* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("name", request->name(), kApplicationPattern, &ids);
  if (!v.ok()) return call.Finish(v.status());
  const std::string& account_id = call.caller().account_id;
  return call.Read([&](storage::Transaction& txn) {
    auto app = LoadApplication(txn, account_id, ids[0], ids[1]);
    if (!app.ok()) return app.status();
    auto history =
        txn.applications().ListTransitions(account_id, ids[0], ids[1]);
    if (!history.ok()) return history.status();
    ApplicationToProto(*app, response);
    for (const storage::TransitionRow& transition : *history) {
      TransitionToProto(transition, response->add_history());
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* JobService::ListApplications(
    grpc::CallbackServerContext* context,
    const ats::v1::ListApplicationsRequest* request,
    ats::v1::ListApplicationsResponse* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> job_ids;
  v.Name("parent", request->parent(), kJobPattern, &job_ids);
  std::vector<std::string> stage_ids;
  if (v.Name("stage", request->stage(), kStagePattern, &stage_ids,
             /*required=*/false) &&
      !stage_ids.empty() && !job_ids.empty()) {
    v.Require(stage_ids[0] == job_ids[0], "stage",
              absl::StrCat("must be a stage of ", request->parent()));
  }
  v.PageSize("page_size", request->page_size());
  if (!v.ok()) return call.Finish(v.status());
  const std::string& account_id = call.caller().account_id;
  const std::string job_id = job_ids[0];
  const std::string stage_id = stage_ids.empty() ? "" : stage_ids[1];
  auto paging = ListPage::Start(
      request->page_token(), request->page_size(),
      QueryFingerprint({call.method(), account_id, job_id, stage_id}));
  if (!paging.ok()) return call.Finish(paging.status());
  return call.Read([&](storage::Transaction& txn) {
    auto job = LoadJob(txn, account_id, job_id);
    if (!job.ok()) return job.status();
    if (!stage_id.empty()) {
      auto stage = LoadStage(txn, account_id, job_id, stage_id);
      if (!stage.ok()) return stage.status();
    }
    return paging->Fill(txn.applications().ListApplications(
                            account_id, job_id, stage_id, paging->request()),
                        response, [&](const storage::ApplicationRow& row) {
                          ApplicationToProto(row, response->add_applications());
                        });
  });
}

grpc::ServerUnaryReactor* JobService::MoveCandidate(
    grpc::CallbackServerContext* context,
    const ats::v1::MoveCandidateRequest* request,
    ats::v1::MoveCandidateResponse* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> app_ids;
  v.Name("name", request->name(), kApplicationPattern, &app_ids);
  std::vector<std::string> stage_ids;
  v.Name("stage", request->stage(), kStagePattern, &stage_ids);
  v.RequestId("request_id", request->request_id());
  if (!v.ok()) return call.Finish(v.status());
  return call.Write(
      [this, response, caller = call.caller(), app_ids = std::move(app_ids),
       stage_ids = std::move(stage_ids)](storage::Transaction& txn,
                                         absl::Time now) {
        const std::string& job_id = app_ids[0];
        auto stage = LoadMoveTarget(txn, caller.account_id, job_id, stage_ids);
        if (!stage.ok()) return stage.status();
        auto app = LoadApplication(txn, caller.account_id, job_id, app_ids[1]);
        if (!app.ok()) return app.status();
        auto moved = MoveToStage(txn, caller, *app, *stage, now, env_.random,
                                 response->mutable_events());
        if (!moved.ok()) return moved.status();
        response->set_moved(*moved);
        ApplicationToProto(*app, response->mutable_application());
        return absl::OkStatus();
      },
      WakeDispatcherIfEvents(env_, response));
}

grpc::ServerUnaryReactor* JobService::BatchMoveCandidates(
    grpc::CallbackServerContext* context,
    const ats::v1::BatchMoveCandidatesRequest* request,
    ats::v1::BatchMoveCandidatesResponse* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> job_ids;
  v.Name("parent", request->parent(), kJobPattern, &job_ids);
  std::vector<std::string> stage_ids;
  v.Name("stage", request->stage(), kStagePattern, &stage_ids);
  std::vector<std::string> candidate_ids;
  if (v.Require(request->candidates_size() >= 1 &&
                    request->candidates_size() <= kMaxBatchMoveCandidates,
                "candidates",
                absl::StrCat("must list 1 to ", kMaxBatchMoveCandidates,
                             " candidates (got ", request->candidates_size(),
                             "); split larger moves into several calls"))) {
    std::map<std::string, int> first_index;
    for (int i = 0; i < request->candidates_size(); ++i) {
      const std::string field = absl::StrCat("candidates[", i, "]");
      std::vector<std::string> ids;
      if (!v.Name(field, request->candidates(i), kCandidatePattern, &ids)) {
        continue;
      }
      auto [it, inserted] = first_index.emplace(ids[0], i);
      if (v.Require(inserted, field,
                    absl::StrCat("repeats candidates[", it->second, "]"))) {
        candidate_ids.push_back(ids[0]);
      }
    }
  }
  v.RequestId("request_id", request->request_id());
  if (!v.ok()) return call.Finish(v.status());
  return call.Write(
      [this, response, caller = call.caller(), job_id = job_ids[0],
       stage_ids = std::move(stage_ids),
       candidate_ids = std::move(candidate_ids)](storage::Transaction& txn,
                                                 absl::Time now) {
        auto stage = LoadMoveTarget(txn, caller.account_id, job_id, stage_ids);
        if (!stage.ok()) return stage.status();
        // Every application is loaded before any moves, so a missing one
        // fails the call before anything is written.
        std::vector<storage::ApplicationRow> apps;
        apps.reserve(candidate_ids.size());
        for (const std::string& candidate_id : candidate_ids) {
          auto app =
              LoadApplication(txn, caller.account_id, job_id, candidate_id);
          if (!app.ok()) return app.status();
          apps.push_back(*std::move(app));
        }
        for (storage::ApplicationRow& app : apps) {
          auto moved = MoveToStage(txn, caller, app, *stage, now, env_.random,
                                   response->mutable_events());
          if (!moved.ok()) return moved.status();
          ApplicationToProto(app, response->add_applications());
        }
        return absl::OkStatus();
      },
      WakeDispatcherIfEvents(env_, response));
}

grpc::ServerUnaryReactor* JobService::DeleteApplication(
    grpc::CallbackServerContext* context,
    const ats::v1::DeleteApplicationRequest* request,
    google::protobuf::Empty* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("name", request->name(), kApplicationPattern, &ids);
  if (!v.ok()) return call.Finish(v.status());
  return call.Write(
      [account_id = call.caller().account_id, ids = std::move(ids)](
          storage::Transaction& txn, absl::Time now) {
        auto app = LoadApplication(txn, account_id, ids[0], ids[1]);
        if (!app.ok()) return app.status();
        auto cancelled = txn.events().CancelOpenEvents(
            account_id, ids[1], ids[0], "candidate removed from job", now);
        if (!cancelled.ok()) return cancelled.status();
        return txn.applications().DeleteApplication(account_id, ids[0], ids[1]);
      });
}

}  // namespace ats::server
