// Moving criteria: rules on stage triggers, validated against the partner's
// criteria and the job's pipeline, and evaluated when a partner reports a
// result, in the report's transaction. Runs on both backends. Properties
// (rapidcheck): the first matching rule decides; no report moves a
// candidate twice; an automatic move fires exactly the destination's
// triggers.

#include "server/domain/moving_rules.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "tests/api/event_fixture.h"
#include "tests/support/property.h"

namespace ats::testing {
namespace {

using ats::v1::AutomaticMoveOutcome;
using ats::v1::Event;
using ats::v1::PartnerResult;

class MovingRulesTest : public EventFixture {
 protected:
  void SetUp() override {
    EventFixture::SetUp();
    // A background check with a decision and a score per section.
    ats::v1::UpdatePartnerRequest request;
    ats::v1::Partner* listing = request.mutable_partner();
    listing->set_name(partner_.name());
    ats::v1::Criterion* decision = listing->add_criteria();
    decision->set_id("report_decision");
    decision->set_display_name("Report decision");
    for (const char* outcome : {"clear", "consider", "suspended"}) {
      ats::v1::CriterionOutcome* entry =
          decision->mutable_outcome()->add_outcomes();
      entry->set_id(outcome);
      entry->set_display_name(outcome);
    }
    ats::v1::Criterion* coding = listing->add_criteria();
    coding->set_id("coding");
    coding->set_display_name("Coding");
    coding->mutable_score()->set_min(0);
    coding->mutable_score()->set_max(100);
    request.mutable_update_mask()->add_paths("criteria");
    ats::v1::Partner updated;
    grpc::Status status = integrations_->UpdatePartner(
        As(server_.operator_key()).get(), request, &updated);
    ASSERT_TRUE(status.ok()) << status.error_message();

    job_ = CreateJob("Engineer", {"Screen", "Interview", "Rejected"});
    for (const ats::v1::Stage& stage : job_.stages()) {
      stages_.push_back(stage.name());
    }
  }

  static ats::v1::MovingRule MoveTo(const std::string& stage) {
    ats::v1::MovingRule rule;
    rule.set_move_to_stage(stage);
    return rule;
  }

  static ats::v1::MovingRule& WithOutcome(ats::v1::MovingRule& rule,
                                          const std::string& criterion,
                                          const std::string& outcome) {
    ats::v1::OutcomeCondition* condition =
        rule.add_conditions()->mutable_outcome();
    condition->set_criterion(criterion);
    condition->add_outcomes(outcome);
    return rule;
  }

  static ats::v1::MovingRule& WithScore(ats::v1::MovingRule& rule,
                                        ats::v1::ScoreComparison comparison,
                                        double value) {
    ats::v1::ScoreCondition* condition =
        rule.add_conditions()->mutable_result_score();
    condition->set_comparison(comparison);
    condition->set_value(value);
    return rule;
  }

  static ats::v1::MovingRule& WithStatus(ats::v1::MovingRule& rule,
                                         ats::v1::PartnerResultStatus status) {
    rule.add_conditions()->mutable_status()->add_statuses(status);
    return rule;
  }

  // An integration trigger with `rules`.
  ats::v1::Trigger RuledTrigger(const std::vector<ats::v1::MovingRule>& rules) {
    ats::v1::Trigger trigger = IntegrationTrigger(integration_.name(), "basic");
    for (const ats::v1::MovingRule& rule : rules) *trigger.add_rules() = rule;
    return trigger;
  }

  grpc::Status TryAddTrigger(const std::string& stage,
                             const ats::v1::Trigger& trigger,
                             ats::v1::Trigger* created) {
    ats::v1::CreateTriggerRequest request;
    request.set_parent(stage);
    *request.mutable_trigger() = trigger;
    return jobs_->CreateTrigger(As(server_.admin_key()).get(), request,
                                created);
  }

  // Adds a candidate at the first stage; returns its event, made SENT as the
  // dispatcher would once the partner accepted it.
  Event AddAndSend(const ats::v1::Candidate& candidate) {
    const ats::v1::AddCandidateToJobResponse added = MustAdd(job_, candidate);
    EXPECT_EQ(added.events_size(), 1);
    if (added.events_size() != 1) return Event();
    SetState(added.events(0).name(), ats::v1::EVENT_STATE_SENT);
    return added.events(0);
  }

