#include "client/trigger_flags.h"

#include "client/args.h"
#include "client/errors.h"
#include "client/rule_syntax.h"

namespace ats::client {

CLI::Option* AddOptionValuesFlag(CLI::App* command,
                                 std::vector<std::string>* words) {
  return command->add_option(
      "--option", *words,
      "A partner trigger option, key=value (repeatable), e.g. "
      "test_package=java-senior");
}

void TriggerFlags::AddTo(CLI::App* command) {
  CLI::Option* integration = command->add_option(
      "--integration", integration_,
      "Send a partner event to this integration (integrations/ID or ID)");
  AddOptionValuesFlag(command, &options_)->needs(integration);
  command
      ->add_option("--rule", rules_,
                   "A moving rule, tried in order on each partner result "
                   "(repeatable), e.g. 'report_decision=clear -> Interview', "
                   "'score<50 -> Rejected', 'status=failed -> nothing'")
      ->needs(integration);
  CLI::Option* tag =
      command->add_option("--tag", tag_, "Add this tag to the candidate");
  CLI::Option* webhook =
      command->add_option("--webhook", webhook_,
                          "POST a signed event to this URL of the account's");
  command
      ->add_option("--field", fields_,
                   "A candidate field the webhook receives (repeatable): " +
                       EnumChoices<ats::v1::CandidateField>() +
                       "; without any, only the candidate's name")
      ->needs(webhook);
  integration->excludes(tag)->excludes(webhook);
  tag->excludes(webhook);
  command->add_option("--delay", delay_,
                      "Run this long after the candidate enters, e.g. 2h");
}

bool TriggerFlags::HasAction() const {
  return !integration_.empty() || !tag_.empty() || !webhook_.empty();
}

ats::v1::Trigger TriggerFlags::Build() const {
  ats::v1::Trigger trigger;
  if (!integration_.empty()) {
    auto* action = trigger.mutable_integration_event();
    action->set_integration(Qualified("integrations", integration_));
    PutKeyValues(options_, "--option", action->mutable_option_values());
    for (const std::string& rule : rules_) {
      *trigger.add_rules() = ParseRule(rule);
    }
  } else if (!tag_.empty()) {
    trigger.mutable_add_tag()->set_tag(tag_);
  } else if (!webhook_.empty()) {
    trigger.mutable_webhook()->set_uri(webhook_);
    for (const std::string& field : fields_) {
      trigger.mutable_webhook()->add_candidate_fields(
          ParseEnum<ats::v1::CandidateField>(field, "--field"));
    }
  } else {
    throw UsageError("a trigger needs --integration, --tag or --webhook");
  }
  if (!delay_.empty()) *trigger.mutable_delay() = ParseDuration(delay_);
  return trigger;
}

}  // namespace ats::client
