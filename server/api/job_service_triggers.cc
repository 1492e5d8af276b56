// JobService: the trigger RPCs. Triggers are validated like template
// triggers (trigger_spec.h); every change bumps the job's revision.

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/api/job_service.h"
#include "server/api/trigger_forms.h"
#include "server/common/validation.h"
#include "server/contract/errors.h"
#include "server/domain/marketplace.h"
#include "server/domain/pipeline_convert.h"
#include "server/domain/trigger_spec.h"
#include "server/engine/pipeline_access.h"
#include "storage/failure.h"

namespace ats::server {
namespace {

// The trigger fields UpdateTrigger may name that choose the action.
constexpr const char* kActionPaths[] = {"integration_event", "add_tag",
                                        "webhook"};

// Applies the masked fields of `update` to the stored trigger `spec`; naming
// an action replaces the current one.
ats::v1::Trigger UpdatedSpec(const ats::v1::Trigger& spec,
                             const ats::v1::Trigger& update,
                             const google::protobuf::FieldMask& mask) {
  ats::v1::Trigger updated = spec;
  if (Masks(mask, "delay")) {
    if (update.has_delay()) {
      *updated.mutable_delay() = update.delay();
    } else {
      updated.clear_delay();
    }
  }
  if (Masks(mask, "integration_event")) {
    *updated.mutable_integration_event() = update.integration_event();
  }
  if (Masks(mask, "add_tag")) *updated.mutable_add_tag() = update.add_tag();
  if (Masks(mask, "webhook")) *updated.mutable_webhook() = update.webhook();
  if (Masks(mask, "rules")) *updated.mutable_rules() = update.rules();
  return updated;
}

}  // namespace

grpc::ServerUnaryReactor* JobService::CreateTrigger(
    grpc::CallbackServerContext* context,
    const ats::v1::CreateTriggerRequest* request, ats::v1::Trigger* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("parent", request->parent(), kStagePattern, &ids);
  CheckTriggerShape(request->trigger(), "trigger", env_.destinations, v);
  if (!v.ok()) return call.Finish(v.status());
  FormNeed need{IntegrationIdOf(request->trigger()), FormStage()};
  need.stage.job_id = ids[0];
  need.stage.stage_id = ids[1];
  return WriteWithTriggerForms(
      call, env_, {need},
      [this, need, request, response, account_id = call.caller().account_id,
       ids = std::move(ids)](storage::Transaction& txn, absl::Time now,
                             const FetchedForms& forms) {
        auto job = LoadJob(txn, account_id, ids[0]);
        if (!job.ok()) return job.status();
        auto stage = LoadStage(txn, account_id, ids[0], ids[1]);
        if (!stage.ok()) return stage.status();
        auto triggers = txn.jobs().ListTriggers(account_id, ids[1]);
        if (!triggers.ok()) return triggers.status();
        if (triggers->size() >= static_cast<size_t>(kMaxTriggersPerStage)) {
          return WithErrorInfo(absl::ResourceExhaustedError(absl::StrCat(
                                   "a stage has at most ", kMaxTriggersPerStage,
                                   " triggers, and ", request->parent(),
                                   " has them; delete one first")),
                               "TRIGGER_LIMIT_REACHED",
                               {{"limit", absl::StrCat(kMaxTriggersPerStage)}});
        }
        auto integration_id =
            CheckTriggerTarget(txn, account_id, request->trigger(), "trigger",
                               FindForm(forms, need));
        if (!integration_id.ok()) return integration_id.status();
        storage::TriggerRow trigger;
        trigger.account_id = account_id;
        trigger.id = NewResourceId(env_.random);
        trigger.stage_id = stage->id;
        trigger.position = static_cast<int>(triggers->size());
        trigger.integration_id = *integration_id;
        trigger.spec = TriggerSpecOf(request->trigger());
        trigger.create_time = now;
        absl::Status resolved = ResolveJobRules(
            txn, account_id, ids[0], stage->id, "", trigger.spec, "trigger");
        if (!resolved.ok()) return resolved;
        absl::Status status = txn.jobs().InsertTrigger(trigger);
        if (!status.ok()) return status;
        status = TouchJob(txn, *job, now);
        if (!status.ok()) return status;
        return TriggerToProtoWithReadiness(txn, trigger, ids[0], response);
      });
}

grpc::ServerUnaryReactor* JobService::GetTrigger(
    grpc::CallbackServerContext* context,
    const ats::v1::GetTriggerRequest* request, ats::v1::Trigger* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("name", request->name(), kTriggerPattern, &ids);
  if (!v.ok()) return call.Finish(v.status());
  return call.Read([&](storage::Transaction& txn) {
    auto trigger =
        LoadTrigger(txn, call.caller().account_id, ids[0], ids[1], ids[2]);
    if (!trigger.ok()) return trigger.status();
    return TriggerToProtoWithReadiness(txn, *trigger, ids[0], response);
  });
}

grpc::ServerUnaryReactor* JobService::ListTriggers(
    grpc::CallbackServerContext* context,
    const ats::v1::ListTriggersRequest* request,
    ats::v1::ListTriggersResponse* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("parent", request->parent(), kStagePattern, &ids);
  if (!v.ok()) return call.Finish(v.status());
  const std::string& account_id = call.caller().account_id;
  return call.Read([&](storage::Transaction& txn) {
    auto stage = LoadStage(txn, account_id, ids[0], ids[1]);
    if (!stage.ok()) return stage.status();
    auto triggers = txn.jobs().ListTriggers(account_id, ids[1]);
    if (!triggers.ok()) return triggers.status();
    for (const storage::TriggerRow& trigger : *triggers) {
      absl::Status status = TriggerToProtoWithReadiness(
          txn, trigger, ids[0], response->add_triggers());
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* JobService::UpdateTrigger(
    grpc::CallbackServerContext* context,
    const ats::v1::UpdateTriggerRequest* request, ats::v1::Trigger* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  const google::protobuf::FieldMask& mask = request->update_mask();
  Validator v;
  std::vector<std::string> ids;
  v.Name("trigger.name", request->trigger().name(), kTriggerPattern, &ids);
  if (v.UpdateMask(
          "update_mask", mask,
          {"delay", "integration_event", "add_tag", "webhook", "rules"})) {
    const auto actions =
        std::count_if(std::begin(kActionPaths), std::end(kActionPaths),
                      [&](const char* path) { return Masks(mask, path); });
    v.Require(actions <= 1, "update_mask",
              "may name only one of integration_event, add_tag and webhook: "
              "a trigger has one action");
  }
  if (!v.ok()) return call.Finish(v.status());
  // The form to fetch depends on the stored trigger the mask applies to.
  FormNeed need;
  need.stage.job_id = ids[0];
  need.stage.stage_id = ids[1];
  if (Masks(mask, "integration_event")) {
    need.integration_id = IntegrationIdOf(request->trigger());
  } else {
    absl::Status read = env_.store.Read([&](storage::Transaction& txn) {
      auto trigger =
          LoadTrigger(txn, call.caller().account_id, ids[0], ids[1], ids[2]);
      if (trigger.ok()) need.integration_id = IntegrationIdOf(trigger->spec);
      // What is missing, the write reports.
      return storage::IsStorageFailure(trigger.status()) ? trigger.status()
                                                         : absl::OkStatus();
    });
    if (!read.ok()) return call.Finish(read);
  }
  return WriteWithTriggerForms(
      call, env_, {need},
      [this, need, request, response, account_id = call.caller().account_id,
       ids = std::move(ids)](storage::Transaction& txn, absl::Time now,
                             const FetchedForms& forms) {
        auto job = LoadJob(txn, account_id, ids[0]);
        if (!job.ok()) return job.status();
        auto trigger = LoadTrigger(txn, account_id, ids[0], ids[1], ids[2]);
        if (!trigger.ok()) return trigger.status();
        ats::v1::Trigger updated = UpdatedSpec(
            trigger->spec, request->trigger(), request->update_mask());
        Validator shape;
        CheckTriggerShape(updated, "trigger", env_.destinations, shape);
        if (!shape.ok()) return shape.status();
        auto integration_id = CheckTriggerTarget(
            txn, account_id, updated, "trigger", FindForm(forms, need));
        if (!integration_id.ok()) return integration_id.status();
        absl::Status resolved =
            ResolveJobRules(txn, account_id, ids[0], trigger->stage_id,
                            trigger->id, updated, "trigger");
        if (!resolved.ok()) return resolved;
        if (!google::protobuf::util::MessageDifferencer::Equals(
                updated, trigger->spec)) {
          trigger->spec = updated;
          trigger->integration_id = *integration_id;
          absl::Status status = txn.jobs().UpdateTrigger(*trigger);
          if (!status.ok()) return status;
          status = TouchJob(txn, *job, now);
          if (!status.ok()) return status;
        }
        return TriggerToProtoWithReadiness(txn, *trigger, ids[0], response);
      });
}

grpc::ServerUnaryReactor* JobService::DeleteTrigger(
    grpc::CallbackServerContext* context,
    const ats::v1::DeleteTriggerRequest* request,
    google::protobuf::Empty* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("name", request->name(), kTriggerPattern, &ids);
  if (!v.ok()) return call.Finish(v.status());
  return call.Write(
      [account_id = call.caller().account_id, ids = std::move(ids)](
          storage::Transaction& txn, absl::Time now) {
        auto job = LoadJob(txn, account_id, ids[0]);
        if (!job.ok()) return job.status();
        auto trigger = LoadTrigger(txn, account_id, ids[0], ids[1], ids[2]);
        if (!trigger.ok()) return trigger.status();
        absl::Status status = txn.jobs().DeleteTrigger(account_id, trigger->id);
        if (!status.ok()) return status;
        auto remaining = txn.jobs().ListTriggers(account_id, ids[1]);
        if (!remaining.ok()) return remaining.status();
        status = Renumber(txn, *remaining);
        if (!status.ok()) return status;
        return TouchJob(txn, *job, now);
      });
}

}  // namespace ats::server

namespace ats::server {

grpc::ServerUnaryReactor* JobService::GetTriggerForm(
    grpc::CallbackServerContext* context,
    const ats::v1::GetTriggerFormRequest* request,
    ats::v1::TriggerForm* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  FormStage stage;
  std::vector<std::string> ids;
  if (ParseResourceName(request->stage(), kTemplateStagePattern, &ids)) {
    stage.template_id = ids[0];
    stage.stage_id = ids[1];
  } else {
    v.Name("stage", request->stage(), kStagePattern, &ids);
    if (ids.size() == 2) {
      stage.job_id = ids[0];
      stage.stage_id = ids[1];
    }
  }
  v.Name("integration", request->integration(), kIntegrationPattern, &ids);
  if (!v.ok()) return call.Finish(v.status());
  const std::string integration_id = ids[0];
  TriggerFormFetch fetch;
  bool fetching = false;
  absl::Status read = env_.store.Read([&](storage::Transaction& txn) {
    const std::string& account_id = call.caller().account_id;
    if (!stage.template_id.empty()) {
      absl::Status found = ReadTemplateStage(txn, account_id, &stage);
      if (!found.ok()) return found;
    }
    auto read = ReadTriggerForm(txn, account_id, integration_id, stage, &fetch,
                                response);
    if (!read.ok()) return read.status();
    fetching = *read;
    return absl::OkStatus();
  });
  if (!read.ok() || !fetching) return call.Finish(read);
  if (env_.trigger_forms == nullptr) {
    return call.Finish(absl::UnavailableError(
        "this server does not fetch partners' trigger forms"));
  }
  env_.trigger_forms->Fetch(
      std::move(fetch),
      [call, response](absl::StatusOr<ats::v1::TriggerForm> form) {
        if (form.ok()) *response = *std::move(form);
        call.Finish(form.status());
      });
  return call.Pending();
}

}  // namespace ats::server
