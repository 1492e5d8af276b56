// IntegrationService events part against the real server: looking at events
// (GetEvent, ListEvents), retrying and cancelling them, partner results, the
// cancellations that deleting candidates, applications and jobs causes, and
// who may call what.

#include <cmath>
#include <functional>
#include <limits>
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
using ats::v1::EventState;
using google::protobuf::util::MessageDifferencer;
using google::protobuf::util::TimeUtil;

int64_t Micros(const google::protobuf::Timestamp& t) {
  return TimeUtil::TimestampToMicroseconds(t);
}

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

class EventTest : public EventFixture {
 protected:
  // A job Inbox → Screening whose Screening fires the integration (now) and
  // a webhook (in an hour), in an account with a webhook signing secret.
  void SetUp() override {
    EventFixture::SetUp();
    RotateWebhookSecret();
    job_ = CreateJob("Data engineer", {"Inbox", "Screening"});
    screening_ = job_.stages(1).name();
    AddTrigger(screening_, IntegrationTrigger(integration_.name(), "basic"));
    AddTrigger(screening_,
               WebhookTrigger("https://hooks.example/ats", absl::Hours(1)));
  }

  // Adds a new candidate to the job and moves it to Screening; returns
  // {partner event, webhook event}.
  std::pair<Event, Event> Fire(const std::string& given = "ada") {
    const ats::v1::Candidate candidate = CreateCandidate(given);
    MustAdd(job_, candidate);
    const ats::v1::MoveCandidateResponse moved =
        MustMove(ApplicationOf(job_, candidate), screening_);
    EXPECT_EQ(moved.events_size(), 2);
    Event partner_event, webhook_event;
    for (const Event& event : moved.events()) {
      (event.integration().empty() ? webhook_event : partner_event) = event;
    }
    return {partner_event, webhook_event};
  }

  void AddAttempt(const std::string& event, int http_status,
                  const std::string& error) {
    const std::string account_id = IdOf(server_.account());
    absl::Status status =
        server_.store().WriteAndWait([&](storage::Transaction& txn) {
          storage::AttemptRow attempt;
          attempt.account_id = account_id;
          attempt.event_id = IdOf(event);
          attempt.attempt_time = server_.clock().Now();
          attempt.http_status = http_status;
          attempt.latency = absl::Milliseconds(120);
          attempt.error = error;
          return txn.events().InsertAttempt(attempt);
        });
    ASSERT_TRUE(status.ok()) << status;
  }

  grpc::Status Retry(const std::string& name, Event* event,
                     const std::string& key = "") {
    ats::v1::RetryEventRequest request;
    request.set_name(name);
    return integrations_->RetryEvent(
        As(key.empty() ? server_.recruiter_key() : key).get(), request, event);
  }

  grpc::Status Cancel(const std::string& name, Event* event,
                      const std::string& key = "") {
    ats::v1::CancelEventRequest request;
    request.set_name(name);
    return integrations_->CancelEvent(
        As(key.empty() ? server_.recruiter_key() : key).get(), request, event);
  }

  static ats::v1::PartnerResult Result(ats::v1::PartnerResultStatus status,
                                       const std::string& summary = "") {
    ats::v1::PartnerResult result;
    result.set_status(status);
    result.set_summary(summary);
    return result;
  }

  // The stored row of event `name` of account A.
  storage::EventRow StoredEvent(const std::string& name) {
    storage::EventRow row;
    const std::string account_id = IdOf(server_.account());
    absl::Status status = server_.store().Read([&](storage::Transaction& txn) {
      auto event = txn.events().GetEvent(account_id, IdOf(name),
                                         storage::PayloadParts::kShown);
      if (!event.ok()) return event.status();
      row = *std::move(event);
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status;
    return row;
  }

  // Ends the dispatcher's claim `claimed` with `next`, as its recorder does;
  // whether the claim still held.
  bool SettleClaim(const storage::EventRow& claimed,
                   const storage::EventRow& next) {
    bool held = false;
    absl::Status status =
        server_.store().WriteAndWait([&](storage::Transaction& txn) {
          auto settled = txn.events().SettleClaim(claimed, next);
          if (!settled.ok()) return settled.status();
          held = *settled;
          return absl::OkStatus();
        });
    EXPECT_TRUE(status.ok()) << status;
    return held;
  }

  grpc::Status Report(const std::string& event,
                      const ats::v1::PartnerResult& result, Event* response,
                      const std::string& key = "",
                      const std::string& request_id = "") {
    ats::v1::ReportPartnerResultRequest request;
    request.set_event(event);
    *request.mutable_result() = result;
    request.set_request_id(request_id);
    return integrations_->ReportPartnerResult(
        As(key.empty() ? partner_key_ : key).get(), request, response);
  }

  ats::v1::Job job_;
  std::string screening_;
};

// -------------------------------------------------------------- GetEvent

TEST_F(EventTest, GetEventShowsItsAttempts) {
  const auto [partner_event, webhook_event] = Fire();
  Event got = MustGetEvent(partner_event.name());
  EXPECT_TRUE(MessageDifferencer::Equals(got, partner_event))
      << got.DebugString();
  EXPECT_EQ(got.attempts_size(), 0);

  AddAttempt(partner_event.name(), 0, "connection refused");
  AddAttempt(partner_event.name(), 503, "Service Unavailable");
  got = MustGetEvent(partner_event.name());
  ASSERT_EQ(got.attempts_size(), 2);
  EXPECT_EQ(got.attempts(0).number(), 1);
  EXPECT_EQ(got.attempts(0).http_status(), 0);
  EXPECT_EQ(got.attempts(0).error(), "connection refused");
  EXPECT_EQ(TimeUtil::DurationToMilliseconds(got.attempts(0).latency()), 120);
  EXPECT_EQ(Micros(got.attempts(0).attempt_time()),
            Micros(server_.clock().Now()));
  EXPECT_EQ(got.attempts(1).number(), 2);
  EXPECT_EQ(got.attempts(1).http_status(), 503);

  // ListEvents never carries attempts.
  ats::v1::ListEventsRequest request;
  request.set_integration(integration_.name());
  const std::vector<Event> listed = AllEvents(request);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].attempts_size(), 0);
}

