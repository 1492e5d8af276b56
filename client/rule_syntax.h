// The readable form of a stage trigger's moving rule that `--rule` takes:
//
//   RULE       := [CONDITIONS] "->" DESTINATION
//   CONDITIONS := CONDITION { ("and" | "or") CONDITION }  (one of the two)
//   CONDITION  := "score" OP NUMBER                 the result's score
//               | "status" "=" STATUS { "|" STATUS }
//               | CRITERION "=" OUTCOME { "|" OUTCOME }
//               | CRITERION OP NUMBER               a score criterion
//               | CRITERION "=" NUMBER ".." NUMBER  between, inclusive
//   OP         := "<" | "<=" | "=" | ">=" | ">"
//   DESTINATION:= "nothing" | a stage's display name or resource name
//
// e.g. 'report_decision=clear -> Interview', 'score<50 -> Rejected',
// 'coding>=70 and report_decision=clear|consider -> Offer', '-> Review'.
#ifndef ATS_CLIENT_RULE_SYNTAX_H_
#define ATS_CLIENT_RULE_SYNTAX_H_

#include <string>

#include "ats/v1/pipeline.pb.h"

namespace ats::client {

// Returns the rule `text` describes; throws UsageError saying what is wrong.
ats::v1::MovingRule ParseRule(const std::string& text);

// Returns `rule` written in the syntax ParseRule reads.
std::string RuleText(const ats::v1::MovingRule& rule);

}  // namespace ats::client

#endif  // ATS_CLIENT_RULE_SYNTAX_H_
