// Property test of partner results: random interleavings of result reports
// (any status, any amended fields), the dispatcher's claims and their
// outcomes, and operators' retries and cancellations, run against the real
// server and a model of the event. After every step the event must be as
// the model says, its state and its result's status must agree, and a final
// state must stay final (FAILED leaves only through RetryEvent).

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "tests/api/event_fixture.h"
#include "tests/support/property.h"

namespace ats::testing {
namespace {

using ats::v1::EventState;
using ats::v1::PartnerResult;
using ats::v1::PartnerResultStatus;
using google::protobuf::util::MessageDifferencer;

// Cases per run unless RC_PARAMS says otherwise: each case is a few dozen
// RPCs, and the binary should finish in seconds.
constexpr int kCases = 40;
constexpr int kMaxSteps = 25;

// The event state a result status goes with.
EventState StateOf(PartnerResultStatus status) {
  switch (status) {
    case ats::v1::PARTNER_RESULT_STATUS_COMPLETED:
      return ats::v1::EVENT_STATE_COMPLETED;
    case ats::v1::PARTNER_RESULT_STATUS_FAILED:
      return ats::v1::EVENT_STATE_FAILED;
    default:
      return ats::v1::EVENT_STATE_SENT;
  }
}

bool IsFinal(EventState state) {
  return state == ats::v1::EVENT_STATE_COMPLETED ||
         state == ats::v1::EVENT_STATE_FAILED;
}

// Whether `event`'s state and its result's status agree.
bool Agree(const ats::v1::Event& event) {
  if (!event.has_result()) return !IsFinal(event.state());
  return event.state() == StateOf(event.result().status());
}

// A result with any status and a random choice of the amendable fields.
PartnerResult AnyResult() {
  PartnerResult result;
  result.set_status(
      static_cast<PartnerResultStatus>(Pick(1, 5)));  // SENT..FAILED
  const std::vector<std::string> summaries = {"", "Test sent", "Scored 80",
                                              "No show"};
  result.set_summary(summaries[Pick(0, static_cast<int>(summaries.size()))]);
  if (Pick(0, 2) == 1) result.mutable_score()->set_value(Pick(0, 101));
  if (Pick(0, 2) == 1) {
    result.set_link(absl::StrCat("https://partner.example/r/", Pick(0, 9)));
  }
  for (int i = Pick(0, 3); i > 0; --i) {
    ats::v1::Attachment* attachment = result.add_attachments();
    attachment->set_display_name(absl::StrCat("part-", i, ".pdf"));
    attachment->set_uri(absl::StrCat("https://partner.example/a/", i));
  }
  if (Pick(0, 2) == 1) {
    (*result.mutable_details()->mutable_fields())["round"].set_number_value(
        Pick(0, 5));
  }
  return result;
}

class ResultPropertyTest : public EventFixture {
 protected:
  void SetUp() override {
    EventFixture::SetUp();
    job_ = CreateJob("Property", {"Inbox"});
    AddTrigger(job_.stages(0).name(),
               IntegrationTrigger(integration_.name(), "basic"));
  }

  ats::v1::Job job_;
};

// One event, the model of it, and the steps that act on both.
class EventRun {
 public:
  // `event` is PENDING, as its trigger created it.
  EventRun(ats::v1::IntegrationService::Stub& stub, TestServer& server,
           const std::string& partner_key, const std::string& event)
      : stub_(stub),
        server_(server),
        partner_key_(partner_key),
        name_(event),
        state_(ats::v1::EVENT_STATE_PENDING) {}

