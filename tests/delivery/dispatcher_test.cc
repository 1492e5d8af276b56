// The dispatcher against a real SQLite store and the real partner-sink
// program on loopback, through the real HttpConnector. Time that the
// dispatcher schedules with (due times, leases) is a FakeClock, so a retry
// hours away is reached by moving the clock, not by sleeping; the sink
// checks webhook timestamps against real time, so the connector signs with
// the system clock. A scripted connector stands in for a partner only where
// the test needs to hold a delivery mid-flight.

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/common/destination_guard.h"
#include "server/common/random.h"
#include "server/delivery/dispatcher.h"
#include "server/delivery/http_connector.h"
#include "storage/sqlite/connection.h"
#include "storage/store.h"
#include "tests/delivery/sink_process.h"
#include "tests/support/temp_dir.h"

#ifndef ATS_PARTNER_SINK_BIN
#error "ATS_PARTNER_SINK_BIN must name the partner-sink binary"
#endif

namespace ats::testing {
namespace {

using ats::v1::EventState;
using server::Dispatcher;
using server::DispatcherOptions;

// Bound on every wait; none is a timing assertion.
constexpr absl::Duration kWait = absl::Seconds(20);

// A connector that holds every delivery until released, then answers 200.
class HeldConnector final : public server::Connector {
 public:
  void Send(server::Delivery, server::DeliveryDone done) override {
    {
      absl::MutexLock lock(&mu_);
      ++calls_;
      if (!released_) {
        held_.push_back(std::move(done));
        return;
      }
    }
    done(Answer());
  }
  void Release() {
    std::vector<server::DeliveryDone> held;
    {
      absl::MutexLock lock(&mu_);
      released_ = true;
      held.swap(held_);
    }
    for (server::DeliveryDone& done : held) done(Answer());
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  static server::DeliveryOutcome Answer() {
    server::DeliveryOutcome outcome;
    outcome.http_status = 200;
    outcome.latency = absl::Milliseconds(1);
    return outcome;
  }

  absl::Mutex mu_;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<server::DeliveryDone> held_ ABSL_GUARDED_BY(mu_);
};

// `time` as storage keeps it: whole microseconds.
absl::Time Stored(absl::Time time) {
  return absl::FromUnixMicros(absl::ToUnixMicros(time));
}

// Passes deliveries on to `next`, counting the 2xx answers.
class CountingConnector final : public server::Connector {
 public:
  explicit CountingConnector(server::Connector& next) : next_(next) {}
  void Send(server::Delivery delivery, server::DeliveryDone done) override {
    next_.Send(std::move(delivery),
               [this, done = std::move(done)](server::DeliveryOutcome outcome) {
                 if (outcome.http_status >= 200 && outcome.http_status < 300) {
                   ++successes_;
                 }
                 done(std::move(outcome));
               });
  }
  int successes() const { return successes_.load(); }

 private:
  server::Connector& next_;
  std::atomic<int> successes_{0};
};

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    storage::SqliteStoreOptions options;
    options.path = dir_ + "/ats.db";
    auto store = storage::OpenSqliteStore(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    // Now, with nanoseconds that storage (microseconds) drops: the
    // dispatcher must not compare what it meant with what was stored.
    clock_.Set(absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now())) +
               absl::Nanoseconds(123'456'789));
    account_id_ = server::NewResourceId(random_);
    ASSERT_TRUE(store_
                    ->WriteAndWait([&](storage::Transaction& txn) {
                      storage::AccountRow account;
                      account.id = account_id_;
                      account.display_name = "Acme";
                      account.create_time = clock_.Now();
                      return txn.accounts().InsertAccount(account);
                    })
                    .ok());
  }

  void TearDown() override {
    for (auto& dispatcher : dispatchers_) dispatcher->Stop();
    dispatchers_.clear();
    store_.reset();
    RemoveTree(dir_);
  }

  std::unique_ptr<SinkProcess> StartSink() {
    auto sink = SinkProcess::Start(ATS_PARTNER_SINK_BIN);
    EXPECT_TRUE(sink.ok()) << sink.status();
    return sink.ok() ? *std::move(sink) : nullptr;
  }

  // Lists a partner posting to `sink` (at `url` when given, its
  // webhook_url() otherwise) and activates it for the account; returns the
  // integration's id.
  std::string AddIntegration(SinkProcess& sink, bool active = true,
                             const std::string& url = "") {
    const std::string partner_id = server::NewResourceId(random_);
    storage::IntegrationRow integration;
    integration.account_id = account_id_;
    integration.id = server::NewResourceId(random_);
    integration.partner_id = partner_id;
    integration.display_name = "Assessly";
    integration.active = active;
    integration.signing_secret = server::NewWebhookSecret(random_);
    integration.signing_secret_create_time = clock_.Now();
    integration.create_time = integration.update_time = clock_.Now();
    absl::Status status = store_->WriteAndWait([&](storage::Transaction& txn) {
      storage::PartnerRow partner;
      partner.id = partner_id;
      partner.listing.set_display_name(absl::StrCat("Partner ", partner_id));
      partner.listing.set_category(ats::v1::PARTNER_CATEGORY_ASSESSMENT);
      partner.listing.set_webhook_uri(url.empty() ? sink.webhook_url() : url);
      partner.create_time = partner.update_time = clock_.Now();
      absl::Status inserted = txn.integrations().InsertPartner(partner);
      if (!inserted.ok()) return inserted;
      return txn.integrations().InsertIntegration(integration);
    });
    EXPECT_TRUE(status.ok()) << status;
    EXPECT_TRUE(sink.AddSecret(integration.signing_secret).ok());
    return integration.id;
  }

  // A due PENDING event of `integration_id` (a webhook event when empty).
  storage::EventRow NewEvent(const std::string& integration_id) {
    storage::EventRow event;
    event.account_id = account_id_;
    event.id = server::NewResourceId(random_);
    event.state = ats::v1::EVENT_STATE_PENDING;
    event.integration_id = integration_id;
    event.candidate_id = server::NewResourceId(random_);
    event.source = ats::v1::EVENT_SOURCE_MANUAL;
    event.triggered_by = "key1";
    event.payload.set_event_id(absl::StrCat("events/", event.id));
    event.payload.set_account(absl::StrCat("accounts/", account_id_));
    if (!integration_id.empty()) {
      event.payload.set_integration(
          absl::StrCat("integrations/", integration_id));
    }
    event.payload.set_source(ats::v1::EVENT_SOURCE_MANUAL);
    event.payload.mutable_candidate()->set_name(
        absl::StrCat("candidates/", event.candidate_id));
    event.payload.mutable_candidate()->set_given_name("Ada");
    (*event.payload.mutable_option_values())["test_package"] = "java-senior";
    event.create_time = event.due_time = event.update_time = clock_.Now();
    return event;
  }

  void Insert(const storage::EventRow& event) {
    absl::Status status = store_->WriteAndWait(
        [&](storage::Transaction& txn) { return txn.events().InsertEvent(event); });
    ASSERT_TRUE(status.ok()) << status;
  }

