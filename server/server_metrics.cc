#include "server/server_metrics.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/contract/errors.h"
#include "server/domain/marketplace.h"
#include "spdlog/spdlog.h"

namespace ats::server {
namespace {

// Scrapes closer together than this share one read of the database.
constexpr absl::Duration kDatabaseReadInterval = absl::Seconds(1);

constexpr char kWebhookLabel[] = "webhook";
constexpr char kOtherLabel[] = "other";

// How delivery destinations of webhook triggers are spelled (see
// storage/delivery_destination.cc); every other destination is an
// integration id.
constexpr absl::string_view kWebhookDestinationPrefix = "webhook:";

metrics::Family<metrics::Counter>& EventCounter(metrics::Registry& registry,
                                                const char* name,
                                                const char* help) {
  return registry.AddCounter(name, help, {"integration"});
}

metrics::Gauge& Gauge(metrics::Registry& registry, const char* name,
                      const char* help) {
  return registry.AddGauge(name, help).With({});
}

}  // namespace

struct ServerMetrics::IntegrationSeries {
  metrics::Counter& created;
  metrics::Counter& sent;
  metrics::Counter& failed;
  metrics::Counter& dead;
  metrics::Counter& skipped;
  metrics::Gauge& in_flight;
};

ServerMetrics::ServerMetrics(const Clock& clock, int integration_labels)
    : clock_(clock),
      integration_labels_(std::max(0, integration_labels)),
      created_(EventCounter(
          registry_, "ats_events_created_total",
          "Events created (those created SKIPPED included), by integration.")),
      sent_(EventCounter(registry_, "ats_events_sent_total",
                         "Events that became SENT: the partner accepted "
                         "them (or reported a result while a retry "
                         "waited), by integration.")),
      failed_(EventCounter(registry_, "ats_events_failed_total",
                           "Events that became FAILED: the partner "
                           "reported a failure, by integration.")),
      dead_(EventCounter(registry_, "ats_events_dead_total",
                         "Events that became DEAD: delivery given up, by "
                         "integration.")),
      skipped_(EventCounter(registry_, "ats_events_skipped_total",
                            "Events that became SKIPPED: never to be sent "
                            "(an inactive integration...), by integration.")),
      due_events_(Gauge(registry_, "ats_delivery_due_events",
                        "Events due for delivery and not under way: the "
                        "dispatchers' queue.")),
      oldest_due_age_(Gauge(registry_, "ats_delivery_oldest_due_age_seconds",
                            "How long the event due longest has been due "
                            "(0 when none is).")),
      in_flight_(registry_.AddGauge(
          "ats_delivery_in_flight",
          "Deliveries under way (HTTP requests not yet answered) from this "
          "server, by destination.",
          {"destination"})),
      lag_(registry_
               .AddHistogram(
                   "ats_delivery_lag_seconds",
                   "From an event coming due (its creation, the end of its "
                   "delay, or its retry time) to its SENT state being "
                   "committed.",
                   {},
                   {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
                    300, 900, 3600})
               .With({})),
      write_queue_length_(Gauge(registry_, "ats_storage_write_queue_length",
                                "Writes waiting for the store's writer.")),
      batch_writes_(registry_
                        .AddHistogram("ats_storage_commit_batch_writes",
                                      "Writes that shared one group commit.",
                                      {},
                                      {1, 2, 4, 8, 16, 32, 64, 128, 256, 512})
                        .With({})),
      batches_run_again_(
          registry_
              .AddCounter("ats_storage_commit_batches_run_again_total",
                          "Group commits rolled back and run again, each "
                          "write in a savepoint of its own, because one of "
                          "their writes failed (SQLite).",
                          {})
              .With({})),
      wal_bytes_(Gauge(registry_, "ats_storage_wal_bytes",
                       "Bytes in the SQLite write-ahead log after the latest "
                       "commit.")),
      bulk_running_(Gauge(registry_, "ats_bulk_operations_running",
                          "Bulk operations RUNNING, in every account.")),
      rejections_(registry_.AddCounter(
          "ats_rate_limit_rejections_total",
          "Calls refused by a rate limit, by limit: api_key (--rate_limit) "
          "or client_address (--auth_failure_limit).",
          {"limit"})),
      key_rejections_(rejections_.With({"api_key"})),
      address_rejections_(rejections_.With({"client_address"})) {
  absl::MutexLock lock(&mu_);
  webhook_ = MakeSeries(kWebhookLabel);
  other_ = MakeSeries(kOtherLabel);
}

ServerMetrics::~ServerMetrics() = default;

storage::StoreObserver ServerMetrics::StoreObserver() {
  storage::StoreObserver observer;
  observer.batch_committed = [this](int64_t writes) { BatchCommitted(writes); };
  observer.batch_run_again = [this] { batches_run_again_.Increment(); };
  observer.events_changed =
      [this](const std::vector<storage::EventStateChange>& changes) {
        EventsChanged(changes);
      };
  return observer;
}

void ServerMetrics::BatchCommitted(int64_t writes) {
  batch_writes_.Observe(static_cast<double>(writes));
}

void ServerMetrics::EventsChanged(
    const std::vector<storage::EventStateChange>& changes) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  for (const storage::EventStateChange& change : changes) {
    IntegrationSeries& series = ForIntegration(change.integration_id);
    if (change.from == ats::v1::EVENT_STATE_UNSPECIFIED) {
      series.created.Increment();
    }
    switch (change.to) {
      case ats::v1::EVENT_STATE_SENT:
        series.sent.Increment();
        // Delivered by a dispatcher, rather than reported by the partner
        // while a retry waited.
        if (change.from == ats::v1::EVENT_STATE_SENDING) {
          lag_.Observe(absl::ToDoubleSeconds(now - change.due_time));
        }
        break;
      case ats::v1::EVENT_STATE_FAILED:
        series.failed.Increment();
        break;
      case ats::v1::EVENT_STATE_DEAD:
        series.dead.Increment();
        break;
      case ats::v1::EVENT_STATE_SKIPPED:
        series.skipped.Increment();
        break;
      default:
        break;
    }
  }
}

