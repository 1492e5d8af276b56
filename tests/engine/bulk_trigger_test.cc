// IntegrationService bulk manual triggers: BulkTriggerIntegration streaming
// an operation run by the server's bulk worker (in batches of
// TestServer::kBulkBatchSize), and the RPCs that poll, list and cancel it.

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "storage/sqlite/connection.h"
#include "tests/engine/bulk_fixture.h"

namespace ats::testing {
namespace {

using google::protobuf::util::MessageDifferencer;

class BulkTriggerTest : public BulkFixture {
 protected:
  ats::v1::BulkTriggerIntegrationRequest Request(
      const ats::v1::CandidateSelection& selection) {
    ats::v1::BulkTriggerIntegrationRequest request;
    request.set_integration(integration_.name());
    *request.mutable_selection() = selection;
    (*request.mutable_option_values())["test_package"] = "basic";
    return request;
  }

  ats::v1::BulkTriggerIntegrationRequest ListRequest(
      const std::vector<std::string>& candidates) {
    ats::v1::CandidateSelection selection;
    for (const std::string& name : candidates) {
      selection.mutable_candidates()->add_candidates(name);
    }
    if (candidates.empty()) selection.mutable_candidates();
    return Request(selection);
  }

  static ats::v1::CandidateSelection Tag(const std::string& tag) {
    ats::v1::CandidateSelection selection;
    selection.set_tag(tag);
    return selection;
  }

  // The events of `operation`.
  std::vector<ats::v1::Event> EventsOf(const std::string& operation) {
    ats::v1::ListEventsRequest request;
    request.set_integration(integration_.name());
    std::vector<ats::v1::Event> events;
    for (const ats::v1::Event& event : AllEvents(request, 1000)) {
      if (event.bulk_operation() == operation) events.push_back(event);
    }
    return events;
  }

  // Stores `count` candidates of account A carrying `tags` straight into
  // the database (far quicker than one RPC each); returns their names.
  std::vector<std::string> InsertCandidates(
      int count, const std::vector<std::string>& tags = {}) {
    std::vector<std::string> names;
    const std::string account_id = IdOf(server_.account());
    const int first = inserted_;
    inserted_ += count;
    absl::Status status =
        server_.store().WriteAndWait([&](storage::Transaction& txn) {
          names.clear();  // A run again starts afresh.
          for (int i = first; i < first + count; ++i) {
            storage::CandidateRow row;
            row.account_id = account_id;
            row.id = absl::StrFormat("bulk-%06d", i);
            row.given_name = absl::StrCat("Candidate ", i);
            row.tags = tags;
            row.create_time = server_.clock().Now();
            row.update_time = row.create_time;
            absl::Status inserted = txn.candidates().InsertCandidate(row);
            if (!inserted.ok()) return inserted;
            names.push_back(absl::StrCat("candidates/", row.id));
          }
          return absl::OkStatus();
        });
    EXPECT_TRUE(status.ok()) << status;
    return names;
  }

  // Makes the server's database refuse every new event about the candidates
  // `names`, with `message`, so the event insert itself fails inside the
  // server's write.
  void RefuseEventsAbout(const std::vector<std::string>& names,
                         const std::string& message) {
    OnEventsAbout(names, absl::StrCat("SELECT RAISE(ABORT, '", message, "');"),
                  absl::StrCat("RAISE EXCEPTION '", message, "';"));
  }

  // Makes the server's database run `sqlite_action` (SQLite statements) or
  // `postgres_action` (PL/pgSQL) before each insert of an event about one
  // of the candidates `names`: a trigger in the test's own database, so the
  // action runs inside the server's write.
  void OnEventsAbout(const std::vector<std::string>& names,
                     const std::string& sqlite_action,
                     const std::string& postgres_action) {
    std::vector<std::string> quoted;
    for (const std::string& name : names) {
      quoted.push_back(absl::StrCat("'", IdOf(name), "'"));
    }
    const std::string listed = absl::StrJoin(quoted, ", ");
    std::vector<std::string> statements;
    if (server_.backend() == Backend::kSqlite) {
      statements.push_back(
          absl::StrCat("CREATE TRIGGER on_events BEFORE INSERT ON events "
                       "WHEN NEW.candidate_id IN (",
                       listed, ") BEGIN ", sqlite_action, " END"));
    } else {
      statements.push_back(absl::StrCat(
          "CREATE FUNCTION on_events() RETURNS trigger LANGUAGE plpgsql "
          "AS $$ BEGIN IF NEW.candidate_id IN (",
          listed, ") THEN ", postgres_action, " END IF; RETURN NEW; END $$"));
      statements.push_back(
          "CREATE TRIGGER on_events BEFORE INSERT ON events "
          "FOR EACH ROW EXECUTE FUNCTION on_events()");
    }
    ASSERT_TRUE(server_.database()
                    .WithSession([&](storage::sql::Session& db) {
                      absl::Status status;
                      for (const std::string& sql : statements) {
                        if (status.ok()) status = db.Prepare(sql.c_str()).Run();
                      }
                      return status;
                    })
                    .ok());
  }