TEST_F(EventTest, PartnerKeysSeeTheirOwnIntegrationsEventsOnly) {
  const auto [partner_event, webhook_event] = Fire();
  Event got;
  ASSERT_TRUE(GetEvent(partner_event.name(), &got, partner_key_).ok());
  EXPECT_EQ(got.name(), partner_event.name());
  // A webhook event has no integration: no partner key sees it.
  EXPECT_TRUE(HasCode(GetEvent(webhook_event.name(), &got, partner_key_),
                      Code::NOT_FOUND));
  // Nor does another integration's key.
  const ats::v1::Integration other = Activate(CreatePartner("Vidly").name());
  const std::string other_key =
      server_.CreateKey(ats::v1::ROLE_PARTNER, server_.account(), other.name());
  EXPECT_TRUE(HasCode(GetEvent(partner_event.name(), &got, other_key),
                      Code::NOT_FOUND));
  // Nor another account, nor an unknown or malformed name.
  EXPECT_TRUE(
      HasCode(GetEvent(partner_event.name(), &got, server_.other_admin_key()),
              Code::NOT_FOUND));
  EXPECT_TRUE(HasCode(GetEvent("events/nope", &got), Code::NOT_FOUND));
  EXPECT_TRUE(IsInvalid(GetEvent("jobs/x", &got), "name"));
}

// ------------------------------------------------------------ ListEvents

TEST_F(EventTest, ListEventsFiltersAndPages) {
  const auto [ada_partner, ada_webhook] = Fire("ada");
  server_.clock().Advance(absl::Seconds(1));
  const auto [bob_partner, bob_webhook] = Fire("bob");
  const ats::v1::Job other_job = CreateJob("Designer", {"Only"});
  AddTrigger(other_job.stages(0).name(),
             WebhookTrigger("https://hooks.example/design"));
  ats::v1::Candidate ada;
  ada.set_name(ada_partner.candidate());
  server_.clock().Advance(absl::Seconds(1));
  const ats::v1::AddCandidateToJobResponse design = MustAdd(other_job, ada);
  ASSERT_EQ(design.events_size(), 1);

  auto names = [this](ats::v1::ListEventsRequest request) {
    std::vector<std::string> result;
    for (const Event& event : AllEvents(request))
      result.push_back(event.name());
    return result;
  };
  // Newest first: the design event, then bob's two, then ada's two.
  const std::vector<std::string> all = names({});
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0], design.events(0).name());

  ats::v1::ListEventsRequest by_candidate;
  by_candidate.set_candidate(ada_partner.candidate());
  EXPECT_EQ(names(by_candidate).size(), 3u);
  EXPECT_EQ(names(by_candidate)[0], design.events(0).name());
  ats::v1::ListEventsRequest by_job;
  by_job.set_job(job_.name());
  EXPECT_EQ(names(by_job).size(), 4u);
  ats::v1::ListEventsRequest by_integration;
  by_integration.set_integration(integration_.name());
  EXPECT_EQ(names(by_integration),
            (std::vector<std::string>{bob_partner.name(), ada_partner.name()}));
  ats::v1::ListEventsRequest by_state;
  by_state.set_state(ats::v1::EVENT_STATE_SCHEDULED);
  const std::vector<std::string> scheduled = names(by_state);
  EXPECT_EQ(scheduled,
            (std::vector<std::string>{bob_webhook.name(), ada_webhook.name()}));
  ats::v1::ListEventsRequest combined = by_candidate;
  combined.set_job(job_.name());
  combined.set_state(ats::v1::EVENT_STATE_PENDING);
  EXPECT_EQ(names(combined), std::vector<std::string>{ada_partner.name()});

  // Pages of one give the same list.
  std::vector<std::string> paged;
  for (const Event& event : AllEvents({}, 1)) paged.push_back(event.name());
  EXPECT_EQ(paged, all);

  // A token only works with the filters it was issued for.
  ats::v1::ListEventsRequest first_page = by_job;
  first_page.set_page_size(1);
  ats::v1::ListEventsResponse page;
  ASSERT_TRUE(ListEvents(first_page, &page).ok());
  ASSERT_FALSE(page.next_page_token().empty());
  ats::v1::ListEventsRequest changed = by_candidate;
  changed.set_page_token(page.next_page_token());
  EXPECT_TRUE(IsInvalid(ListEvents(changed, &page), "page_token"));
}

