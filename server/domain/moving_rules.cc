#include "server/domain/moving_rules.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/common/string_view.h"
#include "server/domain/field_paths.h"

namespace ats::server {
namespace {

constexpr size_t kMaxLabelLength = 200;
constexpr size_t kMaxDescriptionLength = 2000;
constexpr int kMaxStatuses = 4;

const ats::v1::Criterion* FindCriterion(const ats::v1::Partner& listing,
                                        std::string_view id) {
  for (const ats::v1::Criterion& criterion : listing.criteria()) {
    if (criterion.id() == id) return &criterion;
  }
  return nullptr;
}

bool HasOutcome(const ats::v1::Criterion& criterion, std::string_view id) {
  for (const ats::v1::CriterionOutcome& outcome :
       criterion.outcome().outcomes()) {
    if (outcome.id() == id) return true;
  }
  return false;
}

// What a client may name, for the violation of an unknown criterion.
std::string CriteriaOf(const ats::v1::Partner& listing) {
  if (listing.criteria().empty()) {
    return absl::StrCat("partner \"", listing.display_name(),
                        "\" declares no criteria");
  }
  return absl::StrCat(
      "partner \"", listing.display_name(), "\" declares: ",
      absl::StrJoin(listing.criteria(), ", ",
                    [](std::string* out, const ats::v1::Criterion& c) {
                      absl::StrAppend(out, c.id());
                    }));
}

std::string OutcomesOf(const ats::v1::Criterion& criterion) {
  return absl::StrJoin(
      criterion.outcome().outcomes(), ", ",
      [](std::string* out, const ats::v1::CriterionOutcome& o) {
        absl::StrAppend(out, o.id());
      });
}

void ValidateOutcomes(Validator& v, std::string_view field,
                      const ats::v1::OutcomeCriterion& outcome) {
  const int count = outcome.outcomes_size();
  if (!v.Require(count >= 1, field, "must list at least one outcome") ||
      !CheckCount(v, field, count, kMaxCriterionOutcomes)) {
    return;
  }
  std::set<std::string> ids;
  for (int i = 0; i < count; ++i) {
    const ats::v1::CriterionOutcome& entry = outcome.outcomes(i);
    const std::string path = Indexed(field, i);
    if (v.Key(Child(path, "id"), entry.id())) {
      v.Require(ids.insert(entry.id()).second, Child(path, "id"),
                absl::StrCat("repeats outcome \"", entry.id(), "\""));
    }
    v.Length(Child(path, "display_name"), entry.display_name(), 1,
             kMaxLabelLength);
    v.MultilineLength(Child(path, "hint"), entry.hint(), 0,
                      kMaxDescriptionLength);
  }
}

bool Compare(double score, const ats::v1::ScoreCondition& condition) {
  const double value = condition.value();
  switch (condition.comparison()) {
    case ats::v1::SCORE_COMPARISON_BELOW:
      return score < value;
    case ats::v1::SCORE_COMPARISON_AT_MOST:
      return score <= value;
    case ats::v1::SCORE_COMPARISON_EQUAL:
      return score == value;
    case ats::v1::SCORE_COMPARISON_AT_LEAST:
      return score >= value;
    case ats::v1::SCORE_COMPARISON_ABOVE:
      return score > value;
    case ats::v1::SCORE_COMPARISON_BETWEEN:
      return value <= score && score <= condition.upper_value();
    default:
      return false;
  }
}

bool Holds(const ats::v1::RuleCondition& condition,
           const ats::v1::PartnerResult& result) {
  switch (condition.test_case()) {
    case ats::v1::RuleCondition::kOutcome: {
      auto found = result.criteria().find(condition.outcome().criterion());
      if (found == result.criteria().end() || !found->second.has_outcome()) {
        return false;
      }
      for (const std::string& outcome : condition.outcome().outcomes()) {
        if (outcome == found->second.outcome()) return true;
      }
      return false;
    }
    case ats::v1::RuleCondition::kCriterionScore: {
      auto found =
          result.criteria().find(condition.criterion_score().criterion());
      return found != result.criteria().end() && found->second.has_score() &&
             Compare(found->second.score(), condition.criterion_score());
    }
    case ats::v1::RuleCondition::kResultScore:
      return result.has_score() &&
             Compare(result.score().value(), condition.result_score());
    case ats::v1::RuleCondition::kStatus:
      for (int status : condition.status().statuses()) {
        if (status == result.status()) return true;
      }
      return false;
    case ats::v1::RuleCondition::TEST_NOT_SET:
      break;
  }
  return false;
}

bool Matches(const ats::v1::MovingRule& rule,
             const ats::v1::PartnerResult& result) {
  if (rule.match() == ats::v1::RULE_MATCH_ANY) {
    for (const ats::v1::RuleCondition& condition : rule.conditions()) {
      if (Holds(condition, result)) return true;
    }
    return rule.conditions().empty();
  }
  for (const ats::v1::RuleCondition& condition : rule.conditions()) {
    if (!Holds(condition, result)) return false;
  }
  return true;
}

void CheckScoreCondition(Validator& v, std::string_view field,
                         const ats::v1::ScoreCondition& condition,
                         bool names_criterion) {
  if (names_criterion) {
    v.Key(Child(field, "criterion"), condition.criterion());
  } else {
    v.Require(condition.criterion().empty(), Child(field, "criterion"),
              "must be empty: result_score tests the result's own score");
  }
  const bool known = v.EnumValue<ats::v1::ScoreComparison>(
      Child(field, "comparison"), condition.comparison(),
      ats::v1::ScoreComparison_IsValid, /*allow_unspecified=*/false);
  v.Require(std::isfinite(condition.value()), Child(field, "value"),
            "must be a finite number");
  if (!known) return;
  if (condition.comparison() == ats::v1::SCORE_COMPARISON_BETWEEN) {
    v.Require(std::isfinite(condition.upper_value()) &&
                  condition.upper_value() >= condition.value(),
              Child(field, "upper_value"),
              "must be a finite number at least `value` for BETWEEN");
  } else {
    v.Require(condition.upper_value() == 0, Child(field, "upper_value"),
              "is for BETWEEN only");
  }
}

void CheckConditionShape(Validator& v, const std::string& field,
                         const ats::v1::RuleCondition& condition) {
  switch (condition.test_case()) {
    case ats::v1::RuleCondition::kOutcome: {
      const ats::v1::OutcomeCondition& outcome = condition.outcome();
      const std::string path = Child(field, "outcome");
      v.Key(Child(path, "criterion"), outcome.criterion());
      if (v.Require(outcome.outcomes_size() >= 1, Child(path, "outcomes"),
                    "must list at least one outcome") &&
          CheckCount(v, Child(path, "outcomes"), outcome.outcomes_size(),
                     kMaxCriterionOutcomes)) {
        for (int i = 0; i < outcome.outcomes_size(); ++i) {
          v.Key(Indexed(Child(path, "outcomes"), i), outcome.outcomes(i));
        }
      }
      return;
    }
    case ats::v1::RuleCondition::kCriterionScore:
      CheckScoreCondition(v, Child(field, "criterion_score"),
                          condition.criterion_score(),
                          /*names_criterion=*/true);
      return;
    case ats::v1::RuleCondition::kResultScore:
      CheckScoreCondition(v, Child(field, "result_score"),
                          condition.result_score(),
                          /*names_criterion=*/false);
      return;
    case ats::v1::RuleCondition::kStatus: {
      const std::string path = Child(field, "status.statuses");
      const auto& statuses = condition.status().statuses();
      if (!v.Require(!statuses.empty(), path,
                     "must list at least one status") ||
          !CheckCount(v, path, statuses.size(), kMaxStatuses)) {
        return;
      }
      for (int i = 0; i < statuses.size(); ++i) {
        v.EnumValue<ats::v1::PartnerResultStatus>(
            Indexed(path, i), statuses[i], ats::v1::PartnerResultStatus_IsValid,
            /*allow_unspecified=*/false);
      }
      return;
    }
    case ats::v1::RuleCondition::TEST_NOT_SET:
      v.Require(false, field,
                "must set one of outcome, criterion_score, result_score and "
                "status");
      return;
  }
}

// Records in `v` that the condition at `field` names `criterion_id`, which
// must be a criterion of `listing` of kind `kind`.
const ats::v1::Criterion* RequireCriterion(Validator& v,
                                           const std::string& field,
                                           std::string_view criterion_id,
                                           ats::v1::Criterion::KindCase kind,
                                           const ats::v1::Partner& listing) {
  const ats::v1::Criterion* criterion = FindCriterion(listing, criterion_id);
  if (!v.Require(
          criterion != nullptr, field,
          absl::StrCat("names unknown criterion \"", AbslView(criterion_id),
                       "\"; ", CriteriaOf(listing)))) {
    return nullptr;
  }
  const bool outcome = kind == ats::v1::Criterion::kOutcome;
  if (!v.Require(criterion->kind_case() == kind, field,
                 absl::StrCat(
                     "names criterion \"", criterion->id(), "\", which is not ",
                     outcome ? "an outcome" : "a score", " criterion"))) {
    return nullptr;
  }
  return criterion;
}

std::string Folded(std::string_view text) {
  return absl::AsciiStrToLower(AbslView(text));
}

}  // namespace

void ValidateCriteria(
    Validator& v, std::string_view field,
    const google::protobuf::RepeatedPtrField<ats::v1::Criterion>& criteria) {
  if (!CheckCount(v, field, criteria.size(), kMaxCriteria)) return;
  std::set<std::string> ids;
  for (int i = 0; i < criteria.size(); ++i) {
    const ats::v1::Criterion& criterion = criteria[i];
    const std::string path = Indexed(field, i);
    if (v.Key(Child(path, "id"), criterion.id())) {
      v.Require(ids.insert(criterion.id()).second, Child(path, "id"),
                absl::StrCat("repeats criterion \"", criterion.id(),
                             "\"; ids must be unique in the listing"));
    }
    v.Length(Child(path, "display_name"), criterion.display_name(), 1,
             kMaxLabelLength);
    v.MultilineLength(Child(path, "description"), criterion.description(), 0,
                      kMaxDescriptionLength);
    switch (criterion.kind_case()) {
      case ats::v1::Criterion::kOutcome:
        ValidateOutcomes(v, Child(path, "outcome.outcomes"),
                         criterion.outcome());
        break;
      case ats::v1::Criterion::kScore: {
        const ats::v1::ScoreCriterion& score = criterion.score();
        v.Require(std::isfinite(score.min()) && std::isfinite(score.max()) &&
                      score.min() < score.max(),
                  Child(path, "score"),
                  "must have finite bounds with min below max");
        break;
      }
      case ats::v1::Criterion::KIND_NOT_SET:
        v.Require(false, path, "must set one of outcome and score");
        break;
    }
  }
}

void ValidateResultCriteria(Validator& v, std::string_view field,
                            const ResultCriteria& criteria,
                            const ats::v1::Partner& listing) {
  if (!CheckCount(v, field, static_cast<int>(criteria.size()),
                  kMaxResultCriteria)) {
    return;
  }
  // Sorted, so that violations come out in a stable order.
  const std::map<std::string, ats::v1::CriterionResult> sorted(criteria.begin(),
                                                               criteria.end());
  for (const auto& [id, value] : sorted) {
    const std::string path = absl::StrCat(AbslView(field), "[", id, "]");
    const ats::v1::Criterion* criterion = FindCriterion(listing, id);
    if (!v.Require(criterion != nullptr, path,
                   absl::StrCat("is not a criterion the partner declares; ",
                                CriteriaOf(listing)))) {
      continue;
    }
    switch (criterion->kind_case()) {
      case ats::v1::Criterion::kOutcome:
        if (v.Require(value.has_outcome(), path,
                      "must give an outcome: the criterion is an outcome")) {
          v.Require(
              HasOutcome(*criterion, value.outcome()), path,
              absl::StrCat("gives unknown outcome \"", value.outcome(),
                           "\"; its outcomes are: ", OutcomesOf(*criterion)));
        }
        break;
      case ats::v1::Criterion::kScore: {
        const ats::v1::ScoreCriterion& range = criterion->score();
        if (v.Require(value.has_score(), path,
                      "must give a score: the criterion is a score")) {
          v.Require(std::isfinite(value.score()) &&
                        value.score() >= range.min() &&
                        value.score() <= range.max(),
                    path,
                    absl::StrCat("must be a score from ", range.min(), " to ",
                                 range.max()));
        }
        break;
      }
      case ats::v1::Criterion::KIND_NOT_SET:
        break;
    }
  }
}

ats::v1::PartnerResult MergeCriteria(const ats::v1::PartnerResult& previous,
                                     ats::v1::PartnerResult update) {
  for (const auto& [id, value] : previous.criteria()) {
    update.mutable_criteria()->insert({id, value});
  }
  return update;
}

void CheckRulesShape(const Rules& rules, std::string_view field, Validator& v) {
  if (!CheckCount(v, field, rules.size(), kMaxRules)) return;
  for (int i = 0; i < rules.size(); ++i) {
    const ats::v1::MovingRule& rule = rules[i];
    const std::string path = Indexed(field, i);
    v.EnumValue<ats::v1::RuleMatch>(Child(path, "match"), rule.match(),
                                    ats::v1::RuleMatch_IsValid,
                                    /*allow_unspecified=*/true);
    switch (rule.destination_case()) {
      case ats::v1::MovingRule::kMoveToStage:
        v.Length(Child(path, "move_to_stage"), rule.move_to_stage(), 1, 200);
        break;
      case ats::v1::MovingRule::kDoNothing:
        v.Require(rule.do_nothing(), Child(path, "do_nothing"),
                  "must be true when chosen");
        break;
      case ats::v1::MovingRule::DESTINATION_NOT_SET:
        v.Require(false, path, "must set one of move_to_stage and do_nothing");
        break;
    }
    const std::string conditions = Child(path, "conditions");
    if (!CheckCount(v, conditions, rule.conditions_size(),
                    kMaxRuleConditions)) {
      continue;
    }
    for (int j = 0; j < rule.conditions_size(); ++j) {
      CheckConditionShape(v, Indexed(conditions, j), rule.conditions(j));
    }
  }
}

void CheckRulesCriteria(const Rules& rules, const ats::v1::Partner& listing,
                        std::string_view field, Validator& v) {
  for (int i = 0; i < rules.size(); ++i) {
    for (int j = 0; j < rules[i].conditions_size(); ++j) {
      const ats::v1::RuleCondition& condition = rules[i].conditions(j);
      const std::string path =
          Indexed(Child(Indexed(field, i), "conditions"), j);
      if (condition.has_outcome()) {
        const ats::v1::Criterion* criterion =
            RequireCriterion(v, Child(path, "outcome.criterion"),
                             condition.outcome().criterion(),
                             ats::v1::Criterion::kOutcome, listing);
        if (criterion == nullptr) continue;
        const auto& outcomes = condition.outcome().outcomes();
        for (int k = 0; k < outcomes.size(); ++k) {
          v.Require(
              HasOutcome(*criterion, outcomes[k]),
              Indexed(Child(path, "outcome.outcomes"), k),
              absl::StrCat("is not an outcome of criterion \"", criterion->id(),
                           "\"; its outcomes are: ", OutcomesOf(*criterion)));
        }
      } else if (condition.has_criterion_score()) {
        RequireCriterion(v, Child(path, "criterion_score.criterion"),
                         condition.criterion_score().criterion(),
                         ats::v1::Criterion::kScore, listing);
      }
    }
  }
}

std::optional<int> FirstMatchingRule(const Rules& rules,
                                     const ats::v1::PartnerResult& result) {
  for (int i = 0; i < rules.size(); ++i) {
    if (Matches(rules[i], result)) return i;
  }
  return std::nullopt;
}

bool AlwaysMatches(const ats::v1::MovingRule& rule) {
  return rule.conditions().empty();
}

void ResolveRuleDestinations(Rules& rules, const std::vector<RuleStage>& stages,
                             int own, std::string_view field, Validator& v) {
  for (int i = 0; i < rules.size(); ++i) {
    ats::v1::MovingRule& rule = rules[i];
    if (!rule.has_move_to_stage()) continue;
    const std::string path = Child(Indexed(field, i), "move_to_stage");
    int found = -1;
    for (size_t s = 0; s < stages.size() && found < 0; ++s) {
      if (stages[s].key == rule.move_to_stage() ||
          Folded(stages[s].display_name) == Folded(rule.move_to_stage())) {
        found = static_cast<int>(s);
      }
    }
    if (!v.Require(found >= 0, path,
                   absl::StrCat("names \"", rule.move_to_stage(),
                                "\", which is no stage of this pipeline; a "
                                "rule moves candidates within their job"))) {
      continue;
    }
    v.Require(found != own || !AlwaysMatches(rule), path,
              "moves to the trigger's own stage on every result, which would "
              "fire the trigger again for ever");
    rule.set_move_to_stage(stages[found].key);
  }
}

std::optional<std::string> EndlessCycle(const std::vector<RuleStage>& stages) {
  // Each stage's always-matching moves; a cycle among them is found by a
  // depth-first search that meets a stage still on its path.
  std::vector<std::vector<int>> next(stages.size());
  for (size_t s = 0; s < stages.size(); ++s) {
    for (const Rules* rules : stages[s].rules) {
      for (const ats::v1::MovingRule& rule : *rules) {
        if (!rule.has_move_to_stage() || !AlwaysMatches(rule)) continue;
        for (size_t t = 0; t < stages.size(); ++t) {
          if (stages[t].key == rule.move_to_stage()) {
            next[s].push_back(static_cast<int>(t));
          }
        }
      }
    }
  }
  enum class Mark { kNew, kOnPath, kDone };
  std::vector<Mark> marks(stages.size(), Mark::kNew);
  std::vector<int> path;
  std::optional<std::string> cycle;
  std::function<void(int)> visit = [&](int s) {
    marks[s] = Mark::kOnPath;
    path.push_back(s);
    for (int t : next[s]) {
      if (cycle.has_value()) break;
      if (marks[t] == Mark::kOnPath) {
        std::vector<std::string> names;
        auto from = std::find(path.begin(), path.end(), t);
        for (auto it = from; it != path.end(); ++it) {
          names.push_back(stages[*it].display_name);
        }
        names.push_back(stages[t].display_name);
        cycle = absl::StrJoin(names, " -> ");
      } else if (marks[t] == Mark::kNew) {
        visit(t);
      }
    }
    path.pop_back();
    marks[s] = Mark::kDone;
  };
  for (size_t s = 0; s < stages.size() && !cycle.has_value(); ++s) {
    if (marks[s] == Mark::kNew) visit(static_cast<int>(s));
  }
  return cycle;
}

}  // namespace ats::server