  static void ExpectCountsAddUp(const BulkOperation& operation) {
    EXPECT_EQ(operation.created_count() + operation.skipped_count() +
                  operation.failed_count(),
              operation.total_count());
  }

  int inserted_ = 0;
};

TEST_F(BulkTriggerTest, AnExplicitListCountsDuplicatesOnceAndSkipsStrangers) {
  const std::vector<std::string> ours = InsertCandidates(20);
  const ats::v1::Candidate theirs =
      CreateCandidate("Grace", server_.other_admin_key());
  std::vector<std::string> listed = ours;
  listed.push_back(ours[0]);  // Twice.
  listed.push_back("candidates/nobody");
  listed.push_back(theirs.name());

  const BulkOperation done = MustRun(ListRequest(listed));
  EXPECT_EQ(done.state(), ats::v1::BULK_OPERATION_STATE_SUCCEEDED);
  EXPECT_EQ(done.total_count(), 22);
  EXPECT_EQ(done.created_count(), 20);
  EXPECT_EQ(done.skipped_count(), 2);
  EXPECT_EQ(done.failed_count(), 0);
  ExpectCountsAddUp(done);
  EXPECT_TRUE(done.has_end_time());
  EXPECT_EQ(done.integration(), integration_.name());
  EXPECT_TRUE(done.selection().has_candidates());
  EXPECT_TRUE(absl::StartsWith(done.created_by(), "apiKeys/"));
  EXPECT_EQ(done.option_values().at("test_package"), "basic");

  // Streaming and polling agree.
  EXPECT_TRUE(MessageDifferencer::Equals(MustGet(done.name()), done));

  // One event per candidate of ours, marked as this operation's.
  const std::vector<ats::v1::Event> events = EventsOf(done.name());
  ASSERT_EQ(events.size(), 20u);
  std::set<std::string> candidates;
  std::map<std::string, std::string> event_of_candidate;
  for (const ats::v1::Event& event : events) {
    event_of_candidate[event.candidate()] = event.name();
    EXPECT_EQ(event.source(), ats::v1::EVENT_SOURCE_BULK);
    EXPECT_EQ(event.state(), ats::v1::EVENT_STATE_PENDING);
    EXPECT_EQ(event.triggered_by(), done.created_by());
    EXPECT_EQ(event.option_values().at("test_package"), "basic");
    candidates.insert(event.candidate());
  }
  EXPECT_EQ(candidates, std::set<std::string>(ours.begin(), ours.end()));
  EXPECT_EQ(PayloadOf(events[0].name()).source(), ats::v1::EVENT_SOURCE_BULK);

  // The strangers are skipped, each with its reason.
  const std::vector<BulkOperationItem> skipped =
      Items(done.name(), ats::v1::BULK_ITEM_OUTCOME_SKIPPED);
  ASSERT_EQ(skipped.size(), 2u);
  for (const BulkOperationItem& item : skipped) {
    EXPECT_TRUE(absl::StrContains(item.reason(), "not found")) << item.reason();
    EXPECT_EQ(item.event(), "");
  }
  const std::vector<BulkOperationItem> created =
      Items(done.name(), ats::v1::BULK_ITEM_OUTCOME_CREATED);
  ASSERT_EQ(created.size(), 20u);
  for (const BulkOperationItem& item : created) {
    // The candidate's own event.
    EXPECT_TRUE(absl::StartsWith(item.event(), "events/"));
    EXPECT_EQ(item.event(), event_of_candidate[item.candidate()]);
  }
}

TEST_F(BulkTriggerTest, ACandidateWhoseEventCannotBeWrittenFailsAlone) {
  const std::vector<std::string> ours = InsertCandidates(20);
  // Two candidates in different batches of 7; the first batch is clean.
  const std::vector<std::string> refused = {ours[9], ours[15]};
  RefuseEventsAbout(refused, "refused by the test");

  const BulkOperation done = MustRun(ListRequest(ours));
  EXPECT_EQ(done.state(), ats::v1::BULK_OPERATION_STATE_SUCCEEDED)
      << done.state_reason();
  EXPECT_EQ(done.total_count(), 20);
  EXPECT_EQ(done.created_count(), 18);
  EXPECT_EQ(done.skipped_count(), 0);
  EXPECT_EQ(done.failed_count(), 2);
  ExpectCountsAddUp(done);
  EXPECT_TRUE(MessageDifferencer::Equals(MustGet(done.name()), done));

  // Each refused candidate fails with a reason and no event; everyone else,
  // batch mates included, has exactly one event. The database's own words
  // (SQL, engine codes) are for the server's log, not for the item.
  std::vector<std::string> failed;
  for (const BulkOperationItem& item :
       Items(done.name(), ats::v1::BULK_ITEM_OUTCOME_FAILED)) {
    failed.push_back(item.candidate());
    EXPECT_TRUE(absl::StrContains(item.reason(), "could not be written"))
        << item.reason();
    for (const char* detail : {"refused by the test", "INSERT", "sqlite"}) {
      EXPECT_FALSE(absl::StrContains(item.reason(), detail)) << item.reason();
    }
    EXPECT_EQ(item.event(), "");
  }
  EXPECT_EQ(failed, refused);
  std::vector<std::string> reached;
  for (const ats::v1::Event& event : EventsOf(done.name())) {
    reached.push_back(event.candidate());
  }
  std::sort(reached.begin(), reached.end());
  std::vector<std::string> expected;
  std::set_difference(ours.begin(), ours.end(), refused.begin(), refused.end(),
                      std::back_inserter(expected));
  EXPECT_EQ(reached, expected);
  EXPECT_EQ(Items(done.name(), ats::v1::BULK_ITEM_OUTCOME_CREATED).size(),
            18u);
}

TEST_F(BulkTriggerTest,
       CandidatesChangedWhileTheirBatchWasReadAheadAreReadAgain) {
  const std::vector<std::string> ours = InsertCandidates(20);
  // Batches of 7: while the second batch's write runs, the worker reads the
  // third batch's candidates ahead. That write, slowed down so the read
  // surely starts before it commits, renames one of them and deletes
  // another.
  const std::string renamed = IdOf(ours[15]);
  const std::string deleted = IdOf(ours[16]);
  const std::string change = absl::StrCat(
      "UPDATE candidates SET given_name = 'Renamed' WHERE id = '", renamed,
      "'; DELETE FROM candidates WHERE id = '", deleted, "';");
  OnEventsAbout(
      {ours[7]},
      absl::StrCat(change, " SELECT length(hex(randomblob(20000000)));"),
      absl::StrCat(change, " PERFORM pg_sleep(0.2);"));

  const BulkOperation done = MustRun(ListRequest(ours));
  EXPECT_EQ(done.state(), ats::v1::BULK_OPERATION_STATE_SUCCEEDED)
      << done.state_reason();
  EXPECT_EQ(done.created_count(), 19);
  EXPECT_EQ(done.skipped_count(), 1);
  ExpectCountsAddUp(done);
  // The third batch's events are as its candidates were when it was
  // written, not when it was read ahead.
  const std::vector<BulkOperationItem> skipped =
      Items(done.name(), ats::v1::BULK_ITEM_OUTCOME_SKIPPED);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].candidate(), ours[16]);
  int seen = 0;
  for (const ats::v1::Event& event : EventsOf(done.name())) {
    EXPECT_NE(event.candidate(), ours[16]);
    const std::string given_name =
        PayloadOf(event.name()).candidate().given_name();
    if (event.candidate() == ours[15]) {
      EXPECT_EQ(given_name, "Renamed");
      ++seen;
    } else {
      EXPECT_NE(given_name, "Renamed");
    }
  }
  EXPECT_EQ(seen, 1);
}