  // Event `id`, with the `parts` of its payload.
  storage::EventRow Get(
      const std::string& id,
      storage::PayloadParts parts = storage::PayloadParts::kAll) {
    storage::EventRow row;
    absl::Status status = store_->Read([&](storage::Transaction& txn) {
      auto event = txn.events().GetEvent(account_id_, id, parts);
      if (!event.ok()) return event.status();
      row = *std::move(event);
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status;
    return row;
  }

  std::vector<storage::AttemptRow> Attempts(const std::string& id) {
    std::vector<storage::AttemptRow> rows;
    absl::Status status = store_->Read([&](storage::Transaction& txn) {
      auto attempts = txn.events().ListAttempts(account_id_, id);
      if (!attempts.ok()) return attempts.status();
      rows = *std::move(attempts);
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status;
    return rows;
  }

  storage::IntegrationRow GetIntegration(const std::string& id) {
    storage::IntegrationRow row;
    absl::Status status = store_->Read([&](storage::Transaction& txn) {
      auto integration = txn.integrations().GetIntegration(account_id_, id);
      if (!integration.ok()) return integration.status();
      row = *std::move(integration);
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status;
    return row;
  }

  // Options for tests: quick polls, a short compressed schedule.
  static DispatcherOptions TestOptions() {
    DispatcherOptions options;
    options.poll_interval = absl::Milliseconds(10);
    options.retry_schedule = {absl::ZeroDuration(), absl::Seconds(5),
                              absl::Minutes(5)};
    options.stop_grace = absl::Seconds(1);
    return options;
  }

  // Starts a dispatcher over the test's store and FakeClock; with an
  // HttpConnector (timeout `timeout`, destinations `destinations_`) unless
  // `connector` is given.
  Dispatcher& StartDispatcher(const DispatcherOptions& options,
                              server::Connector* connector = nullptr,
                              absl::Duration timeout = absl::Seconds(10)) {
    if (connector == nullptr) {
      server::HttpConnectorOptions http;
      http.total_timeout = timeout;
      http.connect_timeout = absl::Seconds(2);
      http.destinations = destinations_;
      connectors_.push_back(
          std::make_unique<server::HttpConnector>(system_clock_, http));
      connector = connectors_.back().get();
    }
    EXPECT_TRUE(server::ValidateDispatcherOptions(options).ok());
    dispatchers_.push_back(std::make_unique<Dispatcher>(
        options, *store_, *connector, clock_, random_));
    dispatchers_.back()->Start();
    return *dispatchers_.back();
  }

  // Waits (bounded) until event `id` is in `state`, moving the FakeClock
  // forward by `advance` between looks; returns whether it got there.
  // Stores what a server that died mid-delivery leaves behind: an event of
  // `integration_id` SENDING its first attempt under a lease that expires at
  // `lease_expire_time`.
  storage::EventRow InsertOrphan(const std::string& integration_id,
                                 absl::Time lease_expire_time) {
    storage::EventRow orphan = NewEvent(integration_id);
    orphan.state = ats::v1::EVENT_STATE_SENDING;
    orphan.attempt_count = 1;
    orphan.lease_expire_time = lease_expire_time;
    Insert(orphan);
    return orphan;
  }

  EventState StateOf(const std::string& id) {
    return Get(id, storage::PayloadParts::kNone).state;
  }

  bool WaitForState(const std::string& id, EventState state,
                    absl::Duration advance = absl::ZeroDuration()) {
    const absl::Time deadline = absl::Now() + kWait;
    while (absl::Now() < deadline) {
      if (StateOf(id) == state) return true;
      clock_.Advance(advance);
      absl::SleepFor(absl::Milliseconds(5));
    }
    return StateOf(id) == state;
  }

  std::string dir_;
  server::FakeClock clock_;
  server::SystemClock system_clock_;
  server::SecureRandom random_;
  std::unique_ptr<storage::Store> store_;
  std::string account_id_;
  // Where HttpConnectors may connect: loopback, where the sinks listen.
  server::DestinationPolicy destinations_ =
      *server::DestinationPolicy::Parse("127.0.0.0/8,::1/128");
  std::vector<std::unique_ptr<server::HttpConnector>> connectors_;
  std::vector<std::unique_ptr<Dispatcher>> dispatchers_;
};

TEST(RetryScheduleTest, ParsesDurationsAndRejectsBadOnes) {
  auto schedule = server::ParseRetrySchedule("0s, 50ms,5m,2h");
  ASSERT_TRUE(schedule.ok()) << schedule.status();
  EXPECT_EQ(*schedule,
            (std::vector<absl::Duration>{absl::ZeroDuration(),
                                         absl::Milliseconds(50),
                                         absl::Minutes(5), absl::Hours(2)}));
  EXPECT_EQ(server::DefaultRetrySchedule().size(), 10u);
  for (const char* bad : {"", "5", "1s,,2s", "-1s", "inf", "soon"}) {
    EXPECT_EQ(server::ParseRetrySchedule(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  DispatcherOptions options;
  EXPECT_TRUE(server::ValidateDispatcherOptions(options).ok());
  options.retry_schedule.clear();
  EXPECT_FALSE(server::ValidateDispatcherOptions(options).ok());
}

TEST_F(DispatcherTest, SuccessIsSentWithOneSignedAttempt) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  const std::string integration = AddIntegration(*sink);
  storage::EventRow event = NewEvent(integration);
  Insert(event);

  StartDispatcher(TestOptions());
  ASSERT_TRUE(WaitForState(event.id, ats::v1::EVENT_STATE_SENT));

  storage::EventRow sent = Get(event.id);
  EXPECT_EQ(sent.attempt_count, 1);
  EXPECT_FALSE(sent.lease_expire_time.has_value());
  EXPECT_EQ(sent.state_reason, "");
  std::vector<storage::AttemptRow> attempts = Attempts(event.id);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].number, 1);
  EXPECT_EQ(attempts[0].http_status, 200);
  EXPECT_EQ(attempts[0].error, "");
  EXPECT_EQ(attempts[0].attempt_time, Stored(clock_.Now()));
  EXPECT_GT(attempts[0].latency, absl::ZeroDuration());

  // The sink verified the signature and got exactly the stored payload's
  // proto3 JSON, keyed by the event's name.
  auto received = sink->Received();
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(received->rejected, 0) << sink->Log();
  const std::string id = absl::StrCat("events/", event.id);
  ASSERT_EQ(received->deliveries.count(id), 1u);
  EXPECT_EQ(received->deliveries[id], 1);
  std::string expected_body;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(event.payload,
                                                          &expected_body)
                  .ok());
  EXPECT_EQ(received->bodies[id], expected_body);
}

TEST_F(DispatcherTest, WakeSendsWithoutWaitingForThePoll) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  const std::string integration = AddIntegration(*sink);
  DispatcherOptions options = TestOptions();
  options.poll_interval = absl::Hours(1);
  Dispatcher& dispatcher = StartDispatcher(options);
  // Let the first (empty) claim pass, so only Wake can find the event.
  absl::SleepFor(absl::Milliseconds(200));
  storage::EventRow event = NewEvent(integration);
  Insert(event);
  dispatcher.Wake();
  EXPECT_TRUE(WaitForState(event.id, ats::v1::EVENT_STATE_SENT));
}

TEST_F(DispatcherTest, HonoursRetryAfterOn503) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  const std::string integration = AddIntegration(*sink);
  ASSERT_TRUE(
      sink->SetBehaviour(R"({"status": 503, "retry_after": "120", "times": 1})")
          .ok());
  storage::EventRow event = NewEvent(integration);
  Insert(event);

  StartDispatcher(TestOptions());
  ASSERT_TRUE(WaitForState(event.id, ats::v1::EVENT_STATE_RETRYING));
  storage::EventRow retrying = Get(event.id);
  // Retry-After (120 s) beats the next backoff step (5 s +/- 10%).
  EXPECT_EQ(retrying.due_time, Stored(clock_.Now() + absl::Seconds(120)));
  EXPECT_TRUE(absl::StrContains(retrying.state_reason, "503"))
      << retrying.state_reason;
  std::vector<storage::AttemptRow> attempts = Attempts(event.id);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].http_status, 503);

  // Not before its time...
  clock_.Advance(absl::Seconds(119));
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(Get(event.id).state, ats::v1::EVENT_STATE_RETRYING);
  // ...and at once after.
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(WaitForState(event.id, ats::v1::EVENT_STATE_SENT));
  EXPECT_EQ(Get(event.id).attempt_count, 2);
  EXPECT_EQ(Attempts(event.id).size(), 2u);
}

TEST_F(DispatcherTest, RetryAfterIsCappedAndNeverShortensTheBackoff) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  const std::string integration = AddIntegration(*sink);
  DispatcherOptions options = TestOptions();
  options.retry_schedule = {absl::ZeroDuration(), absl::Minutes(5),
                            absl::Minutes(5)};
  StartDispatcher(options);