TEST_F(EventTest, ListEventsValidatesFilters) {
  ats::v1::ListEventsResponse response;
  ats::v1::ListEventsRequest request;
  request.set_candidate("jobs/x");
  EXPECT_TRUE(IsInvalid(ListEvents(request, &response), "candidate"));
  request.Clear();
  request.set_job("candidates/x");
  EXPECT_TRUE(IsInvalid(ListEvents(request, &response), "job"));
  request.Clear();
  request.set_integration("partners/x");
  EXPECT_TRUE(IsInvalid(ListEvents(request, &response), "integration"));
  request.Clear();
  request.set_state(static_cast<EventState>(99));
  EXPECT_TRUE(IsInvalid(ListEvents(request, &response), "state"));
  request.Clear();
  request.set_page_size(-1);
  EXPECT_TRUE(IsInvalid(ListEvents(request, &response), "page_size"));
  // Filters on resources that do not exist just match nothing.
  request.Clear();
  request.set_candidate("candidates/gone");
  ASSERT_TRUE(ListEvents(request, &response).ok());
  EXPECT_EQ(response.events_size(), 0);
}

// ----------------------------------------------------- Retry and Cancel

TEST_F(EventTest, RetryRestartsDeadOrFailedEventsOnly) {
  const auto [event, webhook] = Fire();
  Event retried;
  grpc::Status status = Retry(event.name(), &retried);
  EXPECT_TRUE(HasCode(status, Code::FAILED_PRECONDITION));
  EXPECT_TRUE(absl::StrContains(status.error_message(), "PENDING"))
      << status.error_message();

  AddAttempt(event.name(), 500, "Internal Server Error");
  AddAttempt(event.name(), 500, "Internal Server Error");
  ChangeStoredEvent(event.name(), [](storage::EventRow& row) {
    row.state = ats::v1::EVENT_STATE_DEAD;
    row.state_reason = "retries exhausted";
    row.attempt_count = 2;
  });
  server_.clock().Advance(absl::Hours(3));
  const absl::Time now = server_.clock().Now();
  ASSERT_TRUE(Retry(event.name(), &retried).ok());
  EXPECT_EQ(retried.state(), ats::v1::EVENT_STATE_PENDING);
  EXPECT_EQ(retried.state_reason(), "");
  EXPECT_EQ(retried.attempt_count(), 0);
  EXPECT_EQ(Micros(retried.due_time()), Micros(now));
  EXPECT_EQ(Micros(retried.update_time()), Micros(now));
  EXPECT_EQ(Micros(retried.create_time()), Micros(event.create_time()));
  // The history stays, and new attempts number after it.
  AddAttempt(event.name(), 200, "");
  const Event got = MustGetEvent(event.name());
  ASSERT_EQ(got.attempts_size(), 3);
  EXPECT_EQ(got.attempts(2).number(), 3);

  // FAILED (the partner's verdict) may be retried too.
  SetState(event.name(), ats::v1::EVENT_STATE_FAILED);
  ASSERT_TRUE(Retry(event.name(), &retried).ok());
  EXPECT_EQ(retried.state(), ats::v1::EVENT_STATE_PENDING);

  for (EventState state :
       {ats::v1::EVENT_STATE_SCHEDULED, ats::v1::EVENT_STATE_SENDING,
        ats::v1::EVENT_STATE_SENT, ats::v1::EVENT_STATE_RETRYING,
        ats::v1::EVENT_STATE_COMPLETED, ats::v1::EVENT_STATE_CANCELED,
        ats::v1::EVENT_STATE_SKIPPED}) {
    SetState(event.name(), state);
    status = Retry(event.name(), &retried);
    EXPECT_TRUE(HasCode(status, Code::FAILED_PRECONDITION))
        << ats::v1::EventState_Name(state);
    EXPECT_TRUE(absl::StrContains(status.error_message(),
                                  ats::v1::EventState_Name(state)))
        << status.error_message();
  }
  EXPECT_TRUE(HasCode(Retry("events/nope", &retried), Code::NOT_FOUND));
  EXPECT_TRUE(HasCode(Retry(event.name(), &retried, server_.other_admin_key()),
                      Code::NOT_FOUND));
}