TEST_F(BulkTriggerTest, EveryBatchCarriesTheTagsAPartnerAsksFor) {
  // Batches after the first are read ahead, with tags only for a partner
  // that asks for them.
  const std::vector<std::string> first = InsertCandidates(20, {"x", "y"});
  BulkOperation done = MustRun(ListRequest(first));
  ASSERT_EQ(done.created_count(), 20);
  for (const ats::v1::Event& event : EventsOf(done.name())) {
    EXPECT_EQ(PayloadOf(event.name()).candidate().tags_size(), 0);
  }

  ats::v1::UpdatePartnerRequest update;
  *update.mutable_partner() = partner_;
  update.mutable_partner()->add_candidate_fields(ats::v1::CANDIDATE_FIELD_TAGS);
  update.mutable_update_mask()->add_paths("candidate_fields");
  ats::v1::Partner updated;
  ASSERT_TRUE(
      integrations_
          ->UpdatePartner(As(server_.operator_key()).get(), update, &updated)
          .ok());
  const std::vector<std::string> second = InsertCandidates(20, {"x", "y"});
  done = MustRun(ListRequest(second));
  ASSERT_EQ(done.created_count(), 20);
  const std::vector<ats::v1::Event> events = EventsOf(done.name());
  ASSERT_EQ(events.size(), 20u);
  for (const ats::v1::Event& event : events) {
    const ats::v1::PartnerEvent payload = PayloadOf(event.name());
    const auto& tags = payload.candidate().tags();
    EXPECT_EQ(std::vector<std::string>(tags.begin(), tags.end()),
              (std::vector<std::string>{"x", "y"}))
        << event.candidate();
  }
}

