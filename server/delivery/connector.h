#ifndef ATS_SERVER_DELIVERY_CONNECTOR_H_
#define ATS_SERVER_DELIVERY_CONNECTOR_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/synchronization/notification.h"
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
  // The body went on past `response_body`.
  bool response_body_truncated = false;
  // Nothing was sent because the destination is an address the service may
  // not connect to (see destination_guard.h); `error` names it. Trying again
  // cannot help.
  bool refused_destination = false;
  // The response body was longer than the connector reads
  // (HttpConnectorOptions::refuse_longer_bodies); `error` says so.
  bool body_too_long = false;
};

// Called once with the outcome of a delivery attempt.
using DeliveryDone = std::function<void(DeliveryOutcome)>;

// Delivers events to partners. Implementations are thread-safe, make many
// attempts at once, and bound every attempt by their timeouts.
class Connector {
 public:
  virtual ~Connector() = default;

  // Starts one delivery attempt and returns without waiting for it; calls
  // `done` exactly once with its outcome, no later than the connector's
  // total timeout, on a thread of the connector's (or on this one, before
  // returning, when the attempt cannot start). `done` must be quick and must
  // not block.
  virtual void Send(Delivery delivery, DeliveryDone done) = 0;

  // Makes one delivery attempt and waits for its outcome.
  DeliveryOutcome Deliver(Delivery delivery) {
    DeliveryOutcome result;
    absl::Notification finished;
    Send(std::move(delivery), [&](DeliveryOutcome outcome) {
      result = std::move(outcome);
      finished.Notify();
    });
    finished.WaitForNotification();
    return result;
  }
};

}  // namespace ats::server

#endif  // ATS_SERVER_DELIVERY_CONNECTOR_H_