TEST_F(EventTest, CancelStopsEventsThatAreNotUnderWay) {
  const auto [event, webhook] = Fire();
  Event cancelled;
  ASSERT_TRUE(Cancel(webhook.name(), &cancelled).ok());  // SCHEDULED.
  EXPECT_EQ(cancelled.state(), ats::v1::EVENT_STATE_CANCELED);
  EXPECT_TRUE(
      absl::StartsWith(cancelled.state_reason(), "cancelled by apiKeys/"))
      << cancelled.state_reason();
  ASSERT_TRUE(Cancel(event.name(), &cancelled).ok());  // PENDING.
  EXPECT_EQ(cancelled.state(), ats::v1::EVENT_STATE_CANCELED);
  EXPECT_TRUE(
      MessageDifferencer::Equals(MustGetEvent(event.name()), cancelled));

  SetState(event.name(), ats::v1::EVENT_STATE_RETRYING);
  ASSERT_TRUE(Cancel(event.name(), &cancelled, server_.admin_key()).ok());
  EXPECT_EQ(cancelled.state(), ats::v1::EVENT_STATE_CANCELED);

  for (EventState state :
       {ats::v1::EVENT_STATE_SENDING, ats::v1::EVENT_STATE_SENT,
        ats::v1::EVENT_STATE_COMPLETED, ats::v1::EVENT_STATE_FAILED,
        ats::v1::EVENT_STATE_DEAD, ats::v1::EVENT_STATE_CANCELED,
        ats::v1::EVENT_STATE_SKIPPED}) {
    SetState(event.name(), state);
    grpc::Status status = Cancel(event.name(), &cancelled);
    EXPECT_TRUE(HasCode(status, Code::FAILED_PRECONDITION))
        << ats::v1::EventState_Name(state);
    EXPECT_TRUE(absl::StrContains(status.error_message(),
                                  ats::v1::EventState_Name(state)))
        << status.error_message();
  }
}

// ------------------------------------------------------ Partner results

TEST_F(EventTest, ReportPartnerResultPermissions) {
  const auto [event, webhook] = Fire();
  SetState(event.name(), ats::v1::EVENT_STATE_SENT);
  SetState(webhook.name(), ats::v1::EVENT_STATE_SENT);
  const ats::v1::PartnerResult sent =
      Result(ats::v1::PARTNER_RESULT_STATUS_SENT);
  Event response;

  // Only partner keys report.
  for (const std::string& key :
       {server_.operator_key(), server_.admin_key(), server_.recruiter_key()}) {
    EXPECT_TRUE(HasCode(Report(event.name(), sent, &response, key),
                        Code::PERMISSION_DENIED));
  }
  EXPECT_TRUE(HasCode(Report(event.name(), sent, &response, "ats_not-a-key"),
                      Code::UNAUTHENTICATED));
  // Another integration's key may not report for this one's events, nor
  // for webhook events.
  const ats::v1::Integration other = Activate(CreatePartner("Vidly").name());
  const std::string other_key =
      server_.CreateKey(ats::v1::ROLE_PARTNER, server_.account(), other.name());
  EXPECT_TRUE(HasCode(Report(event.name(), sent, &response, other_key),
                      Code::PERMISSION_DENIED));
  EXPECT_TRUE(HasCode(Report(webhook.name(), sent, &response),
                      Code::PERMISSION_DENIED));
  // Another account's partner key does not even see the event.
  const ats::v1::Integration foreign =
      Activate(partner_.name(), server_.other_admin_key());
  const std::string foreign_key = server_.CreateKey(
      ats::v1::ROLE_PARTNER, server_.other_account(), foreign.name());
  EXPECT_TRUE(HasCode(Report(event.name(), sent, &response, foreign_key),
                      Code::NOT_FOUND));
  EXPECT_TRUE(
      HasCode(Report("events/unknown", sent, &response), Code::NOT_FOUND));
  // The integration's own key does.
  ASSERT_TRUE(Report(event.name(), sent, &response).ok());
  EXPECT_EQ(response.result().status(), ats::v1::PARTNER_RESULT_STATUS_SENT);
}