TEST_F(BulkTriggerTest, WritesRefusedWhileAnotherProcessHoldsTheLockAreRetried) {
  if (server_.backend() != Backend::kSqlite) {
    GTEST_SKIP() << "PostgreSQL has no database-wide write lock another "
                    "process could hold";
  }
  auto db = storage::sqlite::Connection::Open(
      absl::StrCat(server_.dir(), "/ats.db"), {});
  ASSERT_TRUE(db.ok()) << db.status();

  // Another process takes the write lock as soon as an operation has
  // started, and keeps it for several of the server's busy timeouts: the
  // worker's writes fail UNAVAILABLE until it lets go. How far the worker
  // gets before the lock depends on the machine, so an operation that
  // finished first is run again with twice the candidates until one is
  // caught still running.
  std::vector<std::string> ours;
  Streamed streamed;
  bool caught_running = false;
  for (int count = 700; !caught_running && count <= 11200; count *= 2) {
    ours = InsertCandidates(count);
    absl::Notification started;
    streamed = Streamed();
    std::thread client([&] {
      auto context = As(server_.recruiter_key());
      auto reader = integrations_->BulkTriggerIntegration(context.get(),
                                                          ListRequest(ours));
      BulkOperation operation;
      while (reader->Read(&operation)) {
        streamed.messages.push_back(operation);
        if (!started.HasBeenNotified()) started.Notify();
      }
      streamed.status = reader->Finish();
      if (!started.HasBeenNotified()) started.Notify();
    });
    started.WaitForNotification();
    EXPECT_TRUE((*db)->Exec("BEGIN IMMEDIATE").ok());
    // Earlier operations have ended: their streams did.
    storage::sqlite::Statement& running = (*db)->Prepare(
        "SELECT count(*) FROM bulk_operations WHERE state = ?1");
    running.Bind(1, static_cast<int>(ats::v1::BULK_OPERATION_STATE_RUNNING));
    absl::StatusOr<bool> row = running.Step();
    EXPECT_TRUE(row.ok() && *row) << row.status();
    caught_running = row.ok() && *row && running.ColumnInt64(0) == 1;
    (*db)->ResetStatements();
    if (caught_running) {
      absl::SleepFor(absl::Milliseconds(5 * TestServer::kBusyTimeoutMs));
    }
    EXPECT_TRUE((*db)->Exec("COMMIT").ok());
    client.join();
  }
  ASSERT_TRUE(caught_running) << "every operation finished before the lock";

  ASSERT_TRUE(streamed.status.ok()) << streamed.status.error_message();
  ASSERT_FALSE(streamed.messages.empty());
  ExpectProgressOnlyGrows(streamed.messages);
  const BulkOperation& done = streamed.messages.back();
  EXPECT_EQ(done.state(), ats::v1::BULK_OPERATION_STATE_SUCCEEDED)
      << done.state_reason();
  EXPECT_EQ(done.total_count(), static_cast<int64_t>(ours.size()));
  EXPECT_EQ(done.created_count(), static_cast<int64_t>(ours.size()));
  EXPECT_EQ(done.failed_count(), 0);
  std::set<std::string> reached;
  for (const ats::v1::Event& event : EventsOf(done.name())) {
    EXPECT_TRUE(reached.insert(event.candidate()).second) << event.candidate();
  }
  EXPECT_EQ(reached, std::set<std::string>(ours.begin(), ours.end()));
}

TEST_F(BulkTriggerTest, ItemsAreListedInPagesByCandidate) {
  const std::vector<std::string> ours = InsertCandidates(9);
  const BulkOperation done = MustRun(ListRequest(ours));
  const std::vector<BulkOperationItem> items =
      Items(done.name(), ats::v1::BULK_ITEM_OUTCOME_UNSPECIFIED, 2);
  std::vector<std::string> names;
  for (const BulkOperationItem& item : items) names.push_back(item.candidate());
  EXPECT_EQ(names, ours);  // InsertCandidates numbers them in order.

  ats::v1::ListBulkOperationItemsRequest request;
  request.set_parent(done.name());
  request.set_page_size(2);
  ats::v1::ListBulkOperationItemsResponse page;
  ASSERT_TRUE(integrations_
                  ->ListBulkOperationItems(As(server_.recruiter_key()).get(),
                                           request, &page)
                  .ok());
  request.set_page_token(page.next_page_token());
  request.set_outcome(ats::v1::BULK_ITEM_OUTCOME_SKIPPED);
  EXPECT_TRUE(IsInvalid(integrations_->ListBulkOperationItems(
                            As(server_.recruiter_key()).get(), request, &page),
                        "page_token"));
  request.clear_page_token();
  request.set_outcome(static_cast<ats::v1::BulkItemOutcome>(42));
  EXPECT_TRUE(IsInvalid(integrations_->ListBulkOperationItems(
                            As(server_.recruiter_key()).get(), request, &page),
                        "outcome"));
  request.set_outcome(ats::v1::BULK_ITEM_OUTCOME_UNSPECIFIED);
  request.set_parent("bulkOperations/nope");
  EXPECT_TRUE(HasCode(integrations_->ListBulkOperationItems(
                          As(server_.recruiter_key()).get(), request, &page),
                      Code::NOT_FOUND));
}