  grpc::Status Report(const std::string& event, const PartnerResult& result,
                      Event* response) {
    ats::v1::ReportPartnerResultRequest request;
    request.set_event(event);
    *request.mutable_result() = result;
    return integrations_->ReportPartnerResult(As(partner_key_).get(), request,
                                              response);
  }

  Event MustReport(const std::string& event, const PartnerResult& result) {
    Event response;
    grpc::Status status = Report(event, result, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  static PartnerResult Completed(const std::string& decision = "",
                                 double score = -1) {
    PartnerResult result;
    result.set_status(ats::v1::PARTNER_RESULT_STATUS_COMPLETED);
    if (!decision.empty()) {
      (*result.mutable_criteria())["report_decision"].set_outcome(decision);
    }
    if (score >= 0) result.mutable_score()->set_value(score);
    return result;
  }

  ats::v1::Application GetApplication(const ats::v1::Candidate& candidate) {
    ats::v1::GetApplicationRequest request;
    request.set_name(ApplicationOf(job_, candidate));
    ats::v1::Application application;
    grpc::Status status = jobs_->GetApplication(
        As(server_.recruiter_key()).get(), request, &application);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return application;
  }

  ats::v1::Job job_;
  std::vector<std::string> stages_;  // Screen, Interview, Rejected.
};

TEST_F(MovingRulesTest, RulesMustFitTheCriteriaAndThePipeline) {
  ats::v1::Trigger created;
  ats::v1::MovingRule unknown = MoveTo("Interview");
  WithOutcome(unknown, "drug_test", "clear");
  EXPECT_TRUE(
      IsInvalid(TryAddTrigger(stages_[0], RuledTrigger({unknown}), &created),
                "trigger.rules[0].conditions[0].outcome.criterion"));

  ats::v1::MovingRule bad_outcome = MoveTo("Interview");
  WithOutcome(bad_outcome, "report_decision", "maybe");
  EXPECT_TRUE(IsInvalid(
      TryAddTrigger(stages_[0], RuledTrigger({MoveTo("Rejected"), bad_outcome}),
                    &created),
      "trigger.rules[1].conditions[0].outcome.outcomes[0]"));

  ats::v1::MovingRule wrong_kind = MoveTo("Interview");
  wrong_kind.add_conditions()->mutable_criterion_score()->set_criterion(
      "report_decision");
  wrong_kind.mutable_conditions(0)->mutable_criterion_score()->set_comparison(
      ats::v1::SCORE_COMPARISON_ABOVE);
  EXPECT_TRUE(
      IsInvalid(TryAddTrigger(stages_[0], RuledTrigger({wrong_kind}), &created),
                "trigger.rules[0].conditions[0].criterion_score.criterion"));

  const ats::v1::Job other = CreateJob("Designer", {"Inbox", "Review"});
  EXPECT_TRUE(IsInvalid(
      TryAddTrigger(stages_[0], RuledTrigger({MoveTo(other.stages(1).name())}),
                    &created),
      "trigger.rules[0].move_to_stage"));
  EXPECT_TRUE(IsInvalid(
      TryAddTrigger(stages_[0], RuledTrigger({MoveTo("Nowhere")}), &created),
      "trigger.rules[0].move_to_stage"));
  // Always back into its own stage: the trigger would fire for ever.
  EXPECT_TRUE(IsInvalid(
      TryAddTrigger(stages_[0], RuledTrigger({MoveTo("screen")}), &created),
      "trigger.rules[0].move_to_stage"));

  ats::v1::Trigger tagging = TagTrigger("checked");
  *tagging.add_rules() = MoveTo("Interview");
  EXPECT_TRUE(
      IsInvalid(TryAddTrigger(stages_[0], tagging, &created), "trigger.rules"));

  ats::v1::MovingRule no_destination;
  WithStatus(no_destination, ats::v1::PARTNER_RESULT_STATUS_FAILED);
  EXPECT_TRUE(IsInvalid(
      TryAddTrigger(stages_[0], RuledTrigger({no_destination}), &created),
      "trigger.rules[0]"));

  // Screen always moves to Interview; Interview always moving back would
  // never end, and is refused whichever trigger comes second.
  ASSERT_TRUE(
      TryAddTrigger(stages_[0], RuledTrigger({MoveTo("Interview")}), &created)
          .ok());
  EXPECT_EQ(created.rules(0).move_to_stage(), stages_[1]);
  grpc::Status cycle =
      TryAddTrigger(stages_[1], RuledTrigger({MoveTo("Screen")}), &created);
  EXPECT_TRUE(IsInvalid(cycle, "trigger.rules"));
  EXPECT_TRUE(absl::StrContains(cycle.error_message(), "Screen"))
      << cycle.error_message();
  // With a condition it may end, and the chain limit bounds it.
  ats::v1::MovingRule conditional = MoveTo("Screen");
  WithStatus(conditional, ats::v1::PARTNER_RESULT_STATUS_FAILED);
  EXPECT_TRUE(
      TryAddTrigger(stages_[1], RuledTrigger({conditional}), &created).ok());
}

TEST_F(MovingRulesTest, TemplatesAndNewJobsNameDestinationsByDisplayName) {
  ats::v1::MovingRule clear = MoveTo("interview");
  WithOutcome(clear, "report_decision", "clear");
  ats::v1::CreateJobTemplateRequest create;
  ats::v1::JobTemplate* pipeline = create.mutable_job_template();
  pipeline->set_display_name("Checked");
  *pipeline->add_stages()->add_triggers() = RuledTrigger({clear});
  pipeline->mutable_stages(0)->set_display_name("Screen");
  pipeline->add_stages()->set_display_name("Interview");
  ats::v1::JobTemplate stored;
  auto templates = server_.templates();
  ASSERT_TRUE(
      templates
          ->CreateJobTemplate(As(server_.admin_key()).get(), create, &stored)
          .ok());
  // Stored by the template stage's name.
  EXPECT_EQ(stored.stages(0).triggers(0).rules(0).move_to_stage(),
            stored.stages(1).name());

  // A template rule into a stage it lacks, or around a cycle, is refused.
  ats::v1::CreateJobTemplateRequest bad = create;
  bad.mutable_job_template()->set_display_name("Bad");
  *bad.mutable_job_template()->mutable_stages(0)->mutable_triggers(0) =
      RuledTrigger({MoveTo("Offer")});
  ats::v1::JobTemplate refused;
  EXPECT_TRUE(IsInvalid(templates->CreateJobTemplate(
                            As(server_.admin_key()).get(), bad, &refused),
                        "job_template.stages[0].triggers[0].rules[0]."
                        "move_to_stage"));
  bad.mutable_job_template()->mutable_stages(0)->mutable_triggers(0)->Clear();
  *bad.mutable_job_template()->mutable_stages(0)->mutable_triggers(0) =
      RuledTrigger({MoveTo("Interview")});
  *bad.mutable_job_template()->mutable_stages(1)->add_triggers() =
      RuledTrigger({MoveTo("Screen")});
  EXPECT_TRUE(IsInvalid(templates->CreateJobTemplate(
                            As(server_.admin_key()).get(), bad, &refused),
                        "job_template.stages[1].triggers[0].rules"));

  // A job from the template gets the rule with its own stage's name, and it
  // moves candidates.
  ats::v1::CreateJobRequest from_template;
  from_template.mutable_job()->set_title("Checked job");
  from_template.set_template_(stored.name());
  ats::v1::Job job;
  ASSERT_TRUE(
      jobs_->CreateJob(As(server_.admin_key()).get(), from_template, &job)
          .ok());
  ASSERT_EQ(job.stages_size(), 2);
  ASSERT_EQ(job.stages(0).triggers_size(), 1);
  EXPECT_EQ(job.stages(0).triggers(0).rules(0).move_to_stage(),
            job.stages(1).name());

  // So does a job created with its stages, naming them by display name.
  ats::v1::CreateJobRequest given;
  given.mutable_job()->set_title("Given job");
  given.set_skip_template(true);
  *given.mutable_job()->mutable_stages() = create.job_template().stages();
  ats::v1::Job given_job;
  ASSERT_TRUE(
      jobs_->CreateJob(As(server_.admin_key()).get(), given, &given_job).ok());
  EXPECT_EQ(given_job.stages(0).triggers(0).rules(0).move_to_stage(),
            given_job.stages(1).name());
  job_ = given_job;
  const ats::v1::Candidate ada = CreateCandidate("Ada");
  const Event event = AddAndSend(ada);
  EXPECT_EQ(
      MustReport(event.name(), Completed("clear")).automatic_move().outcome(),
      ats::v1::AUTOMATIC_MOVE_OUTCOME_MOVED);
  EXPECT_EQ(GetApplication(ada).stage(), given_job.stages(1).name());
}

TEST_F(MovingRulesTest, FirstMatchingRuleMovesAndTheDestinationsTriggersFire) {
  ats::v1::MovingRule clear = MoveTo("Interview");
  WithOutcome(clear, "report_decision", "clear");
  ats::v1::MovingRule low = MoveTo(stages_[2]);
  WithScore(low, ats::v1::SCORE_COMPARISON_BELOW, 50);
  const ats::v1::Trigger screen =
      AddTrigger(stages_[0], RuledTrigger({clear, low}));
  AddTrigger(stages_[1], TagTrigger("interviewing"));
  const ats::v1::Trigger interview = AddTrigger(
      stages_[1], IntegrationTrigger(integration_.name(), "advanced"));
  AddTrigger(stages_[2], IntegrationTrigger(integration_.name(), "basic"));

  const ats::v1::Candidate ada = CreateCandidate("Ada");
  const Event event = AddAndSend(ada);
  // Both rules match; the first decides.
  const Event reported = MustReport(event.name(), Completed("clear", 20));
  EXPECT_EQ(reported.state(), ats::v1::EVENT_STATE_COMPLETED);
  ASSERT_TRUE(reported.has_automatic_move()) << reported.DebugString();
  EXPECT_EQ(reported.automatic_move().outcome(),
            ats::v1::AUTOMATIC_MOVE_OUTCOME_MOVED);
  EXPECT_EQ(reported.automatic_move().rule(), 0);
  EXPECT_EQ(reported.automatic_move().trigger(), screen.name());
  EXPECT_EQ(reported.automatic_move().to_stage(), stages_[1]);
  EXPECT_EQ(reported.result().criteria().at("report_decision").outcome(),
            "clear");

  const ats::v1::Application application = GetApplication(ada);
  EXPECT_EQ(application.stage(), stages_[1]);
  ASSERT_EQ(application.history_size(), 2);
  const ats::v1::StageTransition& moved = application.history(1);
  EXPECT_EQ(moved.from_stage(), stages_[0]);
  EXPECT_EQ(moved.to_stage(), stages_[1]);
  EXPECT_EQ(moved.moved_by_rule().event(), event.name());
  EXPECT_EQ(moved.moved_by_rule().trigger(), screen.name());
  EXPECT_EQ(moved.moved_by_rule().rule(), 0);
  EXPECT_EQ(moved.moved_by(), event.triggered_by());

  // Exactly Interview's triggers fired: its one event, and its tag.
  std::vector<Event> fired;
  for (const Event& candidate_event : AllEvents()) {
    if (candidate_event.name() != event.name())
      fired.push_back(candidate_event);
  }
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].stage_trigger().trigger(), interview.name());
  EXPECT_EQ(fired[0].option_values().at("test_package"), "advanced");
  ats::v1::GetCandidateRequest get;
  get.set_name(ada.name());
  ats::v1::Candidate tagged;
  ASSERT_TRUE(
      jobs_->GetCandidate(As(server_.recruiter_key()).get(), get, &tagged)
          .ok());
  EXPECT_TRUE(std::find(tagged.tags().begin(), tagged.tags().end(),
                        "interviewing") != tagged.tags().end());