  void Report() {
    const PartnerResult result = AnyResult();
    ats::v1::ReportPartnerResultRequest request;
    request.set_event(name_);
    *request.mutable_result() = result;
    ats::v1::Event response;
    const grpc::Status status = stub_.ReportPartnerResult(
        TestServer::Context(partner_key_).get(), request, &response);
    const EventState wanted = StateOf(result.status());
    const bool accepted = state_ == ats::v1::EVENT_STATE_SENDING ||
                          state_ == ats::v1::EVENT_STATE_SENT ||
                          state_ == ats::v1::EVENT_STATE_RETRYING ||
                          (IsFinal(state_) && state_ == wanted);
    if (!accepted) {
      RC_ASSERT(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
      RC_ASSERT(status.error_message().find(ats::v1::EventState_Name(state_)) !=
                std::string::npos);
      return;
    }
    RC_ASSERT(status.ok());
    state_ = wanted;
    result_ = result;
    claim_.reset();  // The partner has it: an attempt under way is moot.
  }

  // The dispatcher claims the event if it is due (as ClaimDue does).
  void Claim() {
    std::optional<storage::EventRow> claimed;
    const absl::Time now = server_.clock().Now();
    absl::Status status =
        server_.store().WriteAndWait([&](storage::Transaction& txn) {
          auto event = txn.events().GetEvent(AccountId(), IdOf(name_),
                                             storage::PayloadParts::kAll);
          if (!event.ok()) return event.status();
          if (event->state != ats::v1::EVENT_STATE_PENDING &&
              event->state != ats::v1::EVENT_STATE_RETRYING) {
            return absl::OkStatus();
          }
          event->state = ats::v1::EVENT_STATE_SENDING;
          event->lease_expire_time = now + absl::Minutes(1);
          ++event->attempt_count;
          event->update_time = now;
          claimed = *event;
          return txn.events().UpdateEvent(*event);
        });
    RC_ASSERT(status.ok());
    const bool due = state_ == ats::v1::EVENT_STATE_PENDING ||
                     state_ == ats::v1::EVENT_STATE_RETRYING;
    RC_ASSERT(claimed.has_value() == due);
    if (!due) return;
    state_ = ats::v1::EVENT_STATE_SENDING;
    claim_ = claimed;
  }

  // The dispatcher records the outcome of its last claim: accepted (SENT),
  // failed (RETRYING) or refused for good (DEAD).
  void Settle() {
    if (!claim_.has_value()) return;
    storage::EventRow next = *claim_;
    const EventState outcomes[] = {ats::v1::EVENT_STATE_SENT,
                                   ats::v1::EVENT_STATE_RETRYING,
                                   ats::v1::EVENT_STATE_DEAD};
    next.state = outcomes[Pick(0, 3)];
    next.lease_expire_time.reset();
    bool held = false;
    absl::Status status =
        server_.store().WriteAndWait([&](storage::Transaction& txn) {
          auto settled = txn.events().SettleClaim(*claim_, next);
          if (!settled.ok()) return settled.status();
          held = *settled;
          return absl::OkStatus();
        });
    RC_ASSERT(status.ok());
    RC_ASSERT(held);
    state_ = next.state;
    claim_.reset();
  }

  void Retry() {
    ats::v1::RetryEventRequest request;
    request.set_name(name_);
    ats::v1::Event response;
    const grpc::Status status = stub_.RetryEvent(
        TestServer::Context(server_.recruiter_key()).get(), request, &response);
    if (state_ != ats::v1::EVENT_STATE_DEAD &&
        state_ != ats::v1::EVENT_STATE_FAILED) {
      RC_ASSERT(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
      return;
    }
    RC_ASSERT(status.ok());
    state_ = ats::v1::EVENT_STATE_PENDING;
    result_.reset();
  }

  void Cancel() {
    ats::v1::CancelEventRequest request;
    request.set_name(name_);
    ats::v1::Event response;
    const grpc::Status status = stub_.CancelEvent(
        TestServer::Context(server_.recruiter_key()).get(), request, &response);
    if (state_ != ats::v1::EVENT_STATE_PENDING &&
        state_ != ats::v1::EVENT_STATE_RETRYING) {
      RC_ASSERT(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
      return;
    }
    RC_ASSERT(status.ok());
    state_ = ats::v1::EVENT_STATE_CANCELED;
  }

  // Checks the server against the model and the invariants; `before` is
  // the state before the step, `retried` whether the step was a RetryEvent.
  void Check(EventState before, bool retried) {
    ats::v1::GetEventRequest request;
    request.set_name(name_);
    ats::v1::Event event;
    RC_ASSERT(stub_
                  .GetEvent(TestServer::Context(server_.recruiter_key()).get(),
                            request, &event)
                  .ok());
    RC_ASSERT(Agree(event));
    if (before == ats::v1::EVENT_STATE_COMPLETED ||
        (before == ats::v1::EVENT_STATE_FAILED && !retried)) {
      RC_ASSERT(event.state() == before);
    }
    RC_ASSERT(event.state() == state_);
    RC_ASSERT(event.has_result() == result_.has_value());
    if (result_.has_value()) {
      ats::v1::PartnerResult shown = event.result();
      shown.clear_report_time();
      RC_ASSERT(MessageDifferencer::Equals(shown, *result_));
    }
  }

  EventState state() const { return state_; }

 private:
  std::string AccountId() const {
    return server_.account().substr(server_.account().rfind('/') + 1);
  }

  static std::string IdOf(const std::string& name) {
    return name.substr(name.rfind('/') + 1);
  }

  ats::v1::IntegrationService::Stub& stub_;
  TestServer& server_;
  const std::string partner_key_;
  const std::string name_;
  // The model.
  EventState state_;
  std::optional<PartnerResult> result_;
  // The dispatcher's claim under way, while it still holds.
  std::optional<storage::EventRow> claim_;
};

TEST_F(ResultPropertyTest, EventStateAndResultStatusAlwaysAgree) {
  const auto property = [this] {
    const ats::v1::AddCandidateToJobResponse added =
        MustAdd(job_, CreateCandidate("prop"));
    RC_ASSERT(added.events_size() == 1);
    RC_ASSERT(added.events(0).state() == ats::v1::EVENT_STATE_PENDING);
    EventRun run(*integrations_, server_, partner_key_, added.events(0).name());
    const int steps = Pick(1, kMaxSteps + 1);
    for (int step = 0; step < steps; ++step) {
      const EventState before = run.state();
      const int action = Pick(0, 8);
      switch (action) {
        case 0:
          run.Claim();
          break;
        case 1:
          run.Settle();
          break;
        case 2:
          run.Retry();
          break;
        case 3:
          run.Cancel();
          break;
        default:  // Reports are the point: half the steps.
          run.Report();
          break;
      }
      run.Check(before, /*retried=*/action == 2);
    }
  };

  CheckProperty("ResultPropertyTest/EventStateAndResultStatusAlwaysAgree",
                kCases, property);
}

}  // namespace
}  // namespace ats::testing