TEST_F(BulkTriggerTest, SelectsEveryCandidateOfAJobOrOfOneOfItsStages) {
  const ats::v1::Job job = CreateJob("Backend engineer", {"Inbox", "Test"});
  std::set<std::string> in_job;
  std::set<std::string> in_test;
  for (int i = 0; i < 10; ++i) {
    const ats::v1::Candidate candidate = CreateCandidate("Ada");
    MustAdd(job, candidate);
    in_job.insert(candidate.name());
    if (i % 2 == 0) {
      MustMove(ApplicationOf(job, candidate), job.stages(1).name());
      in_test.insert(candidate.name());
    }
  }
  CreateCandidate("Outsider");

  ats::v1::CandidateSelection whole_job;
  whole_job.mutable_job()->set_job(job.name());
  const BulkOperation all = MustRun(Request(whole_job));
  EXPECT_EQ(all.state(), ats::v1::BULK_OPERATION_STATE_SUCCEEDED);
  EXPECT_EQ(all.total_count(), 10);
  EXPECT_EQ(all.created_count(), 10);
  EXPECT_EQ(all.job(), job.name());
  std::set<std::string> reached;
  for (const ats::v1::Event& event : EventsOf(all.name())) {
    EXPECT_EQ(event.job(), job.name());
    reached.insert(event.candidate());
  }
  EXPECT_EQ(reached, in_job);

  ats::v1::CandidateSelection one_stage = whole_job;
  one_stage.mutable_job()->set_stage(job.stages(1).name());
  const BulkOperation stage = MustRun(Request(one_stage));
  EXPECT_EQ(stage.total_count(), 5);
  EXPECT_EQ(stage.created_count(), 5);
  reached.clear();
  for (const ats::v1::Event& event : EventsOf(stage.name())) {
    reached.insert(event.candidate());
  }
  EXPECT_EQ(reached, in_test);
  EXPECT_EQ(PayloadOf(EventsOf(stage.name())[0].name()).job_title(),
            "Backend engineer");
}

TEST_F(BulkTriggerTest, SelectsByTagOrTheWholeCandidateDatabase) {
  const std::vector<std::string> finalists = InsertCandidates(20, {"finalist"});
  const std::vector<std::string> others = InsertCandidates(10, {"other"});

  Streamed by_tag = Stream(Request(Tag("finalist")));
  ASSERT_TRUE(by_tag.status.ok()) << by_tag.status.error_message();
  // The operation as created, then as finished; the batches (of 7) in
  // between show as far as the client keeps up, since a write under way
  // makes newer progress replace older.
  EXPECT_GE(by_tag.messages.size(), 2u);
  ExpectProgressOnlyGrows(by_tag.messages);
  const BulkOperation tagged = by_tag.messages.back();
  EXPECT_EQ(tagged.total_count(), 20);
  EXPECT_EQ(tagged.created_count(), 20);
  std::set<std::string> reached;
  for (const ats::v1::Event& event : EventsOf(tagged.name())) {
    reached.insert(event.candidate());
  }
  EXPECT_EQ(reached, std::set<std::string>(finalists.begin(), finalists.end()));

  ats::v1::CandidateSelection everyone;
  everyone.set_all_candidates(true);
  const BulkOperation all = MustRun(Request(everyone));
  EXPECT_EQ(all.state(), ats::v1::BULK_OPERATION_STATE_SUCCEEDED);
  EXPECT_EQ(all.total_count(), 30);
  EXPECT_EQ(all.created_count(), 30);
  ExpectCountsAddUp(all);
}

TEST_F(BulkTriggerTest, ASelectionNobodyMatchesSucceedsWithNothing) {
  InsertCandidates(3, {"finalist"});
  const BulkOperation done = MustRun(Request(Tag("nobody-has-this")));
  EXPECT_EQ(done.state(), ats::v1::BULK_OPERATION_STATE_SUCCEEDED);
  EXPECT_EQ(done.total_count(), 0);
  EXPECT_EQ(done.created_count(), 0);
  EXPECT_TRUE(Items(done.name()).empty());
}