  // Amending the result never moves again, even when another rule would
  // now match.
  const Event amended = MustReport(event.name(), Completed("suspended", 10));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      amended.automatic_move(), reported.automatic_move()));
  EXPECT_EQ(GetApplication(ada).history_size(), 2);
  EXPECT_EQ(AllEvents().size(), 2u);
}

TEST_F(MovingRulesTest, CriteriaMergeAcrossReportsAndMustBeDeclared) {
  ats::v1::MovingRule both = MoveTo("Interview");
  WithOutcome(both, "report_decision", "clear");
  both.add_conditions()->mutable_criterion_score()->set_criterion("coding");
  both.mutable_conditions(1)->mutable_criterion_score()->set_comparison(
      ats::v1::SCORE_COMPARISON_AT_LEAST);
  both.mutable_conditions(1)->mutable_criterion_score()->set_value(70);
  AddTrigger(stages_[0], RuledTrigger({both}));
  const ats::v1::Candidate ada = CreateCandidate("Ada");
  const Event event = AddAndSend(ada);

  PartnerResult pending;
  pending.set_status(ats::v1::PARTNER_RESULT_STATUS_PENDING);
  (*pending.mutable_criteria())["coding"].set_score(85);
  Event reported = MustReport(event.name(), pending);
  EXPECT_FALSE(reported.has_automatic_move());
  EXPECT_EQ(GetApplication(ada).stage(), stages_[0]);

  // The decision arrives alone; the coding score reported before still
  // counts, and both conditions hold.
  reported = MustReport(event.name(), Completed("clear"));
  EXPECT_EQ(reported.result().criteria().at("coding").score(), 85);
  EXPECT_EQ(reported.automatic_move().outcome(),
            ats::v1::AUTOMATIC_MOVE_OUTCOME_MOVED);
  EXPECT_EQ(GetApplication(ada).stage(), stages_[1]);

  // Undeclared criteria, outcomes and out-of-range scores are refused and
  // change nothing.
  PartnerResult bad = Completed("clear");
  (*bad.mutable_criteria())["drug_test"].set_outcome("clear");
  Event unchanged;
  EXPECT_TRUE(IsInvalid(Report(event.name(), bad, &unchanged),
                        "result.criteria[drug_test]"));
  bad = Completed("maybe");
  EXPECT_TRUE(IsInvalid(Report(event.name(), bad, &unchanged),
                        "result.criteria[report_decision]"));
  bad = Completed();
  (*bad.mutable_criteria())["coding"].set_score(101);
  EXPECT_TRUE(IsInvalid(Report(event.name(), bad, &unchanged),
                        "result.criteria[coding]"));
  bad = Completed();
  bad.mutable_criteria()->insert({"coding", ats::v1::CriterionResult()});
  EXPECT_TRUE(IsInvalid(Report(event.name(), bad, &unchanged),
                        "result.criteria[coding]"));
  EXPECT_EQ(MustGetEvent(event.name()).result().criteria().at("coding").score(),
            85);
}

