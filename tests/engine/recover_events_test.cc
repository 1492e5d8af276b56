// IntegrationService.RecoverEvents: re-queuing an integration's DEAD events
// of a time window as one bulk operation run by the server's bulk worker (in
// batches of TestServer::kBulkBatchSize), watched, cancelled and replayed
// like a bulk trigger.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "server/contract/timestamps.h"
#include "storage/sql/session.h"
#include "tests/engine/bulk_fixture.h"

namespace ats::testing {
namespace {

using google::protobuf::util::MessageDifferencer;
using server::ToProtoTime;

class RecoverEventsTest : public BulkFixture {
 protected:
  // Recovers `integration` (ours when empty) from `since` to the call.
  ats::v1::RecoverEventsRequest Request(absl::Time since,
                                        const std::string& integration = "") {
    ats::v1::RecoverEventsRequest request;
    request.set_integration(integration.empty() ? integration_.name()
                                                : integration);
    *request.mutable_since() = ToProtoTime(since);
    return request;
  }

  // Triggers `integration` (ours when empty) for `candidate` by hand; the
  // event is left PENDING.
  std::string Trigger(const std::string& candidate,
                      const std::string& integration = "") {
    ats::v1::TriggerIntegrationRequest request;
    request.set_integration(integration.empty() ? integration_.name()
                                                : integration);
    request.set_candidate(candidate);
    (*request.mutable_option_values())["test_package"] = "basic";
    ats::v1::TriggerIntegrationResponse response;
    grpc::Status status = integrations_->TriggerIntegration(
        As(server_.recruiter_key()).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.event().name();
  }

  // Makes event `name` DEAD since `died`, as the dispatcher does when it
  // gives up.
  void Kill(const std::string& name, absl::Time died) {
    ChangeStoredEvent(name, [died](storage::EventRow& event) {
      event.state = ats::v1::EVENT_STATE_DEAD;
      event.state_reason = "HTTP 500 after 5 attempts";
      event.attempt_count = 5;
      event.update_time = died;
    });
  }

  // A new event of `candidate` (to our integration unless another is named)
  // DEAD since `died`.
  std::string DeadEvent(const std::string& candidate, absl::Time died,
                        const std::string& integration = "") {
    const std::string name = Trigger(candidate, integration);
    Kill(name, died);
    return name;
  }

  // Makes `count` events of our integration DEAD, one per new candidate,
  // each a microsecond after the one before from `first_death`, straight in
  // the database (far quicker than one call each).
  void MakeDeadEvents(int count, absl::Time first_death) {
    ats::v1::BulkTriggerIntegrationRequest bulk;
    bulk.set_integration(integration_.name());
    (*bulk.mutable_option_values())["test_package"] = "basic";
    for (int i = 0; i < count; ++i) {
      bulk.mutable_selection()->mutable_candidates()->add_candidates(
          CreateCandidate(absl::StrCat("Dead", i)).name());
    }
    auto context = As(server_.recruiter_key());
    auto reader = integrations_->BulkTriggerIntegration(context.get(), bulk);
    BulkOperation progress;
    while (reader->Read(&progress)) {
    }
    ASSERT_TRUE(reader->Finish().ok());
    ASSERT_EQ(progress.created_count(), count);
    ASSERT_TRUE(
        server_.database()
            .WithSession([&](storage::sql::Session& db) {
              return db
                  .Prepare(
                      "UPDATE events SET state = 8, attempt_count = 5, "
                      "state_reason = 'gave up', update_time = ?1 + seq "
                      "WHERE integration_id = ?2")
                  .Bind(1, absl::ToUnixMicros(first_death))
                  .Bind(2, IdOf(integration_.name()))
                  .Run();
            })
            .ok());
  }

  // The events of our integration in `state`.
  std::vector<ats::v1::Event> EventsIn(ats::v1::EventState state) {
    ats::v1::ListEventsRequest request;
    request.set_integration(integration_.name());
    request.set_state(state);
    return AllEvents(request, 1000);
  }
};

TEST_F(RecoverEventsTest, RequeuesExactlyTheDeadEventsOfTheWindowOldestFirst) {
  const absl::Time now = server_.clock().Now();
  const std::string ada = CreateCandidate("Ada").name();
  const std::string bob = CreateCandidate("Bob").name();
  const ats::v1::Integration other = Activate(CreatePartner("Testly").name());

  // Created in another order than they died; Ada has two.
  const std::string last = DeadEvent(ada, now - absl::Minutes(30));
  const std::string first = DeadEvent(ada, now - absl::Hours(2));
  const std::string middle = DeadEvent(bob, now - absl::Minutes(90));
  const std::string before = DeadEvent(bob, now - absl::Hours(3));
  const std::string elsewhere =
      DeadEvent(bob, now - absl::Hours(1), other.name());
  const std::string pending = Trigger(bob);
  const std::string failed = Trigger(ada);
  ChangeStoredEvent(failed, [&](storage::EventRow& event) {
    event.state = ats::v1::EVENT_STATE_FAILED;
    event.update_time = now - absl::Hours(1);
  });

  server_.clock().Advance(absl::Seconds(5));
  const absl::Time call = server_.clock().Now();
  const BulkOperation done = MustRun(Request(now - absl::Minutes(150)));
  EXPECT_EQ(done.state(), ats::v1::BULK_OPERATION_STATE_SUCCEEDED)
      << done.state_reason();
  EXPECT_EQ(done.kind(), ats::v1::BULK_OPERATION_KIND_RECOVER);
  EXPECT_EQ(done.integration(), integration_.name());
  EXPECT_EQ(server::FromProtoTime(done.recover_since()),
            now - absl::Minutes(150));
  EXPECT_EQ(server::FromProtoTime(done.recover_until()), call);
  EXPECT_EQ(done.total_count(), 3);
  EXPECT_EQ(done.requeued_count(), 3);
  EXPECT_EQ(done.created_count(), 0);
  EXPECT_EQ(done.skipped_count() + done.failed_count(), 0);
  EXPECT_FALSE(done.has_selection());

  // One item per event, oldest death first.
  const std::vector<BulkOperationItem> items = Items(done.name());
  ASSERT_EQ(items.size(), 3u);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {first, ada}, {middle, bob}, {last, ada}};
  for (size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(items[i].event(), expected[i].first) << i;
    EXPECT_EQ(items[i].candidate(), expected[i].second) << i;
    EXPECT_EQ(items[i].outcome(), ats::v1::BULK_ITEM_OUTCOME_REQUEUED) << i;
  }

