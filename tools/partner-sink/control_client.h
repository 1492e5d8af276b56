// A client of the partner sink's control API (see main.cc), for the tools
// and tests that drive a running sink.
#ifndef ATS_TOOLS_PARTNER_SINK_CONTROL_CLIENT_H_
#define ATS_TOOLS_PARTNER_SINK_CONTROL_CLIENT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ats::partner_sink {

// What the sink counted: webhooks verified and accepted once, accepted
// again (same webhook-id), rejected (bad signature) and answered with a
// programmed failure.
struct SinkCounts {
  int64_t accepted = 0;
  int64_t duplicates = 0;
  int64_t rejected = 0;
  int64_t failed = 0;
};

// GET /stats: the counts alone, cheap at any volume.
struct SinkStats : SinkCounts {
  // Unix milliseconds of the first and latest accepted webhook; 0 before any.
  int64_t first_accept_unix_ms = 0;
  int64_t last_accept_unix_ms = 0;

  // Accepted webhooks per second between the first and the latest.
  double accept_rate() const;
};

// GET /received: the counts and every accepted event.
struct SinkReceived : SinkCounts {
  // Deliveries (1 + duplicates) of each event accepted, by webhook-id.
  std::map<std::string, int64_t> deliveries;
  // The body of each event accepted, by webhook-id.
  std::map<std::string, std::string> bodies;
  // Why recent webhooks were rejected ("id: reason").
  std::vector<std::string> rejections;
};

class SinkControl {
 public:
  // `address` is the sink's host:port.
  explicit SinkControl(std::string address) : address_(std::move(address)) {}

  // POST /secrets: verify webhooks with `secret` too.
  absl::Status AddSecret(const std::string& secret) const;
  // POST /behaviour with `json`, e.g. {"status": 503, "times": 1}.
  absl::Status SetBehaviour(const std::string& json) const;
  // POST /reset: forget events, counts, added secrets and behaviours.
  absl::Status Reset() const;
  absl::StatusOr<SinkStats> Stats() const;
  absl::StatusOr<SinkReceived> Received() const;

 private:
  // Sends `method` (GET or POST) `path` with `body`; returns the answer's
  // body if it is 200.
  absl::StatusOr<std::string> Call(const std::string& method,
                                   const std::string& path,
                                   const std::string& body) const;

  std::string address_;
};

}  // namespace ats::partner_sink

#endif  // ATS_TOOLS_PARTNER_SINK_CONTROL_CLIENT_H_