TEST_F(MovingRulesTest, MovesAreSkippedWithTheReason) {
  ats::v1::MovingRule any = MoveTo("Interview");
  WithStatus(any, ats::v1::PARTNER_RESULT_STATUS_COMPLETED);
  AddTrigger(stages_[0], RuledTrigger({any}));

  // The candidate moved on before the result.
  const ats::v1::Candidate ada = CreateCandidate("Ada");
  const Event left = AddAndSend(ada);
  MustMove(ApplicationOf(job_, ada), stages_[2]);
  Event reported = MustReport(left.name(), Completed());
  EXPECT_EQ(reported.automatic_move().outcome(),
            ats::v1::AUTOMATIC_MOVE_OUTCOME_SKIPPED);
  EXPECT_TRUE(absl::StrContains(reported.automatic_move().reason(), "left"))
      << reported.automatic_move().reason();
  EXPECT_EQ(GetApplication(ada).stage(), stages_[2]);

  // The candidate was deleted.
  const ats::v1::Candidate bob = CreateCandidate("Bob");
  const Event deleted = AddAndSend(bob);
  ats::v1::DeleteCandidateRequest remove;
  remove.set_name(bob.name());
  google::protobuf::Empty empty;
  ASSERT_TRUE(
      jobs_->DeleteCandidate(As(server_.admin_key()).get(), remove, &empty)
          .ok());
  reported = MustReport(deleted.name(), Completed());
  EXPECT_EQ(reported.automatic_move().outcome(),
            ats::v1::AUTOMATIC_MOVE_OUTCOME_SKIPPED);
  EXPECT_TRUE(
      absl::StrContains(reported.automatic_move().reason(), "no longer in"))
      << reported.automatic_move().reason();

  // The destination stage was deleted.
  const ats::v1::Candidate cy = CreateCandidate("Cy");
  const Event gone = AddAndSend(cy);
  ats::v1::DeleteStageRequest drop;
  drop.set_name(stages_[1]);
  ASSERT_TRUE(
      jobs_->DeleteStage(As(server_.admin_key()).get(), drop, &empty).ok());
  reported = MustReport(gone.name(), Completed());
  EXPECT_EQ(reported.automatic_move().outcome(),
            ats::v1::AUTOMATIC_MOVE_OUTCOME_SKIPPED);
  EXPECT_TRUE(
      absl::StrContains(reported.automatic_move().reason(), "no longer exists"))
      << reported.automatic_move().reason();
  EXPECT_EQ(GetApplication(cy).stage(), stages_[0]);
}

