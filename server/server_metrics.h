#ifndef ATS_SERVER_SERVER_METRICS_H_
#define ATS_SERVER_SERVER_METRICS_H_

// The metrics of the whole server that no one layer owns: events by
// integration, the delivery queue, the store, bulk operations and rate
// limits. The RPCs' are server/api/rpc_metrics.h's, the delivery attempts'
// server/delivery/metered_connector.h's; README "Metrics" lists them all.
//
// Events are counted as the store reports their committed state changes
// (storage::StoreObserver); what is read rather than counted (queues, the
// WAL, deliveries under way) is read when scraped, by Refresh.
//
// Integration labels are bounded: the first `integration_labels`
// integrations to have events or deliveries since the start get their own
// ("integrations/{id}"); later ones share "other"; webhook triggers' events,
// which have no integration, are "webhook".

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/api/auth.h"
#include "server/common/clock.h"
#include "server/common/metrics/registry.h"
#include "server/delivery/dispatcher.h"
#include "storage/store.h"

namespace ats::server {

class ServerMetrics {
 public:
  // Registers the families in a new registry. `clock` (which must outlive
  // this) times delivery lags and the oldest due event.
  ServerMetrics(const Clock& clock, int integration_labels);

  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;
  ~ServerMetrics();

  // Every metric the server serves: the families below, and those the
  // layers register (RpcMetrics, MeteredConnector).
  metrics::Registry& registry() { return registry_; }

  // The callbacks the store reports group commits and event state changes
  // to (SqliteStoreOptions::observer); this must outlive the store.
  storage::StoreObserver StoreObserver();

  // Brings up to date what is read rather than counted: the write queue
  // and WAL of `store`, its due events and running bulk operations (one
  // read, at most once a second: scrapes closer together share it), the
  // deliveries under way of `dispatcher` (null when this server does not
  // deliver) and the refusals of `auth`'s rate limits. A failed read is
  // logged and leaves the gauges it would have set as they were.
  void Refresh(storage::Store& store, Dispatcher* dispatcher,
               const Authenticator& auth);

  // The most integrations with a label of their own.
  int integration_labels() const { return integration_labels_; }

 private:
  // The series of one integration label.
  struct IntegrationSeries;

  void BatchCommitted(int64_t writes);
  void EventsChanged(const std::vector<storage::EventStateChange>& changes);
  // Returns the series for integration `id` (a delivery destination does as
  // well: see storage/delivery_destination.h), "" meaning a webhook
  // trigger's; makes its label if the budget allows, else returns other's.
  IntegrationSeries& ForIntegration(absl::string_view id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::unique_ptr<IntegrationSeries> MakeSeries(const std::string& label);
  void RefreshDatabase(storage::Store& store)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(refresh_mu_);
  void RefreshInFlight(Dispatcher* dispatcher) ABSL_LOCKS_EXCLUDED(mu_);

  const Clock& clock_;
  const int integration_labels_;
  metrics::Registry registry_;

  // Events, by integration.
  metrics::Family<metrics::Counter>& created_;
  metrics::Family<metrics::Counter>& sent_;
  metrics::Family<metrics::Counter>& failed_;
  metrics::Family<metrics::Counter>& dead_;
  metrics::Family<metrics::Counter>& skipped_;
  // Delivery.
  metrics::Gauge& due_events_;
  metrics::Gauge& oldest_due_age_;
  metrics::Family<metrics::Gauge>& in_flight_;
  metrics::Histogram& lag_;
  // Storage, bulk operations, rate limits.
  metrics::Gauge& write_queue_length_;
  metrics::Histogram& batch_writes_;
  metrics::Counter& batches_run_again_;
  metrics::Gauge& wal_bytes_;
  metrics::Gauge& bulk_running_;
  metrics::Family<metrics::Counter>& rejections_;
  metrics::Counter& key_rejections_;
  metrics::Counter& address_rejections_;

  absl::Mutex mu_;
  // By integration id; at most integration_labels_ entries.
  absl::flat_hash_map<std::string, std::unique_ptr<IntegrationSeries>>
      integrations_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<IntegrationSeries> webhook_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<IntegrationSeries> other_ ABSL_GUARDED_BY(mu_);

  // Serializes Refresh.
  absl::Mutex refresh_mu_;
  // When the database was last read.
  absl::Time database_read_ ABSL_GUARDED_BY(refresh_mu_) = absl::InfinitePast();
};

}  // namespace ats::server

#endif  // ATS_SERVER_SERVER_METRICS_H_
