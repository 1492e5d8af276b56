// The trigger engine against the real server: what entering a stage fires
// (AddCandidateToJob, MoveCandidate, BatchMoveCandidates), what it puts in
// the events and their payloads, and what it must never fire twice.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "tests/api/event_fixture.h"

namespace ats::testing {
namespace {

using ats::v1::Event;
using google::protobuf::util::MessageDifferencer;
using google::protobuf::util::TimeUtil;

int64_t Micros(const google::protobuf::Timestamp& t) {
  return TimeUtil::TimestampToMicroseconds(t);
}

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

std::set<std::string> NamesOf(
    const google::protobuf::RepeatedPtrField<Event>& events) {
  std::set<std::string> names;
  for (const Event& event : events) names.insert(event.name());
  return names;
}

std::set<std::string> NamesOf(const std::vector<Event>& events) {
  std::set<std::string> names;
  for (const Event& event : events) names.insert(event.name());
  return names;
}

class TriggerEngineTest : public EventFixture {
 protected:
  // A job Inbox → Screening → Interview; Screening carries, in order, an
  // integration event, a tag and a webhook that declares the candidate's
  // email and tags. The account has a webhook signing secret.
  void SetUp() override {
    EventFixture::SetUp();
    RotateWebhookSecret();
    job_ = CreateJob("Data engineer", {"Inbox", "Screening", "Interview"});
    inbox_ = job_.stages(0).name();
    screening_ = job_.stages(1).name();
    interview_ = job_.stages(2).name();
    integration_trigger_ = AddTrigger(
        screening_, IntegrationTrigger(integration_.name(), "basic"));
    tag_trigger_ = AddTrigger(screening_, TagTrigger("screened"));
    ats::v1::Trigger webhook = WebhookTrigger("https://hooks.example/ats");
    webhook.mutable_webhook()->add_candidate_fields(
        ats::v1::CANDIDATE_FIELD_EMAIL);
    webhook.mutable_webhook()->add_candidate_fields(
        ats::v1::CANDIDATE_FIELD_TAGS);
    webhook_trigger_ = AddTrigger(screening_, webhook);
  }

  const Event* FindByTrigger(
      const google::protobuf::RepeatedPtrField<Event>& events,
      const std::string& trigger) {
    for (const Event& event : events) {
      if (event.stage_trigger().trigger() == trigger) return &event;
    }
    return nullptr;
  }

  ats::v1::Candidate GetCandidate(const std::string& name) {
    ats::v1::GetCandidateRequest request;
    request.set_name(name);
    ats::v1::Candidate candidate;
    grpc::Status status = jobs_->GetCandidate(As(server_.recruiter_key()).get(),
                                              request, &candidate);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return candidate;
  }

