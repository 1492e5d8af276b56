// Tests of the bulk operation repository on a real SQLite store, through
// storage::Store: operations, the selections they resolve, and their items.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "storage/store.h"
#include "tests/support/backends.h"
#include "tests/support/temp_dir.h"

namespace ats::storage {
namespace {

using ::ats::testing::TempDir;

#define ASSERT_OK(expr)                   \
  do {                                    \
    const absl::Status status_ = (expr);  \
    ASSERT_TRUE(status_.ok()) << status_; \
  } while (false)

#define EXPECT_OK(expr)                   \
  do {                                    \
    const absl::Status status_ = (expr);  \
    EXPECT_TRUE(status_.ok()) << status_; \
  } while (false)

constexpr char kAccountA[] = "acct-a";
constexpr char kAccountB[] = "acct-b";

absl::Time At(int64_t seconds) { return absl::FromUnixSeconds(seconds); }

BulkOperationRow Operation(const std::string& id, absl::Time created,
                           const std::string& account = kAccountA) {
  BulkOperationRow row;
  row.account_id = account;
  row.id = id;
  row.integration_id = account == kAccountA ? "int-a" : "int-b";
  row.spec.set_integration("integrations/" + row.integration_id);
  row.spec.mutable_selection()->set_tag("finalist");
  (*row.spec.mutable_option_values())["test_package"] = "basic";
  row.created_by = "key1";
  row.create_time = created;
  row.update_time = created;
  return row;
}

class BulkOperationRepositoryTest
    : public ::testing::TestWithParam<::ats::testing::Backend> {
 protected:
  void SetUp() override {
    auto database =
        ::ats::testing::TestDatabase::Create(GetParam(), dir_.path());
    ASSERT_TRUE(database.ok()) << database.status();
    absl::StatusOr<std::unique_ptr<Store>> store = database->Open();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    // Two accounts with an integration each; in account A a job with two
    // stages and candidates c1..c5 (c1-c3 in the job, c2 in stage s2;
    // c2 and c4 tagged "finalist"); in account B candidate b1, also tagged.
    ASSERT_OK(Write([](Transaction& t) -> absl::Status {
      for (const char* account : {kAccountA, kAccountB}) {
        absl::Status status =
            t.accounts().InsertAccount({account, account, At(1), "", {}, ""});
        if (!status.ok()) return status;
      }
      PartnerRow partner;
      partner.id = "p1";
      partner.listing.set_display_name("Assessly");
      partner.create_time = partner.update_time = At(1);
      absl::Status status = t.integrations().InsertPartner(partner);
      if (!status.ok()) return status;
      for (const auto& [account, id] :
           {std::pair(kAccountA, "int-a"), std::pair(kAccountB, "int-b")}) {
        IntegrationRow integration;
        integration.account_id = account;
        integration.id = id;
        integration.partner_id = "p1";
        integration.display_name = "Assessly";
        integration.create_time = integration.update_time = At(1);
        status = t.integrations().InsertIntegration(integration);
        if (!status.ok()) return status;
      }
      JobRow job;
      job.account_id = kAccountA;
      job.id = "job1";
      job.title = "Engineer";
      job.create_time = job.update_time = At(1);
      status = t.jobs().InsertJob(job);
      if (!status.ok()) return status;
      for (int i = 1; i <= 2; ++i) {
        StageRow stage;
        stage.account_id = kAccountA;
        stage.id = "s" + std::to_string(i);
        stage.job_id = "job1";
        stage.display_name = stage.id;
        stage.position = i - 1;
        stage.create_time = At(1);
        status = t.jobs().InsertStage(stage);
        if (!status.ok()) return status;
      }
      for (const auto& [account, id] :
           std::vector<std::pair<std::string, std::string>>{
               {kAccountA, "c1"}, {kAccountA, "c2"}, {kAccountA, "c3"},
               {kAccountA, "c4"}, {kAccountA, "c5"}, {kAccountB, "b1"}}) {
        CandidateRow candidate;
        candidate.account_id = account;
        candidate.id = id;
        candidate.given_name = "Given " + id;
        candidate.email = id + "@example.com";
        if (id == "c2" || id == "c4" || id == "b1") {
          candidate.tags = {"finalist", "remote"};
        }
        candidate.create_time = candidate.update_time = At(2);
        status = t.candidates().InsertCandidate(candidate);
        if (!status.ok()) return status;
      }
      for (const char* id : {"c1", "c2", "c3"}) {
        ApplicationRow app;
        app.account_id = kAccountA;
        app.job_id = "job1";
        app.candidate_id = id;
        app.stage_id = std::string(id) == "c2" ? "s2" : "s1";
        app.stage_enter_time = app.create_time = At(3);
        status = t.applications().InsertApplication(app);
        if (!status.ok()) return status;
      }
      return absl::OkStatus();
    }));
  }

  absl::Status Write(Store::WorkFn work) {
    return store_->WriteAndWait(std::move(work));
  }

  // The candidate ids `selector` selects in account A, `limit` at a time.
  std::vector<std::string> Selected(const CandidateSelector& selector,
                                    int limit = 2,
                                    const std::string& account = kAccountA) {
    std::vector<std::string> all;
    std::string after;
    for (int pages = 0; pages < 10; ++pages) {
      std::vector<std::string> page;
      EXPECT_TRUE(store_
                      ->Read([&](Transaction& t) {
                        auto ids = t.bulk_operations().ListSelectedCandidates(
                            account, selector, after, limit);
                        if (!ids.ok()) return ids.status();
                        page = *std::move(ids);
                        return absl::OkStatus();
                      })
                      .ok());
      all.insert(all.end(), page.begin(), page.end());
      if (static_cast<int>(page.size()) < limit) break;
      after = page.back();
    }
    return all;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(BulkOperationRepositoryTest, StoresAndUpdatesOperations) {
  ASSERT_OK(Write([](Transaction& t) {
    return t.bulk_operations().InsertOperation(Operation("op1", At(10)));
  }));
  EXPECT_TRUE(absl::IsAlreadyExists(Write([](Transaction& t) {
    return t.bulk_operations().InsertOperation(Operation("op1", At(10)));
  })));

  BulkOperationRow changed = Operation("op1", At(10));
  changed.state = ats::v1::BULK_OPERATION_STATE_SUCCEEDED;
  changed.total_count = 5;
  changed.created_count = 4;
  changed.skipped_count = 1;
  changed.resolved = true;
  changed.resolve_cursor = "c5";
  changed.process_cursor = "c4";
  changed.update_time = At(11);
  changed.end_time = At(12);
  changed.spec.mutable_selection()->set_tag("ignored by updates");
  ASSERT_OK(Write(
      [&](Transaction& t) { return t.bulk_operations().UpdateOperation(changed); }));

  ASSERT_OK(store_->Read([&](Transaction& t) -> absl::Status {
    auto row = t.bulk_operations().GetOperation(kAccountA, "op1");
    if (!row.ok()) return row.status();
    EXPECT_EQ(row->state, ats::v1::BULK_OPERATION_STATE_SUCCEEDED);
    EXPECT_EQ(row->total_count, 5);
    EXPECT_EQ(row->created_count, 4);
    EXPECT_EQ(row->skipped_count, 1);
    EXPECT_TRUE(row->resolved);
    EXPECT_EQ(row->resolve_cursor, "c5");
    EXPECT_EQ(row->process_cursor, "c4");
    EXPECT_EQ(row->end_time, At(12));
    EXPECT_EQ(row->spec.selection().tag(), "finalist");
    EXPECT_EQ(row->spec.option_values().at("test_package"), "basic");
    // Another account's operation does not exist for account B.
    EXPECT_TRUE(absl::IsNotFound(
        t.bulk_operations().GetOperation(kAccountB, "op1").status()));
    return absl::OkStatus();
  }));
  BulkOperationRow absent = Operation("nope", At(1));
  EXPECT_TRUE(absl::IsNotFound(Write(
      [&](Transaction& t) { return t.bulk_operations().UpdateOperation(absent); })));
}

TEST_P(BulkOperationRepositoryTest, ListsNewestFirstAndRunningOnesForResuming) {
  ASSERT_OK(Write([](Transaction& t) -> absl::Status {
    for (const auto& row :
         {Operation("op1", At(10)), Operation("op2", At(20)),
          Operation("op3", At(30)), Operation("op4", At(40), kAccountB)}) {
      absl::Status status = t.bulk_operations().InsertOperation(row);
      if (!status.ok()) return status;
    }
    BulkOperationRow ended = Operation("op2", At(20));
    ended.state = ats::v1::BULK_OPERATION_STATE_CANCELED;
    return t.bulk_operations().UpdateOperation(ended);
  }));
  ASSERT_OK(store_->Read([&](Transaction& t) -> absl::Status {
    std::vector<std::string> ids;
    PageRequest request{{}, 2};
    for (int pages = 0; pages < 5; ++pages) {
      auto page = t.bulk_operations().ListOperations(kAccountA, request);
      if (!page.ok()) return page.status();
      for (const auto& row : page->rows) ids.push_back(row.id);
      if (page->next.empty()) break;
      request.after = page->next;
    }
    EXPECT_EQ(ids, (std::vector<std::string>{"op3", "op2", "op1"}));

    auto running = t.bulk_operations().ListRunningOperations();
    if (!running.ok()) return running.status();
    ids.clear();
    for (const auto& row : *running) ids.push_back(row.id);
    EXPECT_EQ(ids, (std::vector<std::string>{"op1", "op3", "op4"}));
    auto counted = t.bulk_operations().CountRunningOperations();
    if (!counted.ok()) return counted.status();
    EXPECT_EQ(*counted, 3);
    return absl::OkStatus();
  }));
}

TEST_P(BulkOperationRepositoryTest, ResolvesEachKindOfSelectionInIdOrder) {
  EXPECT_EQ(Selected({"job1", "", ""}),
            (std::vector<std::string>{"c1", "c2", "c3"}));
  EXPECT_EQ(Selected({"job1", "s2", ""}), (std::vector<std::string>{"c2"}));
  EXPECT_EQ(Selected({"", "", "finalist"}),
            (std::vector<std::string>{"c2", "c4"}));
  EXPECT_EQ(Selected({}), (std::vector<std::string>{"c1", "c2", "c3", "c4",
                                                    "c5"}));
  EXPECT_EQ(Selected({}, 2, kAccountB), (std::vector<std::string>{"b1"}));
  EXPECT_EQ(Selected({"job1", "", ""}, 2, kAccountB),
            std::vector<std::string>{});
  EXPECT_EQ(Selected({"", "", "nobody"}), std::vector<std::string>{});
}

TEST_P(BulkOperationRepositoryTest, ItemsAreUniquePerCandidateAndCarryTheirCandidate) {
  ASSERT_OK(Write([](Transaction& t) -> absl::Status {
    absl::Status status =
        t.bulk_operations().InsertOperation(Operation("op1", At(10)));
    if (!status.ok()) return status;
    auto added = t.bulk_operations().AddPendingItems(
        kAccountA, "op1", {"c2", "c1", "b1", "gone"});
    if (!added.ok()) return added.status();
    EXPECT_EQ(*added, 4);
    added = t.bulk_operations().AddPendingItems(kAccountA, "op1",
                                                {"c1", "c4"});
    if (!added.ok()) return added.status();
    EXPECT_EQ(*added, 1);  // c1 has its item already.
    return absl::OkStatus();
  }));

  ASSERT_OK(store_->Read([&](Transaction& t) -> absl::Status {
    auto pending = t.bulk_operations().ListPendingItems(kAccountA, "op1", "",
                                                        10, /*with_tags=*/true);
    if (!pending.ok()) return pending.status();
    std::vector<std::string> ids;
    for (const PendingBulkItem& item : *pending) {
      ids.push_back(item.candidate_id);
      // Another account's candidate is as absent as a deleted one.
      EXPECT_EQ(item.candidate.has_value(),
                item.candidate_id != "b1" && item.candidate_id != "gone")
          << item.candidate_id;
    }
    EXPECT_EQ(ids, (std::vector<std::string>{"b1", "c1", "c2", "c4", "gone"}));
    const CandidateRow& c2 = *(*pending)[2].candidate;
    EXPECT_EQ(c2.given_name, "Given c2");
    EXPECT_EQ(c2.email, "c2@example.com");
    EXPECT_EQ(c2.tags, (std::vector<std::string>{"finalist", "remote"}));

    auto after = t.bulk_operations().ListPendingItems(kAccountA, "op1", "c2",
                                                      1, /*with_tags=*/false);
    if (!after.ok()) return after.status();
    EXPECT_EQ(after->size(), 1u);
    EXPECT_EQ((*after)[0].candidate_id, "c4");
    EXPECT_TRUE((*after)[0].candidate->tags.empty());
    return absl::OkStatus();
  }));

  // Outcomes: handled items leave the pending list and filter by outcome.
  ASSERT_OK(Write([](Transaction& t) -> absl::Status {
    return t.bulk_operations().UpdateItems(
        kAccountA, "op1",
        {{"", "", "c1", "c1", ats::v1::BULK_ITEM_OUTCOME_CREATED, "ev1", ""},
         {"", "", "gone", "gone", ats::v1::BULK_ITEM_OUTCOME_SKIPPED, "",
          "candidate candidates/gone not found"}});
  }));
  EXPECT_TRUE(absl::IsNotFound(Write([](Transaction& t) {
    return t.bulk_operations().UpdateItems(
        kAccountA, "op1",
        {{"", "", "c5", "c5", ats::v1::BULK_ITEM_OUTCOME_CREATED, "", ""}});
  })));
  ASSERT_OK(store_->Read([&](Transaction& t) -> absl::Status {
    auto list = [&](ats::v1::BulkItemOutcome outcome) {
      std::vector<std::string> ids;
      PageRequest request{{}, 2};
      for (int pages = 0; pages < 10; ++pages) {
        auto page =
            t.bulk_operations().ListItems(kAccountA, "op1", outcome, request);
        EXPECT_TRUE(page.ok()) << page.status();
        if (!page.ok()) break;
        for (const BulkItemRow& item : page->rows) ids.push_back(item.candidate_id);
        if (page->next.empty()) break;
        request.after = page->next;
      }
      return ids;
    };
    EXPECT_EQ(list(ats::v1::BULK_ITEM_OUTCOME_UNSPECIFIED),
              (std::vector<std::string>{"b1", "c1", "c2", "c4", "gone"}));
    EXPECT_EQ(list(ats::v1::BULK_ITEM_OUTCOME_CREATED),
              (std::vector<std::string>{"c1"}));
    EXPECT_EQ(list(ats::v1::BULK_ITEM_OUTCOME_SKIPPED),
              (std::vector<std::string>{"gone"}));
    EXPECT_EQ(list(ats::v1::BULK_ITEM_OUTCOME_PENDING),
              (std::vector<std::string>{"b1", "c2", "c4"}));
    auto pending =
        t.bulk_operations().ListPendingItems(kAccountA, "op1", "", 10, false);
    if (!pending.ok()) return pending.status();
    EXPECT_EQ(pending->size(), 3u);
    // Account B sees none of account A's items.
    auto theirs = t.bulk_operations().ListItems(
        kAccountB, "op1", ats::v1::BULK_ITEM_OUTCOME_UNSPECIFIED, {{}, 10});
    if (!theirs.ok()) return theirs.status();
    EXPECT_TRUE(theirs->rows.empty());
    return absl::OkStatus();
  }));
}

TEST_P(BulkOperationRepositoryTest, UpdatesManyItemsAtOnceOrNoneOfThem) {
  // More items than one statement takes, and a remainder.
  std::vector<std::string> ids;
  for (int i = 0; i < 150; ++i) ids.push_back("m" + std::to_string(1000 + i));
  std::vector<BulkItemRow> outcomes;
  for (const std::string& id : ids) {
    outcomes.push_back(
        {"", "", id, id, ats::v1::BULK_ITEM_OUTCOME_CREATED, "ev-" + id, ""});
  }
  outcomes[70].outcome = ats::v1::BULK_ITEM_OUTCOME_FAILED;
  outcomes[70].event_id.clear();
  outcomes[70].reason = "refused";
  ASSERT_OK(Write([&](Transaction& t) -> absl::Status {
    absl::Status status =
        t.bulk_operations().InsertOperation(Operation("op1", At(10)));
    if (!status.ok()) return status;
    auto added = t.bulk_operations().AddPendingItems(kAccountA, "op1", ids);
    if (!added.ok()) return added.status();
    EXPECT_EQ(*added, 150);
    // Added again: the operation has them all, none counts.
    added = t.bulk_operations().AddPendingItems(kAccountA, "op1", ids);
    if (!added.ok()) return added.status();
    EXPECT_EQ(*added, 0);
    return absl::OkStatus();
  }));

  // One item the operation lacks fails the whole write.
  std::vector<BulkItemRow> with_stranger = outcomes;
  with_stranger[5].key = "stranger";
  EXPECT_TRUE(absl::IsNotFound(Write([&](Transaction& t) {
    return t.bulk_operations().UpdateItems(kAccountA, "op1", with_stranger);
  })));
  // Another account's operation has none of them.
  EXPECT_TRUE(absl::IsNotFound(Write([&](Transaction& t) {
    return t.bulk_operations().UpdateItems(kAccountB, "op1", outcomes);
  })));
  ASSERT_OK(store_->Read([&](Transaction& t) -> absl::Status {
    auto pending = t.bulk_operations().ListPendingItems(kAccountA, "op1", "",
                                                        1000, false);
    if (!pending.ok()) return pending.status();
    EXPECT_EQ(pending->size(), ids.size());
    return absl::OkStatus();
  }));

  ASSERT_OK(Write([&](Transaction& t) {
    return t.bulk_operations().UpdateItems(kAccountA, "op1", outcomes);
  }));
  ASSERT_OK(store_->Read([&](Transaction& t) -> absl::Status {
    auto items = t.bulk_operations().ListItems(
        kAccountA, "op1", ats::v1::BULK_ITEM_OUTCOME_UNSPECIFIED, {{}, 1000});
    if (!items.ok()) return items.status();
    EXPECT_EQ(items->rows.size(), outcomes.size());
    for (size_t i = 0; i < items->rows.size() && i < outcomes.size(); ++i) {
      const BulkItemRow& item = items->rows[i];
      EXPECT_EQ(item.candidate_id, outcomes[i].candidate_id);
      EXPECT_EQ(item.outcome, outcomes[i].outcome) << item.candidate_id;
      EXPECT_EQ(item.event_id, outcomes[i].event_id);
      EXPECT_EQ(item.reason, outcomes[i].reason);
    }
    return absl::OkStatus();
  }));
}

TEST_P(BulkOperationRepositoryTest,
       ItemsPassedByTheCursorWithoutAnOutcomeWereHandled) {
  ASSERT_OK(Write([&](Transaction& t) -> absl::Status {
    // A trigger that passed c1 (its event created) and c2 (skipped), not c3.
    BulkOperationRow trigger = Operation("op1", At(10));
    absl::Status status = t.bulk_operations().InsertOperation(trigger);
    if (status.ok()) {
      status = t.bulk_operations()
                   .AddPendingItems(kAccountA, "op1", {"c1", "c2", "c3"})
                   .status();
    }
    // c1's event of this operation, and one of another operation.
    for (const auto& [id, operation] :
         {std::pair("ev-other", "op0"), std::pair("ev-c1", "op1")}) {
      EventRow event;
      event.account_id = kAccountA;
      event.id = id;
      event.state = ats::v1::EVENT_STATE_PENDING;
      event.integration_id = "int-a";
      event.candidate_id = "c1";
      event.source = ats::v1::EVENT_SOURCE_BULK;
      event.bulk_operation_id = operation;
      event.create_time = event.due_time = event.update_time = At(11);
      if (status.ok()) status = t.events().InsertEvent(event);
    }
    if (status.ok()) {
      status = t.bulk_operations().UpdateItems(
          kAccountA, "op1",
          {{"", "", "c2", "c2", ats::v1::BULK_ITEM_OUTCOME_SKIPPED, "",
            "candidate candidates/c2 not found"}});
    }
    trigger.process_cursor = "c2";
    if (status.ok()) status = t.bulk_operations().UpdateOperation(trigger);
    // A recover that passed the item of d1, not that of d2.
    BulkOperationRow recover = Operation("op2", At(10));
    recover.kind = ats::v1::BULK_OPERATION_KIND_RECOVER;
    if (status.ok()) status = t.bulk_operations().InsertOperation(recover);
    if (status.ok()) {
      status = t.bulk_operations()
                   .AddItems(kAccountA, "op2",
                             {{"", "", "k1", "cand-d1",
                               ats::v1::BULK_ITEM_OUTCOME_PENDING, "d1", ""},
                              {"", "", "k2", "cand-d2",
                               ats::v1::BULK_ITEM_OUTCOME_PENDING, "d2", ""}})
                   .status();
    }
    recover.process_cursor = "k1";
    if (status.ok()) status = t.bulk_operations().UpdateOperation(recover);
    return status;
  }));

  const auto list = [&](const std::string& operation,
                        ats::v1::BulkItemOutcome outcome) {
    std::vector<std::string> items;
    EXPECT_OK(store_->Read([&](Transaction& t) {
      auto page = t.bulk_operations().ListItems(kAccountA, operation, outcome,
                                                {{}, 10});
      if (!page.ok()) return page.status();
      for (const BulkItemRow& item : page->rows) {
        items.push_back(
            absl::StrCat(item.key, " ", item.outcome, " ", item.event_id));
      }
      return absl::OkStatus();
    }));
    return items;
  };
  EXPECT_EQ(list("op1", ats::v1::BULK_ITEM_OUTCOME_UNSPECIFIED),
            (std::vector<std::string>{"c1 1 ev-c1", "c2 2 ", "c3 4 "}));
  EXPECT_EQ(list("op1", ats::v1::BULK_ITEM_OUTCOME_CREATED),
            (std::vector<std::string>{"c1 1 ev-c1"}));
  EXPECT_EQ(list("op1", ats::v1::BULK_ITEM_OUTCOME_PENDING),
            (std::vector<std::string>{"c3 4 "}));
  EXPECT_EQ(list("op2", ats::v1::BULK_ITEM_OUTCOME_UNSPECIFIED),
            (std::vector<std::string>{"k1 5 d1", "k2 4 d2"}));
  EXPECT_EQ(list("op2", ats::v1::BULK_ITEM_OUTCOME_REQUEUED),
            (std::vector<std::string>{"k1 5 d1"}));
}

TEST_P(BulkOperationRepositoryTest, ListsTheDeadEventsOfAWindowByDeathTime) {
  // Inserted in this order; each DEAD since its time unless said otherwise.
  struct Dead {
    const char* id;
    const char* account;
    int64_t died;
    ats::v1::EventState state;
  };
  const std::vector<Dead> events = {
      {"d2", kAccountA, 150, ats::v1::EVENT_STATE_DEAD},
      {"d1", kAccountA, 100, ats::v1::EVENT_STATE_DEAD},  // At since.
      {"d3", kAccountA, 120, ats::v1::EVENT_STATE_DEAD},
      {"d4", kAccountA, 120, ats::v1::EVENT_STATE_DEAD},  // Same time as d3.
      {"d5", kAccountA, 200, ats::v1::EVENT_STATE_DEAD},  // At until.
      {"d0", kAccountA, 99, ats::v1::EVENT_STATE_DEAD},
      {"p1", kAccountA, 130, ats::v1::EVENT_STATE_PENDING},
      {"b1", kAccountB, 130, ats::v1::EVENT_STATE_DEAD},
  };
  ASSERT_OK(Write([&](Transaction& t) -> absl::Status {
    for (const Dead& dead : events) {
      EventRow event;
      event.account_id = dead.account;
      event.id = dead.id;
      event.state = dead.state;
      event.integration_id = dead.account == kAccountA ? "int-a" : "int-b";
      event.candidate_id = std::string("cand-") + dead.id;
      event.source = ats::v1::EVENT_SOURCE_MANUAL;
      event.triggered_by = "key1";
      event.payload.set_event_id(std::string("events/") + dead.id);
      event.create_time = event.due_time = At(1);
      event.update_time = At(dead.died);
      absl::Status status = t.events().InsertEvent(event);
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }));
  auto list = [&](const std::string& account, const std::string& integration) {
    std::vector<std::string> ids;
    std::string after;
    for (int pages = 0; pages < 10; ++pages) {
      std::vector<BulkItemRow> page;
      EXPECT_OK(store_->Read([&](Transaction& t) {
        auto items = t.bulk_operations().ListDeadEventItems(
            account, {integration, At(100), At(200)}, after, 2);
        if (!items.ok()) return items.status();
        page = *std::move(items);
        return absl::OkStatus();
      }));
      for (const BulkItemRow& item : page) {
        EXPECT_EQ(item.candidate_id, "cand-" + item.event_id);
        ids.push_back(item.event_id);
      }
      if (page.size() < 2) break;
      after = page.back().key;
    }
    return ids;
  };
  EXPECT_EQ(list(kAccountA, "int-a"),
            (std::vector<std::string>{"d1", "d3", "d4", "d2"}));
  EXPECT_TRUE(list(kAccountA, "int-b").empty());
  EXPECT_TRUE(list(kAccountB, "int-a").empty());
  EXPECT_EQ(list(kAccountB, "int-b"), (std::vector<std::string>{"b1"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, BulkOperationRepositoryTest,
                         ::ats::testing::AllBackends(),
                         ::ats::testing::BackendName);

}  // namespace
}  // namespace ats::storage
