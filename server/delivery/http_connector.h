#ifndef ATS_SERVER_DELIVERY_HTTP_CONNECTOR_H_
#define ATS_SERVER_DELIVERY_HTTP_CONNECTOR_H_

// The Connector that delivers events over HTTP(S) with libcurl: one signed
// Standard Webhooks POST per attempt (see server/contract/webhook_signature.h).

#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/common/destination_guard.h"
#include "server/delivery/connector.h"

namespace ats::server {

struct HttpConnectorOptions {
  // Longest wait for the TCP (and TLS) connection to be set up.
  absl::Duration connect_timeout = absl::Seconds(5);
  // Longest a whole attempt may take, connecting included; past it the
  // attempt fails with http_status 0.
  absl::Duration total_timeout = absl::Seconds(15);
  // How much of a response body is kept (DeliveryOutcome::response_body); the
  // rest is read and discarded, so a huge body never grows memory. Room for
  // a result in a 2xx answer (64 KiB of details and the rest).
  size_t max_response_body_bytes = 96 * 1024;
  // Whether a body longer than max_response_body_bytes ends the attempt
  // there, unread (DeliveryOutcome::body_too_long), instead of being read
  // and discarded: for answers that are used whole or not at all.
  bool refuse_longer_bodies = false;
  // How much of the body a non-2xx error message quotes.
  size_t max_error_body_bytes = 200;
  std::string user_agent = "ats-trigger-service/1";
  // The addresses it may connect to; by default public ones only.
  DestinationPolicy destinations;
  // Idle keep-alive connections kept for reuse (over all partners); 0 closes
  // every connection after its attempt.
  long max_idle_connections = 512;
};

// Delivers each event as one POST with the headers Content-Type:
// application/json, webhook-id, webhook-timestamp (Unix seconds from the
// clock) and webhook-signature. Only http and https URLs are fetched;
// redirects are not followed (a 3xx is a failed attempt), no proxy is used
// (whatever http_proxy and the like say), and every connection goes to an
// address options.destinations allows, or is not made. All attempts run
// at once on one thread of the connector's (libcurl's multi interface), over
// keep-alive connections reused across attempts. Thread-safe; never throws.
class HttpConnector final : public Connector {
 public:
  // `clock` stamps webhook-timestamp and must outlive the connector.
  explicit HttpConnector(const Clock& clock, HttpConnectorOptions options = {});
  // Ends attempts still under way, each with an error outcome.
  ~HttpConnector() override;

  HttpConnector(const HttpConnector&) = delete;
  HttpConnector& operator=(const HttpConnector&) = delete;

  // Starts one signed POST of `delivery.body` to `delivery.url`; its outcome
  // is: http_status 0 and curl's error text when no response came
  // (malformed URL or secret, refused, reset, timeout); http_status 0,
  // refused_destination and "destination <address> is not allowed: <why>"
  // when the host led to an address the policy refuses (and no response
  // came from another of its addresses); "HTTP <status>:
  // <start of the body>" as the error of a non-2xx answer; retry_after from
  // the answer's Retry-After when it has one (delta-seconds, or an HTTP-date
  // less the clock's now, at least zero). `done` runs on the connector's
  // thread, or on this one for a delivery that cannot be signed.
  void Send(Delivery delivery, DeliveryDone done) override;

 private:
  struct Transfer;

  // The connector's thread: starts the transfers handed over by Send, drives
  // them and reports their outcomes, until the connector is destroyed.
  void Run();
  // Sets up `transfer` on an easy handle and adds it to the multi handle;
  // reports a failure instead if libcurl cannot.
  void Start(std::unique_ptr<Transfer> transfer);
  // Reports the outcome of the finished transfer on `curl` and keeps the
  // easy handle for reuse.
  void Finish(void* curl, int result);

  const Clock& clock_;
  const HttpConnectorOptions options_;
  void* const multi_;  // CURLM*: the connection pool and the event loop.

  absl::Mutex mu_;
  // Handed over by Send, not yet started by the thread.
  std::vector<std::unique_ptr<Transfer>> incoming_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  // Used by the connector's thread only.
  std::vector<void*> idle_handles_;  // CURL*, options reset.
  std::unordered_map<void*, std::unique_ptr<Transfer>> running_;  // By CURL*.

  std::thread thread_;
};

}  // namespace ats::server

#endif  // ATS_SERVER_DELIVERY_HTTP_CONNECTOR_H_