  ats::v1::Job job_;
  std::string inbox_, screening_, interview_;
  ats::v1::Trigger integration_trigger_, tag_trigger_, webhook_trigger_;
};

TEST_F(TriggerEngineTest, MoveFiresExactlyTheStagesTriggers) {
  const ats::v1::Candidate ada = CreateCandidate("ada");
  EXPECT_EQ(MustAdd(job_, ada).events_size(), 0);  // Inbox has no triggers.
  const absl::Time now = server_.clock().Now();

  const ats::v1::MoveCandidateResponse moved =
      MustMove(ApplicationOf(job_, ada), screening_);
  EXPECT_TRUE(moved.moved());
  ASSERT_EQ(moved.events_size(), 2);  // add_tag creates no event.

  const Event* partner_event =
      FindByTrigger(moved.events(), integration_trigger_.name());
  ASSERT_NE(partner_event, nullptr);
  EXPECT_TRUE(absl::StartsWith(partner_event->name(), "events/"));
  EXPECT_EQ(partner_event->state(), ats::v1::EVENT_STATE_PENDING);
  EXPECT_EQ(partner_event->state_reason(), "");
  EXPECT_EQ(partner_event->integration(), integration_.name());
  EXPECT_EQ(partner_event->webhook_uri(), "");
  EXPECT_EQ(partner_event->candidate(), ada.name());
  EXPECT_EQ(partner_event->job(), job_.name());
  EXPECT_EQ(partner_event->source(), ats::v1::EVENT_SOURCE_STAGE_TRIGGER);
  EXPECT_EQ(partner_event->stage_trigger().stage(), screening_);
  EXPECT_EQ(partner_event->stage_trigger().stage_display_name(), "Screening");
  EXPECT_TRUE(absl::StartsWith(partner_event->triggered_by(), "apiKeys/"));
  EXPECT_EQ(partner_event->option_values().at("test_package"), "basic");
  EXPECT_EQ(Micros(partner_event->create_time()), Micros(now));
  EXPECT_EQ(Micros(partner_event->due_time()), Micros(now));
  EXPECT_EQ(Micros(partner_event->update_time()), Micros(now));
  EXPECT_EQ(partner_event->attempt_count(), 0);
  EXPECT_FALSE(partner_event->has_result());

  const Event* webhook_event =
      FindByTrigger(moved.events(), webhook_trigger_.name());
  ASSERT_NE(webhook_event, nullptr);
  EXPECT_EQ(webhook_event->state(), ats::v1::EVENT_STATE_PENDING);
  EXPECT_EQ(webhook_event->integration(), "");
  EXPECT_EQ(webhook_event->webhook_uri(), "https://hooks.example/ats");
  EXPECT_EQ(webhook_event->candidate(), ada.name());

  // The same events are listed, as the move returned them.
  const std::vector<Event> listed = AllEvents();
  ASSERT_EQ(listed.size(), 2u);
  for (const Event& event : listed) {
    const Event* returned =
        FindByTrigger(moved.events(), event.stage_trigger().trigger());
    ASSERT_NE(returned, nullptr);
    EXPECT_TRUE(MessageDifferencer::Equals(event, *returned))
        << event.DebugString() << " vs " << returned->DebugString();
  }

  // Interview has no triggers.
  EXPECT_EQ(MustMove(ApplicationOf(job_, ada), interview_).events_size(), 0);
  EXPECT_EQ(AllEvents().size(), 2u);
}

TEST_F(TriggerEngineTest, PayloadCarriesOnlyTheFieldsThePartnerAsksFor) {
  const ats::v1::Candidate ada = CreateCandidate("ada");
  MustAdd(job_, ada);
  const ats::v1::MoveCandidateResponse moved =
      MustMove(ApplicationOf(job_, ada), screening_);
  const Event* event =
      FindByTrigger(moved.events(), integration_trigger_.name());
  ASSERT_NE(event, nullptr);

  const ats::v1::PartnerEvent payload = PayloadOf(event->name());
  EXPECT_EQ(payload.event_id(), event->name());
  EXPECT_EQ(payload.account(), server_.account());
  EXPECT_EQ(payload.integration(), integration_.name());
  EXPECT_EQ(payload.partner(), partner_.name());
  EXPECT_EQ(payload.source(), ats::v1::EVENT_SOURCE_STAGE_TRIGGER);
  EXPECT_EQ(payload.stage_trigger().trigger(), integration_trigger_.name());
  EXPECT_EQ(payload.stage_trigger().stage(), screening_);
  EXPECT_EQ(payload.stage_trigger().stage_display_name(), "Screening");
  EXPECT_EQ(payload.job(), job_.name());
  EXPECT_EQ(payload.job_title(), "Data engineer");
  EXPECT_EQ(payload.triggered_by(), event->triggered_by());
  EXPECT_EQ(payload.option_values().size(), 1u);
  EXPECT_EQ(payload.option_values().at("test_package"), "basic");
  EXPECT_EQ(Micros(payload.create_time()), Micros(event->create_time()));
  EXPECT_EQ(payload.result_reporting().method(),
            "ats.v1.IntegrationService/ReportPartnerResult");
  EXPECT_EQ(payload.result_reporting().event(), event->name());
  // The listing asks for the given name and email only.
  ats::v1::CandidateSnapshot expected;
  expected.set_name(ada.name());
  expected.set_given_name("ada");
  expected.set_email(ada.email());
  EXPECT_TRUE(MessageDifferencer::Equals(payload.candidate(), expected))
      << payload.candidate().DebugString();

  // A webhook gets the fields its trigger declares, like a partner: email
  // and tags, also the tag the tag trigger before it added in the same entry.
  const Event* webhook = FindByTrigger(moved.events(), webhook_trigger_.name());
  ASSERT_NE(webhook, nullptr);
  const ats::v1::PartnerEvent hook = PayloadOf(webhook->name());
  EXPECT_EQ(hook.integration(), "");
  EXPECT_EQ(hook.partner(), "");
  EXPECT_FALSE(hook.has_result_reporting());
  ats::v1::CandidateSnapshot declared;
  declared.set_name(ada.name());
  declared.set_email(ada.email());
  declared.add_tags("imported");
  declared.add_tags("screened");
  EXPECT_TRUE(MessageDifferencer::Equals(hook.candidate(), declared))
      << hook.candidate().DebugString();
  EXPECT_EQ(hook.stage_trigger().trigger(), webhook_trigger_.name());
  EXPECT_EQ(hook.job_title(), "Data engineer");
}

TEST_F(TriggerEngineTest, WebhookWithoutFieldsGetsTheCandidatesNameOnly) {
  const ats::v1::Trigger bare =
      AddTrigger(interview_, WebhookTrigger("https://hooks.example/bare"));
  EXPECT_EQ(bare.webhook().candidate_fields_size(), 0);
  ats::v1::Trigger every = WebhookTrigger("https://hooks.example/every");
  for (int field = ats::v1::CANDIDATE_FIELD_GIVEN_NAME;
       field <= ats::v1::CANDIDATE_FIELD_TAGS; ++field) {
    every.mutable_webhook()->add_candidate_fields(
        static_cast<ats::v1::CandidateField>(field));
  }
  const ats::v1::Trigger all = AddTrigger(interview_, every);
  EXPECT_EQ(all.webhook().candidate_fields_size(), 5);

  const ats::v1::Candidate ada = CreateCandidate("ada");
  MustAdd(job_, ada);
  const ats::v1::MoveCandidateResponse moved =
      MustMove(ApplicationOf(job_, ada), interview_);
  const Event* bare_event = FindByTrigger(moved.events(), bare.name());
  ASSERT_NE(bare_event, nullptr);
  ats::v1::CandidateSnapshot name_only;
  name_only.set_name(ada.name());
  EXPECT_TRUE(MessageDifferencer::Equals(
      PayloadOf(bare_event->name()).candidate(), name_only))
      << PayloadOf(bare_event->name()).candidate().DebugString();

  const Event* all_event = FindByTrigger(moved.events(), all.name());
  ASSERT_NE(all_event, nullptr);
  const ats::v1::CandidateSnapshot everything =
      PayloadOf(all_event->name()).candidate();
  EXPECT_EQ(everything.given_name(), "ada");
  EXPECT_EQ(everything.family_name(), "Lovelace");
  EXPECT_EQ(everything.email(), ada.email());
  EXPECT_EQ(everything.phone(), "+44 20 7946 0000");
  EXPECT_EQ(everything.tags_size(), 1);
}

TEST_F(TriggerEngineTest, WebhookCandidateFieldsAreValidated) {
  struct Case {
    std::vector<int> fields;
    std::string violation;
  };
  const std::vector<Case> cases = {
      {{ats::v1::CANDIDATE_FIELD_UNSPECIFIED},
       "trigger.webhook.candidate_fields[0]"},
      {{ats::v1::CANDIDATE_FIELD_EMAIL, 42},
       "trigger.webhook.candidate_fields[1]"},
      {{ats::v1::CANDIDATE_FIELD_EMAIL, ats::v1::CANDIDATE_FIELD_PHONE,
        ats::v1::CANDIDATE_FIELD_EMAIL},
       "trigger.webhook.candidate_fields[2]"},
  };
  for (const Case& c : cases) {
    ats::v1::CreateTriggerRequest request;
    request.set_parent(interview_);
    *request.mutable_trigger() = WebhookTrigger("https://hooks.example/x");
    for (int field : c.fields) {
      request.mutable_trigger()->mutable_webhook()->add_candidate_fields(
          static_cast<ats::v1::CandidateField>(field));
    }
    ats::v1::Trigger created;
    EXPECT_TRUE(IsInvalid(
        jobs_->CreateTrigger(As(server_.admin_key()).get(), request, &created),
        c.violation));
  }

  // Updating the webhook replaces its list, validated the same way.
  ats::v1::UpdateTriggerRequest update;
  update.mutable_trigger()->set_name(webhook_trigger_.name());
  *update.mutable_trigger()->mutable_webhook() =
      WebhookTrigger("https://hooks.example/ats").webhook();
  update.mutable_trigger()->mutable_webhook()->add_candidate_fields(
      ats::v1::CANDIDATE_FIELD_UNSPECIFIED);
  update.mutable_update_mask()->add_paths("webhook");
  ats::v1::Trigger updated;
  EXPECT_TRUE(IsInvalid(
      jobs_->UpdateTrigger(As(server_.admin_key()).get(), update, &updated),
      "trigger.webhook.candidate_fields[0]"));
  update.mutable_trigger()->mutable_webhook()->set_candidate_fields(
      0, ats::v1::CANDIDATE_FIELD_PHONE);
  ASSERT_TRUE(
      jobs_->UpdateTrigger(As(server_.admin_key()).get(), update, &updated)
          .ok());
  ASSERT_EQ(updated.webhook().candidate_fields_size(), 1);
  EXPECT_EQ(updated.webhook().candidate_fields(0),
            ats::v1::CANDIDATE_FIELD_PHONE);
}

TEST_F(TriggerEngineTest, AddTagRunsInTheMovesTransaction) {
  const ats::v1::Candidate ada = CreateCandidate("ada");
  MustAdd(job_, ada);
  MustMove(ApplicationOf(job_, ada), screening_);
  const ats::v1::Candidate tagged = GetCandidate(ada.name());
  EXPECT_EQ(
      std::vector<std::string>(tagged.tags().begin(), tagged.tags().end()),
      (std::vector<std::string>{"imported", "screened"}));
  EXPECT_NE(tagged.etag(), ada.etag());

  // A move that fails after the triggers ran leaves no tag and no event:
  // BatchMove is atomic, and an unknown candidate fails it.
  const ats::v1::Candidate bob = CreateCandidate("bob");
  MustAdd(job_, bob);
  ats::v1::BatchMoveCandidatesRequest batch;
  batch.set_parent(job_.name());
  batch.set_stage(screening_);
  batch.add_candidates(bob.name());
  batch.add_candidates(CreateCandidate("carol").name());  // Not in the job.
  ats::v1::BatchMoveCandidatesResponse response;
  EXPECT_TRUE(HasCode(jobs_->BatchMoveCandidates(
                          As(server_.recruiter_key()).get(), batch, &response),
                      Code::NOT_FOUND));
  const ats::v1::Candidate untouched = GetCandidate(bob.name());
  EXPECT_EQ(untouched.tags_size(), 1);
  ats::v1::ListEventsRequest of_bob;
  of_bob.set_candidate(bob.name());
  EXPECT_TRUE(AllEvents(of_bob).empty());
}

TEST_F(TriggerEngineTest, AddTagTriggersCannotBeDelayed) {
  ats::v1::Trigger delayed = TagTrigger("later");
  delayed.mutable_delay()->set_seconds(60);
  ats::v1::CreateTriggerRequest request;
  request.set_parent(inbox_);
  *request.mutable_trigger() = delayed;
  ats::v1::Trigger created;
  grpc::Status status =
      jobs_->CreateTrigger(As(server_.admin_key()).get(), request, &created);
  ASSERT_TRUE(IsInvalid(status, "trigger.delay"));
  EXPECT_TRUE(absl::StrContains(status.error_message(),
                                "add_tag triggers run immediately"))
      << status.error_message();

  // A zero delay is no delay.
  request.mutable_trigger()->mutable_delay()->set_seconds(0);
  EXPECT_TRUE(
      jobs_->CreateTrigger(As(server_.admin_key()).get(), request, &created)
          .ok());

  // Nor can a delay be put on an add_tag trigger later.
  ats::v1::UpdateTriggerRequest update;
  update.mutable_trigger()->set_name(tag_trigger_.name());
  update.mutable_trigger()->mutable_delay()->set_seconds(60);
  update.mutable_update_mask()->add_paths("delay");
  ats::v1::Trigger updated;
  EXPECT_TRUE(IsInvalid(
      jobs_->UpdateTrigger(As(server_.admin_key()).get(), update, &updated),
      "trigger.delay"));
}

TEST_F(TriggerEngineTest, DelayedTriggersAreScheduled) {
  AddTrigger(interview_, IntegrationTrigger(integration_.name(), "advanced",
                                            absl::Hours(2)));
  AddTrigger(interview_,
             WebhookTrigger("https://hooks.example/late", absl::Minutes(5)));
  const ats::v1::Candidate ada = CreateCandidate("ada");
  MustAdd(job_, ada);
  server_.clock().Advance(absl::Minutes(7));
  const absl::Time now = server_.clock().Now();
  const ats::v1::MoveCandidateResponse moved =
      MustMove(ApplicationOf(job_, ada), interview_);
  ASSERT_EQ(moved.events_size(), 2);
  for (const Event& event : moved.events()) {
    EXPECT_EQ(event.state(), ats::v1::EVENT_STATE_SCHEDULED);
    EXPECT_EQ(Micros(event.create_time()), Micros(now));
    const absl::Duration delay =
        event.integration().empty() ? absl::Minutes(5) : absl::Hours(2);
    EXPECT_EQ(Micros(event.due_time()), Micros(now + delay)) << event.name();
  }
}

TEST_F(TriggerEngineTest, InactiveIntegrationGivesSkippedEventWithReason) {
  Deactivate(integration_.name());
  const ats::v1::Candidate ada = CreateCandidate("ada");
  MustAdd(job_, ada);
  const ats::v1::MoveCandidateResponse moved =
      MustMove(ApplicationOf(job_, ada), screening_);
  ASSERT_EQ(moved.events_size(), 2);
  const Event* skipped =
      FindByTrigger(moved.events(), integration_trigger_.name());
  ASSERT_NE(skipped, nullptr);
  EXPECT_EQ(skipped->state(), ats::v1::EVENT_STATE_SKIPPED);
  EXPECT_EQ(skipped->state_reason(),
            absl::StrCat("integration ", integration_.name(), " is inactive"));
  EXPECT_EQ(skipped->integration(), integration_.name());
  // The webhook of the same stage still goes out.
  const Event* webhook = FindByTrigger(moved.events(), webhook_trigger_.name());
  ASSERT_NE(webhook, nullptr);
  EXPECT_EQ(webhook->state(), ats::v1::EVENT_STATE_PENDING);

  ats::v1::ListEventsRequest request;
  request.set_state(ats::v1::EVENT_STATE_SKIPPED);
  const std::vector<Event> listed = AllEvents(request);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].name(), skipped->name());
}