TEST_F(EventTest, ReportPartnerResultValidatesTheResult) {
  const auto [event, webhook] = Fire();
  SetState(event.name(), ats::v1::EVENT_STATE_SENT);
  const ats::v1::PartnerResult ok =
      Result(ats::v1::PARTNER_RESULT_STATUS_COMPLETED, "Passed");
  struct Case {
    std::string field;
    std::function<void(ats::v1::PartnerResult&)> spoil;
  };
  const std::vector<Case> cases = {
      {"result.status", [](auto& r) { r.clear_status(); }},
      {"result.status",
       [](auto& r) {
         r.set_status(static_cast<ats::v1::PartnerResultStatus>(42));
       }},
      {"result.score",
       [](auto& r) {
         r.mutable_score()->set_value(std::numeric_limits<double>::quiet_NaN());
       }},
      {"result.summary",
       [](auto& r) { r.set_summary(std::string(2001, 's')); }},
      {"result.link", [](auto& r) { r.set_link("javascript:alert(1)"); }},
      {"result.attachments",
       [](auto& r) {
         for (int i = 0; i < 21; ++i) {
           ats::v1::Attachment* a = r.add_attachments();
           a->set_display_name("report.pdf");
           a->set_uri("https://partner.example/r.pdf");
         }
       }},
      {"result.attachments[0].display_name",
       [](auto& r) { r.add_attachments()->set_uri("https://p.example/a"); }},
      {"result.attachments[0].uri",
       [](auto& r) { r.add_attachments()->set_display_name("a.pdf"); }},
      {"result.attachments[0].content_type",
       [](auto& r) {
         ats::v1::Attachment* a = r.add_attachments();
         a->set_display_name("a.pdf");
         a->set_uri("https://p.example/a");
         a->set_content_type(std::string(101, 'x'));
       }},
      {"result.details",
       [](auto& r) {
         (*r.mutable_details()->mutable_fields())["blob"].set_string_value(
             std::string(65 * 1024, 'x'));
       }},
  };
  Event response;
  for (const Case& c : cases) {
    ats::v1::PartnerResult result = ok;
    c.spoil(result);
    EXPECT_TRUE(IsInvalid(Report(event.name(), result, &response), c.field))
        << c.field;
  }
  EXPECT_TRUE(IsInvalid(Report("integrations/x", ok, &response), "event"));
  EXPECT_TRUE(IsInvalid(Report(event.name(), ok, &response, "", "bad id!"),
                        "request_id"));

  // Everything at its limit passes.
  ats::v1::PartnerResult full = ok;
  full.mutable_score()->set_value(87.5);
  full.set_summary(std::string(2000, 's'));
  full.set_link("https://partner.example/reports/1");
  for (int i = 0; i < 20; ++i) {
    ats::v1::Attachment* a = full.add_attachments();
    a->set_display_name(std::string(200, 'n'));
    a->set_uri("https://partner.example/r.pdf");
    a->set_content_type("application/pdf");
  }
  (*full.mutable_details()->mutable_fields())["blob"].set_string_value(
      std::string(60 * 1024, 'x'));
  grpc::Status status = Report(event.name(), full, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.result().attachments_size(), 20);
  EXPECT_EQ(response.result().score().value(), 87.5);
}

TEST_F(EventTest, ReportPartnerResultMovesTheEventsState) {
  const auto [event, webhook] = Fire();
  Event response;
  const ats::v1::PartnerResult sent =
      Result(ats::v1::PARTNER_RESULT_STATUS_SENT, "Test sent");

  // Not yet sent, or no longer wanted: refused, naming the state.
  for (EventState state :
       {ats::v1::EVENT_STATE_PENDING, ats::v1::EVENT_STATE_SCHEDULED,
        ats::v1::EVENT_STATE_CANCELED, ats::v1::EVENT_STATE_SKIPPED,
        ats::v1::EVENT_STATE_DEAD}) {
    SetState(event.name(), state);
    grpc::Status status = Report(event.name(), sent, &response);
    EXPECT_TRUE(HasCode(status, Code::FAILED_PRECONDITION))
        << ats::v1::EventState_Name(state);
    EXPECT_TRUE(absl::StrContains(status.error_message(),
                                  ats::v1::EventState_Name(state)))
        << status.error_message();
  }

  // A partner may answer before the delivery is recorded as SENT: it has the
  // event, so a SENT result makes the event SENT and ends the claim of the
  // attempt under way, whose outcome can no longer settle it.
  ChangeStoredEvent(event.name(), [this](storage::EventRow& row) {
    row.state = ats::v1::EVENT_STATE_SENDING;
    row.attempt_count = 1;
    row.lease_expire_time = server_.clock().Now() + absl::Minutes(1);
  });
  const storage::EventRow claimed = StoredEvent(event.name());
  server_.clock().Advance(absl::Seconds(10));
  const absl::Time report_time = server_.clock().Now();
  ASSERT_TRUE(Report(event.name(), sent, &response).ok());
  EXPECT_EQ(response.state(), ats::v1::EVENT_STATE_SENT);
  EXPECT_EQ(response.result().status(), ats::v1::PARTNER_RESULT_STATUS_SENT);
  EXPECT_EQ(response.result().summary(), "Test sent");
  EXPECT_EQ(Micros(response.result().report_time()), Micros(report_time));
  EXPECT_EQ(Micros(response.update_time()), Micros(report_time));
  EXPECT_FALSE(StoredEvent(event.name()).lease_expire_time.has_value());
  storage::EventRow timed_out = claimed;
  timed_out.state = ats::v1::EVENT_STATE_RETRYING;
  EXPECT_FALSE(SettleClaim(claimed, timed_out));
  EXPECT_EQ(MustGetEvent(event.name()).state(), ats::v1::EVENT_STATE_SENT);

  // From RETRYING too: the retry is no longer needed.
  SetState(event.name(), ats::v1::EVENT_STATE_RETRYING);
  ASSERT_TRUE(Report(event.name(),
                     Result(ats::v1::PARTNER_RESULT_STATUS_PENDING, "Started"),
                     &response)
                  .ok());
  EXPECT_EQ(response.state(), ats::v1::EVENT_STATE_SENT);
  EXPECT_EQ(response.result().status(), ats::v1::PARTNER_RESULT_STATUS_PENDING);
  // And while SENT, non-final results follow each other.
  ASSERT_TRUE(Report(event.name(), sent, &response).ok());
  EXPECT_EQ(response.state(), ats::v1::EVENT_STATE_SENT);
  EXPECT_EQ(response.result().status(), ats::v1::PARTNER_RESULT_STATUS_SENT);

  // COMPLETED ends it COMPLETED.
  server_.clock().Advance(absl::Minutes(1));
  ats::v1::PartnerResult done =
      Result(ats::v1::PARTNER_RESULT_STATUS_COMPLETED, "Scored 87.5");
  done.mutable_score()->set_value(87.5);
  ASSERT_TRUE(Report(event.name(), done, &response).ok());
  EXPECT_EQ(response.state(), ats::v1::EVENT_STATE_COMPLETED);
  EXPECT_EQ(response.state_reason(), "");
  EXPECT_EQ(Micros(response.update_time()), Micros(server_.clock().Now()));
  EXPECT_EQ(response.result().score().value(), 87.5);
  EXPECT_TRUE(MessageDifferencer::Equals(MustGetEvent(event.name()), response));

  // FAILED ends it FAILED with the summary as the reason, from SENDING, SENT
  // or RETRYING.
  for (EventState state :
       {ats::v1::EVENT_STATE_SENDING, ats::v1::EVENT_STATE_SENT,
        ats::v1::EVENT_STATE_RETRYING}) {
    ChangeStoredEvent(event.name(), [state](storage::EventRow& row) {
      row.state = state;
      row.result.reset();
    });
    ASSERT_TRUE(Report(event.name(),
                       Result(ats::v1::PARTNER_RESULT_STATUS_FAILED,
                              "Candidate did not show up"),
                       &response)
                    .ok());
    EXPECT_EQ(response.state(), ats::v1::EVENT_STATE_FAILED)
        << ats::v1::EventState_Name(state);
    EXPECT_EQ(response.state_reason(), "Candidate did not show up");
  }
  // Without a summary, the reason still says what happened.
  ChangeStoredEvent(event.name(), [](storage::EventRow& row) {
    row.state = ats::v1::EVENT_STATE_SENT;
  });
  ASSERT_TRUE(Report(event.name(),
                     Result(ats::v1::PARTNER_RESULT_STATUS_FAILED), &response)
                  .ok());
  EXPECT_EQ(response.state_reason(), "the partner reported a failure");
}

