#ifndef ATS_SERVER_DELIVERY_METERED_CONNECTOR_H_
#define ATS_SERVER_DELIVERY_METERED_CONNECTOR_H_

// Times every delivery attempt of a Connector:
//
//   ats_delivery_attempt_duration_seconds{outcome}  histogram
//
// outcome="success" for a 2xx answer, "failure" for anything else (another
// status, no answer, a refused destination). The duration is the
// connector's own measure of the attempt (DeliveryOutcome::latency).

#include "server/common/metrics/registry.h"
#include "server/delivery/connector.h"

namespace ats::server {

class MeteredConnector final : public Connector {
 public:
  // Delivers through `connector`, recording into a family it registers in
  // `registry`; both must outlive it.
  MeteredConnector(Connector& connector, metrics::Registry& registry);

  void Send(Delivery delivery, DeliveryDone done) override;

 private:
  Connector& connector_;
  metrics::Family<metrics::Histogram>& durations_;
  metrics::Histogram& success_;
  metrics::Histogram& failure_;
};

}  // namespace ats::server

#endif  // ATS_SERVER_DELIVERY_METERED_CONNECTOR_H_
