#ifndef ATS_SERVER_ENGINE_MANUAL_TRIGGER_H_
#define ATS_SERVER_ENGINE_MANUAL_TRIGGER_H_

// What manual triggers share, for one candidate (TriggerIntegration) and in
// bulk (the bulk worker): checking the integration they send to, and
// building their events with the same code as stage triggers
// (trigger_engine.h).

#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/map.h"
#include "server/common/random.h"
#include "server/domain/trigger_spec.h"
#include "server/engine/trigger_engine.h"
#include "storage/store.h"

namespace ats::server {

// Returns, inside `txn`, integration `integration_id` of `account_id` with
// its partner if it can take manual events for `purpose` (e.g. "triggering
// it"): as LoadIntegrationTarget, and FAILED_PRECONDITION (ErrorInfo
// ENDPOINT_DISABLED) when a 410 answer disabled its endpoint.
absl::StatusOr<IntegrationTarget> CheckSendableIntegration(
    storage::Transaction& txn, const std::string& account_id,
    const std::string& integration_id, const std::string& purpose);

// Checks, inside `txn`, the integration a manual trigger of `account_id`
// sends to with `option_values` (violations under `option_values[<key>]`):
// as CheckSendableIntegration, and INVALID_ARGUMENT when the values do not
// fit the partner's options.
absl::StatusOr<IntegrationTarget> CheckManualTarget(
    storage::Transaction& txn, const std::string& account_id,
    const std::string& integration_id,
    const google::protobuf::Map<std::string, std::string>& option_values);

// Returns why `integration` cannot take manual events now (inactive, or its
// endpoint disabled), or "" when it can.
std::string WhyNotTriggerable(const storage::IntegrationRow& integration);

// Returns the event of a manual trigger from `origin` (source MANUAL or
// BULK) sending `option_values` to `target` about `candidate`: PENDING, due
// at `origin.now`.
storage::EventRow ManualEvent(
    const EventOrigin& origin, const IntegrationTarget& target,
    const storage::CandidateRow& candidate,
    const google::protobuf::Map<std::string, std::string>& option_values,
    RandomSource& random);

}  // namespace ats::server

#endif  // ATS_SERVER_ENGINE_MANUAL_TRIGGER_H_