TEST_F(MovingRulesTest, DoNothingDecidesOnceAndKeepsTheCandidate) {
  ats::v1::MovingRule wait;
  wait.set_do_nothing(true);
  WithStatus(wait, ats::v1::PARTNER_RESULT_STATUS_SENT);
  ats::v1::MovingRule done = MoveTo("Interview");
  WithStatus(done, ats::v1::PARTNER_RESULT_STATUS_COMPLETED);
  AddTrigger(stages_[0], RuledTrigger({wait, done}));
  const ats::v1::Candidate ada = CreateCandidate("Ada");
  const Event event = AddAndSend(ada);
  PartnerResult sent;
  sent.set_status(ats::v1::PARTNER_RESULT_STATUS_SENT);
  Event reported = MustReport(event.name(), sent);
  EXPECT_EQ(reported.automatic_move().outcome(),
            ats::v1::AUTOMATIC_MOVE_OUTCOME_DO_NOTHING);
  reported = MustReport(event.name(), Completed());
  EXPECT_EQ(reported.automatic_move().outcome(),
            ats::v1::AUTOMATIC_MOVE_OUTCOME_DO_NOTHING);
  EXPECT_EQ(GetApplication(ada).stage(), stages_[0]);
}

TEST_F(MovingRulesTest, AChainOfAutomaticMovesStopsAndSaysWhere) {
  // Screen and Interview send each other the candidate on every completed
  // result: a chain only the limit ends.
  ats::v1::MovingRule to_interview = MoveTo("Interview");
  WithStatus(to_interview, ats::v1::PARTNER_RESULT_STATUS_COMPLETED);
  ats::v1::MovingRule to_screen = MoveTo("Screen");
  WithStatus(to_screen, ats::v1::PARTNER_RESULT_STATUS_COMPLETED);
  AddTrigger(stages_[0], RuledTrigger({to_interview}));
  AddTrigger(stages_[1], RuledTrigger({to_screen}));
  const ats::v1::Candidate ada = CreateCandidate("Ada");
  std::string event = AddAndSend(ada).name();
  for (int move = 1; move <= server::kMaxAutomaticMovesInARow; ++move) {
    const Event reported = MustReport(event, Completed());
    ASSERT_EQ(reported.automatic_move().outcome(),
              ats::v1::AUTOMATIC_MOVE_OUTCOME_MOVED)
        << "move " << move << ": " << reported.automatic_move().reason();
    // The newest event is the one the move fired.
    event = AllEvents().front().name();
    SetState(event, ats::v1::EVENT_STATE_SENT);
  }
  const Event stopped = MustReport(event, Completed());
  EXPECT_EQ(stopped.automatic_move().outcome(),
            ats::v1::AUTOMATIC_MOVE_OUTCOME_CHAIN_LIMIT);
  const std::string where =
      server::kMaxAutomaticMovesInARow % 2 == 0 ? stages_[0] : stages_[1];
  EXPECT_TRUE(absl::StrContains(stopped.automatic_move().reason(), where))
      << stopped.automatic_move().reason();
  EXPECT_EQ(GetApplication(ada).stage(), where);

  // A person moving the candidate starts a new chain.
  const std::string other = where == stages_[0] ? stages_[1] : stages_[0];
  MustMove(ApplicationOf(job_, ada), other);
  event = AllEvents().front().name();
  SetState(event, ats::v1::EVENT_STATE_SENT);
  EXPECT_EQ(MustReport(event, Completed()).automatic_move().outcome(),
            ats::v1::AUTOMATIC_MOVE_OUTCOME_MOVED);
}