TEST_F(TriggerEngineTest, DisabledEndpointGivesSkippedEventWithReason) {
  // The dispatcher disables an endpoint on 410 Gone; here, by hand.
  const std::string account_id = IdOf(server_.account());
  ASSERT_TRUE(server_.store()
                  .WriteAndWait([&](storage::Transaction& txn) {
                    auto row = txn.integrations().GetIntegration(
                        account_id, IdOf(integration_.name()));
                    if (!row.ok()) return row.status();
                    row->endpoint_disabled_reason = "410 Gone";
                    return txn.integrations().UpdateIntegration(*row);
                  })
                  .ok());
  const ats::v1::Candidate ada = CreateCandidate("ada");
  MustAdd(job_, ada);
  const ats::v1::MoveCandidateResponse moved =
      MustMove(ApplicationOf(job_, ada), screening_);
  const Event* skipped =
      FindByTrigger(moved.events(), integration_trigger_.name());
  ASSERT_NE(skipped, nullptr);
  EXPECT_EQ(skipped->state(), ats::v1::EVENT_STATE_SKIPPED);
  EXPECT_TRUE(absl::StrContains(skipped->state_reason(), "endpoint"))
      << skipped->state_reason();
  EXPECT_TRUE(absl::StrContains(skipped->state_reason(), "410 Gone"))
      << skipped->state_reason();
}

