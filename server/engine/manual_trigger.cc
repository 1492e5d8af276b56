#include "server/engine/manual_trigger.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/common/validation.h"
#include "server/contract/errors.h"
#include "server/domain/marketplace.h"
#include "server/domain/pipeline_convert.h"
#include "server/domain/trigger_form.h"
#include "server/engine/pipeline_access.h"

namespace ats::server {

std::string WhyNotTriggerable(const storage::IntegrationRow& integration) {
  const std::string name = IntegrationName(integration.id);
  if (!integration.active) {
    return absl::StrCat("integration ", name, " is inactive");
  }
  if (!integration.endpoint_disabled_reason.empty()) {
    return absl::StrCat("the endpoint of integration ", name,
                        " is disabled (", integration.endpoint_disabled_reason,
                        ")");
  }
  return "";
}

absl::StatusOr<IntegrationTarget> CheckSendableIntegration(
    storage::Transaction& txn, const std::string& account_id,
    const std::string& integration_id, const std::string& purpose) {
  auto target = LoadIntegrationTarget(txn, account_id, integration_id, purpose);
  if (!target.ok()) return target.status();
  const std::string why = WhyNotTriggerable(target->integration);
  if (!why.empty()) {
    return WithErrorInfo(
        absl::FailedPreconditionError(absl::StrCat(
            why, "; re-enable it with ReactivateIntegration before ", purpose)),
        "ENDPOINT_DISABLED",
        {{"integration", IntegrationName(integration_id)}});
  }
  return target;
}

absl::StatusOr<IntegrationTarget> CheckManualTarget(
    storage::Transaction& txn, const std::string& account_id,
    const std::string& integration_id,
    const google::protobuf::Map<std::string, std::string>& option_values) {
  auto target = CheckSendableIntegration(txn, account_id, integration_id,
                                         "triggering it");
  if (!target.ok()) return target.status();
  // A manual trigger has no stage to ask a form for: the listing's static
  // options are its form.
  const ats::v1::Partner& listing = target->partner.listing;
  absl::Status fits = CheckFormValues(
      StaticTriggerForm(listing), listing.display_name(), option_values, "");
  if (!fits.ok()) return fits;
  return target;
}

storage::EventRow ManualEvent(
    const EventOrigin& origin, const IntegrationTarget& target,
    const storage::CandidateRow& candidate,
    const google::protobuf::Map<std::string, std::string>& option_values,
    RandomSource& random) {
  storage::EventRow event = NewEvent(origin, candidate.id, random);
  *event.payload.mutable_option_values() = option_values;
  TargetIntegration(event, target.integration.id, target.partner, candidate);
  return event;
}

}  // namespace ats::server