TEST_F(BulkTriggerTest, BadRequestsAreRefusedBeforeAnythingStarts) {
  EXPECT_TRUE(IsInvalid(Stream(ListRequest({})).status,
                        "selection.candidates.candidates"));
  std::vector<std::string> too_many;
  for (int i = 0; i <= 10000; ++i) {
    too_many.push_back(absl::StrCat("candidates/c", i));
  }
  const grpc::Status over = Stream(ListRequest(too_many)).status;
  EXPECT_TRUE(IsInvalid(over, "selection.candidates.candidates"));
  EXPECT_TRUE(absl::StrContains(over.error_message(), "10,000"))
      << over.error_message();
  EXPECT_TRUE(IsInvalid(Stream(ListRequest({"people/1"})).status,
                        "selection.candidates.candidates[0]"));
  EXPECT_TRUE(IsInvalid(Stream(Request({})).status, "selection"));
  ats::v1::CandidateSelection not_all;
  not_all.set_all_candidates(false);
  EXPECT_TRUE(IsInvalid(Stream(Request(not_all)).status,
                        "selection.all_candidates"));
  EXPECT_TRUE(IsInvalid(Stream(Request(Tag("Not A Tag"))).status,
                        "selection.tag"));
  ats::v1::CandidateSelection other_jobs_stage;
  other_jobs_stage.mutable_job()->set_job("jobs/a");
  other_jobs_stage.mutable_job()->set_stage("jobs/b/stages/c");
  EXPECT_TRUE(IsInvalid(Stream(Request(other_jobs_stage)).status,
                        "selection.job.stage"));

  const std::vector<std::string> ours = InsertCandidates(2);
  ats::v1::BulkTriggerIntegrationRequest bad_option = ListRequest(ours);
  (*bad_option.mutable_option_values())["test_package"] = "expert";
  EXPECT_TRUE(IsInvalid(Stream(bad_option).status,
                        "option_values[test_package]"));

  ats::v1::CandidateSelection unknown_job;
  unknown_job.mutable_job()->set_job("jobs/nope");
  EXPECT_TRUE(HasCode(Stream(Request(unknown_job)).status, Code::NOT_FOUND));
  const ats::v1::Job job = CreateJob("Backend engineer", {"Inbox"});
  ats::v1::CandidateSelection unknown_stage;
  unknown_stage.mutable_job()->set_job(job.name());
  unknown_stage.mutable_job()->set_stage(job.name() + "/stages/nope");
  EXPECT_TRUE(HasCode(Stream(Request(unknown_stage)).status, Code::NOT_FOUND));

  ats::v1::BulkTriggerIntegrationRequest unknown_integration = ListRequest(ours);
  unknown_integration.set_integration("integrations/nope");
  EXPECT_TRUE(HasCode(Stream(unknown_integration).status, Code::NOT_FOUND));

  Deactivate(integration_.name());
  EXPECT_TRUE(HasCode(Stream(ListRequest(ours)).status,
                      Code::FAILED_PRECONDITION));

  // None of them created an operation.
  ats::v1::ListBulkOperationsResponse listed;
  ASSERT_TRUE(integrations_
                  ->ListBulkOperations(As(server_.recruiter_key()).get(), {},
                                       &listed)
                  .ok());
  EXPECT_EQ(listed.bulk_operations_size(), 0);
}

TEST_F(BulkTriggerTest, ARetryWithTheSameRequestIdWatchesTheSameOperation) {
  const std::vector<std::string> ours = InsertCandidates(15);
  ats::v1::BulkTriggerIntegrationRequest request = ListRequest(ours);
  request.set_request_id("bulk-1");
  const BulkOperation first = MustRun(request);
  const BulkOperation retry = MustRun(request);
  EXPECT_EQ(retry.name(), first.name());
  EXPECT_TRUE(MessageDifferencer::Equals(retry, first));
  EXPECT_EQ(EventsOf(first.name()).size(), 15u);
  EXPECT_EQ(AllEvents().size(), 15u);

  ats::v1::ListBulkOperationsResponse listed;
  ASSERT_TRUE(integrations_
                  ->ListBulkOperations(As(server_.recruiter_key()).get(), {},
                                       &listed)
                  .ok());
  EXPECT_EQ(listed.bulk_operations_size(), 1);
}

