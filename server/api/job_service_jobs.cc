// JobService: the job RPCs. Stages are in job_service_stages.cc, triggers in
// job_service_triggers.cc, candidates in job_service_candidates.cc and
// applications in job_service_applications.cc.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/api/job_service.h"
#include "server/api/list_page.h"
#include "server/api/trigger_forms.h"
#include "server/common/etag.h"
#include "server/common/page_token.h"
#include "server/common/validation.h"
#include "server/contract/errors.h"
#include "server/domain/pipeline_convert.h"
#include "server/domain/trigger_spec.h"
#include "server/engine/pipeline_access.h"

namespace ats::server {
namespace {

// A trigger to create: its stored spec and, for integration events, the
// integration it uses.
struct PlannedTrigger {
  ats::v1::Trigger spec;
  std::string integration_id;
};

// A stage to create with its triggers, in pipeline order.
struct PlannedStage {
  std::string display_name;
  // What its triggers' rules name it by: its display name when the stages
  // are given, its template stage's name when copied from a template.
  std::string rule_key;
  std::vector<PlannedTrigger> triggers;
};

// Checks the stages given with skip_template: 1 to 30, names 1 to 100
// characters and unique case-insensitively, at most 10 triggers each, every
// trigger well-formed.
void ValidateGivenStages(const ats::v1::Job& job,
                         const DestinationPolicy& destinations, Validator& v) {
  if (!v.Require(
          job.stages_size() >= 1 && job.stages_size() <= kMaxStagesPerJob,
          "job.stages",
          absl::StrCat("must list 1 to ", kMaxStagesPerJob,
                       " stages with skip_template"))) {
    return;
  }
  std::map<std::string, int> first_with_name;
  for (int i = 0; i < job.stages_size(); ++i) {
    const ats::v1::Stage& stage = job.stages(i);
    const std::string field = absl::StrCat("job.stages[", i, "]");
    const std::string name_field = absl::StrCat(field, ".display_name");
    if (v.Length(name_field, stage.display_name(), 1, kMaxStageNameLength)) {
      auto [it, inserted] =
          first_with_name.emplace(DisplayNameKey(stage.display_name()), i);
      v.Require(
          inserted, name_field,
          absl::StrCat("repeats the name of job.stages[", it->second,
                       "] (stage names are compared case-insensitively)"));
    }
    if (!v.Require(stage.triggers_size() <= kMaxTriggersPerStage,
                   absl::StrCat(field, ".triggers"),
                   absl::StrCat("must have at most ", kMaxTriggersPerStage,
                                " triggers"))) {
      continue;
    }
    for (int j = 0; j < stage.triggers_size(); ++j) {
      CheckTriggerShape(stage.triggers(j),
                        absl::StrCat(field, ".triggers[", j, "]"), destinations,
                        v);
    }
  }
}

std::string TriggerField(size_t stage, size_t trigger) {
  return absl::StrCat("job.stages[", stage, "].triggers[", trigger, "]");
}

// Returns the form `trigger`, given with skip_template on `stage` of `job`,
// is checked against.
FormNeed GivenStageNeed(const ats::v1::Job& job, const ats::v1::Stage& stage,
                        const ats::v1::Trigger& trigger) {
  FormNeed need;
  need.integration_id = IntegrationIdOf(trigger);
  need.stage.new_job_title = job.title();
  need.stage.stage_display_name = stage.display_name();
  return need;
}

// Returns the forms the triggers given with skip_template need.
std::vector<FormNeed> GivenStagesNeeds(const ats::v1::Job& job) {
  std::vector<FormNeed> needs;
  for (const ats::v1::Stage& stage : job.stages()) {
    for (const ats::v1::Trigger& trigger : stage.triggers()) {
      needs.push_back(GivenStageNeed(job, stage, trigger));
    }
  }
  return needs;
}

// Returns the stages given with skip_template, their triggers' targets
// checked inside `txn` (against the forms of `forms` where fetched) and
// their rules' destinations resolved.
absl::StatusOr<std::vector<PlannedStage>> PlanGivenStages(
    storage::Transaction& txn, const std::string& account_id,
    const ats::v1::Job& job, const FetchedForms& forms) {
  std::vector<PlannedStage> planned;
  std::vector<RuleStage> rule_stages;
  for (int i = 0; i < job.stages_size(); ++i) {
    const ats::v1::Stage& stage = job.stages(i);
    PlannedStage& next = planned.emplace_back();
    next.display_name = stage.display_name();
    next.rule_key = stage.display_name();
    rule_stages.push_back({next.rule_key, next.display_name, {}});
    for (int j = 0; j < stage.triggers_size(); ++j) {
      const ats::v1::Trigger& trigger = stage.triggers(j);
      auto integration_id = CheckTriggerTarget(
          txn, account_id, trigger, TriggerField(i, j),
          FindForm(forms, GivenStageNeed(job, stage, trigger)));
      if (!integration_id.ok()) return integration_id.status();
      next.triggers.push_back({TriggerSpecOf(trigger), *integration_id});
    }
  }
  // The stages have no names yet: rules name them by display name.
  std::vector<PipelineTrigger> ruled;
  for (size_t i = 0; i < planned.size(); ++i) {
    for (size_t j = 0; j < planned[i].triggers.size(); ++j) {
      ruled.push_back({static_cast<int>(i), &planned[i].triggers[j].spec,
                       TriggerField(i, j)});
    }
  }
  absl::Status resolved = ResolveGivenPipelineRules(rule_stages, ruled);
  if (!resolved.ok()) return resolved;
  return planned;
}

// Returns the stages of template `template_id` (the account's default when
// empty) and sets `*template_id` to the template copied. Template triggers
// are copied as they are: one whose integration was deactivated since is
// kept and shows as WILL_SKIP on the job.
absl::StatusOr<std::vector<PlannedStage>> PlanTemplateStages(
    storage::Transaction& txn, const std::string& account_id,
    std::string* template_id) {
  absl::StatusOr<storage::TemplateRow> row;
  if (template_id->empty()) {
    row = txn.templates().GetDefaultTemplate(account_id);
    if (absl::IsNotFound(row.status())) {
      return absl::FailedPreconditionError(
          "the account has no default job template; name one in `template` "
          "or give the stages with skip_template");
    }
  } else {
    row = txn.templates().GetTemplate(account_id, *template_id);
    if (absl::IsNotFound(row.status())) {
      return absl::NotFoundError(absl::StrCat(
          "job template ", JobTemplateName(*template_id), " not found"));
    }
  }
  if (!row.ok()) return row.status();
  *template_id = row->id;
  std::vector<PlannedStage> planned;
  for (const ats::v1::Stage& stage : row->pipeline.stages()) {
    PlannedStage& next = planned.emplace_back();
    next.display_name = stage.display_name();
    next.rule_key = stage.name();
    for (const ats::v1::Trigger& trigger : stage.triggers()) {
      next.triggers.push_back(
          {TriggerSpecOf(trigger), TriggerIntegrationId(trigger)});
    }
  }
  return planned;
}

// Stores `stages` as the pipeline of the new job `job`, with new ids; the
// rules' destinations become the new stages' names.
absl::Status InsertPipeline(storage::Transaction& txn,
                            const storage::JobRow& job,
                            const std::vector<PlannedStage>& stages,
                            RandomSource& random) {
  std::vector<std::string> ids;
  std::map<std::string, std::string> names;
  for (const PlannedStage& planned : stages) {
    ids.push_back(NewResourceId(random));
    names[planned.rule_key] = StageName(job.id, ids.back());
  }
  for (size_t i = 0; i < stages.size(); ++i) {
    storage::StageRow stage;
    stage.account_id = job.account_id;
    stage.id = ids[i];
    stage.job_id = job.id;
    stage.display_name = stages[i].display_name;
    stage.position = static_cast<int>(i);
    stage.create_time = job.create_time;
    absl::Status status = txn.jobs().InsertStage(stage);
    if (!status.ok()) return status;
    const std::vector<PlannedTrigger>& triggers = stages[i].triggers;
    for (size_t j = 0; j < triggers.size(); ++j) {
      storage::TriggerRow trigger;
      trigger.account_id = job.account_id;
      trigger.id = NewResourceId(random);
      trigger.stage_id = stage.id;
      trigger.position = static_cast<int>(j);
      trigger.integration_id = triggers[j].integration_id;
      trigger.spec = triggers[j].spec;
      RenameRuleDestinations(names, trigger.spec);
      trigger.create_time = job.create_time;
      status = txn.jobs().InsertTrigger(trigger);
      if (!status.ok()) return status;
    }
  }
  return absl::OkStatus();
}

// Checks the masked fields of an UpdateJob request.
void ValidateJobUpdate(const ats::v1::UpdateJobRequest& request, Validator& v) {
  const ats::v1::Job& job = request.job();
  const google::protobuf::FieldMask& mask = request.update_mask();
  if (!v.UpdateMask("update_mask", mask, {"title", "description", "state"})) {
    return;
  }
  if (Masks(mask, "title")) {
    v.Length("job.title", job.title(), 1, kMaxJobTitleLength);
  }
  if (Masks(mask, "description")) {
    v.MultilineLength("job.description", job.description(), 0,
                      kMaxJobDescriptionLength);
  }
  if (Masks(mask, "state")) {
    v.EnumValue<ats::v1::JobState>("job.state", job.state(),
                                   ats::v1::JobState_IsValid,
                                   /*allow_unspecified=*/false);
  }
}

}  // namespace

grpc::ServerUnaryReactor* JobService::CreateJob(
    grpc::CallbackServerContext* context,
    const ats::v1::CreateJobRequest* request, ats::v1::Job* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  const ats::v1::Job& job = request->job();
  Validator v;
  v.Length("job.title", job.title(), 1, kMaxJobTitleLength);
  v.MultilineLength("job.description", job.description(), 0,
                    kMaxJobDescriptionLength);
  v.EnumValue<ats::v1::JobState>("job.state", job.state(),
                                 ats::v1::JobState_IsValid,
                                 /*allow_unspecified=*/true);
  std::vector<std::string> template_ids;
  v.Name("template", request->template_(), kJobTemplatePattern, &template_ids,
         /*required=*/false);
  if (request->skip_template()) {
    v.Require(request->template_().empty(), "template",
              "must be empty with skip_template, which copies no template");
    ValidateGivenStages(job, env_.destinations, v);
  } else {
    v.Require(job.stages().empty(), "job.stages",
              "must be empty unless skip_template is set: the stages are "
              "copied from the template");
  }
  v.RequestId("request_id", request->request_id());
  if (!v.ok()) return call.Finish(v.status());

  // Copied template triggers keep their stored values: no form is fetched.
  return WriteWithTriggerForms(
      call, env_,
      request->skip_template() ? GivenStagesNeeds(job)
                               : std::vector<FormNeed>(),
      [this, request, response, account_id = call.caller().account_id,
       template_ids = std::move(template_ids)](storage::Transaction& txn,
                                               absl::Time now,
                                               const FetchedForms& forms) {
        const ats::v1::Job& job = request->job();
        std::string template_id = template_ids.empty() ? "" : template_ids[0];
        absl::StatusOr<std::vector<PlannedStage>> stages =
            request->skip_template()
                ? PlanGivenStages(txn, account_id, job, forms)
                : PlanTemplateStages(txn, account_id, &template_id);
        if (!stages.ok()) return stages.status();
        storage::JobRow row;
        row.account_id = account_id;
        row.id = NewResourceId(env_.random);
        row.title = job.title();
        row.description = job.description();
        row.state = job.state() == ats::v1::JOB_STATE_UNSPECIFIED
                        ? ats::v1::JOB_STATE_DRAFT
                        : job.state();
        row.template_id = request->skip_template() ? "" : template_id;
        row.create_time = now;
        row.update_time = now;
        row.revision = 1;
        absl::Status status = txn.jobs().InsertJob(row);
        if (!status.ok()) return status;
        status = InsertPipeline(txn, row, *stages, env_.random);
        if (!status.ok()) return status;
        return JobToProtoWithPipeline(txn, row, /*with_triggers=*/true,
                                      response);
      });
}

grpc::ServerUnaryReactor* JobService::GetJob(
    grpc::CallbackServerContext* context, const ats::v1::GetJobRequest* request,
    ats::v1::Job* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("name", request->name(), kJobPattern, &ids);
  if (!v.ok()) return call.Finish(v.status());
  return call.Read([&](storage::Transaction& txn) {
    auto job = LoadJob(txn, call.caller().account_id, ids[0]);
    if (!job.ok()) return job.status();
    return JobToProtoWithPipeline(txn, *job, /*with_triggers=*/true, response);
  });
}

grpc::ServerUnaryReactor* JobService::ListJobs(
    grpc::CallbackServerContext* context,
    const ats::v1::ListJobsRequest* request,
    ats::v1::ListJobsResponse* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  v.EnumValue<ats::v1::JobState>("state", request->state(),
                                 ats::v1::JobState_IsValid,
                                 /*allow_unspecified=*/true);
  v.Length("title_contains", request->title_contains(), 0, kMaxJobTitleLength);
  v.PageSize("page_size", request->page_size());
  if (!v.ok()) return call.Finish(v.status());
  const std::string& account_id = call.caller().account_id;
  const std::string state = absl::StrCat(static_cast<int>(request->state()));
  auto paging =
      ListPage::Start(request->page_token(), request->page_size(),
                      QueryFingerprint({call.method(), account_id, state,
                                        request->title_contains()}));
  if (!paging.ok()) return call.Finish(paging.status());
  storage::JobFilter filter;
  filter.state = request->state();
  filter.title_contains = request->title_contains();
  return call.Read([&](storage::Transaction& txn) {
    return paging->Fill(
        txn.jobs().ListJobs(account_id, filter, paging->request()), response,
        [&](const storage::JobRow& row) {
          return JobToProtoWithPipeline(txn, row, /*with_triggers=*/false,
                                        response->add_jobs());
        });
  });
}

grpc::ServerUnaryReactor* JobService::UpdateJob(
    grpc::CallbackServerContext* context,
    const ats::v1::UpdateJobRequest* request, ats::v1::Job* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("job.name", request->job().name(), kJobPattern, &ids);
  ValidateJobUpdate(*request, v);
  if (!v.ok()) return call.Finish(v.status());
  return call.Write([request, response, account_id = call.caller().account_id,
                     job_id = ids[0]](storage::Transaction& txn,
                                      absl::Time now) {
    auto row = LoadJob(txn, account_id, job_id);
    if (!row.ok()) return row.status();
    absl::Status status = CheckEtag(request->etag(), row->revision);
    if (!status.ok()) return status;
    const ats::v1::Job& update = request->job();
    const google::protobuf::FieldMask& mask = request->update_mask();
    const storage::JobRow before = *row;
    if (Masks(mask, "title")) row->title = update.title();
    if (Masks(mask, "description")) row->description = update.description();
    if (Masks(mask, "state")) row->state = update.state();
    if (row->title != before.title || row->description != before.description ||
        row->state != before.state) {
      status = TouchJob(txn, *row, now);
      if (!status.ok()) return status;
    }
    return JobToProtoWithPipeline(txn, *row, /*with_triggers=*/true, response);
  });
}

grpc::ServerUnaryReactor* JobService::DeleteJob(
    grpc::CallbackServerContext* context,
    const ats::v1::DeleteJobRequest* request,
    google::protobuf::Empty* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("name", request->name(), kJobPattern, &ids);
  if (!v.ok()) return call.Finish(v.status());
  return call.Write([account_id = call.caller().account_id,
                     force = request->force(), job_id = ids[0]](
                        storage::Transaction& txn, absl::Time now) {
    auto job = LoadJob(txn, account_id, job_id);
    if (!job.ok()) return job.status();
    auto stages = txn.jobs().ListStages(account_id, job_id);
    if (!stages.ok()) return stages.status();
    const int64_t candidates = TotalCandidates(*stages);
    if (candidates > 0 && !force) {
      return WithErrorInfo(
          absl::FailedPreconditionError(absl::StrCat(
              "job ", JobName(job_id), " still has ", candidates,
              candidates == 1 ? " candidate" : " candidates",
              "; remove them from the job first, or pass force to delete "
              "their applications with the job")),
          "JOB_HAS_CANDIDATES",
          {{"job", JobName(job_id)}, {"candidates", absl::StrCat(candidates)}});
    }
    auto cancelled = txn.events().CancelOpenEvents(account_id, "", job_id,
                                                   "job deleted", now);
    if (!cancelled.ok()) return cancelled.status();
    return txn.jobs().DeleteJob(account_id, job_id);
  });
}

}  // namespace ats::server
