#ifndef ATS_SERVER_CONNECTOR_H_
#define ATS_SERVER_CONNECTOR_H_

#include <optional>
#include <string>

#include "absl/time/time.h"

namespace ats::server {

// One signed webhook POST to make.
struct Delivery {
  std::string url;
  // The `webhook-id` header: the event's name, stable across retries.
  std::string webhook_id;
  // The body: proto3 JSON of an ats.v1.PartnerEvent.
  std::string body;
  // The Standard Webhooks secret ("whsec_" + base64 of the key bytes).
  std::string signing_secret;
};

// What one delivery attempt came to.
struct DeliveryOutcome {
  // The HTTP status, or 0 when no response arrived (refused, reset, timeout).
  int http_status = 0;
  absl::Duration latency;
  // What went wrong, for the attempt record; empty on a 2xx.
  std::string error;
  // The partner's Retry-After, when it sent one.
  std::optional<absl::Duration> retry_after;
  // The start of the response body (the connector's limit, e.g. 4 KiB), for
  // the attempt record; empty when no response arrived.
  std::string response_body;
};

// Delivers events to partners. Implementations are thread-safe and bound
// every delivery by their timeouts.
class Connector {
 public:
  virtual ~Connector() = default;

  // Makes one delivery attempt and reports its outcome; never blocks longer
  // than the connector's total timeout.
  virtual DeliveryOutcome Deliver(const Delivery& delivery) = 0;
};

}  // namespace ats::server

#endif  // ATS_SERVER_CONNECTOR_H_