TEST_F(BulkTriggerTest, ListsOperationsNewestFirst) {
  const std::vector<std::string> ours = InsertCandidates(2);
  const BulkOperation older = MustRun(ListRequest(ours));
  server_.clock().Advance(absl::Seconds(1));
  const BulkOperation newer = MustRun(Request(Tag("nobody")));
  ats::v1::ListBulkOperationsRequest request;
  request.set_page_size(1);
  std::vector<std::string> names;
  for (int pages = 0; pages < 5; ++pages) {
    ats::v1::ListBulkOperationsResponse response;
    ASSERT_TRUE(integrations_
                    ->ListBulkOperations(As(server_.recruiter_key()).get(),
                                         request, &response)
                    .ok());
    for (const BulkOperation& operation : response.bulk_operations()) {
      names.push_back(operation.name());
    }
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  EXPECT_EQ(names, (std::vector<std::string>{newer.name(), older.name()}));
}

TEST_F(BulkTriggerTest, CancellingStopsWithExactCounts) {
  // Enough batches that the operation is still running when the cancel
  // arrives (it is sent as soon as the first progress is seen).
  const std::vector<std::string> ours = InsertCandidates(10000);
  auto context = As(server_.recruiter_key());
  auto reader =
      integrations_->BulkTriggerIntegration(context.get(), ListRequest(ours));
  // The stream ends with the cancelled state, and nothing moves after it.
  const BulkOperation cancelled = CancelAtFirstProgress(*reader);
  ASSERT_EQ(cancelled.state(), ats::v1::BULK_OPERATION_STATE_CANCELED);
  EXPECT_TRUE(absl::StrContains(cancelled.state_reason(), "apiKeys/"));
  EXPECT_TRUE(cancelled.has_end_time());

  // The counters are exact.
  EXPECT_LT(cancelled.created_count(), 10000);
  EXPECT_EQ(static_cast<int64_t>(EventsOf(cancelled.name()).size()),
            cancelled.created_count());
  EXPECT_EQ(static_cast<int64_t>(
                Items(cancelled.name(), ats::v1::BULK_ITEM_OUTCOME_CREATED)
                    .size()),
            cancelled.created_count());
  ExpectTheRestPending(cancelled);

  // An operation that ended cannot be cancelled (again).
  BulkOperation again;
  EXPECT_TRUE(
      HasCode(Cancel(cancelled.name(), &again), Code::FAILED_PRECONDITION));
  const BulkOperation finished = MustRun(ListRequest({ours[0]}));
  EXPECT_TRUE(
      HasCode(Cancel(finished.name(), &again), Code::FAILED_PRECONDITION));
}

// The bulk_operation.finished notifications among account A's events,
// oldest first.
std::vector<ats::v1::BulkOperationFinishedNotification> FinishedNotifications(
    const std::vector<ats::v1::Event>& events) {
  std::vector<ats::v1::BulkOperationFinishedNotification> found;
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    if (it->source() != ats::v1::EVENT_SOURCE_NOTIFICATION) continue;
    EXPECT_EQ(it->notification().type(), "bulk_operation.finished");
    EXPECT_EQ(it->candidate(), "");
    EXPECT_EQ(it->state(), ats::v1::EVENT_STATE_PENDING);
    found.push_back(it->notification().bulk_operation_finished());
  }
  return found;
}

TEST_F(BulkTriggerTest, AnEndedOperationNotifiesTheAccountsEndpointOnce) {
  const std::vector<std::string> ours = InsertCandidates(20);
  // Without a notification endpoint, nothing is notified.
  MustRun(ListRequest({ours[0]}));
  EXPECT_TRUE(FinishedNotifications(AllEvents()).empty());

  RotateWebhookSecret();
  ats::v1::UpdateAccountRequest update;
  update.mutable_account()->set_name(server_.account());
  // Loopback, never reached: this server dispatches nothing.
  update.mutable_account()->set_notification_uri("http://127.0.0.1:9/ats");
  update.mutable_update_mask()->add_paths("notification_uri");
  ats::v1::Account account;
  grpc::Status status = server_.accounts()->UpdateAccount(
      As(server_.admin_key()).get(), update, &account);
  ASSERT_TRUE(status.ok()) << status.error_message();

  const BulkOperation succeeded = MustRun(ListRequest(ours));
  ASSERT_EQ(succeeded.state(), ats::v1::BULK_OPERATION_STATE_SUCCEEDED);
  auto notified = FinishedNotifications(AllEvents({}, 1000));
  ASSERT_EQ(notified.size(), 1u);
  EXPECT_EQ(notified[0].bulk_operation(), succeeded.name());
  EXPECT_EQ(notified[0].integration(), integration_.name());
  EXPECT_EQ(notified[0].kind(), "BULK_OPERATION_KIND_TRIGGER");
  EXPECT_EQ(notified[0].state(), "BULK_OPERATION_STATE_SUCCEEDED");
  EXPECT_EQ(notified[0].total_count(), 20);
  EXPECT_EQ(notified[0].created_count(), 20);
  EXPECT_EQ(notified[0].skipped_count(), 0);

  // A cancelled operation is notified by the cancel, and only once: the
  // worker finds it ended.
  const std::vector<std::string> many = InsertCandidates(10000);
  auto context = As(server_.recruiter_key());
  auto reader =
      integrations_->BulkTriggerIntegration(context.get(), ListRequest(many));
  const BulkOperation cancelled = CancelAtFirstProgress(*reader);
  ASSERT_EQ(cancelled.state(), ats::v1::BULK_OPERATION_STATE_CANCELED);
  notified = FinishedNotifications(AllEvents({}, 1000));
  ASSERT_EQ(notified.size(), 2u);
  EXPECT_EQ(notified[1].bulk_operation(), cancelled.name());
  EXPECT_EQ(notified[1].state(), "BULK_OPERATION_STATE_CANCELED");
  EXPECT_EQ(notified[1].state_reason(), cancelled.state_reason());
  EXPECT_EQ(notified[1].created_count(), cancelled.created_count());
}