  // A partner asking for 3 days gets 24 hours.
  ASSERT_TRUE(sink->SetBehaviour(
                      R"({"status": 429, "retry_after": "259200", "times": 1})")
                  .ok());
  storage::EventRow capped = NewEvent(integration);
  Insert(capped);
  ASSERT_TRUE(WaitForState(capped.id, ats::v1::EVENT_STATE_RETRYING));
  EXPECT_EQ(Get(capped.id).due_time, Stored(clock_.Now() + absl::Hours(24)));

  // A Retry-After shorter than the backoff step waits for the step.
  ASSERT_TRUE(
      sink->SetBehaviour(R"({"status": 503, "retry_after": "1", "times": 1})")
          .ok());
  storage::EventRow stepped = NewEvent(integration);
  Insert(stepped);
  ASSERT_TRUE(WaitForState(stepped.id, ats::v1::EVENT_STATE_RETRYING));
  const absl::Duration wait = Get(stepped.id).due_time - clock_.Now();
  EXPECT_GE(wait, absl::Minutes(5) * 0.9);
  EXPECT_LE(wait, absl::Minutes(5) * 1.1);
}

TEST_F(DispatcherTest, ServerErrorsRetryWithJitterThenGiveUp) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  const std::string integration = AddIntegration(*sink);
  ASSERT_TRUE(sink->SetBehaviour(R"({"status": 500})").ok());
  storage::EventRow event = NewEvent(integration);
  Insert(event);

  DispatcherOptions options = TestOptions();
  options.retry_schedule = {absl::ZeroDuration(), absl::Seconds(10),
                            absl::Seconds(20)};
  StartDispatcher(options);
  ASSERT_TRUE(WaitForState(event.id, ats::v1::EVENT_STATE_RETRYING));
  storage::EventRow first = Get(event.id);
  EXPECT_EQ(first.attempt_count, 1);
  const absl::Duration wait = first.due_time - clock_.Now();
  EXPECT_GE(wait, absl::Seconds(9));
  EXPECT_LE(wait, absl::Seconds(11));

  // Three attempts in all (the schedule's length), then DEAD.
  ASSERT_TRUE(
      WaitForState(event.id, ats::v1::EVENT_STATE_DEAD, absl::Seconds(1)));
  storage::EventRow dead = Get(event.id);
  EXPECT_EQ(dead.attempt_count, 3);
  EXPECT_TRUE(absl::StartsWith(dead.state_reason,
                               "gave up after 3 attempts: HTTP 500"))
      << dead.state_reason;
  std::vector<storage::AttemptRow> attempts = Attempts(event.id);
  ASSERT_EQ(attempts.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(attempts[i].number, i + 1);
    EXPECT_EQ(attempts[i].http_status, 500);
    EXPECT_TRUE(absl::StrContains(attempts[i].error, "500"))
        << attempts[i].error;
  }
  EXPECT_LT(attempts[0].attempt_time, attempts[1].attempt_time);
  auto received = sink->Received();
  ASSERT_TRUE(received.ok());
  EXPECT_EQ(received->failed, 3);
  EXPECT_EQ(received->accepted, 0);
}

TEST_F(DispatcherTest, GoneKillsTheEventAndDisablesTheEndpoint) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  const std::string integration = AddIntegration(*sink);
  const int64_t revision = GetIntegration(integration).revision;
  ASSERT_TRUE(sink->SetBehaviour(R"({"status": 410})").ok());
  storage::EventRow gone = NewEvent(integration);
  Insert(gone);

  StartDispatcher(TestOptions());
  ASSERT_TRUE(WaitForState(gone.id, ats::v1::EVENT_STATE_DEAD));
  EXPECT_EQ(Get(gone.id).state_reason,
            "partner answered 410 Gone: endpoint disabled");
  EXPECT_EQ(Attempts(gone.id).size(), 1u);
  storage::IntegrationRow disabled = GetIntegration(integration);
  EXPECT_TRUE(absl::StrContains(disabled.endpoint_disabled_reason, "410"))
      << disabled.endpoint_disabled_reason;
  EXPECT_EQ(disabled.revision, revision + 1);
  EXPECT_TRUE(disabled.active);

  // The integration's next event dies without being sent.
  storage::EventRow next = NewEvent(integration);
  Insert(next);
  ASSERT_TRUE(WaitForState(next.id, ats::v1::EVENT_STATE_DEAD));
  EXPECT_TRUE(absl::StrContains(Get(next.id).state_reason, "disabled"))
      << Get(next.id).state_reason;
  EXPECT_TRUE(Attempts(next.id).empty());
  auto received = sink->Received();
  ASSERT_TRUE(received.ok());
  EXPECT_EQ(received->failed, 1);
}

TEST_F(DispatcherTest, AnErrorAnswersBodyIsThePartnersMessage) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  const std::string integration = AddIntegration(*sink);
  // Control characters become spaces, UTF-8 stays, and the message is cut
  // at 1 KiB.
  ASSERT_TRUE(sink->SetBehaviour(absl::StrCat(R"({"status": 422, "body": ")",
                                              "candidate email bounced\\n\\t"
                                              "caf\u00e9\\u0007",
                                              R"(", "times": 1})"))
                  .ok());
  storage::EventRow event = NewEvent(integration);
  Insert(event);
  StartDispatcher(TestOptions());
  ASSERT_TRUE(WaitForState(event.id, ats::v1::EVENT_STATE_RETRYING));
  const std::string expected = "candidate email bounced  caf\u00e9";
  EXPECT_EQ(Get(event.id).partner_message, expected);
  std::vector<storage::AttemptRow> attempts = Attempts(event.id);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].partner_message, expected);

  // The retry succeeds without a body: the event keeps what the partner
  // said last, the new attempt says nothing.
  ASSERT_TRUE(
      WaitForState(event.id, ats::v1::EVENT_STATE_SENT, absl::Seconds(6)));
  EXPECT_EQ(Get(event.id).partner_message, expected);
  attempts = Attempts(event.id);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[1].partner_message, "");

  ASSERT_TRUE(
      sink->SetBehaviour(R"({"status": 500, "body_bytes": 5000, "times": 1})")
          .ok());
  storage::EventRow long_answer = NewEvent(integration);
  Insert(long_answer);
  ASSERT_TRUE(WaitForState(long_answer.id, ats::v1::EVENT_STATE_RETRYING));
  EXPECT_EQ(Get(long_answer.id).partner_message, std::string(1024, 'x'));
}