// The repro of the contradiction: COMPLETED, then FAILED, COMPLETED again and
// SENT used to flip the event and leave it COMPLETED with a SENT result.
TEST_F(EventTest, FinalResultsAreAmendedNeverOverturned) {
  const auto [event, webhook] = Fire();
  SetState(event.name(), ats::v1::EVENT_STATE_SENT);
  Event response;
  ats::v1::PartnerResult done =
      Result(ats::v1::PARTNER_RESULT_STATUS_COMPLETED, "Scored 80");
  done.mutable_score()->set_value(80);
  ASSERT_TRUE(Report(event.name(), done, &response).ok());
  ASSERT_EQ(response.state(), ats::v1::EVENT_STATE_COMPLETED);
  const Event completed = response;

  server_.clock().Advance(absl::Minutes(1));
  for (ats::v1::PartnerResultStatus status :
       {ats::v1::PARTNER_RESULT_STATUS_FAILED,
        ats::v1::PARTNER_RESULT_STATUS_SENT,
        ats::v1::PARTNER_RESULT_STATUS_PENDING}) {
    grpc::Status refused =
        Report(event.name(), Result(status, "changed my mind"), &response);
    EXPECT_TRUE(HasCode(refused, Code::FAILED_PRECONDITION))
        << ats::v1::PartnerResultStatus_Name(status);
    EXPECT_TRUE(
        absl::StrContains(refused.error_message(), "is EVENT_STATE_COMPLETED"))
        << refused.error_message();
    EXPECT_TRUE(absl::StrContains(refused.error_message(),
                                  ats::v1::PartnerResultStatus_Name(status)))
        << refused.error_message();
    const auto info = server::ErrorInfoOf(server::FromGrpcStatus(refused));
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->reason, "EVENT_STATE_MISMATCH");
  }
  // Nothing changed.
  EXPECT_TRUE(
      MessageDifferencer::Equals(MustGetEvent(event.name()), completed));

  // The same status amends every other part of the result, and the state
  // (and when it last changed) stays.
  ats::v1::PartnerResult amended =
      Result(ats::v1::PARTNER_RESULT_STATUS_COMPLETED, "Scored 92 on review");
  amended.mutable_score()->set_value(92);
  amended.set_link("https://partner.example/reports/7");
  ats::v1::Attachment* attachment = amended.add_attachments();
  attachment->set_display_name("report.pdf");
  attachment->set_uri("https://partner.example/reports/7.pdf");
  (*amended.mutable_details()->mutable_fields())["reviewer"].set_string_value(
      "grace");
  ASSERT_TRUE(Report(event.name(), amended, &response).ok());
  EXPECT_EQ(response.state(), ats::v1::EVENT_STATE_COMPLETED);
  EXPECT_EQ(Micros(response.update_time()), Micros(completed.update_time()));
  ats::v1::PartnerResult shown = response.result();
  EXPECT_EQ(Micros(shown.report_time()), Micros(server_.clock().Now()));
  shown.clear_report_time();
  EXPECT_TRUE(MessageDifferencer::Equals(shown, amended))
      << shown.DebugString();

  // FAILED is final the same way; amending it updates the reason.
  const auto [failing, unused] = Fire("bob");
  SetState(failing.name(), ats::v1::EVENT_STATE_SENT);
  ASSERT_TRUE(Report(failing.name(),
                     Result(ats::v1::PARTNER_RESULT_STATUS_FAILED, "No show"),
                     &response)
                  .ok());
  ASSERT_EQ(response.state(), ats::v1::EVENT_STATE_FAILED);
  grpc::Status refused = Report(failing.name(), done, &response);
  EXPECT_TRUE(HasCode(refused, Code::FAILED_PRECONDITION));
  EXPECT_TRUE(
      absl::StrContains(refused.error_message(), "is EVENT_STATE_FAILED"))
      << refused.error_message();
  ASSERT_TRUE(Report(failing.name(),
                     Result(ats::v1::PARTNER_RESULT_STATUS_FAILED,
                            "No show; link expired"),
                     &response)
                  .ok());
  EXPECT_EQ(response.state(), ats::v1::EVENT_STATE_FAILED);
  EXPECT_EQ(response.state_reason(), "No show; link expired");
  EXPECT_EQ(response.result().summary(), "No show; link expired");
}

