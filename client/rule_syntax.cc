#include "client/rule_syntax.h"

#include <cmath>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/args.h"
#include "client/errors.h"

namespace ats::client {
namespace {

[[noreturn]] void Refuse(const std::string& rule, const std::string& why) {
  throw UsageError("--rule '" + rule + "': " + why +
                   "; e.g. 'report_decision=clear -> Interview', "
                   "'score<50 -> Rejected', '-> nothing'");
}

// Returns the comparison `text` starts with ("<", "<=", "=", ">=", ">").
ats::v1::ScoreComparison ComparisonAt(absl::string_view text, size_t* length) {
  const bool or_equal = text.size() > 1 && text[1] == '=';
  *length = or_equal ? 2 : 1;
  switch (text[0]) {
    case '<':
      return or_equal ? ats::v1::SCORE_COMPARISON_AT_MOST
                      : ats::v1::SCORE_COMPARISON_BELOW;
    case '>':
      return or_equal ? ats::v1::SCORE_COMPARISON_AT_LEAST
                      : ats::v1::SCORE_COMPARISON_ABOVE;
    default:
      *length = 1;
      return ats::v1::SCORE_COMPARISON_EQUAL;
  }
}

bool ParseNumber(absl::string_view text, double* number) {
  return absl::SimpleAtod(text, number) && std::isfinite(*number);
}

ats::v1::RuleCondition ParseCondition(const std::string& rule,
                                      absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  const size_t at = text.find_first_of("<>=");
  if (at == absl::string_view::npos) {
    Refuse(rule, "\"" + std::string(text) + "\" has no comparison");
  }
  size_t length = 0;
  const ats::v1::ScoreComparison comparison =
      ComparisonAt(text.substr(at), &length);
  const std::string name(absl::StripAsciiWhitespace(text.substr(0, at)));
  const absl::string_view value =
      absl::StripAsciiWhitespace(text.substr(at + length));
  if (name.empty() || value.empty()) {
    Refuse(rule, "\"" + std::string(text) + "\" needs a name and a value");
  }
  ats::v1::RuleCondition condition;
  const bool equals = comparison == ats::v1::SCORE_COMPARISON_EQUAL;
  if (name == "status") {
    if (!equals) Refuse(rule, "a status can only be tested with =");
    for (absl::string_view status : absl::StrSplit(value, '|')) {
      condition.mutable_status()->add_statuses(
          ParseEnum<ats::v1::PartnerResultStatus>(
              std::string(absl::StripAsciiWhitespace(status)), "--rule"));
    }
    return condition;
  }
  ats::v1::ScoreCondition* score = name == "score"
                                       ? condition.mutable_result_score()
                                       : condition.mutable_criterion_score();
  if (name != "score") score->set_criterion(name);
  std::vector<absl::string_view> bounds = absl::StrSplit(value, "..");
  double low = 0;
  double high = 0;
  if (equals && bounds.size() == 2 && ParseNumber(bounds[0], &low) &&
      ParseNumber(bounds[1], &high)) {
    score->set_comparison(ats::v1::SCORE_COMPARISON_BETWEEN);
    score->set_value(low);
    score->set_upper_value(high);
    return condition;
  }
  if (ParseNumber(value, &low)) {
    score->set_comparison(comparison);
    score->set_value(low);
    return condition;
  }
  if (!equals || name == "score") {
    Refuse(rule, "\"" + std::string(value) + "\" is not a number");
  }
  condition.Clear();
  ats::v1::OutcomeCondition* outcome = condition.mutable_outcome();
  outcome->set_criterion(name);
  for (absl::string_view id : absl::StrSplit(value, '|')) {
    outcome->add_outcomes(std::string(absl::StripAsciiWhitespace(id)));
  }
  return condition;
}

std::string NumberText(double number) { return absl::StrCat(number); }

std::string ScoreText(const std::string& name,
                      const ats::v1::ScoreCondition& test) {
  switch (test.comparison()) {
    case ats::v1::SCORE_COMPARISON_BELOW:
      return name + "<" + NumberText(test.value());
    case ats::v1::SCORE_COMPARISON_AT_MOST:
      return name + "<=" + NumberText(test.value());
    case ats::v1::SCORE_COMPARISON_AT_LEAST:
      return name + ">=" + NumberText(test.value());
    case ats::v1::SCORE_COMPARISON_ABOVE:
      return name + ">" + NumberText(test.value());
    case ats::v1::SCORE_COMPARISON_BETWEEN:
      return name + "=" + NumberText(test.value()) + ".." +
             NumberText(test.upper_value());
    default:
      return name + "=" + NumberText(test.value());
  }
}

std::string ConditionText(const ats::v1::RuleCondition& condition) {
  switch (condition.test_case()) {
    case ats::v1::RuleCondition::kOutcome:
      return condition.outcome().criterion() + "=" +
             absl::StrJoin(condition.outcome().outcomes(), "|");
    case ats::v1::RuleCondition::kCriterionScore:
      return ScoreText(condition.criterion_score().criterion(),
                       condition.criterion_score());
    case ats::v1::RuleCondition::kResultScore:
      return ScoreText("score", condition.result_score());
    case ats::v1::RuleCondition::kStatus:
      return "status=" +
             absl::StrJoin(condition.status().statuses(), "|",
                           [](std::string* out, int status) {
                             absl::StrAppend(
                                 out,
                                 absl::AsciiStrToLower(EnumLabel(
                                     ats::v1::PartnerResultStatus_descriptor()
                                         ->FindValueByNumber(status))));
                           });
    case ats::v1::RuleCondition::TEST_NOT_SET:
      break;
  }
  return "?";
}

}  // namespace

std::string RuleText(const ats::v1::MovingRule& rule) {
  const char* joiner =
      rule.match() == ats::v1::RULE_MATCH_ANY ? " or " : " and ";
  std::string text = absl::StrJoin(
      rule.conditions(), joiner,
      [](std::string* out, const ats::v1::RuleCondition& condition) {
        absl::StrAppend(out, ConditionText(condition));
      });
  absl::StrAppend(&text, text.empty() ? "" : " ", "-> ",
                  rule.has_do_nothing() ? "nothing" : rule.move_to_stage());
  return text;
}

ats::v1::MovingRule ParseRule(const std::string& text) {
  const size_t arrow = text.rfind("->");
  if (arrow == std::string::npos) Refuse(text, "it has no \"->\"");
  ats::v1::MovingRule rule;
  const std::string destination(
      absl::StripAsciiWhitespace(absl::string_view(text).substr(arrow + 2)));
  if (destination.empty()) Refuse(text, "it names no destination");
  if (absl::AsciiStrToLower(destination) == "nothing") {
    rule.set_do_nothing(true);
  } else {
    rule.set_move_to_stage(destination);
  }
  const absl::string_view conditions =
      absl::StripAsciiWhitespace(absl::string_view(text).substr(0, arrow));
  if (conditions.empty()) return rule;
  std::vector<absl::string_view> words =
      absl::StrSplit(conditions, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  std::string current;
  std::string joiner;
  auto flush = [&] {
    if (current.empty()) Refuse(text, "a condition is missing");
    *rule.add_conditions() = ParseCondition(text, current);
    current.clear();
  };
  for (absl::string_view word : words) {
    const std::string lower = absl::AsciiStrToLower(word);
    if (lower == "and" || lower == "or") {
      if (!joiner.empty() && joiner != lower) {
        Refuse(text, "conditions are joined by and or by or, not both");
      }
      joiner = lower;
      flush();
      continue;
    }
    if (!current.empty()) current += ' ';
    current += std::string(word);
  }
  flush();
  rule.set_match(joiner == "or" ? ats::v1::RULE_MATCH_ANY
                                : ats::v1::RULE_MATCH_ALL);
  return rule;
}

}  // namespace ats::client