TEST_F(DispatcherTest, AResultInASuccessfulAnswerIsRecorded) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  const std::string integration = AddIntegration(*sink);
  DispatcherOptions options = TestOptions();
  // Delivery alone: the engine's recorder stands in as a plain record of
  // what it was given, refusing a summary of "refuse me". It gets the event
  // whole, payload included (moving rules quote it).
  options.record_result =
      [](storage::Transaction& txn, storage::EventRow& event,
         const ats::v1::PartnerResult& result, absl::Time) -> absl::Status {
    if (event.payload.event_id() != absl::StrCat("events/", event.id) ||
        event.payload.candidate().given_name() != "Ada") {
      return absl::InternalError(
          "the recorder got the event without its payload");
    }
    if (result.summary() == "refuse me") {
      return absl::InvalidArgumentError("criterion drug_test is unknown");
    }
    event.result = result;
    event.state = ats::v1::EVENT_STATE_COMPLETED;
    return txn.events().UpdateEvent(event);
  };
  ASSERT_TRUE(
      sink->SetBehaviour(
              R"({"body": "{\"status\": \"PARTNER_RESULT_STATUS_COMPLETED\", \"score\": 82, \"criteria\": {\"decision\": {\"outcome\": \"clear\"}}}", "times": 1})")
          .ok());
  storage::EventRow event = NewEvent(integration);
  Insert(event);
  StartDispatcher(options);
  ASSERT_TRUE(WaitForState(event.id, ats::v1::EVENT_STATE_COMPLETED));
  const storage::EventRow completed = Get(event.id);
  ASSERT_TRUE(completed.result.has_value());
  EXPECT_EQ(completed.result->score().value(), 82);
  EXPECT_EQ(completed.result->criteria().at("decision").outcome(), "clear");
  EXPECT_EQ(completed.partner_message, "");
  EXPECT_EQ(Attempts(event.id).size(), 1u);

  // A JSON object that is no result, or a result the recorder refuses: the
  // event is SENT, and the message says why.
  for (
      const std::string& body :
      {std::string(R"({\"received\": true})"),
       std::string(
           R"({\"status\": \"PARTNER_RESULT_STATUS_COMPLETED\", \"summary\": \"refuse me\"})"),
       std::string(
           R"({\"status\": \"PARTNER_RESULT_STATUS_COMPLETED\", \"score\": \"NaN\"})")}) {
    ASSERT_TRUE(sink->SetBehaviour(absl::StrCat(R"({"body": ")", body,
                                                R"(", "times": 1})"))
                    .ok());
    storage::EventRow other = NewEvent(integration);
    Insert(other);
    ASSERT_TRUE(WaitForState(other.id, ats::v1::EVENT_STATE_SENT)) << body;
    const storage::EventRow sent = Get(other.id);
    EXPECT_FALSE(sent.result.has_value()) << body;
    EXPECT_TRUE(absl::StrContains(sent.partner_message, "not a result") ||
                absl::StrContains(sent.partner_message, "was refused"))
        << body << ": " << sent.partner_message;
    const std::vector<storage::AttemptRow> attempts = Attempts(other.id);
    ASSERT_EQ(attempts.size(), 1u);
    EXPECT_EQ(attempts[0].partner_message, sent.partner_message);
  }

  // A plain-text acknowledgement is no result and no message.
  ASSERT_TRUE(sink->SetBehaviour(R"({"body": "ok", "times": 1})").ok());
  storage::EventRow plain = NewEvent(integration);
  Insert(plain);
  ASSERT_TRUE(WaitForState(plain.id, ats::v1::EVENT_STATE_SENT));
  EXPECT_EQ(Get(plain.id).partner_message, "");
}

TEST_F(DispatcherTest, AnEndpointFailingForTooLongIsDisabled) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  const std::string integration = AddIntegration(*sink);
  const int64_t revision = GetIntegration(integration).revision;
  DispatcherOptions options = TestOptions();
  options.auto_disable_after = absl::Hours(1);
  options.auto_disable_min_failures = 4;
  StartDispatcher(options);

  // Three failed attempts within minutes: counted, not disabled.
  ASSERT_TRUE(sink->SetBehaviour(R"({"status": 500})").ok());
  storage::EventRow first = NewEvent(integration);
  Insert(first);
  ASSERT_TRUE(
      WaitForState(first.id, ats::v1::EVENT_STATE_DEAD, absl::Minutes(1)));
  storage::IntegrationRow failing = GetIntegration(integration);
  ASSERT_TRUE(failing.failing_since.has_value());
  EXPECT_EQ(*failing.failing_since, Attempts(first.id)[0].attempt_time);
  EXPECT_EQ(failing.failed_attempts, 3);
  EXPECT_EQ(failing.endpoint_disabled_reason, "");
  // Counting changes no etag: an admin's update in between is not refused.
  EXPECT_EQ(failing.revision, revision);

  // A success starts the count again.
  ASSERT_TRUE(sink->SetBehaviour(R"({"status": 200})").ok());
  storage::EventRow fine = NewEvent(integration);
  Insert(fine);
  ASSERT_TRUE(WaitForState(fine.id, ats::v1::EVENT_STATE_SENT));
  EXPECT_FALSE(GetIntegration(integration).failing_since.has_value());
  EXPECT_EQ(GetIntegration(integration).failed_attempts, 0);

  // Failing again, then for longer than an hour with enough attempts: the
  // endpoint is disabled, and the next event dies unsent.
  ASSERT_TRUE(sink->SetBehaviour(R"({"status": 500})").ok());
  storage::EventRow again = NewEvent(integration);
  Insert(again);
  ASSERT_TRUE(
      WaitForState(again.id, ats::v1::EVENT_STATE_DEAD, absl::Minutes(1)));
  const absl::Time since = *GetIntegration(integration).failing_since;
  EXPECT_EQ(GetIntegration(integration).endpoint_disabled_reason, "");
  clock_.Advance(absl::Hours(2));
  storage::EventRow last = NewEvent(integration);
  Insert(last);
  ASSERT_TRUE(
      WaitForState(last.id, ats::v1::EVENT_STATE_DEAD, absl::Seconds(10)));
  const storage::IntegrationRow disabled = GetIntegration(integration);
  EXPECT_TRUE(absl::StrContains(disabled.endpoint_disabled_reason,
                                "every delivery failed since"))
      << disabled.endpoint_disabled_reason;
  EXPECT_EQ(*disabled.failing_since, since);
  EXPECT_EQ(disabled.revision, revision + 1);
  EXPECT_EQ(Attempts(last.id).size(), 1u);
  EXPECT_TRUE(absl::StrContains(Get(last.id).state_reason, "disabled"))
      << Get(last.id).state_reason;
}

TEST_F(DispatcherTest, TimeoutRetriesAndTheRetryIsDeliveredAgain) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  const std::string integration = AddIntegration(*sink);
  ASSERT_TRUE(sink->SetBehaviour(R"({"delay_ms": 2000, "times": 1})").ok());
  storage::EventRow event = NewEvent(integration);
  Insert(event);

  StartDispatcher(TestOptions(), nullptr, absl::Milliseconds(300));
  ASSERT_TRUE(WaitForState(event.id, ats::v1::EVENT_STATE_RETRYING));
  std::vector<storage::AttemptRow> attempts = Attempts(event.id);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].http_status, 0);
  EXPECT_TRUE(absl::StrContains(absl::AsciiStrToLower(attempts[0].error),
                                "timed out") ||
              absl::StrContains(absl::AsciiStrToLower(attempts[0].error),
                                "timeout"))
      << attempts[0].error;

  // The sink had taken the first one (it only answered late): the retry is
  // a duplicate to it, which at-least-once allows and webhook-id dedups.
  clock_.Advance(absl::Seconds(6));
  ASSERT_TRUE(WaitForState(event.id, ats::v1::EVENT_STATE_SENT));
  auto received = sink->Received();
  ASSERT_TRUE(received.ok());
  EXPECT_EQ(received->deliveries[absl::StrCat("events/", event.id)], 2);
}