  // Re-queued as RetryEvent does it: due now, from a fresh schedule.
  for (const std::string& name : {first, middle, last}) {
    const ats::v1::Event event = MustGetEvent(name);
    EXPECT_EQ(event.state(), ats::v1::EVENT_STATE_PENDING) << name;
    EXPECT_EQ(event.attempt_count(), 0) << name;
    EXPECT_EQ(event.state_reason(), "") << name;
    EXPECT_EQ(server::FromProtoTime(event.update_time()), call) << name;
  }
  // Nothing outside the window, of another integration, or not DEAD.
  EXPECT_EQ(MustGetEvent(before).state(), ats::v1::EVENT_STATE_DEAD);
  EXPECT_EQ(MustGetEvent(elsewhere).state(), ats::v1::EVENT_STATE_DEAD);
  EXPECT_EQ(MustGetEvent(pending).state(), ats::v1::EVENT_STATE_PENDING);
  EXPECT_EQ(MustGetEvent(failed).state(), ats::v1::EVENT_STATE_FAILED);

  // They die again at once: a recover of the same window finds nothing,
  // since their new deaths are after it.
  for (const std::string& name : {first, middle, last}) Kill(name, call);
  ats::v1::RecoverEventsRequest again = Request(now - absl::Minutes(150));
  *again.mutable_until() = ToProtoTime(call);
  const BulkOperation nothing = MustRun(again);
  EXPECT_EQ(nothing.state(), ats::v1::BULK_OPERATION_STATE_SUCCEEDED);
  EXPECT_EQ(nothing.total_count(), 0);
  EXPECT_EQ(MustGetEvent(first).state(), ats::v1::EVENT_STATE_DEAD);
}

TEST_F(RecoverEventsTest, ManyBatchesRequeueEachEventOnceInDeathOrder) {
  const absl::Time start = server_.clock().Now() - absl::Hours(1);
  constexpr int kEvents = 60;
  MakeDeadEvents(kEvents, start);
  const BulkOperation done = MustRun(Request(start));
  EXPECT_EQ(done.state(), ats::v1::BULK_OPERATION_STATE_SUCCEEDED);
  EXPECT_EQ(done.total_count(), kEvents);
  EXPECT_EQ(done.requeued_count(), kEvents);
  const std::vector<BulkOperationItem> items = Items(done.name());
  ASSERT_EQ(items.size(), static_cast<size_t>(kEvents));
  std::vector<std::string> order;
  for (const BulkOperationItem& item : items) {
    EXPECT_EQ(item.outcome(), ats::v1::BULK_ITEM_OUTCOME_REQUEUED);
    order.push_back(item.event());
  }
  // Insertion order is death order here: ListEvents gives it backwards.
  std::vector<std::string> inserted;
  for (const ats::v1::Event& event : EventsIn(ats::v1::EVENT_STATE_PENDING)) {
    inserted.insert(inserted.begin(), event.name());
  }
  EXPECT_EQ(order, inserted);
  EXPECT_TRUE(EventsIn(ats::v1::EVENT_STATE_DEAD).empty());
}

TEST_F(RecoverEventsTest, CancellingStopsWithExactCounts) {
  const absl::Time start = server_.clock().Now() - absl::Hours(1);
  constexpr int kEvents = 1000;
  MakeDeadEvents(kEvents, start);
  auto context = As(server_.recruiter_key());
  auto reader = integrations_->RecoverEvents(context.get(), Request(start));
  const BulkOperation cancelled = CancelAtFirstProgress(*reader);
  ASSERT_EQ(cancelled.state(), ats::v1::BULK_OPERATION_STATE_CANCELED);

  EXPECT_LT(cancelled.requeued_count(), kEvents);
  EXPECT_EQ(static_cast<int64_t>(EventsIn(ats::v1::EVENT_STATE_PENDING).size()),
            cancelled.requeued_count());
  EXPECT_EQ(static_cast<int64_t>(EventsIn(ats::v1::EVENT_STATE_DEAD).size()),
            kEvents - cancelled.requeued_count());
  EXPECT_EQ(
      static_cast<int64_t>(
          Items(cancelled.name(), ats::v1::BULK_ITEM_OUTCOME_REQUEUED).size()),
      cancelled.requeued_count());
  ExpectTheRestPending(cancelled);
}

TEST_F(RecoverEventsTest, AnEventRetriedMeanwhileIsSkippedNotRequeuedTwice) {
  const absl::Time start = server_.clock().Now() - absl::Hours(1);
  constexpr int kEvents = 300;
  MakeDeadEvents(kEvents, start);
  const std::vector<ats::v1::Event> dead = EventsIn(ats::v1::EVENT_STATE_DEAD);
  const std::string youngest = dead.front().name();

  auto context = As(server_.recruiter_key());
  auto reader = integrations_->RecoverEvents(context.get(), Request(start));
  BulkOperation progress;
  ASSERT_TRUE(reader->Read(&progress));
  // Retried by hand while the operation runs: before the operation finds
  // it (no item) or after (a SKIPPED item), never re-queued by both.
  ats::v1::RetryEventRequest retry;
  retry.set_name(youngest);
  ats::v1::Event retried;
  ASSERT_TRUE(
      integrations_
          ->RetryEvent(As(server_.recruiter_key()).get(), retry, &retried)
          .ok());
  BulkOperation last = progress;
  while (reader->Read(&progress)) last = progress;
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(last.state(), ats::v1::BULK_OPERATION_STATE_SUCCEEDED);
  EXPECT_EQ(last.requeued_count() + last.skipped_count(), last.total_count());
  EXPECT_EQ(last.requeued_count(), kEvents - 1);
  int found = 0;
  for (const BulkOperationItem& item : Items(last.name())) {
    if (item.event() != youngest) continue;
    ++found;
    EXPECT_EQ(item.outcome(), ats::v1::BULK_ITEM_OUTCOME_SKIPPED);
    EXPECT_TRUE(absl::StrContains(item.reason(), "no longer DEAD"))
        << item.reason();
  }
  EXPECT_EQ(found, last.total_count() - (kEvents - 1));
  EXPECT_EQ(static_cast<int64_t>(EventsIn(ats::v1::EVENT_STATE_PENDING).size()),
            kEvents);
}

TEST_F(RecoverEventsTest, ARetryWithTheSameRequestIdWatchesTheSameOperation) {
  const absl::Time start = server_.clock().Now() - absl::Hours(1);
  MakeDeadEvents(10, start);
  ats::v1::RecoverEventsRequest request = Request(start);
  request.set_request_id("recover-1");
  const BulkOperation first = MustRun(request);
  EXPECT_EQ(first.requeued_count(), 10);
  server_.clock().Advance(absl::Minutes(1));
  const BulkOperation replay = MustRun(request);
  EXPECT_TRUE(MessageDifferencer::Equals(replay, first));
  ats::v1::ListBulkOperationsResponse listed;
  ASSERT_TRUE(
      integrations_
          ->ListBulkOperations(As(server_.recruiter_key()).get(), {}, &listed)
          .ok());
  int recovers = 0;
  for (const BulkOperation& operation : listed.bulk_operations()) {
    recovers += operation.kind() == ats::v1::BULK_OPERATION_KIND_RECOVER;
  }
  EXPECT_EQ(recovers, 1);
}

TEST_F(RecoverEventsTest, BadRequestsAreRefusedBeforeAnythingStarts) {
  const absl::Time now = server_.clock().Now();
  ats::v1::RecoverEventsRequest request = Request(now - absl::Hours(1));
  request.clear_since();
  EXPECT_TRUE(IsInvalid(Stream(request).status, "since"));

  request = Request(now - absl::Hours(1));
  *request.mutable_until() = ToProtoTime(now - absl::Hours(2));
  EXPECT_TRUE(IsInvalid(Stream(request).status, "until"));
  *request.mutable_until() = ToProtoTime(now - absl::Hours(1));
  EXPECT_TRUE(IsInvalid(Stream(request).status, "until"));
  // A window that starts after the call.
  EXPECT_TRUE(IsInvalid(Stream(Request(now + absl::Hours(1))).status, "since"));

  request = Request(now - absl::Hours(1));
  request.mutable_since()->set_nanos(-1);
  EXPECT_TRUE(IsInvalid(Stream(request).status, "since"));

  EXPECT_TRUE(
      IsInvalid(Stream(Request(now - absl::Hours(1), "jobs/nope")).status,
                "integration"));
  EXPECT_TRUE(
      HasCode(Stream(Request(now - absl::Hours(1), "integrations/nope")).status,
              Code::NOT_FOUND));
  // Another account's integration is as absent as an unknown one.
  const ats::v1::Integration theirs =
      Activate(partner_.name(), server_.other_admin_key());
  EXPECT_TRUE(
      HasCode(Stream(Request(now - absl::Hours(1), theirs.name())).status,
              Code::NOT_FOUND));
  EXPECT_TRUE(HasCode(
      Stream(Request(now - absl::Hours(1)), server_.other_admin_key()).status,
      Code::NOT_FOUND));
  // Roles: a partner key and the operator may not.
  EXPECT_TRUE(
      HasCode(Stream(Request(now - absl::Hours(1)), partner_key_).status,
              Code::PERMISSION_DENIED));
  EXPECT_TRUE(HasCode(
      Stream(Request(now - absl::Hours(1)), server_.operator_key()).status,
      Code::PERMISSION_DENIED));

  // An integration whose endpoint was disabled, or inactive.
  ASSERT_TRUE(server_.database()
                  .WithSession([&](storage::sql::Session& db) {
                    return db
                        .Prepare(
                            "UPDATE integrations SET "
                            "endpoint_disabled_reason = 'HTTP 410' "
                            "WHERE id = ?1")
                        .Bind(1, IdOf(integration_.name()))
                        .Run();
                  })
                  .ok());
  grpc::Status disabled = Stream(Request(now - absl::Hours(1))).status;
  EXPECT_TRUE(HasCode(disabled, Code::FAILED_PRECONDITION));
  EXPECT_TRUE(absl::StrContains(disabled.error_message(), "disabled"))
      << disabled.error_message();
  Deactivate(integration_.name());
  grpc::Status inactive = Stream(Request(now - absl::Hours(1))).status;
  EXPECT_TRUE(HasCode(inactive, Code::FAILED_PRECONDITION));
  EXPECT_TRUE(absl::StrContains(inactive.error_message(), "inactive"))
      << inactive.error_message();

  // None of these started an operation.
  ats::v1::ListBulkOperationsResponse listed;
  ASSERT_TRUE(
      integrations_
          ->ListBulkOperations(As(server_.recruiter_key()).get(), {}, &listed)
          .ok());
  EXPECT_EQ(listed.bulk_operations_size(), 0);
}

}  // namespace
}  // namespace ats::testing