// --------------------------------------------------------------- Properties

constexpr int kCases = 25;
const char* const kOutcomes[] = {"clear", "consider", "suspended"};
const ats::v1::PartnerResultStatus kStatuses[] = {
    ats::v1::PARTNER_RESULT_STATUS_SENT, ats::v1::PARTNER_RESULT_STATUS_PENDING,
    ats::v1::PARTNER_RESULT_STATUS_COMPLETED,
    ats::v1::PARTNER_RESULT_STATUS_FAILED};

// A random condition on the listing's criteria, the score or the status.
ats::v1::RuleCondition PickCondition() {
  ats::v1::RuleCondition condition;
  switch (Pick(0, 4)) {
    case 0: {
      ats::v1::OutcomeCondition* outcome = condition.mutable_outcome();
      outcome->set_criterion("report_decision");
      outcome->add_outcomes(kOutcomes[Pick(0, 3)]);
      if (Pick(0, 2) == 0) outcome->add_outcomes(kOutcomes[Pick(0, 3)]);
      break;
    }
    case 1:
    case 2: {
      ats::v1::ScoreCondition* score =
          Pick(0, 2) == 0 ? condition.mutable_result_score()
                          : condition.mutable_criterion_score();
      if (condition.has_criterion_score()) score->set_criterion("coding");
      score->set_comparison(static_cast<ats::v1::ScoreComparison>(Pick(1, 7)));
      score->set_value(Pick(0, 11) * 10);
      if (score->comparison() == ats::v1::SCORE_COMPARISON_BETWEEN) {
        score->set_upper_value(score->value() + Pick(0, 5) * 10);
      }
      break;
    }
    default:
      condition.mutable_status()->add_statuses(kStatuses[Pick(0, 4)]);
      break;
  }
  return condition;
}