// Ids of a job with two stages and a candidate.
struct Pipeline {
  std::string job_id, first_stage_id, second_stage_id, candidate_id;
};

TEST_F(DispatcherTest, DelayedEventIsCanceledWhenTheCandidateMovedOn) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  const std::string integration = AddIntegration(*sink);

  Pipeline p{server::NewResourceId(random_), server::NewResourceId(random_),
             server::NewResourceId(random_), server::NewResourceId(random_)};
  const absl::Time now = clock_.Now();
  ASSERT_TRUE(store_
                  ->WriteAndWait([&](storage::Transaction& txn) {
                    storage::JobRow job;
                    job.account_id = account_id_;
                    job.id = p.job_id;
                    job.title = "Backend engineer";
                    job.state = ats::v1::JOB_STATE_OPEN;
                    job.create_time = job.update_time = now;
                    absl::Status s = txn.jobs().InsertJob(job);
                    int position = 0;
                    for (const std::string& id :
                         {p.first_stage_id, p.second_stage_id}) {
                      storage::StageRow stage;
                      stage.account_id = account_id_;
                      stage.id = id;
                      stage.job_id = p.job_id;
                      stage.display_name = absl::StrCat("Stage ", position);
                      stage.position = position++;
                      stage.create_time = now;
                      if (s.ok()) s = txn.jobs().InsertStage(stage);
                    }
                    for (const std::string& id :
                         {p.candidate_id, std::string("other")}) {
                      storage::CandidateRow candidate;
                      candidate.account_id = account_id_;
                      candidate.id = id;
                      candidate.given_name = "Ada";
                      candidate.create_time = candidate.update_time = now;
                      if (s.ok()) s = txn.candidates().InsertCandidate(candidate);
                      storage::ApplicationRow app;
                      app.account_id = account_id_;
                      app.job_id = p.job_id;
                      app.candidate_id = id;
                      app.stage_id = p.first_stage_id;
                      app.stage_enter_time = app.create_time = now;
                      // The first candidate left and came back: entry 3.
                      app.entry_count = id == p.candidate_id ? 3 : 1;
                      if (s.ok()) s = txn.applications().InsertApplication(app);
                    }
                    return s;
                  })
                  .ok());

  auto delayed = [&](const std::string& candidate_id, int64_t entry) {
    storage::EventRow event = NewEvent(integration);
    event.state = ats::v1::EVENT_STATE_SCHEDULED;
    event.source = ats::v1::EVENT_SOURCE_STAGE_TRIGGER;
    event.job_id = p.job_id;
    event.stage_id = p.first_stage_id;
    event.candidate_id = candidate_id;
    event.stage_entry = entry;
    event.due_time = now + absl::Hours(1);
    return event;
  };
  // Fired for an earlier entry of the stage: the candidate left since.
  storage::EventRow left = delayed(p.candidate_id, 2);
  // Fired for the candidate's current entry.
  storage::EventRow stayed = delayed("other", 1);
  // Fired for a candidate no longer in the job.
  storage::EventRow removed = delayed("removed", 1);
  Insert(left);
  Insert(stayed);
  Insert(removed);

  StartDispatcher(TestOptions());
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(Get(left.id).state, ats::v1::EVENT_STATE_SCHEDULED);  // Not due.
  clock_.Advance(absl::Hours(1));
  ASSERT_TRUE(WaitForState(stayed.id, ats::v1::EVENT_STATE_SENT));
  for (const storage::EventRow& event : {left, removed}) {
    ASSERT_TRUE(WaitForState(event.id, ats::v1::EVENT_STATE_CANCELED));
    EXPECT_EQ(Get(event.id).state_reason,
              "candidate left the stage before the delay elapsed");
    EXPECT_TRUE(Attempts(event.id).empty());
  }
  auto received = sink->Received();
  ASSERT_TRUE(received.ok());
  EXPECT_EQ(received->accepted, 1);
  EXPECT_EQ(received->deliveries.count(absl::StrCat("events/", stayed.id)), 1u);
}

TEST_F(DispatcherTest,
       InactiveIntegrationAndWebhooksOfAccountsWithoutSecretAreSkipped) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  const std::string inactive = AddIntegration(*sink, /*active=*/false);
  storage::EventRow event = NewEvent(inactive);
  Insert(event);
  storage::EventRow webhook = NewEvent("");
  webhook.webhook_uri = sink->webhook_url();
  Insert(webhook);

  StartDispatcher(TestOptions());
  ASSERT_TRUE(WaitForState(event.id, ats::v1::EVENT_STATE_SKIPPED));
  EXPECT_EQ(Get(event.id).state_reason,
            "integration deactivated before delivery");
  ASSERT_TRUE(WaitForState(webhook.id, ats::v1::EVENT_STATE_SKIPPED));
  EXPECT_EQ(Get(webhook.id).state_reason,
            "the account has no webhook signing secret; create one with "
            "AccountService.RotateWebhookSigningSecret");
  EXPECT_TRUE(Attempts(event.id).empty());
  EXPECT_TRUE(Attempts(webhook.id).empty());
  auto received = sink->Received();
  ASSERT_TRUE(received.ok());
  EXPECT_EQ(received->accepted + received->failed + received->rejected, 0);
}

TEST_F(DispatcherTest, WebhookIsSignedWithTheAccountsSecretAndSent) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  const std::string secret = server::NewWebhookSecret(random_);
  ASSERT_TRUE(store_
                  ->WriteAndWait([&](storage::Transaction& txn) {
                    return txn.accounts().SetWebhookSigningSecret(
                        account_id_, secret, clock_.Now());
                  })
                  .ok());
  // The sink accepts only what this secret signs.
  ASSERT_TRUE(sink->AddSecret(secret).ok());
  storage::EventRow webhook = NewEvent("");
  webhook.webhook_uri = sink->webhook_url();
  Insert(webhook);

  StartDispatcher(TestOptions());
  ASSERT_TRUE(WaitForState(webhook.id, ats::v1::EVENT_STATE_SENT))
      << Get(webhook.id).state_reason << "\n" << sink->Log();

  EXPECT_EQ(Get(webhook.id).attempt_count, 1);
  std::vector<storage::AttemptRow> attempts = Attempts(webhook.id);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].http_status, 200);
  auto received = sink->Received();
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(received->rejected, 0) << sink->Log();
  const std::string id = absl::StrCat("events/", webhook.id);
  ASSERT_EQ(received->deliveries.count(id), 1u);
  std::string expected_body;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(webhook.payload,
                                                          &expected_body)
                  .ok());
  EXPECT_EQ(received->bodies[id], expected_body);
}