TEST_F(TriggerEngineTest, RetriedRequestFiresNothing) {
  const ats::v1::Candidate ada = CreateCandidate("ada");
  MustAdd(job_, ada);
  ats::v1::MoveCandidateResponse first;
  ASSERT_TRUE(
      Move(ApplicationOf(job_, ada), screening_, &first, "move-ada-1").ok());
  ASSERT_EQ(first.events_size(), 2);
  ats::v1::MoveCandidateResponse retried;
  ASSERT_TRUE(
      Move(ApplicationOf(job_, ada), screening_, &retried, "move-ada-1").ok());
  // The first answer again, with the same events; none was created anew.
  EXPECT_TRUE(MessageDifferencer::Equals(first, retried));
  EXPECT_EQ(AllEvents().size(), 2u);

  // The same holds for AddCandidateToJob into a stage with triggers.
  const ats::v1::Candidate bob = CreateCandidate("bob");
  ats::v1::AddCandidateToJobResponse added, again;
  ASSERT_TRUE(
      AddToJob(job_.name(), bob.name(), &added, screening_, "add-bob").ok());
  ASSERT_EQ(added.events_size(), 2);
  ASSERT_TRUE(
      AddToJob(job_.name(), bob.name(), &again, screening_, "add-bob").ok());
  EXPECT_TRUE(MessageDifferencer::Equals(added, again));
  EXPECT_EQ(AllEvents().size(), 4u);
}

