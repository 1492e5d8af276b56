#ifndef ATS_SERVER_DOMAIN_MOVING_RULES_H_
#define ATS_SERVER_DOMAIN_MOVING_RULES_H_

// Moving criteria: the criteria a partner listing declares, the criteria
// its results carry, and the moving rules of stage triggers that test them.
// Their validation and their evaluation are pure functions of messages, so
// every rule is testable without storage; the engine applies them inside
// the write that records a result (partner_results.h).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ats/v1/integration_service.pb.h"
#include "ats/v1/partner_event.pb.h"
#include "ats/v1/pipeline.pb.h"
#include "google/protobuf/map.h"
#include "google/protobuf/repeated_field.h"
#include "server/common/validation.h"

namespace ats::server {

// Limits documented in the protos.
inline constexpr int kMaxCriteria = 20;
inline constexpr int kMaxCriterionOutcomes = 50;
inline constexpr int kMaxResultCriteria = 50;
inline constexpr int kMaxRules = 20;
inline constexpr int kMaxRuleConditions = 10;
// Automatic moves that may follow one another before a person moves the
// candidate: rules that move candidates back and forth on results the
// partner keeps reporting would otherwise never stop.
inline constexpr int kMaxAutomaticMovesInARow = 10;

using Rules = google::protobuf::RepeatedPtrField<ats::v1::MovingRule>;
using ResultCriteria =
    google::protobuf::Map<std::string, ats::v1::CriterionResult>;

// Records in `v` what is wrong with a listing's `criteria`, named `field`:
// more than 20, an id that is not a key or repeats, a missing label, no
// kind, an outcome list of 0 or over 50 entries or with repeated ids, a
// score range whose bounds are not finite or not increasing.
void ValidateCriteria(
    Validator& v, std::string_view field,
    const google::protobuf::RepeatedPtrField<ats::v1::Criterion>& criteria);

// Records in `v` what is wrong with a result's `criteria`, named `field`,
// against the criteria `listing` declares: more than 50, an id the listing
// does not declare, a value of the wrong kind or unset, an outcome the
// criterion does not list, a score that is not finite or out of range.
void ValidateResultCriteria(Validator& v, std::string_view field,
                            const ResultCriteria& criteria,
                            const ats::v1::Partner& listing);

// Returns `update` with the criteria of `previous` it does not mention:
// a partner may report one criterion at a time.
ats::v1::PartnerResult MergeCriteria(const ats::v1::PartnerResult& previous,
                                     ats::v1::PartnerResult update);

// Records in `v` what is wrong with `rules` (named `field`, e.g.
// "trigger.rules") that needs neither the listing nor the pipeline: more
// than 20 rules or 10 conditions, no destination, do_nothing false, a
// condition without a test, outcome and status lists empty or too long,
// an unknown comparison or status, a number that is not finite, BETWEEN
// bounds that decrease, a result_score naming a criterion.
void CheckRulesShape(const Rules& rules, std::string_view field, Validator& v);

// Records in `v` every condition of `rules` that names a criterion
// `listing` does not declare, one of another kind, or an outcome the
// criterion does not list; violations name the rule and the condition
// (e.g. "trigger.rules[1].conditions[0].outcome.criterion").
void CheckRulesCriteria(const Rules& rules, const ats::v1::Partner& listing,
                        std::string_view field, Validator& v);

// Returns the index of the first rule whose conditions `result` meets, or
// nothing when none does. A condition on a score the result lacks, or on a
// criterion it does not carry, does not hold.
std::optional<int> FirstMatchingRule(const Rules& rules,
                                     const ats::v1::PartnerResult& result);

// Whether `rule` matches every result: it has no condition.
bool AlwaysMatches(const ats::v1::MovingRule& rule);

// One stage of a pipeline, as rules name it.
struct RuleStage {
  // What a rule's move_to_stage holds once resolved: the stage's resource
  // name on jobs, its display name on templates.
  std::string key;
  std::string display_name;
  // The moving rules of the stage's triggers, in order.
  std::vector<const Rules*> rules;
};

// Rewrites each move_to_stage of `rules`, which belong to a trigger of
// stage `stages[own]`, to the key of the stage of `stages` it names by key
// or by display name (case-insensitive). Records in `v` a destination that
// names no stage of the pipeline (a resource name of another pipeline, such
// as another job's stage, included) and an always-matching rule that moves
// to the trigger's own stage.
void ResolveRuleDestinations(Rules& rules, const std::vector<RuleStage>& stages,
                             int own, std::string_view field, Validator& v);

// Returns, when the always-matching rules of `stages` (resolved) move
// candidates around a cycle of stages, the cycle's display names joined by
// " -> "; otherwise nothing. Such a cycle never ends while the partner keeps
// reporting; cycles through conditional rules may, and the chain limit
// bounds them.
std::optional<std::string> EndlessCycle(const std::vector<RuleStage>& stages);

}  // namespace ats::server

#endif  // ATS_SERVER_DOMAIN_MOVING_RULES_H_