TEST_F(DispatcherTest, WebhookSignedWithAnotherSecretIsRejectedBySink) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  // The sink knows a secret, but not the account's.
  ASSERT_TRUE(sink->AddSecret(server::NewWebhookSecret(random_)).ok());
  ASSERT_TRUE(store_
                  ->WriteAndWait([&](storage::Transaction& txn) {
                    return txn.accounts().SetWebhookSigningSecret(
                        account_id_, server::NewWebhookSecret(random_),
                        clock_.Now());
                  })
                  .ok());
  storage::EventRow webhook = NewEvent("");
  webhook.webhook_uri = sink->webhook_url();
  Insert(webhook);

  StartDispatcher(TestOptions());
  ASSERT_TRUE(WaitForState(webhook.id, ats::v1::EVENT_STATE_RETRYING));
  auto received = sink->Received();
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(received->accepted, 0);
  EXPECT_GE(received->rejected, 1);
}

TEST_F(DispatcherTest, RefusedDestinationIsDeadAtOnceAndNeverReached) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  // Public addresses only: the sink on loopback is out of bounds, however
  // its address is written. The schedule has attempts to spare, so only the
  // refusal can end the events after one.
  destinations_ = server::DestinationPolicy();
  const std::string port = absl::StrCat(sink->port());
  std::vector<storage::EventRow> events;
  for (const std::string& url :
       {absl::StrCat("http://localhost:", port, "/webhooks"),
        absl::StrCat("http://127.0.0.1:", port, "/webhooks"),
        absl::StrCat("http://2130706433:", port, "/webhooks")}) {
    events.push_back(NewEvent(AddIntegration(*sink, true, url)));
  }
  ASSERT_TRUE(store_
                  ->WriteAndWait([&](storage::Transaction& txn) {
                    return txn.accounts().SetWebhookSigningSecret(
                        account_id_, server::NewWebhookSecret(random_),
                        clock_.Now());
                  })
                  .ok());
  storage::EventRow webhook = NewEvent("");
  webhook.webhook_uri = absl::StrCat("http://localhost:", port, "/webhooks");
  events.push_back(webhook);
  for (const storage::EventRow& event : events) Insert(event);

  StartDispatcher(TestOptions());
  for (const storage::EventRow& event : events) {
    ASSERT_TRUE(WaitForState(event.id, ats::v1::EVENT_STATE_DEAD))
        << ats::v1::EventState_Name(Get(event.id).state) << ": "
        << Get(event.id).state_reason;
    const storage::EventRow dead = Get(event.id);
    EXPECT_EQ(dead.attempt_count, 1);
    std::vector<storage::AttemptRow> attempts = Attempts(event.id);
    ASSERT_EQ(attempts.size(), 1u);
    EXPECT_EQ(attempts[0].http_status, 0);
    // localhost may resolve to ::1 as well as to 127.0.0.1.
    EXPECT_TRUE(absl::StrContains(
        attempts[0].error,
        "destination 127.0.0.1 is not allowed: loopback (127.0.0.0/8)"))
        << attempts[0].error;
    EXPECT_EQ(dead.state_reason, attempts[0].error);
  }
  auto received = sink->Received();
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(received->accepted + received->duplicates + received->failed +
                received->rejected,
            0);
}

TEST_F(DispatcherTest, ExpiredLeaseIsDeliveredAgain) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  const std::string integration = AddIntegration(*sink);
  const storage::EventRow orphan =
      InsertOrphan(integration, clock_.Now() - absl::Seconds(1));

  StartDispatcher(TestOptions());
  ASSERT_TRUE(WaitForState(orphan.id, ats::v1::EVENT_STATE_SENT));
  EXPECT_EQ(Get(orphan.id).attempt_count, 2);
  EXPECT_EQ(Attempts(orphan.id).size(), 1u);
}

TEST_F(DispatcherTest, AStoreOfItsOwnCountsOnlyItsOwnDeliveries) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  const std::string integration = AddIntegration(*sink);
  // A lease still live, for a request nobody is making any more.
  const storage::EventRow orphan =
      InsertOrphan(integration, clock_.Now() + absl::Hours(1));
  storage::EventRow fresh = NewEvent(integration);
  Insert(fresh);

  DispatcherOptions options = TestOptions();
  options.max_in_flight_per_destination = 1;
  options.store_shared = false;
  StartDispatcher(options);
  ASSERT_TRUE(WaitForState(fresh.id, ats::v1::EVENT_STATE_SENT));
  EXPECT_EQ(StateOf(orphan.id), ats::v1::EVENT_STATE_SENDING);
}

TEST_F(DispatcherTest, LeaseKeepsAnotherDispatcherOffUntilItExpires) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  const std::string integration = AddIntegration(*sink);
  storage::EventRow event = NewEvent(integration);
  Insert(event);

  DispatcherOptions options = TestOptions();
  options.lease = absl::Seconds(30);
  options.stop_grace = absl::Seconds(5);
  HeldConnector held;
  Dispatcher& first = StartDispatcher(options, &held);
  // However the test ends, the held delivery returns before `held` goes.
  absl::Cleanup stop = [&] {
    held.Release();
    first.Stop();
  };
  const absl::Time deadline = absl::Now() + kWait;
  while (held.calls() == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(held.calls(), 1);
  storage::EventRow claimed = Get(event.id);
  EXPECT_EQ(claimed.state, ats::v1::EVENT_STATE_SENDING);
  EXPECT_EQ(claimed.lease_expire_time, Stored(clock_.Now() + absl::Seconds(30)));

  // A second dispatcher leaves it alone while the lease holds...
  StartDispatcher(options);
  clock_.Advance(absl::Seconds(29));
  absl::SleepFor(absl::Milliseconds(300));
  auto received = sink->Received();
  ASSERT_TRUE(received.ok());
  EXPECT_EQ(received->accepted, 0);
  EXPECT_EQ(Get(event.id).state, ats::v1::EVENT_STATE_SENDING);

  // ...and sends it once the lease expires (the first one looks dead).
  clock_.Advance(absl::Seconds(2));
  ASSERT_TRUE(WaitForState(event.id, ats::v1::EVENT_STATE_SENT));
  EXPECT_EQ(Get(event.id).attempt_count, 2);

  // The first one's late answer is recorded but changes nothing.
  held.Release();
  first.Stop();
  storage::EventRow sent = Get(event.id);
  EXPECT_EQ(sent.state, ats::v1::EVENT_STATE_SENT);
  EXPECT_EQ(sent.attempt_count, 2);
  EXPECT_EQ(Attempts(event.id).size(), 2u);
}

TEST_F(DispatcherTest, ADestinationsLimitHoldsForEveryDispatcherTogether) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  const std::string integration = AddIntegration(*sink);
  std::vector<storage::EventRow> events;
  for (int i = 0; i < 3; ++i) {
    events.push_back(NewEvent(integration));
    Insert(events.back());
  }
  DispatcherOptions options = TestOptions();
  options.max_in_flight_per_destination = 1;
  options.stop_grace = absl::Seconds(5);
  // Two dispatchers on one store, as two servers sharing a database.
  HeldConnector first_held;
  HeldConnector second_held;
  Dispatcher& first = StartDispatcher(options, &first_held);
  Dispatcher* second = nullptr;
  absl::Cleanup stop = [&] {
    first_held.Release();
    second_held.Release();
    first.Stop();
    if (second != nullptr) second->Stop();
  };
  const absl::Time deadline = absl::Now() + kWait;
  while (first_held.calls() == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(first_held.calls(), 1);

  // The second has a window of its own, but the destination's one delivery
  // is under way already.
  second = &StartDispatcher(options, &second_held);
  second->Wake();
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(second_held.calls(), 0);
  int sending = 0;
  for (const storage::EventRow& event : events) {
    if (Get(event.id).state == ats::v1::EVENT_STATE_SENDING) ++sending;
  }
  EXPECT_EQ(sending, 1);
}