TEST_F(TriggerEngineTest, MoveToTheCurrentStageFiresNothingButReEntryDoes) {
  const ats::v1::Candidate ada = CreateCandidate("ada");
  MustAdd(job_, ada);
  const ats::v1::MoveCandidateResponse first =
      MustMove(ApplicationOf(job_, ada), screening_);
  ASSERT_EQ(first.events_size(), 2);

  const ats::v1::MoveCandidateResponse stay =
      MustMove(ApplicationOf(job_, ada), screening_);
  EXPECT_FALSE(stay.moved());
  EXPECT_EQ(stay.events_size(), 0);
  EXPECT_EQ(AllEvents().size(), 2u);

  MustMove(ApplicationOf(job_, ada), inbox_);
  server_.clock().Advance(absl::Seconds(30));
  const ats::v1::MoveCandidateResponse again =
      MustMove(ApplicationOf(job_, ada), screening_);
  ASSERT_EQ(again.events_size(), 2);
  // New events, for a distinct entry.
  for (const std::string& name : NamesOf(again.events())) {
    EXPECT_EQ(NamesOf(first.events()).count(name), 0u) << name;
  }
  EXPECT_EQ(AllEvents().size(), 4u);
  // Newest first: the re-entry's events lead the list.
  const std::vector<Event> listed = AllEvents();
  EXPECT_EQ(NamesOf(std::vector<Event>(listed.begin(), listed.begin() + 2)),
            NamesOf(again.events()));
}

