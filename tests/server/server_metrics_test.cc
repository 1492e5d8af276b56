// The server's metrics (server/server_metrics.h) fed as the store feeds
// them, and read from a real SQLite store; and the HTTP endpoint that
// serves them (server/metrics_endpoint.h), scraped with a real HTTP client.
// Every exposition is read back by the prometheus_client parser.

#include "server/server_metrics.h"

#include <httplib.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/metrics_endpoint.h"
#include "storage/store.h"
#include "tests/support/metrics_text.h"
#include "tests/support/temp_dir.h"

namespace ats::server {
namespace {

using ::ats::testing::MetricSamples;
using ::ats::testing::ParseMetricsText;
using ::ats::testing::SampleOr0;
using ::ats::testing::TempDir;
using ats::v1::EventState;

constexpr char kAccount[] = "acct";

MetricSamples Parsed(metrics::Registry& registry) {
  absl::StatusOr<MetricSamples> samples = ParseMetricsText(registry.Expose());
  EXPECT_TRUE(samples.ok()) << samples.status() << "\n" << registry.Expose();
  return samples.value_or(MetricSamples());
}

storage::EventStateChange Change(const std::string& integration,
                                 EventState from, EventState to,
                                 absl::Time due = absl::InfinitePast()) {
  return storage::EventStateChange{integration, from, to, due};
}

// An event of a webhook trigger (no integration to refer to), due at `due`.
storage::EventRow WebhookEvent(const std::string& id, absl::Time due) {
  storage::EventRow event;
  event.account_id = kAccount;
  event.id = id;
  event.webhook_uri = "https://hooks.example/x";
  event.candidate_id = "c1";
  event.source = ats::v1::EVENT_SOURCE_MANUAL;
  event.create_time = event.update_time = event.due_time = due;
  return event;
}

TEST(ServerMetricsTest, CountsEventsByABoundedSetOfIntegrations) {
  FakeClock clock;
  ServerMetrics metrics(clock, /*integration_labels=*/1);
  const storage::StoreObserver observer = metrics.StoreObserver();
  constexpr EventState kNew = ats::v1::EVENT_STATE_UNSPECIFIED;
  observer.events_changed({
      Change("int-1", kNew, ats::v1::EVENT_STATE_PENDING),
      // A second integration is past the budget of one: "other".
      Change("int-2", kNew, ats::v1::EVENT_STATE_PENDING),
      Change("", kNew, ats::v1::EVENT_STATE_PENDING),
      Change("int-1", kNew, ats::v1::EVENT_STATE_SKIPPED),
      Change("int-1", ats::v1::EVENT_STATE_PENDING,
             ats::v1::EVENT_STATE_SENDING),
      Change("int-1", ats::v1::EVENT_STATE_SENDING, ats::v1::EVENT_STATE_SENT,
             clock.Now() - absl::Seconds(2)),
      // Reported by the partner while a retry waited: sent, but no lag.
      Change("int-2", ats::v1::EVENT_STATE_RETRYING, ats::v1::EVENT_STATE_SENT),
      Change("int-1", ats::v1::EVENT_STATE_SENT, ats::v1::EVENT_STATE_FAILED),
      Change("int-2", ats::v1::EVENT_STATE_SENDING, ats::v1::EVENT_STATE_DEAD),
      Change("", ats::v1::EVENT_STATE_PENDING, ats::v1::EVENT_STATE_SKIPPED),
  });
  observer.batch_committed(3);
  observer.batch_run_again();

  const MetricSamples samples = Parsed(metrics.registry());
  const MetricSamples expected = {
      {"ats_events_created_total{integration=\"integrations/int-1\"}", 2},
      {"ats_events_created_total{integration=\"other\"}", 1},
      {"ats_events_created_total{integration=\"webhook\"}", 1},
      {"ats_events_skipped_total{integration=\"integrations/int-1\"}", 1},
      {"ats_events_skipped_total{integration=\"webhook\"}", 1},
      {"ats_events_sent_total{integration=\"integrations/int-1\"}", 1},
      {"ats_events_sent_total{integration=\"other\"}", 1},
      {"ats_events_failed_total{integration=\"integrations/int-1\"}", 1},
      {"ats_events_dead_total{integration=\"other\"}", 1},
      {"ats_delivery_lag_seconds_count", 1},
      {"ats_delivery_lag_seconds_sum", 2},
      {"ats_delivery_lag_seconds_bucket{le=\"1\"}", 0},
      {"ats_delivery_lag_seconds_bucket{le=\"2.5\"}", 1},
      {"ats_storage_commit_batch_writes_count", 1},
      {"ats_storage_commit_batch_writes_bucket{le=\"2\"}", 0},
      {"ats_storage_commit_batch_writes_bucket{le=\"4\"}", 1},
      {"ats_storage_commit_batches_run_again_total", 1},
  };
  for (const auto& [series, value] : expected) {
    ASSERT_EQ(samples.count(series), 1u) << series;
    EXPECT_EQ(samples.at(series), value) << series;
  }
  // Nothing labelled int-2, and three labels in all.
  for (const auto& [series, value] : samples) {
    EXPECT_EQ(series.find("int-2"), std::string::npos) << series;
  }
  int created_labels = 0;
  for (const auto& [series, value] : samples) {
    created_labels += series.rfind("ats_events_created_total{", 0) == 0;
  }
  EXPECT_EQ(created_labels, 3);
}

class ServerMetricsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::SqliteStoreOptions options;
    options.path = dir_.File("ats.db");
    options.observer = metrics_.StoreObserver();
    auto store = storage::OpenSqliteStore(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auth_ =
        std::make_unique<Authenticator>(*store_, RateLimitOptions(), clock_);
    ASSERT_TRUE(store_
                    ->WriteAndWait([](storage::Transaction& txn) {
                      return txn.accounts().InsertAccount(
                          {kAccount, "Account", absl::UnixEpoch(), "", {}, ""});
                    })
                    .ok());
  }