TEST_F(DispatcherTest, HangingPartnerDoesNotBlockOtherIntegrations) {
  auto slow_sink = StartSink();
  auto fast_sink = StartSink();
  ASSERT_NE(slow_sink, nullptr);
  ASSERT_NE(fast_sink, nullptr);
  const std::string slow = AddIntegration(*slow_sink);
  const std::string fast = AddIntegration(*fast_sink);
  ASSERT_TRUE(slow_sink->SetBehaviour(R"({"delay_ms": 5000})").ok());
  // The slow partner's events come due first.
  std::vector<storage::EventRow> slow_events;
  for (int i = 0; i < 6; ++i) {
    slow_events.push_back(NewEvent(slow));
    slow_events.back().due_time -= absl::Seconds(10 - i);
    Insert(slow_events.back());
  }
  std::vector<storage::EventRow> fast_events;
  for (int i = 0; i < 6; ++i) {
    fast_events.push_back(NewEvent(fast));
    Insert(fast_events.back());
  }

  DispatcherOptions options = TestOptions();
  options.max_in_flight = 4;
  options.max_in_flight_per_destination = 2;
  options.claim_batch = 2;
  options.stop_grace = absl::ZeroDuration();
  StartDispatcher(options, nullptr, absl::Seconds(15));
  for (const storage::EventRow& event : fast_events) {
    ASSERT_TRUE(WaitForState(event.id, ats::v1::EVENT_STATE_SENT));
  }
  // Meanwhile the slow partner, which has not answered yet, holds one
  // delivery: concurrency is earned by answering.
  int sending = 0;
  for (const storage::EventRow& event : slow_events) {
    const EventState state = Get(event.id).state;
    EXPECT_NE(state, ats::v1::EVENT_STATE_SENT);
    if (state == ats::v1::EVENT_STATE_SENDING) ++sending;
  }
  EXPECT_EQ(sending, 1);
  auto received = slow_sink->Received();
  ASSERT_TRUE(received.ok());
  EXPECT_LE(received->accepted, 1);
}

TEST_F(DispatcherTest, AnIdleDestinationStartsWhateverHangingOnesHold) {
  auto hanging_sink = StartSink();
  auto fast_sink = StartSink();
  ASSERT_NE(hanging_sink, nullptr);
  ASSERT_NE(fast_sink, nullptr);
  ASSERT_TRUE(hanging_sink->SetBehaviour(R"({"delay_ms": 10000})").ok());
  // More hanging partners than the whole pool, each with a backlog that
  // comes due first.
  std::vector<storage::EventRow> hanging_events;
  for (int partner = 0; partner < 3; ++partner) {
    const std::string hanging = AddIntegration(*hanging_sink);
    for (int i = 0; i < 4; ++i) {
      hanging_events.push_back(NewEvent(hanging));
      hanging_events.back().due_time -= absl::Seconds(10);
      Insert(hanging_events.back());
    }
  }
  DispatcherOptions options = TestOptions();
  options.max_in_flight = 2;
  options.max_in_flight_per_destination = 8;
  options.stop_grace = absl::ZeroDuration();
  StartDispatcher(options, nullptr, absl::Seconds(15));
  // Every hanging partner gets its first delivery, and no more: none has
  // answered.
  for (int partner = 0; partner < 3; ++partner) {
    ASSERT_TRUE(WaitForState(hanging_events[partner * 4].id,
                             ats::v1::EVENT_STATE_SENDING));
  }

  const std::string fast = AddIntegration(*fast_sink);
  std::vector<storage::EventRow> fast_events;
  for (int i = 0; i < 6; ++i) {
    fast_events.push_back(NewEvent(fast));
    Insert(fast_events.back());
  }
  for (const storage::EventRow& event : fast_events) {
    ASSERT_TRUE(WaitForState(event.id, ats::v1::EVENT_STATE_SENT))
        << Get(event.id).state_reason;
  }
  int sending = 0;
  for (const storage::EventRow& event : hanging_events) {
    if (Get(event.id).state == ats::v1::EVENT_STATE_SENDING) ++sending;
  }
  EXPECT_EQ(sending, 3);
}

TEST_F(DispatcherTest, OneAccountsHangingWebhookHostHoldsNoOtherAccounts) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  // The same host for both accounts; only the first account's path hangs.
  ASSERT_TRUE(sink->SetBehaviour(
                      R"({"delay_ms": 10000, "path": "/webhooks/hanging"})")
                  .ok());
  const std::string other_account = server::NewResourceId(random_);
  const std::string secret = server::NewWebhookSecret(random_);
  const std::string other_secret = server::NewWebhookSecret(random_);
  ASSERT_TRUE(store_
                  ->WriteAndWait([&](storage::Transaction& txn) {
                    storage::AccountRow account;
                    account.id = other_account;
                    account.display_name = "Globex";
                    account.create_time = clock_.Now();
                    absl::Status status = txn.accounts().InsertAccount(account);
                    if (!status.ok()) return status;
                    status = txn.accounts().SetWebhookSigningSecret(
                        account_id_, secret, clock_.Now());
                    if (!status.ok()) return status;
                    return txn.accounts().SetWebhookSigningSecret(
                        other_account, other_secret, clock_.Now());
                  })
                  .ok());
  ASSERT_TRUE(sink->AddSecret(secret).ok());
  ASSERT_TRUE(sink->AddSecret(other_secret).ok());
  for (int i = 0; i < 4; ++i) {
    storage::EventRow hanging = NewEvent("");
    hanging.webhook_uri = sink->webhook_url() + "/hanging";
    hanging.due_time -= absl::Seconds(10);
    Insert(hanging);
  }
  storage::EventRow other = NewEvent("");
  other.account_id = other_account;
  other.webhook_uri = sink->webhook_url();
  Insert(other);

  DispatcherOptions options = TestOptions();
  options.max_in_flight = 1;
  options.max_in_flight_per_destination = 1;
  options.stop_grace = absl::ZeroDuration();
  StartDispatcher(options, nullptr, absl::Seconds(15));
  const absl::Time deadline = absl::Now() + kWait;
  EventState state = ats::v1::EVENT_STATE_PENDING;
  while (state != ats::v1::EVENT_STATE_SENT && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
    ASSERT_TRUE(store_
                    ->Read([&](storage::Transaction& txn) {
                      auto event = txn.events().GetEvent(
                          other_account, other.id,
                          storage::PayloadParts::kShown);
                      if (!event.ok()) return event.status();
                      state = event->state;
                      return absl::OkStatus();
                    })
                    .ok());
  }
  EXPECT_EQ(state, ats::v1::EVENT_STATE_SENT);
}

TEST_F(DispatcherTest, AnUnreadableSigningSecretKillsOnlyItsOwnEvents) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  const std::string broken = AddIntegration(*sink);
  const std::string healthy = AddIntegration(*sink);
  // The sealed secret is altered behind the server's back.
  {
    auto db = storage::sqlite::Connection::Open(
        dir_ + "/ats.db", storage::sqlite::ConnectionOptions());
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE((*db)
                    ->Prepare("UPDATE integrations SET signing_secret = "
                              "'sealed:v1:0000000000000000:AAAA' WHERE id = ?1")
                    .Bind(1, std::string_view(broken))
                    .Run()
                    .ok());
  }
  storage::EventRow lost = NewEvent(broken);
  storage::EventRow fine = NewEvent(healthy);
  Insert(lost);
  Insert(fine);

  StartDispatcher(TestOptions());
  ASSERT_TRUE(WaitForState(fine.id, ats::v1::EVENT_STATE_SENT));
  ASSERT_TRUE(WaitForState(lost.id, ats::v1::EVENT_STATE_DEAD));
  EXPECT_TRUE(absl::StrContains(Get(lost.id).state_reason,
                                "cannot be read"))
      << Get(lost.id).state_reason;
}