// A random result: status, and maybe a score, a decision and a coding score.
PartnerResult PickResult() {
  PartnerResult result;
  result.set_status(kStatuses[Pick(0, 4)]);
  if (Pick(0, 2) == 0) result.mutable_score()->set_value(Pick(0, 11) * 10);
  if (Pick(0, 2) == 0) {
    (*result.mutable_criteria())["report_decision"].set_outcome(
        kOutcomes[Pick(0, 3)]);
  }
  if (Pick(0, 2) == 0) {
    (*result.mutable_criteria())["coding"].set_score(Pick(0, 11) * 10);
  }
  return result;
}

// What a condition means, written out apart from the server's evaluation.
bool Expected(const ats::v1::RuleCondition& condition,
              const PartnerResult& result) {
  auto compare = [](double score, const ats::v1::ScoreCondition& test) {
    switch (test.comparison()) {
      case ats::v1::SCORE_COMPARISON_BELOW:
        return score < test.value();
      case ats::v1::SCORE_COMPARISON_AT_MOST:
        return score <= test.value();
      case ats::v1::SCORE_COMPARISON_EQUAL:
        return score == test.value();
      case ats::v1::SCORE_COMPARISON_AT_LEAST:
        return score >= test.value();
      case ats::v1::SCORE_COMPARISON_ABOVE:
        return score > test.value();
      default:
        return test.value() <= score && score <= test.upper_value();
    }
  };
  const auto& criteria = result.criteria();
  if (condition.has_outcome()) {
    auto found = criteria.find("report_decision");
    if (found == criteria.end()) return false;
    const auto& outcomes = condition.outcome().outcomes();
    return std::find(outcomes.begin(), outcomes.end(),
                     found->second.outcome()) != outcomes.end();
  }
  if (condition.has_criterion_score()) {
    auto found = criteria.find("coding");
    return found != criteria.end() &&
           compare(found->second.score(), condition.criterion_score());
  }
  if (condition.has_result_score()) {
    return result.has_score() &&
           compare(result.score().value(), condition.result_score());
  }
  const auto& statuses = condition.status().statuses();
  return std::find(statuses.begin(), statuses.end(), result.status()) !=
         statuses.end();
}

bool Expected(const ats::v1::MovingRule& rule, const PartnerResult& result) {
  if (rule.match() == ats::v1::RULE_MATCH_ANY && rule.conditions_size() > 0) {
    return std::any_of(
        rule.conditions().begin(), rule.conditions().end(),
        [&](const ats::v1::RuleCondition& c) { return Expected(c, result); });
  }
  return std::all_of(
      rule.conditions().begin(), rule.conditions().end(),
      [&](const ats::v1::RuleCondition& c) { return Expected(c, result); });
}

TEST(MovingRulesPropertyTest, TheFirstMatchingRuleDecides) {
  CheckProperty("MovingRulesPropertyTest/TheFirstMatchingRuleDecides", 500, [] {
    server::Rules rules;
    const int count = Pick(0, 6);
    for (int i = 0; i < count; ++i) {
      ats::v1::MovingRule* rule = rules.Add();
      rule->set_match(Pick(0, 2) == 0 ? ats::v1::RULE_MATCH_ALL
                                      : ats::v1::RULE_MATCH_ANY);
      const int conditions = Pick(0, 4);
      for (int j = 0; j < conditions; ++j) {
        *rule->add_conditions() = PickCondition();
      }
      rule->set_do_nothing(true);
    }
    const PartnerResult result = PickResult();
    std::optional<int> expected;
    for (int i = 0; i < count && !expected.has_value(); ++i) {
      if (Expected(rules[i], result)) expected = i;
    }
    RC_ASSERT(server::FirstMatchingRule(rules, result) == expected);
  });
}