std::unique_ptr<ServerMetrics::IntegrationSeries> ServerMetrics::MakeSeries(
    const std::string& label) {
  return std::unique_ptr<IntegrationSeries>(new IntegrationSeries{
      created_.With({label}), sent_.With({label}), failed_.With({label}),
      dead_.With({label}), skipped_.With({label}), in_flight_.With({label})});
}

ServerMetrics::IntegrationSeries& ServerMetrics::ForIntegration(
    absl::string_view id) {
  if (id.empty() || absl::StartsWith(id, kWebhookDestinationPrefix)) {
    return *webhook_;
  }
  auto it = integrations_.find(id);
  if (it != integrations_.end()) return *it->second;
  if (static_cast<int>(integrations_.size()) >= integration_labels_) {
    return *other_;
  }
  const std::string key(id);
  return *integrations_.emplace(key, MakeSeries(IntegrationName(key)))
              .first->second;
}

void ServerMetrics::Refresh(storage::Store& store, Dispatcher* dispatcher,
                            const Authenticator& auth) {
  absl::MutexLock lock(&refresh_mu_);
  const storage::StoreStats stats = store.Stats();
  write_queue_length_.Set(static_cast<double>(stats.queued_writes));
  wal_bytes_.Set(static_cast<double>(stats.wal_bytes));
  const RateLimitRejections rejections = auth.rate_limit_rejections();
  key_rejections_.IncrementTo(rejections.api_key);
  address_rejections_.IncrementTo(rejections.client_address);
  RefreshInFlight(dispatcher);
  RefreshDatabase(store);
}

void ServerMetrics::RefreshInFlight(Dispatcher* dispatcher) {
  const std::map<std::string, int> by_destination =
      dispatcher == nullptr ? std::map<std::string, int>()
                            : dispatcher->InFlightByDestination();
  absl::MutexLock lock(&mu_);
  // Every label's total, those with nothing under way at 0.
  std::map<IntegrationSeries*, int> totals = {{webhook_.get(), 0},
                                              {other_.get(), 0}};
  for (const auto& [id, series] : integrations_) totals[series.get()] = 0;
  for (const auto& [destination, count] : by_destination) {
    totals[&ForIntegration(destination)] += count;
  }
  for (const auto& [series, total] : totals) series->in_flight.Set(total);
}

void ServerMetrics::RefreshDatabase(storage::Store& store) {
  const absl::Time now = clock_.Now();
  if (now - database_read_ < kDatabaseReadInterval) return;
  storage::DueQueue due;
  int64_t bulk_running = 0;
  absl::Status read = store.Read([&](storage::Transaction& txn) {
    absl::StatusOr<storage::DueQueue> counted = txn.events().CountDue(now);
    if (!counted.ok()) return counted.status();
    due = *counted;
    absl::StatusOr<int64_t> running =
        txn.bulk_operations().CountRunningOperations();
    if (!running.ok()) return running.status();
    bulk_running = *running;
    return absl::OkStatus();
  });
  if (!read.ok()) {
    spdlog::warn(
        "metrics: cannot read the delivery queue and bulk "
        "operations: {}",
        LogText(read));
    return;
  }
  database_read_ = now;
  due_events_.Set(static_cast<double>(due.events));
  oldest_due_age_.Set(due.oldest_due_time.has_value()
                          ? absl::ToDoubleSeconds(now - *due.oldest_due_time)
                          : 0);
  bulk_running_.Set(static_cast<double>(bulk_running));
}

}  // namespace ats::server