TEST_F(DispatcherTest, AnUndecodablePayloadKillsOnlyItsOwnEvent) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  const std::string integration = AddIntegration(*sink);
  storage::EventRow lost = NewEvent(integration);
  storage::EventRow fine = NewEvent(integration);
  Insert(lost);
  Insert(fine);
  // The stored payload is altered behind the server's back: tag 0 starts no
  // valid encoding.
  {
    auto db = storage::sqlite::Connection::Open(
        dir_ + "/ats.db", storage::sqlite::ConnectionOptions());
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE(
        (*db)
            ->Prepare("UPDATE events SET payload = x'0000' WHERE id = ?1")
            .Bind(1, std::string_view(lost.id))
            .Run()
            .ok());
  }

  StartDispatcher(TestOptions());
  ASSERT_TRUE(WaitForState(fine.id, ats::v1::EVENT_STATE_SENT));
  ASSERT_TRUE(WaitForState(lost.id, ats::v1::EVENT_STATE_DEAD));
  const std::string reason =
      Get(lost.id, storage::PayloadParts::kNone).state_reason;
  EXPECT_TRUE(absl::StrContains(reason, "does not decode")) << reason;
  EXPECT_EQ(Attempts(lost.id).size(), 1u);
  auto received = sink->Received();
  ASSERT_TRUE(received.ok());
  EXPECT_EQ(received->accepted, 1);
}

// Not a timing assertion: measures how fast events reach a local sink with
// the default limits (4 integrations, so the per-destination limit does not
// cap the overall one) and prints it. ATS_THROUGHPUT_EVENTS sets how many
// (default 2000), ATS_THROUGHPUT_IN_FLIGHT the overall limit (the
// per-destination one is a quarter of it), ATS_THROUGHPUT_CLAIM_BATCH the
// claim batch. Run:
//   build/tests/delivery/dispatcher_test --gtest_filter='*Throughput*'
TEST_F(DispatcherTest,
       AnUnreadableAccountSecretNeitherNotifiesNorBlocksClaims) {
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  const std::string integration = AddIntegration(*sink);
  ASSERT_TRUE(store_
                  ->WriteAndWait([&](storage::Transaction& txn) {
                    absl::Status set = txn.accounts().SetWebhookSigningSecret(
                        account_id_, server::NewWebhookSecret(random_),
                        clock_.Now());
                    if (!set.ok()) return set;
                    auto account = txn.accounts().GetAccount(account_id_);
                    if (!account.ok()) return account.status();
                    account->notification_uri = sink->webhook_url();
                    return txn.accounts().UpdateAccount(*account);
                  })
                  .ok());
  // The account's sealed secret is altered behind the server's back: its
  // webhook events die, and its notifications cannot be signed.
  {
    auto db = storage::sqlite::Connection::Open(
        dir_ + "/ats.db", storage::sqlite::ConnectionOptions());
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE((*db)
                    ->Prepare("UPDATE accounts SET webhook_signing_secret = "
                              "'sealed:v1:0000000000000000:AAAA' WHERE id = ?1")
                    .Bind(1, std::string_view(account_id_))
                    .Run()
                    .ok());
  }
  storage::EventRow webhook = NewEvent("");
  webhook.webhook_uri = sink->webhook_url();
  Insert(webhook);

  StartDispatcher(TestOptions());
  ASSERT_TRUE(WaitForState(webhook.id, ats::v1::EVENT_STATE_DEAD));
  EXPECT_TRUE(absl::StrContains(Get(webhook.id).state_reason, "cannot be read"))
      << Get(webhook.id).state_reason;
  // Claims go on: the integration's next event, claimed after the death,
  // is delivered.
  storage::EventRow fine = NewEvent(integration);
  Insert(fine);
  ASSERT_TRUE(WaitForState(fine.id, ats::v1::EVENT_STATE_SENT));
  // And the death notified nothing.
  absl::Status listed = store_->Read([&](storage::Transaction& txn) {
    auto page =
        txn.events().ListEvents(account_id_, {}, storage::PageRequest{{}, 100});
    if (!page.ok()) return page.status();
    EXPECT_EQ(page->rows.size(), 2u);
    return absl::OkStatus();
  });
  EXPECT_TRUE(listed.ok()) << listed;
}

TEST_F(DispatcherTest, ThroughputToLocalSink) {
  int count = 2000;
  if (const char* env = std::getenv("ATS_THROUGHPUT_EVENTS"); env != nullptr) {
    count = std::max(1, std::atoi(env));
  }
  auto sink = StartSink();
  ASSERT_NE(sink, nullptr);
  std::vector<std::string> integrations;
  for (int i = 0; i < 4; ++i) integrations.push_back(AddIntegration(*sink));
  absl::Status status = store_->WriteAndWait([&](storage::Transaction& txn) {
    for (int i = 0; i < count; ++i) {
      absl::Status inserted = txn.events().InsertEvent(
          NewEvent(integrations[i % integrations.size()]));
      if (!inserted.ok()) return inserted;
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;

  // Watching the connector costs nothing; the store is read (and the sink
  // asked) only once every delivery has been answered.
  server::HttpConnectorOptions http_options;
  http_options.destinations = destinations_;
  server::HttpConnector http(system_clock_, http_options);
  CountingConnector counting(http);
  const absl::Time start = absl::Now();
  DispatcherOptions options;  // The defaults ats-server runs with.
  if (const char* env = std::getenv("ATS_THROUGHPUT_IN_FLIGHT")) {
    options.max_in_flight = std::max(4, std::atoi(env));
    options.max_in_flight_per_destination = options.max_in_flight / 4;
  }
  if (const char* env = std::getenv("ATS_THROUGHPUT_CLAIM_BATCH")) {
    options.claim_batch = std::max(1, std::atoi(env));
  }
  Dispatcher& dispatcher = StartDispatcher(options, &counting);
  // Stopped before the connectors above go away, however the test ends.
  absl::Cleanup stop = [&dispatcher] { dispatcher.Stop(); };
  const absl::Time deadline = start + absl::Seconds(120);
  while (counting.successes() < count && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  int sent = 0;
  while (sent < count && absl::Now() < deadline) {
    status = store_->Read([&](storage::Transaction& txn) {
      storage::EventFilter filter;
      filter.state = ats::v1::EVENT_STATE_SENT;
      auto page = txn.events().ListEvents(account_id_, filter,
                                          {{}, count + 1});
      if (!page.ok()) return page.status();
      sent = static_cast<int>(page->rows.size());
      return absl::OkStatus();
    });
    ASSERT_TRUE(status.ok()) << status;
    if (sent < count) absl::SleepFor(absl::Milliseconds(5));
  }
  const absl::Duration elapsed = absl::Now() - start;
  ASSERT_EQ(sent, count);
  auto received = sink->Received();
  ASSERT_TRUE(received.ok());
  EXPECT_EQ(received->accepted, count);
  std::printf("throughput: %d events SENT to a local partner-sink in %.2f s: "
              "%.0f events/s (signed HTTP POST, attempt recorded)\n",
              count, absl::ToDoubleSeconds(elapsed),
              count / absl::ToDoubleSeconds(elapsed));
}

}  // namespace
}  // namespace ats::testing
