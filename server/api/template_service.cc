#include "server/api/template_service.h"

#include <map>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/api/list_page.h"
#include "server/api/trigger_forms.h"
#include "server/common/etag.h"
#include "server/common/page_token.h"
#include "server/common/validation.h"
#include "server/contract/errors.h"
#include "server/contract/timestamps.h"
#include "server/domain/pipeline_convert.h"
#include "server/domain/trigger_spec.h"
#include "storage/failure.h"

namespace ats::server {
namespace {

using google::protobuf::RepeatedPtrField;

// Below kTemplateStagePattern: a template stage's triggers.
constexpr char kTemplateTriggerPattern[] =
    "jobTemplates/{template}/stages/{stage}/triggers/{trigger}";

// Limits documented in template_service.proto and pipeline.proto.
constexpr size_t kMaxDisplayNameLength = 200;
constexpr size_t kMaxDescriptionLength = 2000;
constexpr size_t kMaxStageNameLength = 100;
constexpr int kMaxStages = 30;
constexpr int kMaxTriggersPerStage = 10;

absl::Status TemplateNotFound(std::string_view id) {
  return absl::NotFoundError(
      absl::StrCat("job template ", JobTemplateName(id), " not found"));
}

// Storage names a missing template by its bare id; clients know names.
absl::Status NamedNotFound(absl::Status status, std::string_view id) {
  if (absl::IsNotFound(status)) return TemplateNotFound(id);
  return status;
}

// Adds what to do about a display name clash to storage's message.
absl::Status NameTakenOr(absl::Status status) {
  if (!absl::IsAlreadyExists(status)) return status;
  return absl::AlreadyExistsError(
      absl::StrCat(status.message(), "; choose another display_name"));
}

// Records every rule of pipeline.proto the requested `stages` break that
// needs no database; violations name fields below `field`.
void CheckStages(const RepeatedPtrField<ats::v1::Stage>& stages,
                 const std::string& field,
                 const DestinationPolicy& destinations, Validator& v) {
  v.Require(!stages.empty(), field,
            "must have at least 1 stage: a pipeline needs somewhere to put "
            "candidates");
  v.Require(
      stages.size() <= kMaxStages, field,
      absl::StrCat("must have at most ", kMaxStages,
                   " stages (the limit per pipeline); it has ", stages.size()));
  std::map<std::string, int> seen;  // DisplayNameKey -> index.
  for (int i = 0; i < stages.size(); ++i) {
    const ats::v1::Stage& stage = stages[i];
    const std::string stage_field = absl::StrCat(field, "[", i, "]");
    const std::string name_field = stage_field + ".display_name";
    if (v.Length(name_field, stage.display_name(), 1, kMaxStageNameLength)) {
      auto [it, inserted] =
          seen.emplace(DisplayNameKey(stage.display_name()), i);
      v.Require(inserted, name_field,
                absl::StrCat("duplicates the name of ", field, "[", it->second,
                             "]; stage names are unique in a pipeline "
                             "(case-insensitive)"));
    }
    const std::string triggers_field = stage_field + ".triggers";
    v.Require(stage.triggers_size() <= kMaxTriggersPerStage, triggers_field,
              absl::StrCat("must have at most ", kMaxTriggersPerStage,
                           " triggers (the limit per stage); it has ",
                           stage.triggers_size()));
    for (int j = 0; j < stage.triggers_size(); ++j) {
      CheckTriggerShape(stage.triggers(j),
                        absl::StrCat(triggers_field, "[", j, "]"), destinations,
                        v);
    }
  }
}

// Records the violations of the template fields a request sets.
void CheckTemplate(const ats::v1::JobTemplate& job_template,
                   const std::string& field, bool display_name,
                   bool description, bool stages,
                   const DestinationPolicy& destinations, Validator& v) {
  if (display_name) {
    v.Length(field + ".display_name", job_template.display_name(), 1,
             kMaxDisplayNameLength);
  }
  if (description) {
    v.MultilineLength(field + ".description", job_template.description(), 0,
                      kMaxDescriptionLength);
  }
  if (stages) {
    CheckStages(job_template.stages(), field + ".stages", destinations, v);
  }
}

// Returns the id a stage or trigger name ends with.
std::string LastId(const std::string& name) {
  return name.substr(name.rfind('/') + 1);
}

// Whether `a` and `b` carry the same moving rules.
bool SameRules(const ats::v1::Trigger& a, const ats::v1::Trigger& b) {
  if (a.rules_size() != b.rules_size()) return false;
  for (int i = 0; i < a.rules_size(); ++i) {
    if (!google::protobuf::util::MessageDifferencer::Equals(a.rules(i),
                                                            b.rules(i))) {
      return false;
    }
  }
  return true;
}

// Returns whether `asked`, a trigger of a template update, must be checked
// against its integration: it is new, or its integration event or rules
// changed from `before` (null for a new trigger). An integration only needs
// to be active, and its form and criteria met, when a trigger is added or
// changed.
bool NeedsCheck(const ats::v1::Trigger* before, const ats::v1::Trigger& asked) {
  return before == nullptr || !before->has_integration_event() ||
         !asked.has_integration_event() ||
         !google::protobuf::util::MessageDifferencer::Equals(
             before->integration_event(), asked.integration_event()) ||
         !SameRules(*before, asked);
}

// Returns the form `asked`, a trigger of `stage` in a request for template
// `template_id` ("" on create) named `display_name`, is checked against.
FormNeed FormNeedOf(const std::string& template_id,
                    const std::string& display_name,
                    const ats::v1::Stage& stage,
                    const ats::v1::Trigger& asked) {
  FormNeed need;
  need.integration_id = IntegrationIdOf(asked);
  need.stage.template_id = template_id;
  need.stage.template_display_name = display_name;
  if (!template_id.empty() && !stage.name().empty()) {
    need.stage.stage_id = LastId(stage.name());
  }
  need.stage.stage_display_name = stage.display_name();
  return need;
}

// Returns the forms the triggers of `stages`, asked for template
// `template_id` ("" on create) named `display_name`, are checked against:
// those of new or changed triggers (by `stored`'s, on update).
std::vector<FormNeed> FormNeedsOf(
    const std::string& template_id, const std::string& display_name,
    const RepeatedPtrField<ats::v1::Stage>& stages,
    const ats::v1::JobTemplate* stored) {
  std::map<std::string, const ats::v1::Trigger*> stored_triggers;
  if (stored != nullptr) {
    for (const ats::v1::Stage& stage : stored->stages()) {
      for (const ats::v1::Trigger& trigger : stage.triggers()) {
        stored_triggers.emplace(trigger.name(), &trigger);
      }
    }
  }
  std::vector<FormNeed> needs;
  for (const ats::v1::Stage& stage : stages) {
    for (const ats::v1::Trigger& asked : stage.triggers()) {
      auto before = stored_triggers.find(asked.name());
      if (!NeedsCheck(
              before == stored_triggers.end() ? nullptr : before->second,
              asked)) {
        continue;
      }
      needs.push_back(FormNeedOf(template_id, display_name, stage, asked));
    }
  }
  return needs;
}

// Turns the requested `stages` of template `template_id` into the stored
// pipeline, inside `txn`: every stage and trigger gets its resource name and
// output-only fields are dropped. On update (`stored` set), a stage or
// trigger whose name is one of `stored`'s keeps its id; any other given name
// is INVALID_ARGUMENT. On create names are ignored. Triggers that are new, or
// whose integration event changed (NeedsCheck), are checked with
// CheckTriggerTarget, against the form of `forms` fetched for them (see
// FormNeedsOf; `display_name` is the template's) when there is one. Every
// trigger's rules name stages of the template once stored
// (ResolveGivenPipelineRules).
absl::StatusOr<ats::v1::JobTemplate> BuildPipeline(
    storage::Transaction& txn, const std::string& account_id,
    const std::string& template_id, const std::string& display_name,
    const RepeatedPtrField<ats::v1::Stage>& stages,
    const ats::v1::JobTemplate* stored, const FetchedForms& forms,
    const std::string& field, RandomSource& random) {
  std::map<std::string, const ats::v1::Trigger*> stored_triggers;
  std::set<std::string> stored_stages;
  if (stored != nullptr) {
    for (const ats::v1::Stage& stage : stored->stages()) {
      stored_stages.insert(stage.name());
      for (const ats::v1::Trigger& trigger : stage.triggers()) {
        stored_triggers.emplace(trigger.name(), &trigger);
      }
    }
  }
  Validator v;
  std::set<std::string> used;
  // Triggers to check against their integration, with their field and form.
  struct ToCheck {
    const ats::v1::Trigger* trigger;
    std::string field;
    const FetchedTriggerForm* form;
  };
  std::vector<ToCheck> to_check;
  // Every trigger, whose rules' destinations are resolved once all stages
  // have names.
  std::vector<PipelineTrigger> ruled;
  ats::v1::JobTemplate pipeline;
  for (int i = 0; i < stages.size(); ++i) {
    const ats::v1::Stage& requested = stages[i];
    const std::string stage_field = absl::StrCat(field, "[", i, "]");
    ats::v1::Stage* stage = pipeline.add_stages();
    stage->set_display_name(requested.display_name());
    std::string stage_id;
    if (stored != nullptr && !requested.name().empty()) {
      const bool known = stored_stages.count(requested.name()) > 0;
      v.Require(known, stage_field + ".name",
                absl::StrCat("\"", requested.name(), "\" is not a stage of ",
                             JobTemplateName(template_id),
                             "; leave the name empty for a new stage"));
      v.Require(!known || used.insert(requested.name()).second,
                stage_field + ".name",
                "names a stage that an earlier stage of the request already "
                "names; each stage may appear once");
      if (known) stage_id = LastId(requested.name());
    }
    if (stage_id.empty()) stage_id = NewResourceId(random);
    stage->set_name(FormatName(kTemplateStagePattern, {template_id, stage_id}));

    for (int j = 0; j < requested.triggers_size(); ++j) {
      const ats::v1::Trigger& asked = requested.triggers(j);
      const std::string trigger_field =
          absl::StrCat(stage_field, ".triggers[", j, "]");
      ats::v1::Trigger* trigger = stage->add_triggers();
      *trigger = asked;
      trigger->clear_readiness();
      trigger->clear_readiness_reason();
      std::string trigger_id;
      const ats::v1::Trigger* before = nullptr;
      if (stored != nullptr && !asked.name().empty()) {
        auto found = stored_triggers.find(asked.name());
        const bool known = found != stored_triggers.end();
        v.Require(known, trigger_field + ".name",
                  absl::StrCat("\"", asked.name(), "\" is not a trigger of ",
                               JobTemplateName(template_id),
                               "; leave the name empty for a new trigger"));
        v.Require(!known || used.insert(asked.name()).second,
                  trigger_field + ".name",
                  "names a trigger that an earlier trigger of the request "
                  "already names; each trigger may appear once");
        if (known) {
          trigger_id = LastId(asked.name());
          before = found->second;
        }
      }
      if (trigger_id.empty()) trigger_id = NewResourceId(random);
      trigger->set_name(FormatName(kTemplateTriggerPattern,
                                   {template_id, stage_id, trigger_id}));
      if (NeedsCheck(before, asked)) {
        const FormNeed need = FormNeedOf(stored == nullptr ? "" : template_id,
                                         display_name, requested, asked);
        to_check.push_back({trigger, trigger_field, FindForm(forms, need)});
      }
      ruled.push_back({i, trigger, trigger_field});
    }
  }
  if (!v.ok()) return v.status();
  for (const ToCheck& check : to_check) {
    auto target = CheckTriggerTarget(txn, account_id, *check.trigger,
                                     check.field, check.form);
    if (!target.ok()) return target.status();
  }
  // Rules name the template's stages by resource name; jobs created from
  // the template get the stages of those names.
  std::vector<RuleStage> rule_stages;
  for (const ats::v1::Stage& stage : pipeline.stages()) {
    rule_stages.push_back({stage.name(), stage.display_name(), {}});
  }
  absl::Status resolved = ResolveGivenPipelineRules(rule_stages, ruled);
  if (!resolved.ok()) return resolved;
  return pipeline;
}

// Fills `job_template` from `row`, with each trigger's readiness as of now.
absl::Status ToProto(storage::Transaction& txn, const storage::TemplateRow& row,
                     ats::v1::JobTemplate* job_template) {
  job_template->set_name(JobTemplateName(row.id));
  job_template->set_display_name(row.display_name);
  job_template->set_description(row.description);
  *job_template->mutable_stages() = row.pipeline.stages();
  for (int i = 0; i < job_template->stages_size(); ++i) {
    ats::v1::Stage* stage = job_template->mutable_stages(i);
    stage->set_position(i);
    for (ats::v1::Trigger& trigger : *stage->mutable_triggers()) {
      absl::Status status = FillTriggerReadiness(txn, row.account_id, &trigger);
      if (!status.ok()) return status;
    }
  }
  job_template->set_default_(row.is_default);
  *job_template->mutable_create_time() = ToProtoTime(row.create_time);
  *job_template->mutable_update_time() = ToProtoTime(row.update_time);
  job_template->set_etag(EtagOf(row.revision));
  return absl::OkStatus();
}

// Loads template `id` of `account_id` and fills `response` from it.
absl::Status GetInto(storage::Transaction& txn, const std::string& account_id,
                     const std::string& id, ats::v1::JobTemplate* response) {
  auto row = txn.templates().GetTemplate(account_id, id);
  if (!row.ok()) return NamedNotFound(row.status(), id);
  return ToProto(txn, *row, response);
}

}  // namespace

absl::Status CreateStarterTemplate(storage::Transaction& txn,
                                   const std::string& account_id,
                                   absl::Time now, RandomSource& random) {
  storage::TemplateRow row;
  row.account_id = account_id;
  row.id = NewResourceId(random);
  row.display_name = "Standard pipeline";
  row.description =
      "The pipeline every account starts with. Edit it, or create another "
      "template and make it the default.";
  for (const char* stage_name :
       {"Inbox", "Screening", "Interview", "Offer", "Hired"}) {
    ats::v1::Stage* stage = row.pipeline.add_stages();
    stage->set_name(
        FormatName(kTemplateStagePattern, {row.id, NewResourceId(random)}));
    stage->set_display_name(stage_name);
  }
  row.is_default = true;
  row.create_time = now;
  row.update_time = now;
  row.revision = 1;
  return txn.templates().InsertTemplate(row);
}

grpc::ServerUnaryReactor* TemplateService::CreateJobTemplate(
    grpc::CallbackServerContext* context,
    const ats::v1::CreateJobTemplateRequest* request,
    ats::v1::JobTemplate* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  CheckTemplate(request->job_template(), "job_template",
                /*display_name=*/true, /*description=*/true,
                /*stages=*/true, env_.destinations, v);
  v.RequestId("request_id", request->request_id());
  if (!v.ok()) return call.Finish(v.status());
  const ats::v1::JobTemplate& asked = request->job_template();
  return WriteWithTriggerForms(
      call, env_,
      FormNeedsOf("", asked.display_name(), asked.stages(), nullptr),
      [this, request, response, account_id = call.caller().account_id](
          storage::Transaction& txn, absl::Time now,
          const FetchedForms& forms) {
        const ats::v1::JobTemplate& asked = request->job_template();
        storage::TemplateRow row;
        row.account_id = account_id;
        row.id = NewResourceId(env_.random);
        row.display_name = asked.display_name();
        row.description = asked.description();
        auto pipeline = BuildPipeline(
            txn, account_id, row.id, row.display_name, asked.stages(),
            /*stored=*/nullptr, forms, "job_template.stages", env_.random);
        if (!pipeline.ok()) return pipeline.status();
        row.pipeline = *std::move(pipeline);
        // An account without a default (one older than templates) gets its
        // first template as the default.
        auto current = txn.templates().GetDefaultTemplate(account_id);
        if (absl::IsNotFound(current.status())) {
          row.is_default = true;
        } else if (!current.ok()) {
          return current.status();
        }
        row.create_time = now;
        row.update_time = now;
        row.revision = 1;
        absl::Status status = NameTakenOr(txn.templates().InsertTemplate(row));
        if (!status.ok()) return status;
        return ToProto(txn, row, response);
      });
}

grpc::ServerUnaryReactor* TemplateService::GetJobTemplate(
    grpc::CallbackServerContext* context,
    const ats::v1::GetJobTemplateRequest* request,
    ats::v1::JobTemplate* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("name", request->name(), kJobTemplatePattern, &ids);
  if (!v.ok()) return call.Finish(v.status());
  return call.Read([&](storage::Transaction& txn) {
    return GetInto(txn, call.caller().account_id, ids[0], response);
  });
}

grpc::ServerUnaryReactor* TemplateService::ListJobTemplates(
    grpc::CallbackServerContext* context,
    const ats::v1::ListJobTemplatesRequest* request,
    ats::v1::ListJobTemplatesResponse* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  v.PageSize("page_size", request->page_size());
  if (!v.ok()) return call.Finish(v.status());
  const std::string& account_id = call.caller().account_id;
  auto paging = ListPage::Start(request->page_token(), request->page_size(),
                                QueryFingerprint({call.method(), account_id}));
  if (!paging.ok()) return call.Finish(paging.status());
  return call.Read([&](storage::Transaction& txn) {
    return paging->Fill(
        txn.templates().ListTemplates(account_id, paging->request()), response,
        [&](const storage::TemplateRow& row) {
          return ToProto(txn, row, response->add_job_templates());
        });
  });
}

grpc::ServerUnaryReactor* TemplateService::UpdateJobTemplate(
    grpc::CallbackServerContext* context,
    const ats::v1::UpdateJobTemplateRequest* request,
    ats::v1::JobTemplate* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  const ats::v1::JobTemplate& asked = request->job_template();
  const google::protobuf::FieldMask& mask = request->update_mask();
  Validator v;
  std::vector<std::string> ids;
  v.Name("job_template.name", asked.name(), kJobTemplatePattern, &ids);
  v.UpdateMask("update_mask", mask, {"display_name", "description", "stages"});
  v.Require(!request->etag().empty(), "etag",
            "is required: pass the etag of the template as last read; "
            "template edits are never blind");
  const bool set_display_name = Masks(mask, "display_name");
  const bool set_description = Masks(mask, "description");
  const bool set_stages = Masks(mask, "stages");
  CheckTemplate(asked, "job_template", set_display_name, set_description,
                set_stages, env_.destinations, v);
  if (!v.ok()) return call.Finish(v.status());
  std::vector<FormNeed> needs;
  if (set_stages) {
    absl::Status read = env_.store.Read([&](storage::Transaction& txn) {
      auto row = txn.templates().GetTemplate(call.caller().account_id, ids[0]);
      // What is missing, the write reports.
      if (!row.ok()) {
        return storage::IsStorageFailure(row.status()) ? row.status()
                                                       : absl::OkStatus();
      }
      needs = FormNeedsOf(
          ids[0], set_display_name ? asked.display_name() : row->display_name,
          asked.stages(), &row->pipeline);
      return absl::OkStatus();
    });
    if (!read.ok()) return call.Finish(read);
  }
  return WriteWithTriggerForms(
      call, env_, std::move(needs),
      [this, request, response, account_id = call.caller().account_id,
       id = ids[0], set_display_name, set_description,
       set_stages](storage::Transaction& txn, absl::Time now,
                   const FetchedForms& forms) {
        const ats::v1::JobTemplate& asked = request->job_template();
        auto row = txn.templates().GetTemplate(account_id, id);
        if (!row.ok()) return NamedNotFound(row.status(), id);
        absl::Status status = CheckEtag(request->etag(), row->revision);
        if (!status.ok()) return status;
        if (set_display_name) row->display_name = asked.display_name();
        if (set_description) row->description = asked.description();
        if (set_stages) {
          auto pipeline = BuildPipeline(txn, account_id, id, row->display_name,
                                        asked.stages(), &row->pipeline, forms,
                                        "job_template.stages", env_.random);
          if (!pipeline.ok()) return pipeline.status();
          row->pipeline = *std::move(pipeline);
        }
        row->update_time = now;
        row->revision += 1;
        status = NameTakenOr(txn.templates().UpdateTemplate(*row));
        if (!status.ok()) return NamedNotFound(status, id);
        return ToProto(txn, *row, response);
      });
}

grpc::ServerUnaryReactor* TemplateService::DeleteJobTemplate(
    grpc::CallbackServerContext* context,
    const ats::v1::DeleteJobTemplateRequest* request,
    google::protobuf::Empty* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("name", request->name(), kJobTemplatePattern, &ids);
  if (!v.ok()) return call.Finish(v.status());
  return call.Write([account_id = call.caller().account_id, id = ids[0]](
                        storage::Transaction& txn, absl::Time) {
    auto row = txn.templates().GetTemplate(account_id, id);
    if (!row.ok()) return NamedNotFound(row.status(), id);
    if (row->is_default) {
      return WithErrorInfo(
          absl::FailedPreconditionError(absl::StrCat(
              "job template ", JobTemplateName(id),
              " is the account's default and cannot be deleted; make another "
              "template the default first (SetDefaultJobTemplate)")),
          "DEFAULT_TEMPLATE", {{"jobTemplate", JobTemplateName(id)}});
    }
    return NamedNotFound(txn.templates().DeleteTemplate(account_id, id), id);
  });
}

grpc::ServerUnaryReactor* TemplateService::GetDefaultJobTemplate(
    grpc::CallbackServerContext* context,
    const ats::v1::GetDefaultJobTemplateRequest* request,
    ats::v1::JobTemplate* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  return call.Read([&](storage::Transaction& txn) {
    auto row = txn.templates().GetDefaultTemplate(call.caller().account_id);
    if (absl::IsNotFound(row.status())) {
      return absl::NotFoundError(
          "the account has no default job template; make one the default "
          "with SetDefaultJobTemplate");
    }
    if (!row.ok()) return row.status();
    return ToProto(txn, *row, response);
  });
}

grpc::ServerUnaryReactor* TemplateService::SetDefaultJobTemplate(
    grpc::CallbackServerContext* context,
    const ats::v1::SetDefaultJobTemplateRequest* request,
    ats::v1::JobTemplate* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("name", request->name(), kJobTemplatePattern, &ids);
  if (!v.ok()) return call.Finish(v.status());
  return call.Write([response, account_id = call.caller().account_id,
                     id = ids[0]](storage::Transaction& txn, absl::Time now) {
    absl::Status status =
        txn.templates().SetDefaultTemplate(account_id, id, now);
    if (!status.ok()) return NamedNotFound(status, id);
    return GetInto(txn, account_id, id, response);
  });
}

}  // namespace ats::server
