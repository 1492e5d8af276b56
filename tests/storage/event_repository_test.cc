// Tests of the event repository (the delivery outbox) on a real SQLite store,
// through storage::Store.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "google/protobuf/unknown_field_set.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "storage/delivery_destination.h"
#include "storage/sql/session.h"
#include "storage/store.h"
#include "tests/support/backends.h"
#include "tests/support/temp_dir.h"

namespace ats::storage {
namespace {

using ::ats::testing::TempDir;
using google::protobuf::util::MessageDifferencer;

#define ASSERT_OK(expr)                   \
  do {                                    \
    const absl::Status status_ = (expr);  \
    ASSERT_TRUE(status_.ok()) << status_; \
  } while (false)

constexpr char kAccountA[] = "acct-a";
constexpr char kAccountB[] = "acct-b";

absl::Time At(int64_t seconds) { return absl::FromUnixSeconds(seconds); }

// A PENDING integration event of candidate `candidate` in job `job`.
EventRow Event(const std::string& id, const std::string& candidate,
               const std::string& job, absl::Time created,
               const std::string& account = kAccountA) {
  EventRow event;
  event.account_id = account;
  event.id = id;
  event.state = ats::v1::EVENT_STATE_PENDING;
  event.integration_id = account == kAccountA ? "int-a" : "int-b";
  event.candidate_id = candidate;
  event.job_id = job;
  event.source = ats::v1::EVENT_SOURCE_STAGE_TRIGGER;
  event.trigger_id = "tr1";
  event.stage_id = "st1";
  event.stage_entry = 1;
  event.triggered_by = "key1";
  event.payload.set_event_id("events/" + id);
  event.payload.set_job_title("Engineer");
  event.create_time = created;
  event.due_time = created;
  event.update_time = created;
  return event;
}

class EventRepositoryTest
    : public ::testing::TestWithParam<::ats::testing::Backend> {
 protected:
  void SetUp() override {
    auto database =
        ::ats::testing::TestDatabase::Create(GetParam(), dir_.path());
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = *std::move(database);
    absl::StatusOr<std::unique_ptr<Store>> store = database_->Open();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_OK(Write([](Transaction& t) {
      absl::Status status = t.accounts().InsertAccount(
          {kAccountA, "Account A", At(1), "", {}, ""});
      if (status.ok()) {
        status = t.accounts().InsertAccount(
            {kAccountB, "Account B", At(2), "", {}, ""});
      }
      PartnerRow partner;
      partner.id = "p1";
      partner.listing.set_display_name("Assessly");
      partner.create_time = partner.update_time = At(1);
      if (status.ok()) status = t.integrations().InsertPartner(partner);
      for (const auto& [account, id] :
           {std::pair(kAccountA, "int-a"), std::pair(kAccountB, "int-b")}) {
        IntegrationRow integration;
        integration.account_id = account;
        integration.id = id;
        integration.partner_id = "p1";
        integration.display_name = "Assessly";
        integration.create_time = integration.update_time = At(1);
        if (status.ok())
          status = t.integrations().InsertIntegration(integration);
      }
      return status;
    }));
  }

  absl::Status Write(Store::WorkFn work) {
    return store_->WriteAndWait(std::move(work));
  }

  absl::Status Insert(const std::vector<EventRow>& events) {
    return Write([&](Transaction& t) {
      for (const EventRow& event : events) {
        absl::Status status = t.events().InsertEvent(event);
        if (!status.ok()) return status;
      }
      return absl::OkStatus();
    });
  }

  absl::StatusOr<EventRow> Get(const std::string& account,
                               const std::string& id,
                               PayloadParts parts = PayloadParts::kAll) {
    absl::StatusOr<EventRow> event = absl::UnknownError("not run");
    absl::Status status = store_->Read([&](Transaction& t) {
      event = t.events().GetEvent(account, id, parts);
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    return event;
  }

  // Every page of ListEvents of `filter` in account A, `limit` a page; the
  // ids in list order.
  std::vector<std::string> List(const EventFilter& filter, int limit = 100,
                                const std::string& account = kAccountA) {
    std::vector<std::string> ids;
    PageRequest request;
    request.limit = limit;
    for (int pages = 0; pages < 100; ++pages) {
      absl::StatusOr<Page<EventRow>> page = absl::UnknownError("not run");
      EXPECT_TRUE(store_
                      ->Read([&](Transaction& t) {
                        page = t.events().ListEvents(account, filter, request);
                        return absl::OkStatus();
                      })
                      .ok());
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      EXPECT_LE(static_cast<int>(page->rows.size()), limit);
      for (const EventRow& row : page->rows) ids.push_back(row.id);
      if (page->next.empty()) break;
      request.after = page->next;
    }
    return ids;
  }

  // The first page (up to 100 rows) of account A's events.
  absl::StatusOr<std::vector<EventRow>> FirstPage() {
    absl::StatusOr<Page<EventRow>> page = absl::UnknownError("not run");
    absl::Status status = store_->Read([&](Transaction& t) {
      page = t.events().ListEvents(kAccountA, {}, {{}, 100});
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    if (!page.ok()) return page.status();
    return std::move(page->rows);
  }

  // Replaces the stored payload of event `id` with `bytes`, behind the
  // repository's back (which only stores payloads it serialized itself).
  void StorePayload(const std::string& id, const std::string& bytes) {
    ASSERT_OK(database_->WithSession([&](sql::Session& db) {
      return db.Prepare("UPDATE events SET payload = ?1 WHERE id = ?2")
          .BindBlob(1, bytes)
          .Bind(2, id)
          .Run();
    }));
  }

  std::vector<std::string> Due(absl::Time now, int limit = 100,
                               const std::vector<std::string>& skip = {}) {
    // Each listed event read as a claim reads it, which names it.
    std::vector<std::string> ids;
    const absl::Status status = store_->WriteAndWait([&](Transaction& t) {
      auto due = t.events().ListDue(now, limit, skip);
      if (!due.ok()) return due.status();
      for (const DueEvent& row : *due) {
        auto event = t.events().ReadDueEvent(row, now);
        if (!event.ok()) return event.status();
        EXPECT_TRUE(event->has_value()) << "listed, then not due";
        if (event->has_value()) ids.push_back((*event)->event.id);
      }
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status;
    return ids;
  }

  absl::StatusOr<int64_t> Cancel(const std::string& candidate,
                                 const std::string& job, absl::Time now) {
    absl::StatusOr<int64_t> count = absl::UnknownError("not run");
    absl::Status status = Write([&](Transaction& t) {
      count =
          t.events().CancelOpenEvents(kAccountA, candidate, job, "gone", now);
      return count.status();
    });
    if (!status.ok()) return status;
    return count;
  }

  TempDir dir_;
  std::optional<::ats::testing::TestDatabase> database_;
  std::unique_ptr<Store> store_;
};

TEST_P(EventRepositoryTest, RoundTripKeepsEveryColumn) {
  EventRow event = Event("e1", "c1", "j1", At(100));
  event.state = ats::v1::EVENT_STATE_SCHEDULED;
  event.state_reason = "";
  event.due_time = At(160);
  event.stage_entry = 3;
  event.payload.set_partner("partners/p1");
  (*event.payload.mutable_option_values())["test"] = "java";
  event.payload.mutable_candidate()->set_email("ada@example.com");
  event.payload.mutable_candidate()->add_tags("x");
  ASSERT_OK(Insert({event}));

  absl::StatusOr<EventRow> got = Get(kAccountA, "e1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->account_id, kAccountA);
  EXPECT_EQ(got->state, ats::v1::EVENT_STATE_SCHEDULED);
  EXPECT_EQ(got->integration_id, "int-a");
  EXPECT_EQ(got->candidate_id, "c1");
  EXPECT_EQ(got->job_id, "j1");
  EXPECT_EQ(got->source, ats::v1::EVENT_SOURCE_STAGE_TRIGGER);
  EXPECT_EQ(got->trigger_id, "tr1");
  EXPECT_EQ(got->stage_id, "st1");
  EXPECT_EQ(got->stage_entry, 3);
  EXPECT_EQ(got->triggered_by, "key1");
  EXPECT_TRUE(MessageDifferencer::Equals(got->payload, event.payload));
  EXPECT_EQ(got->create_time, At(100));
  EXPECT_EQ(got->due_time, At(160));
  EXPECT_EQ(got->update_time, At(100));
  EXPECT_EQ(got->attempt_count, 0);
  EXPECT_FALSE(got->lease_expire_time.has_value());
  EXPECT_FALSE(got->result.has_value());

  // Every mutable column changes; the payload does not.
  EventRow update = *got;
  update.state = ats::v1::EVENT_STATE_FAILED;
  update.state_reason = "test not taken";
  update.due_time = At(200);
  update.update_time = At(210);
  update.attempt_count = 2;
  update.lease_expire_time = At(230);
  ats::v1::PartnerResult result;
  result.set_status(ats::v1::PARTNER_RESULT_STATUS_FAILED);
  result.mutable_score()->set_value(12.5);
  result.set_summary("no show");
  (*result.mutable_details()->mutable_fields())["k"].set_string_value("v");
  update.result = result;
  update.payload.set_job_title("changed");
  ASSERT_OK(
      Write([&](Transaction& t) { return t.events().UpdateEvent(update); }));
  got = Get(kAccountA, "e1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->state, ats::v1::EVENT_STATE_FAILED);
  EXPECT_EQ(got->state_reason, "test not taken");
  EXPECT_EQ(got->due_time, At(200));
  EXPECT_EQ(got->update_time, At(210));
  EXPECT_EQ(got->attempt_count, 2);
  EXPECT_EQ(got->lease_expire_time, At(230));
  ASSERT_TRUE(got->result.has_value());
  EXPECT_TRUE(MessageDifferencer::Equals(*got->result, result));
  EXPECT_EQ(got->payload.job_title(), "Engineer");

  update.lease_expire_time.reset();
  update.result.reset();
  ASSERT_OK(
      Write([&](Transaction& t) { return t.events().UpdateEvent(update); }));
  got = Get(kAccountA, "e1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_FALSE(got->lease_expire_time.has_value());
  EXPECT_FALSE(got->result.has_value());
}

TEST_P(EventRepositoryTest, WebhookEventsHaveNoIntegration) {
  EventRow event = Event("w1", "c1", "j1", At(100));
  event.integration_id.clear();
  event.webhook_uri = "https://hooks.example/x";
  ASSERT_OK(Insert({event}));
  absl::StatusOr<EventRow> got = Get(kAccountA, "w1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->integration_id, "");
  EXPECT_EQ(got->webhook_uri, "https://hooks.example/x");
  EventFilter filter;
  filter.integration_id = "int-a";
  EXPECT_TRUE(List(filter).empty());
}

TEST_P(EventRepositoryTest, MissingAndDuplicateEvents) {
  ASSERT_OK(Insert({Event("e1", "c1", "j1", At(100))}));
  EXPECT_EQ(Insert({Event("e1", "c2", "j1", At(100))}).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Get(kAccountA, "nope").status().code(),
            absl::StatusCode::kNotFound);
  EventRow missing = Event("nope", "c1", "j1", At(100));
  EXPECT_EQ(Write([&](Transaction& t) {
              return t.events().UpdateEvent(missing);
            }).code(),
            absl::StatusCode::kNotFound);
}

TEST_P(EventRepositoryTest, AccountsDoNotSeeEachOther) {
  ASSERT_OK(Insert({Event("e1", "c1", "j1", At(100)),
                    Event("e2", "c1", "j1", At(101), kAccountB)}));
  EXPECT_EQ(Get(kAccountB, "e1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Get(kAccountA, "e2").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(List({}), std::vector<std::string>{"e1"});
  EXPECT_EQ(List({}, 100, kAccountB), std::vector<std::string>{"e2"});

  // Another account's event cannot be updated, attempted or cancelled.
  EventRow other = Event("e2", "c1", "j1", At(101), kAccountA);
  other.state = ats::v1::EVENT_STATE_DEAD;
  EXPECT_EQ(Write([&](Transaction& t) {
              return t.events().UpdateEvent(other);
            }).code(),
            absl::StatusCode::kNotFound);
  AttemptRow attempt;
  attempt.account_id = kAccountA;
  attempt.event_id = "e2";
  EXPECT_EQ(Write([&](Transaction& t) {
              return t.events().InsertAttempt(attempt);
            }).code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<int64_t> cancelled = Cancel("c1", "", At(200));
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(*cancelled, 1);
  EXPECT_EQ(Get(kAccountB, "e2")->state, ats::v1::EVENT_STATE_PENDING);
}

TEST_P(EventRepositoryTest, ListsNewestFirstWithFilters) {
  EventRow webhook = Event("e5", "c2", "j2", At(105));
  webhook.integration_id.clear();
  EventRow dead = Event("e4", "c1", "j2", At(104));
  dead.state = ats::v1::EVENT_STATE_DEAD;
  ASSERT_OK(Insert({Event("e1", "c1", "j1", At(101)),
                    Event("e2", "c2", "j1", At(102)),
                    Event("e3", "c1", "", At(103)), dead, webhook}));

  EXPECT_EQ(List({}), (std::vector<std::string>{"e5", "e4", "e3", "e2", "e1"}));
  EventFilter by_candidate;
  by_candidate.candidate_id = "c1";
  EXPECT_EQ(List(by_candidate), (std::vector<std::string>{"e4", "e3", "e1"}));
  EventFilter by_job;
  by_job.job_id = "j1";
  EXPECT_EQ(List(by_job), (std::vector<std::string>{"e2", "e1"}));
  EventFilter by_integration;
  by_integration.integration_id = "int-a";
  EXPECT_EQ(List(by_integration),
            (std::vector<std::string>{"e4", "e3", "e2", "e1"}));
  EventFilter by_state;
  by_state.state = ats::v1::EVENT_STATE_DEAD;
  EXPECT_EQ(List(by_state), std::vector<std::string>{"e4"});

  // Filters combine with AND, whichever leads.
  EventFilter all;
  all.candidate_id = "c1";
  all.job_id = "j2";
  all.integration_id = "int-a";
  all.state = ats::v1::EVENT_STATE_DEAD;
  EXPECT_EQ(List(all), std::vector<std::string>{"e4"});
  all.state = ats::v1::EVENT_STATE_PENDING;
  EXPECT_TRUE(List(all).empty());
  EventFilter job_and_state;
  job_and_state.job_id = "j2";
  job_and_state.state = ats::v1::EVENT_STATE_PENDING;
  EXPECT_EQ(List(job_and_state), std::vector<std::string>{"e5"});
  EventFilter integration_and_candidate;
  integration_and_candidate.integration_id = "int-a";
  integration_and_candidate.candidate_id = "c2";
  EXPECT_EQ(List(integration_and_candidate), std::vector<std::string>{"e2"});
}

TEST_P(EventRepositoryTest, ListsEventsBeingDeliveredByStateToo) {
  // SENDING events, which the list by state reads from the leases, beside
  // events in the states it holds, in both accounts.
  std::vector<EventRow> events;
  for (const char* id : {"s1", "p1", "s2", "x1", "s3", "p2"}) {
    EventRow event = Event(id, "c1", "j1", At(100));
    if (id[0] == 's' || id[0] == 'x') {
      event.state = ats::v1::EVENT_STATE_SENDING;
      event.attempt_count = 1;
      event.lease_expire_time = At(160);
    }
    if (id[0] == 'x') event.account_id = kAccountB;
    events.push_back(event);
  }
  ASSERT_OK(Insert(events));
  EventFilter sending;
  sending.state = ats::v1::EVENT_STATE_SENDING;
  const std::vector<std::string> expected = {"s3", "s2", "s1"};
  for (int limit : {1, 2, 100}) {
    EXPECT_EQ(List(sending, limit), expected) << "limit " << limit;
  }
  EXPECT_EQ(List(sending, 100, kAccountB), std::vector<std::string>{"x1"});
  EventFilter pending;
  pending.state = ats::v1::EVENT_STATE_PENDING;
  EXPECT_EQ(List(pending), (std::vector<std::string>{"p2", "p1"}));

  // Settled, it leaves the list of SENDING events for the list of its state.
  ASSERT_OK(Write([&](Transaction& t) {
    EventRow settled = events[2];
    settled.state = ats::v1::EVENT_STATE_SENT;
    settled.lease_expire_time.reset();
    return t.events().UpdateEvent(settled);
  }));
  EXPECT_EQ(List(sending), (std::vector<std::string>{"s3", "s1"}));
  EventFilter sent;
  sent.state = ats::v1::EVENT_STATE_SENT;
  EXPECT_EQ(List(sent), std::vector<std::string>{"s2"});
}

TEST_P(EventRepositoryTest, PagesThroughInReverseInsertionOrder) {
  // Insertion order, not create_time or id: events of one move share their
  // create_time, and a clock stepped back must not reorder the list.
  std::vector<EventRow> events;
  for (const char* id : {"b", "d", "a", "e", "c"}) {
    events.push_back(Event(id, "c1", "j1", At(100)));
  }
  events.push_back(Event("z", "c1", "j1", At(99)));
  events.push_back(Event("0", "c1", "j1", At(101)));
  ASSERT_OK(Insert(events));
  const std::vector<std::string> expected = {"0", "z", "c", "e", "a", "d", "b"};
  for (int limit : {1, 2, 3, 100}) {
    EXPECT_EQ(List({}, limit), expected) << "limit " << limit;
    EventFilter by_candidate;
    by_candidate.candidate_id = "c1";
    EXPECT_EQ(List(by_candidate, limit), expected) << "limit " << limit;
  }

  // Not numbers, and the two-part cursors events were paged by before.
  for (std::vector<std::string> after : std::vector<std::vector<std::string>>{
           {"not a number"}, {""}, {"100", "x"}}) {
    PageRequest bad;
    bad.after = after;
    EXPECT_EQ(store_
                  ->Read([&](Transaction& t) {
                    return t.events().ListEvents(kAccountA, {}, bad).status();
                  })
                  .code(),
              absl::StatusCode::kInvalidArgument)
        << absl::StrJoin(bad.after, ",");
  }
}

TEST_P(EventRepositoryTest, ListDueFindsDeliverableEventsOldestDueFirst) {
  const absl::Time now = At(1000);
  std::vector<EventRow> events;
  auto add = [&](const std::string& id, ats::v1::EventState state,
                 absl::Time due, std::optional<absl::Time> lease = {},
                 const std::string& account = kAccountA) {
    EventRow event = Event(id, "c1", "j1", At(10), account);
    event.state = state;
    event.due_time = due;
    event.lease_expire_time = lease;
    events.push_back(event);
  };
  add("scheduled-due", ats::v1::EVENT_STATE_SCHEDULED, At(900));
  add("scheduled-later", ats::v1::EVENT_STATE_SCHEDULED, At(1001));
  add("pending", ats::v1::EVENT_STATE_PENDING, At(800));
  add("pending-other-account", ats::v1::EVENT_STATE_PENDING, At(850), {},
      kAccountB);
  add("retrying-now", ats::v1::EVENT_STATE_RETRYING, now);
  add("retrying-later", ats::v1::EVENT_STATE_RETRYING, At(5000));
  add("sending-expired", ats::v1::EVENT_STATE_SENDING, At(700), At(990));
  add("sending-leased", ats::v1::EVENT_STATE_SENDING, At(600), At(1030));
  for (ats::v1::EventState final_state :
       {ats::v1::EVENT_STATE_SENT, ats::v1::EVENT_STATE_COMPLETED,
        ats::v1::EVENT_STATE_FAILED, ats::v1::EVENT_STATE_DEAD,
        ats::v1::EVENT_STATE_CANCELED, ats::v1::EVENT_STATE_SKIPPED}) {
    add(ats::v1::EventState_Name(final_state), final_state, At(1));
  }
  ASSERT_OK(Insert(events));

  EXPECT_EQ(Due(now), (std::vector<std::string>{
                          "sending-expired", "pending", "pending-other-account",
                          "scheduled-due", "retrying-now"}));
  EXPECT_EQ(Due(now, 2),
            (std::vector<std::string>{"sending-expired", "pending"}));
  // Skipping a destination leaves out only its events.
  EXPECT_EQ(Due(now, 2, {"int-a"}),
            (std::vector<std::string>{"pending-other-account"}));
  EXPECT_EQ(Due(At(1030)), (std::vector<std::string>{
                               "sending-leased", "sending-expired", "pending",
                               "pending-other-account", "scheduled-due",
                               "retrying-now", "scheduled-later"}));
  EXPECT_TRUE(Due(At(500)).empty());
}

TEST_P(EventRepositoryTest, ListDueMergesTheQueuesOfEveryDestination) {
  const absl::Time now = At(1000);
  std::vector<EventRow> events;
  auto add = [&](const std::string& id, const std::string& account,
                 const std::string& integration, absl::Time due,
                 const std::string& webhook_uri = "") {
    EventRow event = Event(id, "c1", "j1", due, account);
    event.integration_id = integration;
    event.webhook_uri = webhook_uri;
    events.push_back(event);
  };
  add("a1", kAccountA, "int-a", At(100));
  add("a3", kAccountA, "int-a", At(500));
  add("a2", kAccountA, "int-a", At(300));
  add("b1", kAccountB, "int-b", At(200));
  add("b2", kAccountB, "int-b", At(400));
  add("webhook-a", kAccountA, "", At(250), "https://Hooks.example/x");
  add("webhook-a-other-path", kAccountA, "", At(260),
      "https://hooks.example/y?z=1");
  add("webhook-b", kAccountB, "", At(270), "https://hooks.example/x");
  add("a-later", kAccountA, "int-a", At(2000));
  ASSERT_OK(Insert(events));

  const std::string webhooks_a = absl::StrCat("webhook:", kAccountA,
                                              "/hooks.example");
  const std::string webhooks_b = absl::StrCat("webhook:", kAccountB,
                                              "/hooks.example");
  EXPECT_EQ(Due(now), (std::vector<std::string>{
                          "a1", "b1", "webhook-a", "webhook-a-other-path",
                          "webhook-b", "a2", "b2", "a3"}));
  EXPECT_EQ(Due(now, 4), (std::vector<std::string>{"a1", "b1", "webhook-a",
                                                   "webhook-a-other-path"}));
  EXPECT_EQ(Due(now, 4, {"int-a"}),
            (std::vector<std::string>{"b1", "webhook-a",
                                      "webhook-a-other-path", "webhook-b"}));
  // One account's webhook host is its own destination, whatever the path,
  // and not another account's.
  EXPECT_EQ(Due(now, 10, {"int-b", webhooks_a}),
            (std::vector<std::string>{"a1", "webhook-b", "a2", "a3"}));
  EXPECT_TRUE(
      Due(now, 10, {"int-a", "int-b", webhooks_a, webhooks_b}).empty());
}

TEST_P(EventRepositoryTest, ListDueNamesEachEventsDestination) {
  EventRow partner = Event("partner", "c1", "j1", At(100));
  partner.integration_id = "int-a";
  EventRow webhook = Event("webhook", "c1", "j1", At(200));
  webhook.integration_id.clear();
  webhook.webhook_uri = "https://user:secret@HOOKS.example:8443/a#b";
  ASSERT_OK(Insert({partner, webhook}));

  absl::StatusOr<std::vector<DueEvent>> due = absl::UnknownError("not run");
  ASSERT_OK(store_->WriteAndWait([&](Transaction& t) {
    due = t.events().ListDue(At(1000), 10, {});
    return due.status();
  }));
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[0].destination, "int-a");
  EXPECT_EQ((*due)[1].destination,
            absl::StrCat("webhook:", kAccountA, "/hooks.example:8443"));
}

TEST_P(EventRepositoryTest, ReadDueEventReadsTheWholeEventOnlyWhileItIsDue) {
  EventRow pending = Event("pending", "c1", "j1", At(100));
  pending.payload.set_job_title("Backend engineer");
  pending.payload.mutable_candidate()->set_email("ada@example.com");
  ASSERT_OK(Insert({pending, Event("settled", "c1", "j1", At(100))}));

  ASSERT_OK(store_->WriteAndWait([&](Transaction& t) {
    auto due = t.events().ListDue(At(1000), 10, {});
    if (!due.ok()) return due.status();
    EXPECT_EQ(due->size(), 2u);
    // Settled by another write between the look and the read.
    auto settled =
        t.events().GetEvent(kAccountA, "settled", PayloadParts::kAll);
    if (!settled.ok()) return settled.status();
    settled->state = ats::v1::EVENT_STATE_SENT;
    absl::Status updated = t.events().UpdateEvent(*settled);
    if (!updated.ok()) return updated;
    for (const DueEvent& row : *due) {
      auto event = t.events().ReadDueEvent(row, At(1000));
      if (!event.ok()) return event.status();
      if (row.row_key == due->front().row_key) {
        // The whole payload, as stored, for the sender to decode.
        EXPECT_TRUE(event->has_value());
        if (!event->has_value()) continue;
        EXPECT_EQ((*event)->event.id, "pending");
        ats::v1::PartnerEvent payload;
        EXPECT_TRUE(payload.ParseFromString((*event)->payload));
        EXPECT_TRUE(MessageDifferencer::Equals(payload, pending.payload));
      } else {
        EXPECT_FALSE(event->has_value()) << "a SENT event is not due";
      }
      // Not yet due at an earlier time.
      auto early = t.events().ReadDueEvent(row, At(99));
      if (!early.ok()) return early.status();
      EXPECT_FALSE(early->has_value());
    }
    return absl::OkStatus();
  }));
}

TEST_P(EventRepositoryTest, LeaseDueEventChangesOnlyWhatAClaimChanges) {
  EventRow pending = Event("pending", "c1", "j1", At(100));
  pending.state_reason = "retried by an operator";
  pending.partner_message = "queued at the partner";
  pending.attempt_count = 2;
  pending.payload.set_job_title("Backend engineer");
  ASSERT_OK(Insert({pending, Event("other", "c2", "j1", At(100))}));

  ASSERT_OK(store_->WriteAndWait([&](Transaction& t) {
    auto due = t.events().ListDue(At(1000), 10, {});
    if (!due.ok()) return due.status();
    EXPECT_EQ(due->size(), 2u);
    for (const DueEvent& row : *due) {
      auto event = t.events().ReadDueEvent(row, At(1000));
      if (!event.ok()) return event.status();
      if (!event->has_value() || (*event)->event.id != "pending") continue;
      EventRow leased = (*event)->event;
      leased.attempt_count = 3;
      leased.lease_expire_time = At(1060);
      leased.update_time = At(1000);
      // Not written: a lease sets the state itself and keeps the rest.
      leased.state = ats::v1::EVENT_STATE_SENT;
      leased.due_time = At(5000);
      leased.partner_message = "changed";
      absl::Status status = t.events().LeaseDueEvent(row, leased);
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }));

  absl::StatusOr<EventRow> stored = Get(kAccountA, "pending");
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->state, ats::v1::EVENT_STATE_SENDING);
  EXPECT_EQ(stored->state_reason, "");
  EXPECT_EQ(stored->attempt_count, 3);
  EXPECT_EQ(stored->lease_expire_time, At(1060));
  EXPECT_EQ(stored->update_time, At(1000));
  EXPECT_EQ(stored->due_time, At(100));
  EXPECT_EQ(stored->create_time, At(100));
  EXPECT_EQ(stored->partner_message, "queued at the partner");
  EXPECT_TRUE(MessageDifferencer::Equals(stored->payload, pending.payload));
  EXPECT_EQ(Get(kAccountA, "other")->state, ats::v1::EVENT_STATE_PENDING);
  // Under a live lease: no longer due, and counted as being delivered.
  EXPECT_EQ(Due(At(1059)), std::vector<std::string>{"other"});
  EXPECT_EQ(Due(At(1060)), (std::vector<std::string>{"other", "pending"}));
}

TEST_P(EventRepositoryTest, CountLeasedCountsLiveLeasesByDestination) {
  std::vector<EventRow> events;
  for (const auto& [id, account, lease] :
       {std::tuple("live-a1", kAccountA, 100), std::tuple("live-a2", kAccountA, 61),
        std::tuple("expired-a", kAccountA, 60), std::tuple("live-b", kAccountB, 100)}) {
    EventRow event = Event(id, "c1", "j1", At(10), account);
    event.state = ats::v1::EVENT_STATE_SENDING;
    event.attempt_count = 1;
    event.lease_expire_time = At(lease);
    events.push_back(event);
  }
  events.push_back(Event("pending-a", "c1", "j1", At(10)));
  ASSERT_OK(Insert(events));
  std::map<std::string, int64_t> leased;
  ASSERT_OK(store_->Read([&](Transaction& t) {
    auto counted = t.events().CountLeased(At(60));
    if (!counted.ok()) return counted.status();
    leased = *std::move(counted);
    return absl::OkStatus();
  }));
  const std::map<std::string, int64_t> expected = {
      {DeliveryDestination(kAccountA, "int-a", ""), 2},
      {DeliveryDestination(kAccountB, "int-b", ""), 1}};
  EXPECT_EQ(leased, expected);
}

TEST_P(EventRepositoryTest, SettleClaimOnlyWhileTheClaimHolds) {
  EventRow claimed = Event("e1", "c1", "j1", At(10));
  claimed.state = ats::v1::EVENT_STATE_SENDING;
  claimed.attempt_count = 2;
  claimed.lease_expire_time = At(100);
  ASSERT_OK(Insert({claimed}));
  auto settle = [&](const EventRow& as_claimed, const EventRow& next) {
    absl::StatusOr<bool> held = absl::UnknownError("not run");
    EXPECT_TRUE(Write([&](Transaction& t) {
                  held = t.events().SettleClaim(as_claimed, next);
                  return held.status();
                }).ok());
    return held.ok() && *held;
  };
  EventRow next = claimed;
  next.state = ats::v1::EVENT_STATE_RETRYING;
  next.state_reason = "attempt failed: HTTP 500";
  next.due_time = At(60);
  next.update_time = At(50);
  next.lease_expire_time.reset();

  // Another lease or attempt count: someone else's claim; a missing event.
  EventRow other_lease = claimed;
  other_lease.lease_expire_time = At(101);
  EXPECT_FALSE(settle(other_lease, next));
  EventRow other_attempt = claimed;
  other_attempt.attempt_count = 3;
  EXPECT_FALSE(settle(other_attempt, next));
  EventRow missing = claimed;
  missing.id = "e2";
  EXPECT_FALSE(settle(missing, next));
  EXPECT_EQ(Get(kAccountA, "e1")->state, ats::v1::EVENT_STATE_SENDING);

  EXPECT_TRUE(settle(claimed, next));
  absl::StatusOr<EventRow> stored = Get(kAccountA, "e1");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->state, ats::v1::EVENT_STATE_RETRYING);
  EXPECT_EQ(stored->state_reason, "attempt failed: HTTP 500");
  EXPECT_EQ(stored->due_time, At(60));
  EXPECT_EQ(stored->update_time, At(50));
  EXPECT_FALSE(stored->lease_expire_time.has_value());
  EXPECT_EQ(stored->attempt_count, 2);
  // Settled once: the same claim no longer holds.
  EXPECT_FALSE(settle(claimed, next));
}

TEST_P(EventRepositoryTest, AttemptsAreNumberedAcrossTheEventsLife) {
  ASSERT_OK(Insert(
      {Event("e1", "c1", "j1", At(100)), Event("e2", "c1", "j1", At(100))}));
  auto attempt = [](const std::string& event_id, int status, int64_t at) {
    AttemptRow row;
    row.account_id = kAccountA;
    row.event_id = event_id;
    row.number = 77;  // Ignored: the repository numbers attempts.
    row.attempt_time = At(at);
    row.http_status = status;
    row.latency = absl::Milliseconds(250);
    row.error = status == 0 ? "connection refused" : "";
    return row;
  };
  ASSERT_OK(Write([&](Transaction& t) {
    absl::Status status = t.events().InsertAttempt(attempt("e1", 0, 101));
    if (status.ok()) status = t.events().InsertAttempt(attempt("e1", 503, 102));
    if (status.ok()) status = t.events().InsertAttempt(attempt("e2", 200, 103));
    return status;
  }));
  // A retried event's attempt_count starts again; its numbers do not.
  ASSERT_OK(Write([&](Transaction& t) {
    return t.events().InsertAttempt(attempt("e1", 200, 104));
  }));

  absl::StatusOr<std::vector<AttemptRow>> attempts =
      absl::UnknownError("not run");
  ASSERT_OK(store_->Read([&](Transaction& t) {
    attempts = t.events().ListAttempts(kAccountA, "e1");
    return attempts.status();
  }));
  ASSERT_EQ(attempts->size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ((*attempts)[i].number, i + 1);
  EXPECT_EQ((*attempts)[0].http_status, 0);
  EXPECT_EQ((*attempts)[0].error, "connection refused");
  EXPECT_EQ((*attempts)[0].latency, absl::Milliseconds(250));
  EXPECT_EQ((*attempts)[0].attempt_time, At(101));
  EXPECT_EQ((*attempts)[1].http_status, 503);
  EXPECT_EQ((*attempts)[2].attempt_time, At(104));
  ASSERT_OK(store_->Read([&](Transaction& t) {
    attempts = t.events().ListAttempts(kAccountA, "e2");
    return attempts.status();
  }));
  ASSERT_EQ(attempts->size(), 1u);
  EXPECT_EQ((*attempts)[0].number, 1);
  // Another account sees no attempts.
  ASSERT_OK(store_->Read([&](Transaction& t) {
    attempts = t.events().ListAttempts(kAccountB, "e1");
    return attempts.status();
  }));
  EXPECT_TRUE(attempts->empty());
}

TEST_P(EventRepositoryTest, CancelOpenEventsOfCandidateOrJob) {
  std::vector<EventRow> events = {
      Event("c1-j1-pending", "c1", "j1", At(100)),
      Event("c1-j2-pending", "c1", "j2", At(100)),
      Event("c1-nojob", "c1", "", At(100)),
      Event("c2-j1-pending", "c2", "j1", At(100)),
      Event("c3-j2-pending", "c3", "j2", At(100)),
  };
  auto add = [&](const std::string& id, const std::string& candidate,
                 const std::string& job, ats::v1::EventState state) {
    EventRow event = Event(id, candidate, job, At(100));
    event.state = state;
    if (state == ats::v1::EVENT_STATE_SENDING)
      event.lease_expire_time = At(500);
    events.push_back(event);
  };
  add("c1-j1-scheduled", "c1", "j1", ats::v1::EVENT_STATE_SCHEDULED);
  add("c1-j1-retrying", "c1", "j1", ats::v1::EVENT_STATE_RETRYING);
  add("c1-j1-sending", "c1", "j1", ats::v1::EVENT_STATE_SENDING);
  add("c1-j1-sent", "c1", "j1", ats::v1::EVENT_STATE_SENT);
  add("c1-j1-dead", "c1", "j1", ats::v1::EVENT_STATE_DEAD);
  ASSERT_OK(Insert(events));

  auto state_of = [&](const std::string& id) {
    return Get(kAccountA, id)->state;
  };

  // One candidate in one job.
  absl::StatusOr<int64_t> count = Cancel("c1", "j1", At(300));
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 3);
  for (const char* id :
       {"c1-j1-pending", "c1-j1-scheduled", "c1-j1-retrying"}) {
    absl::StatusOr<EventRow> event = Get(kAccountA, id);
    EXPECT_EQ(event->state, ats::v1::EVENT_STATE_CANCELED) << id;
    EXPECT_EQ(event->state_reason, "gone");
    EXPECT_EQ(event->update_time, At(300));
  }
  EXPECT_EQ(state_of("c1-j1-sending"), ats::v1::EVENT_STATE_SENDING);
  EXPECT_EQ(state_of("c1-j1-sent"), ats::v1::EVENT_STATE_SENT);
  EXPECT_EQ(state_of("c1-j1-dead"), ats::v1::EVENT_STATE_DEAD);
  EXPECT_EQ(state_of("c1-j2-pending"), ats::v1::EVENT_STATE_PENDING);
  EXPECT_EQ(state_of("c2-j1-pending"), ats::v1::EVENT_STATE_PENDING);

  // Every candidate of a job.
  count = Cancel("", "j2", At(301));
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 2);
  EXPECT_EQ(state_of("c1-j2-pending"), ats::v1::EVENT_STATE_CANCELED);
  EXPECT_EQ(state_of("c3-j2-pending"), ats::v1::EVENT_STATE_CANCELED);
  EXPECT_EQ(state_of("c1-nojob"), ats::v1::EVENT_STATE_PENDING);

  // Every job of a candidate, and events without a job.
  count = Cancel("c1", "", At(302));
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 1);
  EXPECT_EQ(state_of("c1-nojob"), ats::v1::EVENT_STATE_CANCELED);
  EXPECT_EQ(state_of("c2-j1-pending"), ats::v1::EVENT_STATE_PENDING);

  // Nothing left to cancel; and the whole account is never a scope.
  count = Cancel("c1", "", At(303));
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 0);
  EXPECT_EQ(Cancel("", "", At(303)).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Cancelled events leave the dispatcher's view.
  EXPECT_EQ(Due(At(1000)),
            (std::vector<std::string>{"c2-j1-pending", "c1-j1-sending"}));
}

// What a list shows of `payload`: its stage trigger and option values.
ats::v1::PartnerEvent ShownParts(const ats::v1::PartnerEvent& payload) {
  ats::v1::PartnerEvent shown;
  if (payload.has_stage_trigger()) {
    *shown.mutable_stage_trigger() = payload.stage_trigger();
  }
  *shown.mutable_option_values() = payload.option_values();
  return shown;
}

// A payload as the trigger engine stores it for a partner integration.
ats::v1::PartnerEvent PartnerPayload(const EventRow& event) {
  ats::v1::PartnerEvent payload = event.payload;
  payload.set_account("accounts/acct-a");
  payload.set_integration("integrations/int-a");
  payload.set_partner("partners/p1");
  payload.set_source(event.source);
  if (!event.job_id.empty()) payload.set_job("jobs/" + event.job_id);
  payload.set_triggered_by("apiKeys/key1");
  ats::v1::CandidateSnapshot* candidate = payload.mutable_candidate();
  candidate->set_name("candidates/c1");
  candidate->set_given_name("Ada");
  candidate->set_email("ada@example.com");
  candidate->add_tags("backend");
  payload.mutable_create_time()->set_seconds(100);
  payload.mutable_result_reporting()->set_method(
      "ats.v1.IntegrationService/ReportPartnerResult");
  payload.mutable_result_reporting()->set_event("events/" + event.id);
  return payload;
}

TEST_P(EventRepositoryTest, ListsOnlyTheShownPartsOfEveryKindOfPayload) {
  EventRow staged = Event("staged", "c1", "j1", At(100));
  staged.payload = PartnerPayload(staged);
  ats::v1::StageTriggerRef* ref = staged.payload.mutable_stage_trigger();
  ref->set_trigger("jobs/j1/stages/st1/triggers/tr1");
  ref->set_stage("jobs/j1/stages/st1");
  ref->set_stage_display_name("Screening");
  (*staged.payload.mutable_option_values())["test_package"] = "java-senior";
  (*staged.payload.mutable_option_values())["level"] = "";

  EventRow manual = Event("manual", "c1", "", At(101));
  manual.source = ats::v1::EVENT_SOURCE_MANUAL;
  manual.trigger_id.clear();
  manual.stage_id.clear();
  manual.stage_entry = 0;
  manual.payload = PartnerPayload(manual);
  (*manual.payload.mutable_option_values())["test_package"] = "sql-basics";

  EventRow webhook = Event("webhook", "c1", "j1", At(102));
  webhook.integration_id.clear();
  webhook.webhook_uri = "https://hooks.example/x";
  webhook.payload.mutable_stage_trigger()->set_trigger(
      "jobs/j1/stages/st1/triggers/tr2");
  webhook.payload.mutable_candidate()->set_name("candidates/c1");
  ASSERT_OK(Insert({staged, manual, webhook}));

  absl::StatusOr<std::vector<EventRow>> listed = FirstPage();
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 3u);
  const std::vector<const EventRow*> newest_first = {&webhook, &manual,
                                                     &staged};
  for (size_t i = 0; i < newest_first.size(); ++i) {
    const EventRow& stored = *newest_first[i];
    SCOPED_TRACE(stored.id);
    const ats::v1::PartnerEvent shown = ShownParts(stored.payload);
    EXPECT_TRUE(MessageDifferencer::Equals((*listed)[i].payload, shown))
        << (*listed)[i].payload.DebugString();
    absl::StatusOr<EventRow> got =
        Get(kAccountA, stored.id, PayloadParts::kShown);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(MessageDifferencer::Equals(got->payload, shown));
    // The dispatcher's read still gets everything it delivers.
    got = Get(kAccountA, stored.id, PayloadParts::kAll);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(MessageDifferencer::Equals(got->payload, stored.payload));
  }
  EXPECT_EQ((*listed)[2].payload.stage_trigger().stage_display_name(),
            "Screening");
  EXPECT_EQ((*listed)[2].payload.option_values().at("test_package"),
            "java-senior");
  EXPECT_FALSE((*listed)[1].payload.has_stage_trigger());
  EXPECT_TRUE((*listed)[0].payload.option_values().empty());
}

TEST_P(EventRepositoryTest, ShownPartsAreFoundInAnyOrderAmongOtherFields) {
  ASSERT_OK(Insert({Event("e1", "c1", "j1", At(100))}));
  // Encodings the generated serializer never writes but every parser
  // accepts: fields out of order, a message field split in two, map entries
  // with the value first, a missing key or value, unknown fields inside,
  // and unknown fields of every wire type.
  ats::v1::StageTriggerRef first_half;
  first_half.set_trigger("jobs/j1/stages/st1/triggers/tr1");
  ats::v1::StageTriggerRef second_half;
  second_half.set_stage("jobs/j1/stages/st1");
  second_half.set_stage_display_name("Screening");
  const auto entry = [](const std::vector<std::pair<int, std::string>>& fields,
                        bool unknown_inside = false) {
    google::protobuf::UnknownFieldSet set;
    if (unknown_inside) set.AddVarint(3, 1);
    for (const auto& [number, value] : fields) {
      set.AddLengthDelimited(number, value);
    }
    if (unknown_inside) set.AddFixed32(4, 7);
    std::string bytes;
    EXPECT_TRUE(set.SerializeToString(&bytes));
    return bytes;
  };
  ats::v1::CandidateSnapshot candidate;
  candidate.set_name("candidates/c1");
  candidate.add_tags("backend");

  google::protobuf::UnknownFieldSet payload;
  payload.AddVarint(99, 12345);
  payload.AddLengthDelimited(10, entry({{2, "java-senior"}, {1, "test"}}));
  payload.AddLengthDelimited(11, candidate.SerializeAsString());
  payload.AddFixed64(100, 1);
  payload.AddLengthDelimited(6, first_half.SerializeAsString());
  payload.AddGroup(101)->AddLengthDelimited(1, "in a group");
  payload.AddLengthDelimited(10, entry({{1, "level"}, {2, "3"}}, true));
  payload.AddFixed32(102, 2);
  payload.AddLengthDelimited(8, "Engineer");
  payload.AddLengthDelimited(6, second_half.SerializeAsString());
  payload.AddLengthDelimited(10, entry({{1, "no_value"}}));
  payload.AddLengthDelimited(10, entry({{2, "no key"}}));
  payload.AddLengthDelimited(10, entry({{1, "test"}, {2, "sql-basics"}}));
  payload.AddLengthDelimited(103, "unknown bytes");
  payload.AddVarint(5, ats::v1::EVENT_SOURCE_STAGE_TRIGGER);
  std::string bytes;
  ASSERT_TRUE(payload.SerializeToString(&bytes));
  StorePayload("e1", bytes);

  // What the generated parser makes of it, which a list must match.
  ats::v1::PartnerEvent parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  ats::v1::PartnerEvent expected;
  expected.mutable_stage_trigger()->set_trigger(first_half.trigger());
  expected.mutable_stage_trigger()->MergeFrom(second_half);
  auto& options = *expected.mutable_option_values();
  options["test"] = "sql-basics";
  options["level"] = "3";
  options["no_value"] = "";
  options[""] = "no key";
  ASSERT_TRUE(MessageDifferencer::Equals(ShownParts(parsed), expected))
      << parsed.DebugString();

  absl::StatusOr<std::vector<EventRow>> listed = FirstPage();
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_TRUE(MessageDifferencer::Equals(listed->front().payload, expected))
      << listed->front().payload.DebugString();
  absl::StatusOr<EventRow> got = Get(kAccountA, "e1", PayloadParts::kShown);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(MessageDifferencer::Equals(got->payload, expected));
  got = Get(kAccountA, "e1", PayloadParts::kAll);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(MessageDifferencer::Equals(got->payload, parsed));
}

TEST_P(EventRepositoryTest, CorruptPayloadIsDataLossWhateverIsDecoded) {
  ASSERT_OK(Insert({Event("e1", "c1", "j1", At(100))}));
  struct Corrupt {
    const char* what;
    std::string bytes;
  };
  const std::vector<Corrupt> corrupt = {
      {"a skipped field runs past the end", std::string("\x0a\x05\x61", 3)},
      {"a skipped message runs past the end", std::string("\x5a\x05\x61", 3)},
      {"stage_trigger runs past the end", std::string("\x32\x05\x61", 3)},
      {"a field runs past its stage_trigger",
       std::string("\x32\x02\x0a\x05", 4)},
      {"an entry runs past the end", std::string("\x52\x03\x0a\x01", 4)},
      {"a key runs past its entry", std::string("\x52\x03\x0a\x05\x61", 5)},
      {"a value runs past its entry", std::string("\x52\x02\x12\x05", 4)},
      {"a key is not UTF-8", std::string("\x52\x04\x0a\x02\xff\xfe", 6)},
      {"tag 0", std::string("\x00", 1)},
      {"tag 0 in an entry", std::string("\x52\x01\x00", 3)},
      {"a tag cut short", std::string("\x80", 1)},
      {"an end-group tag with no group", std::string("\x0c", 1)},
      {"a group never closed", std::string("\x0b", 1)},
      {"wire type 6", std::string("\x0e", 1)},
      {"a varint of 11 bytes",
       std::string(1, '\x08') + std::string(10, '\xff')},
  };
  for (const auto& [what, bytes] : corrupt) {
    SCOPED_TRACE(what);
    // Corrupt to the generated parser too.
    ASSERT_FALSE(ats::v1::PartnerEvent().ParseFromString(bytes));
    StorePayload("e1", bytes);
    for (PayloadParts parts : {PayloadParts::kAll, PayloadParts::kShown}) {
      absl::StatusOr<EventRow> got = Get(kAccountA, "e1", parts);
      EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
      EXPECT_EQ(got.status().message(),
                "stored payload of event e1 is corrupt");
    }
    absl::StatusOr<std::vector<EventRow>> listed = FirstPage();
    EXPECT_EQ(listed.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(listed.status().message(),
              "stored payload of event e1 is corrupt");
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, EventRepositoryTest,
                         ::ats::testing::AllBackends(),
                         ::ats::testing::BackendName);

}  // namespace
}  // namespace ats::storage