TEST_F(BulkTriggerTest, OtherCallsAreServedWhileAnOperationRuns) {
  const std::vector<std::string> ours = InsertCandidates(10000);
  const ats::v1::Job job = CreateJob("Backend engineer", {"Inbox", "Test"});
  auto context = As(server_.recruiter_key());
  auto reader =
      integrations_->BulkTriggerIntegration(context.get(), ListRequest(ours));
  BulkOperation progress;
  ASSERT_TRUE(reader->Read(&progress));

  // A write and a read between two of the operation's batches: it has not
  // run to its end first.
  const ats::v1::Candidate ada = CreateCandidate("Ada");
  MustMove(MustAdd(job, ada).application().name(), job.stages(1).name());
  EXPECT_EQ(MustGet(progress.name()).state(),
            ats::v1::BULK_OPERATION_STATE_RUNNING);

  BulkOperation cancelled;
  ASSERT_TRUE(Cancel(progress.name(), &cancelled).ok());
  while (reader->Read(&progress)) {
  }
  EXPECT_TRUE(reader->Finish().ok());
}

TEST_F(BulkTriggerTest, DeactivatingTheIntegrationInterruptsARunningOperation) {
  const std::vector<std::string> ours = InsertCandidates(10000);
  auto context = As(server_.recruiter_key());
  auto reader =
      integrations_->BulkTriggerIntegration(context.get(), ListRequest(ours));
  BulkOperation progress;
  ASSERT_TRUE(reader->Read(&progress));
  Deactivate(integration_.name());
  BulkOperation last = progress;
  while (reader->Read(&progress)) last = progress;
  EXPECT_TRUE(reader->Finish().ok());

  EXPECT_EQ(last.state(), ats::v1::BULK_OPERATION_STATE_INTERRUPTED);
  EXPECT_TRUE(absl::StrContains(last.state_reason(), "inactive"))
      << last.state_reason();
  EXPECT_LT(last.created_count(), 10000);
  EXPECT_EQ(static_cast<int64_t>(EventsOf(last.name()).size()),
            last.created_count());
  EXPECT_EQ(static_cast<int64_t>(
                Items(last.name(), ats::v1::BULK_ITEM_OUTCOME_PENDING).size()),
            last.total_count() - last.created_count());
  EXPECT_TRUE(MessageDifferencer::Equals(MustGet(last.name()), last));
}

TEST_F(BulkTriggerTest, AuthMatrix) {
  const std::vector<std::string> ours = InsertCandidates(2);
  EXPECT_TRUE(
      HasCode(Stream(ListRequest(ours), "no-such-key").status,
              Code::UNAUTHENTICATED));
  EXPECT_TRUE(HasCode(Stream(ListRequest(ours), partner_key_).status,
                      Code::PERMISSION_DENIED));
  EXPECT_TRUE(HasCode(Stream(ListRequest(ours), server_.operator_key()).status,
                      Code::PERMISSION_DENIED));
  // Account B does not see account A's integration...
  EXPECT_TRUE(HasCode(Stream(ListRequest(ours), server_.other_admin_key()).status,
                      Code::NOT_FOUND));
  {
    auto context = TestServer::Context("");
    auto reader = integrations_->BulkTriggerIntegration(context.get(),
                                                        ListRequest(ours));
    BulkOperation ignored;
    while (reader->Read(&ignored)) {
    }
    EXPECT_TRUE(HasCode(reader->Finish(), Code::UNAUTHENTICATED));
  }

  // ...nor its operations.
  Streamed by_admin = Stream(ListRequest(ours), server_.admin_key());
  ASSERT_TRUE(by_admin.status.ok()) << by_admin.status.error_message();
  const std::string name = by_admin.messages.back().name();
  BulkOperation operation;
  EXPECT_TRUE(HasCode(Get(name, &operation, server_.other_admin_key()),
                      Code::NOT_FOUND));
  EXPECT_TRUE(HasCode(Cancel(name, &operation, server_.other_admin_key()),
                      Code::NOT_FOUND));
  EXPECT_TRUE(HasCode(Get(name, &operation, partner_key_),
                      Code::PERMISSION_DENIED));
  ats::v1::ListBulkOperationItemsRequest items;
  items.set_parent(name);
  ats::v1::ListBulkOperationItemsResponse items_response;
  EXPECT_TRUE(HasCode(integrations_->ListBulkOperationItems(
                          As(server_.other_admin_key()).get(), items,
                          &items_response),
                      Code::NOT_FOUND));
  ats::v1::ListBulkOperationsResponse listed;
  ASSERT_TRUE(integrations_
                  ->ListBulkOperations(As(server_.other_admin_key()).get(), {},
                                       &listed)
                  .ok());
  EXPECT_EQ(listed.bulk_operations_size(), 0);
  EXPECT_TRUE(Get(name, &operation).ok());  // The recruiter of A sees it.
}

}  // namespace
}  // namespace ats::testing