TEST_F(EventTest, RetryingAFailedEventClearsItsResult) {
  const auto [event, webhook] = Fire();
  SetState(event.name(), ats::v1::EVENT_STATE_SENT);
  Event response;
  ASSERT_TRUE(Report(event.name(),
                     Result(ats::v1::PARTNER_RESULT_STATUS_FAILED, "No show"),
                     &response)
                  .ok());
  Event retried;
  ASSERT_TRUE(Retry(event.name(), &retried).ok());
  EXPECT_EQ(retried.state(), ats::v1::EVENT_STATE_PENDING);
  EXPECT_FALSE(retried.has_result());
  EXPECT_FALSE(MustGetEvent(event.name()).has_result());
  // Until it is delivered again, the partner cannot report for it.
  EXPECT_TRUE(
      HasCode(Report(event.name(),
                     Result(ats::v1::PARTNER_RESULT_STATUS_FAILED), &response),
              Code::FAILED_PRECONDITION));
}

TEST_F(EventTest, ReportPartnerResultIsIdempotentWithRequestId) {
  const auto [event, webhook] = Fire();
  SetState(event.name(), ats::v1::EVENT_STATE_SENT);
  const ats::v1::PartnerResult done =
      Result(ats::v1::PARTNER_RESULT_STATUS_COMPLETED, "Passed");
  Event first, again;
  ASSERT_TRUE(Report(event.name(), done, &first, "", "result-1").ok());
  server_.clock().Advance(absl::Minutes(5));
  ASSERT_TRUE(Report(event.name(), done, &again, "", "result-1").ok());
  EXPECT_TRUE(MessageDifferencer::Equals(first, again));
  EXPECT_EQ(Micros(MustGetEvent(event.name()).result().report_time()),
            Micros(first.result().report_time()));
  // The same request_id for another result is a client bug.
  EXPECT_TRUE(IsInvalid(
      Report(event.name(), Result(ats::v1::PARTNER_RESULT_STATUS_FAILED),
             &again, "", "result-1"),
      "request_id"));
}

// --------------------------------------------------------- Cancellation

TEST_F(EventTest, DeletingACandidateCancelsItsOpenEvents) {
  const auto [event, webhook] = Fire("ada");
  const auto [bob_event, bob_webhook] = Fire("bob");
  SetState(event.name(), ats::v1::EVENT_STATE_SENT);  // Already delivered.

  ats::v1::DeleteCandidateRequest request;
  request.set_name(webhook.candidate());
  google::protobuf::Empty empty;
  ASSERT_TRUE(
      jobs_->DeleteCandidate(As(server_.recruiter_key()).get(), request, &empty)
          .ok());

  const Event cancelled = MustGetEvent(webhook.name());
  EXPECT_EQ(cancelled.state(), ats::v1::EVENT_STATE_CANCELED);
  EXPECT_EQ(cancelled.state_reason(), "candidate deleted");
  EXPECT_EQ(MustGetEvent(event.name()).state(), ats::v1::EVENT_STATE_SENT);
  EXPECT_EQ(MustGetEvent(bob_event.name()).state(),
            ats::v1::EVENT_STATE_PENDING);
  EXPECT_EQ(MustGetEvent(bob_webhook.name()).state(),
            ats::v1::EVENT_STATE_SCHEDULED);
  // The deleted candidate's events stay listed.
  ats::v1::ListEventsRequest of_ada;
  of_ada.set_candidate(webhook.candidate());
  EXPECT_EQ(AllEvents(of_ada).size(), 2u);
}