  absl::Status Insert(const storage::EventRow& event) {
    return store_->WriteAndWait([&](storage::Transaction& txn) {
      return txn.events().InsertEvent(event);
    });
  }

  TempDir dir_;
  FakeClock clock_;
  ServerMetrics metrics_{clock_, 10};
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Authenticator> auth_;
};

TEST_F(ServerMetricsStoreTest, ReadsTheDueQueueAtMostOnceASecond) {
  ASSERT_TRUE(
      Insert(WebhookEvent("e1", clock_.Now() - absl::Seconds(30))).ok());
  ASSERT_TRUE(Insert(WebhookEvent("e2", clock_.Now() - absl::Seconds(5))).ok());
  ASSERT_TRUE(
      Insert(WebhookEvent("later", clock_.Now() + absl::Hours(1))).ok());
  metrics_.Refresh(*store_, /*dispatcher=*/nullptr, *auth_);
  MetricSamples samples = Parsed(metrics_.registry());
  EXPECT_EQ(SampleOr0(samples, "ats_delivery_due_events"), 2);
  EXPECT_EQ(SampleOr0(samples, "ats_delivery_oldest_due_age_seconds"), 30);
  EXPECT_EQ(SampleOr0(samples, "ats_bulk_operations_running"), 0);
  EXPECT_EQ(SampleOr0(samples, "ats_storage_write_queue_length"), 0);
  EXPECT_GT(SampleOr0(samples, "ats_storage_wal_bytes"), 0);
  EXPECT_EQ(
      SampleOr0(samples, "ats_events_created_total{integration=\"webhook\"}"),
      3);
  EXPECT_EQ(samples.count("ats_delivery_in_flight{destination=\"webhook\"}"),
            1u);

  // Within the second, the read is not repeated; after it, it is.
  ASSERT_TRUE(Insert(WebhookEvent("e3", clock_.Now())).ok());
  clock_.Advance(absl::Milliseconds(500));
  metrics_.Refresh(*store_, nullptr, *auth_);
  EXPECT_EQ(SampleOr0(Parsed(metrics_.registry()), "ats_delivery_due_events"),
            2);
  clock_.Advance(absl::Milliseconds(500));
  metrics_.Refresh(*store_, nullptr, *auth_);
  samples = Parsed(metrics_.registry());
  EXPECT_EQ(SampleOr0(samples, "ats_delivery_due_events"), 3);
  EXPECT_EQ(SampleOr0(samples, "ats_delivery_oldest_due_age_seconds"), 31);
}

TEST(MetricsEndpointTest, ServesTheRegistryAtMetricsOnly) {
  metrics::Registry registry;
  metrics::Counter& scrapes =
      registry.AddCounter("scrapes_total", "Scrapes served.").With({});
  std::atomic<int> refreshes{0};
  auto endpoint = MetricsEndpoint::Start("127.0.0.1", 0, registry, [&] {
    ++refreshes;
    scrapes.Increment();
  });
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  ASSERT_GT((*endpoint)->port(), 0);

  httplib::Client client("127.0.0.1", (*endpoint)->port());
  for (int i = 1; i <= 2; ++i) {
    httplib::Result result = client.Get("/metrics");
    ASSERT_TRUE(result) << httplib::to_string(result.error());
    EXPECT_EQ(result->status, 200);
    EXPECT_EQ(result->get_header_value("Content-Type"),
              metrics::kExpositionContentType);
    absl::StatusOr<MetricSamples> samples = ParseMetricsText(result->body);
    ASSERT_TRUE(samples.ok()) << samples.status();
    // Refreshed before each answer.
    EXPECT_EQ(SampleOr0(*samples, "scrapes_total"), i);
  }
  httplib::Result other = client.Get("/");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
  EXPECT_EQ(refreshes, 2);

  (*endpoint)->Stop();
  (*endpoint)->Stop();
  EXPECT_FALSE(client.Get("/metrics"));
}

TEST(MetricsEndpointTest, AnAddressInUseFailsTheStart) {
  metrics::Registry registry;
  auto first = MetricsEndpoint::Start("127.0.0.1", 0, registry, [] {});
  ASSERT_TRUE(first.ok()) << first.status();
  auto second =
      MetricsEndpoint::Start("127.0.0.1", (*first)->port(), registry, [] {});
  EXPECT_TRUE(absl::IsUnavailable(second.status())) << second.status();
}

}  // namespace
}  // namespace ats::server
