#include "server/domain/trigger_spec.h"

#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/contract/errors.h"
#include "server/contract/webhook_signature.h"
#include "server/domain/field_paths.h"
#include "server/domain/marketplace.h"
#include "server/domain/moving_rules.h"
#include "server/domain/pipeline_convert.h"

namespace ats::server {
namespace {

}  // namespace

std::string IntegrationIdOf(const ats::v1::Trigger& trigger) {
  std::vector<std::string> ids;
  if (!ParseResourceName(trigger.integration_event().integration(),
                         kIntegrationPattern, &ids)) {
    return "";
  }
  return ids[0];
}

void CheckTriggerShape(const ats::v1::Trigger& trigger,
                       const std::string& field,
                       const DestinationPolicy& destinations, Validator& v) {
  if (trigger.has_delay() &&
      v.Duration(Child(field, "delay"), trigger.delay(), kMaxTriggerDelay)) {
    // A delayed tag would need an event of its own to wait in the outbox;
    // tagging is immediate instead, and delays stay with deliveries.
    v.Require(!trigger.has_add_tag() || (trigger.delay().seconds() == 0 &&
                                         trigger.delay().nanos() == 0),
              Child(field, "delay"),
              "add_tag triggers run immediately; remove the delay");
  }
  switch (trigger.action_case()) {
    case ats::v1::Trigger::kAddTag:
      v.Tag(Child(field, "add_tag.tag"), trigger.add_tag().tag());
      break;
    case ats::v1::Trigger::kWebhook:
      v.Destination(Child(field, "webhook.uri"), trigger.webhook().uri(),
                    destinations);
      ValidateCandidateFields(v, Child(field, "webhook.candidate_fields"),
                              trigger.webhook().candidate_fields());
      break;
    case ats::v1::Trigger::kIntegrationEvent: {
      const ats::v1::IntegrationEventAction& action =
          trigger.integration_event();
      v.Name(Child(field, "integration_event.integration"),
             action.integration(), kIntegrationPattern, nullptr);
      const std::string values_field =
          Child(field, "integration_event.option_values");
      v.Require(action.option_values_size() <= kMaxTriggerOptionValues,
                values_field,
                absl::StrCat("must have at most ", kMaxTriggerOptionValues,
                             " entries"));
      for (const auto& [key, value] : SortedValues(action.option_values())) {
        const std::string entry = Entry(values_field, key);
        // Checked apart so that the violation says it is the key that is bad.
        Validator key_check;
        if (key_check.Length(entry, key, 1, kMaxOptionKeyLength)) {
          v.Length(entry, value, 0, kMaxOptionValueLength);
        } else {
          v.Require(false, entry,
                    absl::StrCat("key ",
                                 key_check.violations()[0].description));
        }
      }
      break;
    }
    case ats::v1::Trigger::ACTION_NOT_SET:
      v.Require(false, field.empty() ? "action" : field,
                "needs exactly one action: integration_event, add_tag or "
                "webhook");
      break;
  }
  if (trigger.rules().empty()) return;
  if (v.Require(trigger.has_integration_event(), Child(field, "rules"),
                "are for integration_event triggers only: only a partner "
                "reports results")) {
    CheckRulesShape(trigger.rules(), Child(field, "rules"), v);
  }
}

absl::StatusOr<IntegrationTarget> LoadIntegrationTarget(
    storage::Transaction& txn, const std::string& account_id,
    const std::string& integration_id, const std::string& purpose) {
  const std::string name = IntegrationName(integration_id);
  auto integration =
      txn.integrations().GetIntegration(account_id, integration_id);
  if (absl::IsNotFound(integration.status())) {
    return absl::NotFoundError(absl::StrCat("integration ", name, " not found"));
  }
  if (!integration.ok()) return integration.status();
  if (!integration->active) {
    return WithErrorInfo(
        absl::FailedPreconditionError(absl::StrCat(
            "integration ", name, " (\"", integration->display_name,
            "\") is inactive; reactivate it with ReactivateIntegration "
            "before ",
            purpose)),
        "INTEGRATION_INACTIVE", {{"integration", name}});
  }
  auto partner = txn.integrations().GetPartner(integration->partner_id);
  if (!partner.ok()) return partner.status();
  return IntegrationTarget{*std::move(integration), *std::move(partner)};
}

absl::StatusOr<IntegrationTarget> CheckIntegrationTarget(
    storage::Transaction& txn, const std::string& account_id,
    const std::string& integration_id,
    const google::protobuf::Map<std::string, std::string>& option_values,
    const std::string& field, const std::string& purpose,
    const FetchedTriggerForm* fetched) {
  auto target = LoadIntegrationTarget(txn, account_id, integration_id, purpose);
  if (!target.ok()) return target;
  const ats::v1::Partner& listing = target->partner.listing;
  if (fetched != nullptr && (fetched->integration_id != integration_id ||
                             fetched->uri != listing.trigger_form_uri())) {
    return absl::AbortedError(
        absl::StrCat("the trigger form of partner \"", listing.display_name(),
                     "\" changed while it was fetched; retry"));
  }
  absl::Status fits = CheckFormValues(
      fetched != nullptr ? fetched->form : StaticTriggerForm(listing),
      listing.display_name(), option_values, field);
  if (!fits.ok()) return fits;
  return target;
}

absl::StatusOr<std::string> CheckTriggerTarget(
    storage::Transaction& txn, const std::string& account_id,
    const ats::v1::Trigger& trigger, const std::string& field,
    const FetchedTriggerForm* fetched) {
  if (!trigger.has_integration_event()) return std::string();
  const std::string id = IntegrationIdOf(trigger);
  if (id.empty()) {
    return InvalidArgument(
        {{Child(field, "integration_event.integration"),
          "must be a resource name of the form integrations/{integration}"}});
  }
  auto target = CheckIntegrationTarget(
      txn, account_id, id, trigger.integration_event().option_values(),
      Child(field, "integration_event"), "adding a trigger that uses it",
      fetched);
  if (!target.ok()) return target.status();
  Validator v;
  CheckRulesCriteria(trigger.rules(), target->partner.listing,
                     Child(field, "rules"), v);
  if (!v.ok()) return v.status();
  return id;
}

absl::Status ResolvePipelineRules(std::vector<RuleStage>& stages, int own,
                                  ats::v1::Trigger& trigger,
                                  const std::string& field) {
  if (trigger.rules().empty()) return absl::OkStatus();
  Validator v;
  ResolveRuleDestinations(*trigger.mutable_rules(), stages, own,
                          Child(field, "rules"), v);
  if (!v.ok()) return v.status();
  stages[own].rules.push_back(&trigger.rules());
  const std::optional<std::string> cycle = EndlessCycle(stages);
  stages[own].rules.pop_back();
  if (!cycle.has_value()) return absl::OkStatus();
  return InvalidArgument(
      {{Child(field, "rules"),
        absl::StrCat("would move candidates around the stages ", *cycle,
                     " for ever: every rule on the way matches any result; "
                     "give one of them a condition")}});
}

absl::Status ResolveGivenPipelineRules(
    std::vector<RuleStage> stages,
    const std::vector<PipelineTrigger>& triggers) {
  for (const PipelineTrigger& given : triggers) {
    absl::Status status =
        ResolvePipelineRules(stages, given.stage, *given.trigger, given.field);
    if (!status.ok()) return status;
    stages[given.stage].rules.push_back(&given.trigger->rules());
  }
  return absl::OkStatus();
}

void RenameRuleDestinations(const std::map<std::string, std::string>& names,
                            ats::v1::Trigger& trigger) {
  for (ats::v1::MovingRule& rule : *trigger.mutable_rules()) {
    if (!rule.has_move_to_stage()) continue;
    auto found = names.find(rule.move_to_stage());
    if (found != names.end()) rule.set_move_to_stage(found->second);
  }
}

absl::Status ResolveJobRules(storage::Transaction& txn,
                             const std::string& account_id,
                             const std::string& job_id,
                             const std::string& stage_id,
                             const std::string& trigger_id,
                             ats::v1::Trigger& trigger,
                             const std::string& field) {
  if (trigger.rules().empty()) return absl::OkStatus();
  auto stages = txn.jobs().ListStages(account_id, job_id);
  if (!stages.ok()) return stages.status();
  auto triggers = txn.jobs().ListJobTriggers(account_id, job_id);
  if (!triggers.ok()) return triggers.status();
  std::vector<RuleStage> pipeline;
  int own = -1;
  for (const storage::StageRow& stage : *stages) {
    if (stage.id == stage_id) own = static_cast<int>(pipeline.size());
    RuleStage& entry = pipeline.emplace_back();
    entry.key = StageName(job_id, stage.id);
    entry.display_name = stage.display_name;
    for (const storage::TriggerRow& other : *triggers) {
      if (other.stage_id == stage.id && other.id != trigger_id) {
        entry.rules.push_back(&other.spec.rules());
      }
    }
  }
  if (own < 0) return absl::NotFoundError("stage not found");
  return ResolvePipelineRules(pipeline, own, trigger, field);
}

absl::Status FillTriggerReadiness(storage::Transaction& txn,
                                  const std::string& account_id,
                                  ats::v1::Trigger* trigger) {
  trigger->set_readiness(ats::v1::TRIGGER_READINESS_READY);
  trigger->clear_readiness_reason();
  auto skip = [trigger](std::string reason) {
    trigger->set_readiness(ats::v1::TRIGGER_READINESS_WILL_SKIP);
    trigger->set_readiness_reason(std::move(reason));
    return absl::OkStatus();
  };
  if (trigger->has_webhook()) {
    // Webhooks are signed with the account's secret; without one their
    // events are SKIPPED.
    auto account = txn.accounts().GetAccount(account_id);
    if (!account.ok()) return account.status();
    if (account->webhook_signing_secret.empty()) return skip(kNoWebhookSecret);
    return absl::OkStatus();
  }
  if (!trigger->has_integration_event()) return absl::OkStatus();
  const std::string id = IntegrationIdOf(*trigger);
  const std::string name = trigger->integration_event().integration();
  if (id.empty()) {
    return skip(absl::StrCat("integration ", name, " is not a valid name"));
  }
  auto integration = txn.integrations().GetIntegration(account_id, id);
  if (absl::IsNotFound(integration.status())) {
    return skip(absl::StrCat("integration ", name, " no longer exists"));
  }
  if (!integration.ok()) return integration.status();
  if (!integration->active) {
    return skip(absl::StrCat("integration ", name,
                             " is inactive; reactivate it to run this "
                             "trigger"));
  }
  if (!integration->endpoint_disabled_reason.empty()) {
    return skip(absl::StrCat(
        "the endpoint of integration ", name, " is disabled (",
        integration->endpoint_disabled_reason,
        "); reactivate the integration to resume deliveries"));
  }
  return absl::OkStatus();
}

}  // namespace ats::server