TEST_F(EventTest, RemovingFromAJobCancelsThatJobsOpenEventsOnly) {
  const auto [event, webhook] = Fire("ada");
  const ats::v1::Job other_job = CreateJob("Designer", {"Only"});
  AddTrigger(other_job.stages(0).name(),
             WebhookTrigger("https://hooks.example/design"));
  ats::v1::Candidate ada;
  ada.set_name(event.candidate());
  const ats::v1::AddCandidateToJobResponse design = MustAdd(other_job, ada);
  ASSERT_EQ(design.events_size(), 1);

  ats::v1::DeleteApplicationRequest request;
  request.set_name(ApplicationOf(job_, ada));
  google::protobuf::Empty empty;
  ASSERT_TRUE(jobs_
                  ->DeleteApplication(As(server_.recruiter_key()).get(),
                                      request, &empty)
                  .ok());
  for (const Event& e : {event, webhook}) {
    const Event got = MustGetEvent(e.name());
    EXPECT_EQ(got.state(), ats::v1::EVENT_STATE_CANCELED);
    EXPECT_EQ(got.state_reason(), "candidate removed from job");
  }
  EXPECT_EQ(MustGetEvent(design.events(0).name()).state(),
            ats::v1::EVENT_STATE_PENDING);
}

TEST_F(EventTest, DeletingAJobWithForceCancelsItsOpenEvents) {
  const auto [ada_event, ada_webhook] = Fire("ada");
  const auto [bob_event, bob_webhook] = Fire("bob");
  ats::v1::DeleteJobRequest request;
  request.set_name(job_.name());
  google::protobuf::Empty empty;
  EXPECT_TRUE(HasCode(
      jobs_->DeleteJob(As(server_.recruiter_key()).get(), request, &empty),
      Code::FAILED_PRECONDITION));
  EXPECT_EQ(MustGetEvent(ada_event.name()).state(),
            ats::v1::EVENT_STATE_PENDING);
  request.set_force(true);
  ASSERT_TRUE(
      jobs_->DeleteJob(As(server_.recruiter_key()).get(), request, &empty)
          .ok());
  for (const Event& e : {ada_event, ada_webhook, bob_event, bob_webhook}) {
    const Event got = MustGetEvent(e.name());
    EXPECT_EQ(got.state(), ats::v1::EVENT_STATE_CANCELED) << e.name();
    EXPECT_EQ(got.state_reason(), "job deleted");
  }
}

// ----------------------------------------------------------------- Auth

TEST_F(EventTest, AuthMatrix) {
  const auto [event, webhook] = Fire();
  const std::string& name = event.name();
  struct Rpc {
    std::string method;
    std::function<grpc::Status(const std::string& key)> call;
    // Whether each role is admitted: operator, admin, recruiter, partner.
    std::vector<bool> admitted;
  };
  // Each call sends exactly `key` (none when empty).
  const std::vector<Rpc> rpcs = {
      {"GetEvent",
       [&](const std::string& key) {
         ats::v1::GetEventRequest request;
         request.set_name(name);
         Event response;
         return integrations_->GetEvent(As(key).get(), request, &response);
       },
       {false, true, true, true}},
      {"ListEvents",
       [&](const std::string& key) {
         ats::v1::ListEventsResponse response;
         return integrations_->ListEvents(As(key).get(), {}, &response);
       },
       {false, true, true, false}},
      {"RetryEvent",
       [&](const std::string& key) {
         ats::v1::RetryEventRequest request;
         request.set_name(name);
         Event response;
         return integrations_->RetryEvent(As(key).get(), request, &response);
       },
       {false, true, true, false}},
      {"CancelEvent",
       [&](const std::string& key) {
         ats::v1::CancelEventRequest request;
         request.set_name(name);
         Event response;
         return integrations_->CancelEvent(As(key).get(), request, &response);
       },
       {false, true, true, false}},
      {"ReportPartnerResult",
       [&](const std::string& key) {
         ats::v1::ReportPartnerResultRequest request;
         request.set_event(name);
         *request.mutable_result() =
             Result(ats::v1::PARTNER_RESULT_STATUS_SENT);
         Event response;
         return integrations_->ReportPartnerResult(As(key).get(), request,
                                                   &response);
       },
       {false, false, false, true}},
  };
  const std::vector<std::string> keys = {server_.operator_key(),
                                         server_.admin_key(),
                                         server_.recruiter_key(), partner_key_};
  for (const Rpc& rpc : rpcs) {
    EXPECT_TRUE(HasCode(rpc.call(""), Code::UNAUTHENTICATED)) << rpc.method;
    EXPECT_TRUE(HasCode(rpc.call("ats_unknown"), Code::UNAUTHENTICATED))
        << rpc.method;
    for (size_t i = 0; i < keys.size(); ++i) {
      const grpc::Status status = rpc.call(keys[i]);
      if (rpc.admitted[i]) {
        // Admitted: whatever the outcome, it is not about the key.
        EXPECT_NE(status.error_code(), Code::PERMISSION_DENIED)
            << rpc.method << " key " << i << ": " << status.error_message();
        EXPECT_NE(status.error_code(), Code::UNAUTHENTICATED)
            << rpc.method << " key " << i;
      } else {
        EXPECT_TRUE(HasCode(status, Code::PERMISSION_DENIED))
            << rpc.method << " key " << i;
      }
    }
  }
}

}  // namespace
}  // namespace ats::testing