TEST_F(TriggerEngineTest, BatchMoveFiresPerCandidate) {
  std::vector<ats::v1::Candidate> candidates;
  ats::v1::BatchMoveCandidatesRequest batch;
  batch.set_parent(job_.name());
  batch.set_stage(screening_);
  for (const char* given : {"ada", "bob", "carol"}) {
    candidates.push_back(CreateCandidate(given));
    MustAdd(job_, candidates.back());
    batch.add_candidates(candidates.back().name());
  }
  // Carol is already in Screening: she does not enter it again.
  MustMove(ApplicationOf(job_, candidates[2]), screening_);
  ASSERT_EQ(AllEvents().size(), 2u);

  ats::v1::BatchMoveCandidatesResponse response;
  grpc::Status status = jobs_->BatchMoveCandidates(
      As(server_.recruiter_key()).get(), batch, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.events_size(), 4);
  std::map<std::string, int> per_candidate;
  for (const Event& event : response.events()) {
    ++per_candidate[event.candidate()];
  }
  EXPECT_EQ(per_candidate,
            (std::map<std::string, int>{{candidates[0].name(), 2},
                                        {candidates[1].name(), 2}}));
  EXPECT_EQ(AllEvents().size(), 6u);
}

TEST_F(TriggerEngineTest, AddCandidateToJobFiresTheFirstStagesTriggers) {
  const ats::v1::Trigger first =
      AddTrigger(inbox_, WebhookTrigger("https://hooks.example/new"));
  const ats::v1::Candidate ada = CreateCandidate("ada");
  const ats::v1::AddCandidateToJobResponse added = MustAdd(job_, ada);
  ASSERT_EQ(added.events_size(), 1);
  EXPECT_EQ(added.events(0).stage_trigger().trigger(), first.name());
  EXPECT_EQ(added.events(0).stage_trigger().stage(), inbox_);
  EXPECT_EQ(added.events(0).state(), ats::v1::EVENT_STATE_PENDING);

  // Added straight into a later stage: that stage's triggers fire.
  const ats::v1::Candidate bob = CreateCandidate("bob");
  ats::v1::AddCandidateToJobResponse at_screening;
  ASSERT_TRUE(
      AddToJob(job_.name(), bob.name(), &at_screening, screening_).ok());
  EXPECT_EQ(at_screening.events_size(), 2);
}

