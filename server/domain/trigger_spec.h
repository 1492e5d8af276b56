#ifndef ATS_SERVER_DOMAIN_TRIGGER_SPEC_H_
#define ATS_SERVER_DOMAIN_TRIGGER_SPEC_H_

// The rules a stage trigger must follow, shared by job templates and job
// stages (and, for option values, manual triggers). Validation comes in two
// halves: the shape of the trigger, which needs no database and runs before
// any write is queued, and its target, which must be checked inside the write
// transaction that stores the trigger so that the integration cannot change
// in between.

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ats/v1/integration_service.pb.h"
#include "ats/v1/pipeline.pb.h"
#include "google/protobuf/map.h"
#include "server/common/validation.h"
#include "server/domain/moving_rules.h"
#include "server/domain/trigger_form.h"
#include "storage/store.h"

namespace ats::server {

// Longest delay a trigger may carry.
inline constexpr absl::Duration kMaxTriggerDelay = absl::Hours(30 * 24);
// Most option values an integration-event trigger may carry.
inline constexpr int kMaxTriggerOptionValues = 20;
// Longest option key and value, in characters.
inline constexpr size_t kMaxOptionKeyLength = 64;
inline constexpr size_t kMaxOptionValueLength = 256;

// Checks what needs no database, recording violations under `field` (e.g.
// "trigger" or "job_template.stages[1].triggers[0]"): delay 0 to 30 days
// (and none on add_tag triggers, which run immediately), exactly one
// action, a valid add_tag.tag, a webhook.uri that `destinations` allows
// (Validator::Destination), known webhook.candidate_fields each listed
// once, a well-formed integration_event.integration name, at most 20 option
// values with keys of 1 to 64 and values of up to 256 characters, and rules
// on integration_event triggers only, well-formed (CheckRulesShape).
// Output-only fields (name, readiness) are ignored.
void CheckTriggerShape(const ats::v1::Trigger& trigger,
                       const std::string& field,
                       const DestinationPolicy& destinations, Validator& v);

// Returns the integration id an integration-event trigger names, or "" when
// the name does not parse (or the trigger has another action).
std::string IntegrationIdOf(const ats::v1::Trigger& trigger);

// Checks, inside `txn`, what the trigger points at, assuming its shape passed
// CheckTriggerShape: an integration-event trigger must name an integration of
// `account_id` (NOT_FOUND otherwise) that is active (FAILED_PRECONDITION
// otherwise, with ErrorInfo reason INTEGRATION_INACTIVE), its option
// values must fit the partner's form (see CheckIntegrationTarget, with
// violations under `<field>.integration_event.option_values[<key>]`), and
// its rules' conditions the partner's criteria (CheckRulesCriteria, under
// `<field>.rules`). Returns the integration id, or "" for other kinds of
// trigger.
absl::StatusOr<std::string> CheckTriggerTarget(
    storage::Transaction& txn, const std::string& account_id,
    const ats::v1::Trigger& trigger, const std::string& field,
    const FetchedTriggerForm* fetched = nullptr);

// Resolves the rules' destinations of `trigger`, a trigger of stage
// `stages[own]` (see ResolveRuleDestinations), and refuses rules that, with
// the rules of the other triggers of `stages`, move candidates around a
// cycle for ever (EndlessCycle): INVALID_ARGUMENT under `<field>.rules`.
absl::Status ResolvePipelineRules(std::vector<RuleStage>& stages, int own,
                                  ats::v1::Trigger& trigger,
                                  const std::string& field);

// A trigger of a pipeline given whole (a job template, or a job's stages at
// its creation): its stage's index among the pipeline's RuleStages, and its
// field in the request.
struct PipelineTrigger {
  int stage = 0;
  ats::v1::Trigger* trigger = nullptr;
  std::string field;
};

// ResolvePipelineRules for every trigger of a pipeline given whole, whose
// stages are `stages` (keys and names, no rules yet): each trigger's rules
// count for the cycles of those after it, so the last finds a cycle of all.
absl::Status ResolveGivenPipelineRules(
    std::vector<RuleStage> stages,
    const std::vector<PipelineTrigger>& triggers);

// Rewrites the destinations of `trigger`'s rules, stage keys of the pipeline
// it was given in, to the names `names` maps them to (a template's stages to
// a job's); a destination missing from `names` is kept as it was.
void RenameRuleDestinations(const std::map<std::string, std::string>& names,
                            ats::v1::Trigger& trigger);

// ResolvePipelineRules inside `txn` for `trigger`, a new trigger (empty
// `trigger_id`) or the new version of trigger `trigger_id`, of stage
// `stage_id` of job `job_id`: destinations become stage names of the job,
// and the job's stored triggers count for cycles.
absl::Status ResolveJobRules(storage::Transaction& txn,
                             const std::string& account_id,
                             const std::string& job_id,
                             const std::string& stage_id,
                             const std::string& trigger_id,
                             ats::v1::Trigger& trigger,
                             const std::string& field);

// The integration a trigger or a manual trigger sends to, and its partner.
struct IntegrationTarget {
  storage::IntegrationRow integration;
  storage::PartnerRow partner;
};

// Loads, inside `txn`, integration `integration_id` of `account_id` with its
// partner: NOT_FOUND when the account has no such integration,
// FAILED_PRECONDITION (ErrorInfo reason INTEGRATION_INACTIVE, a message
// asking to reactivate it before `purpose`, e.g. "triggering it") when it is
// inactive.
absl::StatusOr<IntegrationTarget> LoadIntegrationTarget(
    storage::Transaction& txn, const std::string& account_id,
    const std::string& integration_id, const std::string& purpose);

// Checks, inside `txn`, integration `integration_id` of `account_id` for a
// trigger or manual trigger with `option_values`: LoadIntegrationTarget's
// errors, then INVALID_ARGUMENT when the values do not fit the partner's
// form (CheckFormValues under `field`). The form is `fetched` when given
// (ABORTED when it was fetched for another integration or from a URI the
// listing no longer has: the caller fetches again), else the listing's
// static trigger options. Returns the integration with its partner.
absl::StatusOr<IntegrationTarget> CheckIntegrationTarget(
    storage::Transaction& txn, const std::string& account_id,
    const std::string& integration_id,
    const google::protobuf::Map<std::string, std::string>& option_values,
    const std::string& field, const std::string& purpose,
    const FetchedTriggerForm* fetched = nullptr);

// Sets `trigger->readiness` and `readiness_reason` for a stored trigger of
// `account_id`: TRIGGER_READINESS_WILL_SKIP with the reason when its
// integration is inactive, has an endpoint disabled by a 410 answer, or no
// longer exists; TRIGGER_READINESS_READY otherwise (and for every trigger
// that is not an integration event). Fails only when storage does.
absl::Status FillTriggerReadiness(storage::Transaction& txn,
                                  const std::string& account_id,
                                  ats::v1::Trigger* trigger);

}  // namespace ats::server

#endif  // ATS_SERVER_DOMAIN_TRIGGER_SPEC_H_
