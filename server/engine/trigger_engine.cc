#include "server/engine/trigger_engine.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/contract/timestamps.h"
#include "server/contract/webhook_signature.h"
#include "server/domain/event_convert.h"
#include "server/domain/marketplace.h"
#include "server/domain/pipeline_convert.h"
#include "server/engine/pipeline_access.h"

namespace ats::server {
namespace {

// One stage entry being processed: what every action may read, and the
// candidate as the triggers run so far have left it.
struct Firing {
  storage::Transaction& txn;
  const Caller& caller;
  const storage::ApplicationRow& app;
  const storage::StageRow& stage;
  const storage::JobRow& job;
  storage::CandidateRow candidate;
  absl::Time now;
  RandomSource& random;
  std::vector<storage::EventRow>* created;
};

// What one kind of trigger does when its stage is entered.
class TriggerAction {
 public:
  virtual ~TriggerAction() = default;

  // Runs `trigger` for the entry `firing`; errors roll back the move.
  virtual absl::Status Run(Firing& firing,
                           const storage::TriggerRow& trigger) const = 0;
};

}  // namespace

ats::v1::CandidateSnapshot Snapshot(
    const storage::CandidateRow& candidate,
    const google::protobuf::RepeatedField<int>& fields) {
  auto wants = [&fields](ats::v1::CandidateField field) {
    return std::find(fields.begin(), fields.end(), field) != fields.end();
  };
  ats::v1::CandidateSnapshot snapshot;
  snapshot.set_name(CandidateName(candidate.id));
  if (wants(ats::v1::CANDIDATE_FIELD_GIVEN_NAME)) {
    snapshot.set_given_name(candidate.given_name);
  }
  if (wants(ats::v1::CANDIDATE_FIELD_FAMILY_NAME)) {
    snapshot.set_family_name(candidate.family_name);
  }
  if (wants(ats::v1::CANDIDATE_FIELD_EMAIL))
    snapshot.set_email(candidate.email);
  if (wants(ats::v1::CANDIDATE_FIELD_PHONE))
    snapshot.set_phone(candidate.phone);
  if (wants(ats::v1::CANDIDATE_FIELD_TAGS)) {
    for (const std::string& tag : candidate.tags) snapshot.add_tags(tag);
  }
  return snapshot;
}

void TargetIntegration(storage::EventRow& event,
                       const std::string& integration_id,
                       const storage::PartnerRow& partner,
                       const storage::CandidateRow& candidate) {
  event.integration_id = integration_id;
  event.payload.set_integration(IntegrationName(integration_id));
  event.payload.set_partner(PartnerName(partner.id));
  *event.payload.mutable_candidate() =
      Snapshot(candidate, partner.listing.candidate_fields());
  ats::v1::ResultReporting* reporting =
      event.payload.mutable_result_reporting();
  reporting->set_method(ReportPartnerResultMethod());
  reporting->set_event(EventName(event.id));
}

namespace {

// Returns the event `trigger` creates for the entry, with the parts of its
// payload every kind shares; due now and PENDING, or SCHEDULED after the
// trigger's delay.
storage::EventRow StageTriggerEvent(const Firing& firing,
                                    const storage::TriggerRow& trigger) {
  const EventOrigin origin{firing.app.account_id,
                           firing.caller.key_id,
                           ats::v1::EVENT_SOURCE_STAGE_TRIGGER,
                           firing.job.id,
                           firing.job.title,
                           /*bulk_operation_id=*/"",
                           firing.now};
  storage::EventRow event =
      NewEvent(origin, firing.app.candidate_id, firing.random);
  event.trigger_id = trigger.id;
  event.stage_id = firing.stage.id;
  event.stage_entry = firing.app.entry_count;
  const absl::Duration delay = FromProtoDuration(trigger.spec.delay());
  if (delay > absl::ZeroDuration()) {
    event.state = ats::v1::EVENT_STATE_SCHEDULED;
    event.due_time = firing.now + delay;
  }
  ats::v1::StageTriggerRef* ref = event.payload.mutable_stage_trigger();
  ref->set_trigger(TriggerName(firing.job.id, firing.stage.id, trigger.id));
  ref->set_stage(StageName(firing.job.id, firing.stage.id));
  ref->set_stage_display_name(firing.stage.display_name);
  return event;
}

// Stores `event` and adds it to the entry's created events.
absl::Status Record(Firing& firing, storage::EventRow& event) {
  absl::Status status = InsertNewEvent(firing.txn, event, firing.random);
  if (!status.ok()) return status;
  if (firing.created != nullptr) firing.created->push_back(std::move(event));
  return absl::OkStatus();
}

// Records `event` as SKIPPED for `reason`: nothing is sent, ever. Deciding
// it here, when already known, makes the stored event and the move's
// response agree from the start.
absl::Status Skip(Firing& firing, storage::EventRow event, std::string reason) {
  event.state = ats::v1::EVENT_STATE_SKIPPED;
  event.state_reason = std::move(reason);
  event.due_time = firing.now;
  return Record(firing, event);
}

class AddTagAction final : public TriggerAction {
 public:
  // Runs at once whatever the stored delay: add_tag triggers cannot carry
  // one (CheckTriggerShape).
  absl::Status Run(Firing& firing,
                   const storage::TriggerRow& trigger) const override {
    const std::string& tag = trigger.spec.add_tag().tag();
    absl::Status status = firing.txn.candidates().AddTag(
        firing.app.account_id, firing.app.candidate_id, tag, firing.now);
    if (!status.ok()) return status;
    std::vector<std::string>& tags = firing.candidate.tags;
    auto at = std::lower_bound(tags.begin(), tags.end(), tag);
    if (at == tags.end() || *at != tag) tags.insert(at, tag);
    return absl::OkStatus();
  }
};

class IntegrationEventAction final : public TriggerAction {
 public:
  absl::Status Run(Firing& firing,
                   const storage::TriggerRow& trigger) const override {
    const std::string id = trigger.integration_id.empty()
                               ? TriggerIntegrationId(trigger.spec)
                               : trigger.integration_id;
    const std::string name = IntegrationName(id);
    storage::EventRow event = StageTriggerEvent(firing, trigger);
    *event.payload.mutable_option_values() =
        trigger.spec.integration_event().option_values();

    auto integration = firing.txn.integrations().GetIntegrationState(
        firing.app.account_id, id);
    if (absl::IsNotFound(integration.status()) || id.empty()) {
      // The event cannot reference a missing integration; its reason names
      // the one the trigger asked for. Which fields the partner would get is
      // unknown, so it gets none.
      *event.payload.mutable_candidate() =
          Snapshot(firing.candidate, google::protobuf::RepeatedField<int>());
      return Skip(firing, std::move(event),
                  absl::StrCat("integration ", name, " no longer exists"));
    }
    if (!integration.ok()) return integration.status();
    auto partner =
        firing.txn.integrations().GetPartner(integration->partner_id);
    if (!partner.ok()) return partner.status();
    TargetIntegration(event, integration->id, *partner, firing.candidate);

    if (!integration->active) {
      return Skip(firing, std::move(event),
                  absl::StrCat("integration ", name, " is inactive"));
    }
    if (!integration->endpoint_disabled_reason.empty()) {
      return Skip(
          firing, std::move(event),
          absl::StrCat("the endpoint of integration ", name, " is disabled (",
                       integration->endpoint_disabled_reason, ")"));
    }
    return Record(firing, event);
  }
};

class WebhookAction final : public TriggerAction {
 public:
  absl::Status Run(Firing& firing,
                   const storage::TriggerRow& trigger) const override {
    storage::EventRow event = StageTriggerEvent(firing, trigger);
    event.webhook_uri = trigger.spec.webhook().uri();
    // Like a partner, the webhook gets the candidate fields its trigger
    // declares and no other. Nobody can report a result for it (there is no
    // integration to hold a partner key), so the payload offers no
    // result_reporting.
    *event.payload.mutable_candidate() =
        Snapshot(firing.candidate, trigger.spec.webhook().candidate_fields());
    auto account = firing.txn.accounts().GetAccount(firing.app.account_id);
    if (!account.ok()) return account.status();
    if (account->webhook_signing_secret.empty()) {
      return Skip(firing, std::move(event), kNoWebhookSecret);
    }
    return Record(firing, event);
  }
};

// Returns the action of `action_case`, or null for ACTION_NOT_SET.
const TriggerAction* ActionFor(ats::v1::Trigger::ActionCase action_case) {
  static const AddTagAction add_tag;
  static const IntegrationEventAction integration_event;
  static const WebhookAction webhook;
  switch (action_case) {
    case ats::v1::Trigger::kAddTag:
      return &add_tag;
    case ats::v1::Trigger::kIntegrationEvent:
      return &integration_event;
    case ats::v1::Trigger::kWebhook:
      return &webhook;
    case ats::v1::Trigger::ACTION_NOT_SET:
      break;
  }
  return nullptr;
}

}  // namespace

absl::Status FireStageTriggers(storage::Transaction& txn,
                               const Caller& caller,
                               const storage::ApplicationRow& app,
                               const storage::StageRow& stage, absl::Time now,
                               RandomSource& random,
                               std::vector<storage::EventRow>* created) {
  auto triggers = txn.jobs().ListTriggers(app.account_id, stage.id);
  if (!triggers.ok()) return triggers.status();
  if (triggers->empty()) return absl::OkStatus();
  auto job = LoadJob(txn, app.account_id, app.job_id);
  if (!job.ok()) return job.status();
  auto candidate = LoadCandidate(txn, app.account_id, app.candidate_id);
  if (!candidate.ok()) return candidate.status();
  Firing firing{txn, caller, app, stage, *job,
                *std::move(candidate), now, random, created};
  for (const storage::TriggerRow& trigger : *triggers) {
    const TriggerAction* action = ActionFor(trigger.spec.action_case());
    // Stored triggers were validated; one without an action does nothing.
    if (action == nullptr) continue;
    absl::Status status = action->Run(firing, trigger);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status EnterStage(storage::Transaction& txn, const Caller& caller,
                        storage::ApplicationRow& app,
                        const storage::StageRow& to, absl::Time now,
                        RandomSource& random,
                        std::vector<storage::EventRow>* created,
                        std::optional<ats::v1::RuleRef> moved_by_rule) {
  const bool added = app.entry_count == 0;
  storage::TransitionRow transition;
  transition.account_id = app.account_id;
  transition.job_id = app.job_id;
  transition.candidate_id = app.candidate_id;
  transition.from_stage_id = app.stage_id;
  transition.to_stage_id = to.id;
  transition.time = now;
  transition.moved_by = caller.key_id;
  transition.moved_by_rule = std::move(moved_by_rule);

  app.stage_id = to.id;
  app.stage_enter_time = now;
  ++app.entry_count;
  if (added) app.create_time = now;
  transition.entry = app.entry_count;
  absl::Status status = added ? txn.applications().InsertApplication(app)
                              : txn.applications().UpdateApplication(app);
  if (!status.ok()) return status;
  status = txn.applications().InsertTransition(transition);
  if (!status.ok()) return status;
  return FireStageTriggers(txn, caller, app, to, now, random, created);
}

}  // namespace ats::server