TEST_F(TriggerEngineTest, TenantsNeverSeeEachOthersEvents) {
  const ats::v1::Candidate ada = CreateCandidate("ada");
  MustAdd(job_, ada);
  const ats::v1::MoveCandidateResponse moved =
      MustMove(ApplicationOf(job_, ada), screening_);
  ASSERT_GT(moved.events_size(), 0);
  ats::v1::Event event;
  EXPECT_TRUE(HasCode(
      GetEvent(moved.events(0).name(), &event, server_.other_admin_key()),
      Code::NOT_FOUND));
  ats::v1::ListEventsRequest request;
  ats::v1::ListEventsResponse response;
  ASSERT_TRUE(ListEvents(request, &response, server_.other_admin_key()).ok());
  EXPECT_EQ(response.events_size(), 0);
}

// Without a signing secret a webhook event can never be sent: it is SKIPPED
// when its trigger fires, so what AddCandidateToJob and MoveCandidate answer
// is what is stored, and what happens to it.
class WebhookWithoutSecretTest : public EventFixture {};

TEST_F(WebhookWithoutSecretTest, EventsAreSkippedAtCreationWithTheReason) {
  const ats::v1::Job job = CreateJob("Hooks", {"Inbox", "Screening"});
  AddTrigger(job.stages(0).name(), WebhookTrigger("https://hooks.example/new"));
  AddTrigger(job.stages(1).name(),
             WebhookTrigger("https://hooks.example/late", absl::Hours(1)));
  AddTrigger(job.stages(1).name(),
             IntegrationTrigger(integration_.name(), "basic"));
  const ats::v1::Candidate ada = CreateCandidate("ada");

  const ats::v1::AddCandidateToJobResponse added = MustAdd(job, ada);
  ASSERT_EQ(added.events_size(), 1);
  const ats::v1::MoveCandidateResponse moved =
      MustMove(ApplicationOf(job, ada), job.stages(1).name());
  ASSERT_EQ(moved.events_size(), 2);
  std::vector<Event> answered = {added.events(0)};
  for (const Event& event : moved.events()) answered.push_back(event);
  int skipped = 0;
  for (const Event& event : answered) {
    if (!event.integration().empty()) {
      // The integration needs no account secret: it goes out.
      EXPECT_EQ(event.state(), ats::v1::EVENT_STATE_PENDING);
      continue;
    }
    ++skipped;
    // Delayed or not: the trigger fired without a secret.
    EXPECT_EQ(event.state(), ats::v1::EVENT_STATE_SKIPPED) << event.name();
    EXPECT_EQ(event.state_reason(),
              "the account has no webhook signing secret; create one with "
              "AccountService.RotateWebhookSigningSecret");
    EXPECT_EQ(Micros(event.due_time()), Micros(event.create_time()));
    EXPECT_TRUE(MessageDifferencer::Equals(MustGetEvent(event.name()), event))
        << MustGetEvent(event.name()).DebugString() << " vs "
        << event.DebugString();
  }
  EXPECT_EQ(skipped, 2);

  // With a secret, the next entry's webhook events are sent.
  RotateWebhookSecret();
  const ats::v1::Candidate bob = CreateCandidate("bob");
  const ats::v1::AddCandidateToJobResponse bob_added = MustAdd(job, bob);
  ASSERT_EQ(bob_added.events_size(), 1);
  EXPECT_EQ(bob_added.events(0).state(), ats::v1::EVENT_STATE_PENDING);
  const ats::v1::MoveCandidateResponse bob_moved =
      MustMove(ApplicationOf(job, bob), job.stages(1).name());
  ASSERT_EQ(bob_moved.events_size(), 2);
  for (const Event& event : bob_moved.events()) {
    EXPECT_EQ(event.state(), event.integration().empty()
                                 ? ats::v1::EVENT_STATE_SCHEDULED
                                 : ats::v1::EVENT_STATE_PENDING);
  }
}

}  // namespace
}  // namespace ats::testing
