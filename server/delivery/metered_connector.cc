#include "server/delivery/metered_connector.h"

#include <utility>
#include <vector>

namespace ats::server {
namespace {

metrics::Family<metrics::Histogram>& AttemptDurations(
    metrics::Registry& registry) {
  // From a partner on the same network (a few milliseconds) to the default
  // --delivery_timeout of 15 s.
  return registry.AddHistogram(
      "ats_delivery_attempt_duration_seconds",
      "How long each delivery attempt took, by outcome: success (a 2xx "
      "answer) or failure (another status, no answer, a refused "
      "destination).",
      {"outcome"},
      {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15});
}

}  // namespace

MeteredConnector::MeteredConnector(Connector& connector,
                                   metrics::Registry& registry)
    : connector_(connector),
      durations_(AttemptDurations(registry)),
      success_(durations_.With({"success"})),
      failure_(durations_.With({"failure"})) {}

void MeteredConnector::Send(Delivery delivery, DeliveryDone done) {
  connector_.Send(std::move(delivery),
                  [this, done = std::move(done)](DeliveryOutcome outcome) {
                    const bool success =
                        outcome.http_status >= 200 && outcome.http_status < 300;
                    (success ? success_ : failure_)
                        .Observe(absl::ToDoubleSeconds(outcome.latency));
                    done(std::move(outcome));
                  });
}

}  // namespace ats::server