TEST_F(MovingRulesTest, ReportsMoveAtMostOnceAndFireExactlyTheDestination) {
  CheckProperty(
      "MovingRulesTest/ReportsMoveAtMostOnceAndFireExactlyTheDestination",
      kCases, [this] {
        // A fresh job: Screen's trigger has random rules to Interview or
        // Rejected; each destination has random triggers of its own.
        const ats::v1::Job job =
            CreateJob("Prop", {"Screen", "Interview", "Rejected"});
        ats::v1::Trigger screen =
            IntegrationTrigger(integration_.name(), "basic");
        const int count = Pick(1, 4);
        for (int i = 0; i < count; ++i) {
          ats::v1::MovingRule* rule = screen.add_rules();
          *rule->add_conditions() = PickCondition();
          if (Pick(0, 4) == 0) {
            rule->set_do_nothing(true);
          } else {
            rule->set_move_to_stage(job.stages(Pick(1, 3)).name());
          }
        }
        AddTrigger(job.stages(0).name(), screen);
        std::map<std::string, std::set<std::string>> triggers_of;
        for (int s = 1; s < 3; ++s) {
          const int integration_triggers = Pick(0, 3);
          for (int t = 0; t < integration_triggers; ++t) {
            triggers_of[job.stages(s).name()].insert(
                AddTrigger(job.stages(s).name(),
                           IntegrationTrigger(integration_.name(), "basic"))
                    .name());
          }
          if (Pick(0, 2) == 0)
            AddTrigger(job.stages(s).name(), TagTrigger("t"));
        }
        const ats::v1::Candidate candidate = CreateCandidate("prop");
        ats::v1::AddCandidateToJobResponse added;
        RC_ASSERT(AddToJob(job.name(), candidate.name(), &added).ok());
        RC_ASSERT(added.events_size() == 1);
        const std::string event = added.events(0).name();
        SetState(event, ats::v1::EVENT_STATE_SENT);

        std::optional<ats::v1::AutomaticMove> decided;
        const int reports = Pick(1, 6);
        for (int r = 0; r < reports; ++r) {
          PartnerResult result = PickResult();
          // Once final, only the same status amends it.
          const Event before = MustGetEvent(event);
          if (before.state() == ats::v1::EVENT_STATE_COMPLETED) {
            result.set_status(ats::v1::PARTNER_RESULT_STATUS_COMPLETED);
          } else if (before.state() == ats::v1::EVENT_STATE_FAILED) {
            result.set_status(ats::v1::PARTNER_RESULT_STATUS_FAILED);
          }
          Event reported;
          RC_ASSERT(Report(event, result, &reported).ok());
          if (decided.has_value()) {
            // Decided once: never again.
            RC_ASSERT(google::protobuf::util::MessageDifferencer::Equals(
                reported.automatic_move(), *decided));
          } else if (reported.has_automatic_move()) {
            decided = reported.automatic_move();
          }
        }

        ats::v1::GetApplicationRequest get;
        get.set_name(ApplicationOf(job, candidate));
        ats::v1::Application application;
        RC_ASSERT(jobs_
                      ->GetApplication(As(server_.recruiter_key()).get(), get,
                                       &application)
                      .ok());
        int automatic = 0;
        for (const ats::v1::StageTransition& entry : application.history()) {
          if (entry.has_moved_by_rule()) ++automatic;
        }
        const bool moved =
            decided.has_value() &&
            decided->outcome() == ats::v1::AUTOMATIC_MOVE_OUTCOME_MOVED;
        RC_ASSERT(automatic == (moved ? 1 : 0));
        RC_ASSERT(application.stage() ==
                  (moved ? decided->to_stage() : job.stages(0).name()));

        // The events of the candidate other than the first: exactly one per
        // integration trigger of the destination.
        ats::v1::ListEventsRequest list;
        list.set_candidate(candidate.name());
        std::multiset<std::string> fired;
        for (const Event& other : AllEvents(list)) {
          if (other.name() != event)
            fired.insert(other.stage_trigger().trigger());
        }
        const std::set<std::string> expected =
            moved ? triggers_of[decided->to_stage()] : std::set<std::string>();
        RC_ASSERT(fired ==
                  std::multiset<std::string>(expected.begin(), expected.end()));
      });
}

}  // namespace
}  // namespace ats::testing
