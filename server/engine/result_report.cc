#include "server/engine/result_report.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/common/string_view.h"
#include "server/common/validation.h"
#include "server/contract/timestamps.h"
#include "server/domain/event_convert.h"
#include "server/domain/moving_rules.h"
#include "server/domain/partner_result.h"
#include "server/domain/pipeline_convert.h"
#include "server/engine/trigger_engine.h"

namespace ats::server {
namespace {

// Returns the criteria declared by the partner of `event`'s integration;
// none when the integration is gone.
absl::StatusOr<ats::v1::Partner> ListingOfEvent(
    storage::Transaction& txn, const storage::EventRow& event) {
  auto integration =
      txn.integrations().GetIntegration(event.account_id, event.integration_id);
  if (absl::IsNotFound(integration.status())) return ats::v1::Partner();
  if (!integration.ok()) return integration.status();
  auto partner = txn.integrations().GetPartner(integration->partner_id);
  if (!partner.ok()) return partner.status();
  return partner->listing;
}

// Returns how many of the application's last stage entries, up to its
// current one, moving rules made one after another.
absl::StatusOr<int> AutomaticMovesInARow(storage::Transaction& txn,
                                         const storage::ApplicationRow& app) {
  auto history = txn.applications().ListTransitions(app.account_id, app.job_id,
                                                    app.candidate_id);
  if (!history.ok()) return history.status();
  int in_a_row = 0;
  for (auto it = history->rbegin();
       it != history->rend() && it->moved_by_rule.has_value(); ++it) {
    ++in_a_row;
  }
  return in_a_row;
}

// Carries out `move`, the decision of a rule for `event`: moves the
// candidate, or fills in why not.
absl::Status Move(storage::Transaction& txn, const storage::EventRow& event,
                  absl::Time now, RandomSource& random,
                  ats::v1::AutomaticMove& move) {
  auto skip = [&move](std::string reason) {
    move.set_outcome(ats::v1::AUTOMATIC_MOVE_OUTCOME_SKIPPED);
    move.set_reason(std::move(reason));
    return absl::OkStatus();
  };
  auto app = txn.applications().GetApplication(event.account_id, event.job_id,
                                               event.candidate_id);
  if (absl::IsNotFound(app.status())) {
    return skip(absl::StrCat("candidate ", CandidateName(event.candidate_id),
                             " is no longer in job ", JobName(event.job_id)));
  }
  if (!app.ok()) return app.status();
  if (app->stage_id != event.stage_id ||
      app->entry_count != event.stage_entry) {
    return skip(absl::StrCat(
        "candidate ", CandidateName(event.candidate_id), " has left stage ",
        StageName(event.job_id, event.stage_id), " since the event"));
  }
  std::vector<std::string> ids;
  absl::StatusOr<storage::StageRow> to = absl::NotFoundError("");
  if (ParseResourceName(move.to_stage(), kStagePattern, &ids) &&
      ids[0] == event.job_id) {
    to = txn.jobs().GetStage(event.account_id, ids[1]);
  }
  if (absl::IsNotFound(to.status()) ||
      (to.ok() && to->job_id != event.job_id)) {
    return skip(absl::StrCat("destination stage ", move.to_stage(),
                             " no longer exists"));
  }
  if (!to.ok()) return to.status();
  if (to->id == app->stage_id) {
    return skip("the candidate is in the destination stage already");
  }
  auto in_a_row = AutomaticMovesInARow(txn, *app);
  if (!in_a_row.ok()) return in_a_row.status();
  if (*in_a_row >= kMaxAutomaticMovesInARow) {
    move.set_outcome(ats::v1::AUTOMATIC_MOVE_OUTCOME_CHAIN_LIMIT);
    move.set_reason(absl::StrCat(
        "stopped at stage ", StageName(event.job_id, event.stage_id), " (",
        event.payload.stage_trigger().stage_display_name(), ") after ",
        *in_a_row,
        " automatic moves in a row; a person must move the "
        "candidate on"));
    return absl::OkStatus();
  }
  ats::v1::RuleRef rule;
  rule.set_event(EventName(event.id));
  rule.set_trigger(move.trigger());
  rule.set_rule(move.rule());
  Caller mover;
  mover.key_id = event.triggered_by;
  mover.account_id = event.account_id;
  absl::Status status =
      EnterStage(txn, mover, *app, *to, now, random, nullptr, std::move(rule));
  if (!status.ok()) return status;
  move.set_outcome(ats::v1::AUTOMATIC_MOVE_OUTCOME_MOVED);
  return absl::OkStatus();
}

// Runs the moving rules of the trigger behind `event`, whose result was
// just recorded, unless one already decided for it.
absl::Status RunMovingRules(storage::Transaction& txn, storage::EventRow& event,
                            absl::Time now, RandomSource& random) {
  if (event.automatic_move.has_value() || event.trigger_id.empty() ||
      !event.result.has_value()) {
    return absl::OkStatus();
  }
  auto trigger = txn.jobs().GetTrigger(event.account_id, event.trigger_id);
  // A trigger deleted since has no rules left to apply.
  if (absl::IsNotFound(trigger.status())) return absl::OkStatus();
  if (!trigger.ok()) return trigger.status();
  const std::optional<int> matched =
      FirstMatchingRule(trigger->spec.rules(), *event.result);
  if (!matched.has_value()) return absl::OkStatus();
  const ats::v1::MovingRule& rule = trigger->spec.rules(*matched);
  ats::v1::AutomaticMove move;
  move.set_trigger(TriggerName(event.job_id, trigger->stage_id, trigger->id));
  move.set_rule(*matched);
  *move.mutable_decide_time() = ToProtoTime(now);
  if (rule.has_do_nothing()) {
    move.set_outcome(ats::v1::AUTOMATIC_MOVE_OUTCOME_DO_NOTHING);
  } else {
    move.set_to_stage(rule.move_to_stage());
    absl::Status status = Move(txn, event, now, random, move);
    if (!status.ok()) return status;
  }
  event.automatic_move = std::move(move);
  return absl::OkStatus();
}

}  // namespace

absl::Status RecordPartnerResult(storage::Transaction& txn,
                                 storage::EventRow& event,
                                 const ats::v1::PartnerResult& result,
                                 std::string_view field, absl::Time now,
                                 RandomSource& random) {
  if (!result.criteria().empty()) {
    auto listing = ListingOfEvent(txn, event);
    if (!listing.ok()) return listing.status();
    Validator v;
    ValidateResultCriteria(v, absl::StrCat(AbslView(field), ".criteria"),
                           result.criteria(), *listing);
    if (!v.ok()) return v.status();
  }
  absl::Status status = ApplyResult(result, now, event);
  if (!status.ok()) return status;
  status = RunMovingRules(txn, event, now, random);
  if (!status.ok()) return status;
  return txn.events().UpdateEvent(event);
}

}  // namespace ats::server
