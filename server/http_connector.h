#ifndef ATS_SERVER_HTTP_CONNECTOR_H_
#define ATS_SERVER_HTTP_CONNECTOR_H_

// The Connector that delivers events over HTTP(S) with libcurl: one signed
// Standard Webhooks POST per attempt (see server/webhook_signature.h).

#include <cstddef>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/clock.h"
#include "server/connector.h"

namespace ats::server {

struct HttpConnectorOptions {
  // Longest wait for the TCP (and TLS) connection to be set up.
  absl::Duration connect_timeout = absl::Seconds(5);
  // Longest a whole attempt may take, connecting included; past it the
  // attempt fails with http_status 0.
  absl::Duration total_timeout = absl::Seconds(15);
  // How much of a response body is kept (DeliveryOutcome::response_body); the
  // rest is read and discarded, so a huge body never grows memory.
  size_t max_response_body_bytes = 4096;
  // How much of the body a non-2xx error message quotes.
  size_t max_error_body_bytes = 200;
  std::string user_agent = "ats-trigger-service/1";
  // Proxy URL for every request; empty connects directly and ignores the
  // http_proxy/https_proxy environment variables.
  std::string proxy;
  // Idle easy handles (each keeps its live connections) kept for reuse; one
  // is in use per concurrent caller, and those above this many are closed
  // when returned.
  size_t max_idle_handles = 16;
};

// Delivers each event as one POST with the headers Content-Type:
// application/json, webhook-id, webhook-timestamp (Unix seconds from the
// clock) and webhook-signature. Only http and https URLs are fetched;
// redirects are not followed (a 3xx is a failed attempt). Keep-alive
// connections are reused across calls. Thread-safe; never throws.
class HttpConnector final : public Connector {
 public:
  // `clock` stamps webhook-timestamp and must outlive the connector.
  explicit HttpConnector(const Clock& clock, HttpConnectorOptions options = {});
  ~HttpConnector() override;

  HttpConnector(const HttpConnector&) = delete;
  HttpConnector& operator=(const HttpConnector&) = delete;

  // Makes one signed POST of `delivery.body` to `delivery.url` and reports
  // its outcome: http_status 0 and curl's error text when no response came
  // (malformed URL or secret, refused, reset, timeout); "HTTP <status>:
  // <start of the body>" as the error of a non-2xx answer; retry_after from
  // the answer's Retry-After when it has one (delta-seconds, or an HTTP-date
  // less the clock's now, at least zero).
  // Returns within options.total_timeout (plus local bookkeeping).
  DeliveryOutcome Deliver(const Delivery& delivery) override;

 private:
  // Returns an idle easy handle (CURL*), or a new one; nullptr if libcurl
  // cannot make one.
  void* AcquireHandle();
  // Returns `handle` to the idle pool, or closes it when the pool is full.
  void ReleaseHandle(void* handle);

  const Clock& clock_;
  const HttpConnectorOptions options_;
  absl::Mutex mu_;
  std::vector<void*> idle_handles_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ats::server

#endif  // ATS_SERVER_HTTP_CONNECTOR_H_
