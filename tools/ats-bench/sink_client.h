// The partner sink's control API, as ats-bench uses it.
#ifndef ATS_TOOLS_ATS_BENCH_SINK_CLIENT_H_
#define ATS_TOOLS_ATS_BENCH_SINK_CLIENT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace ats::bench {

// GET /stats of the partner sink.
struct SinkStats {
  int64_t accepted = 0;
  int64_t duplicates = 0;
  int64_t rejected = 0;
  int64_t failed = 0;
  // Unix milliseconds of the first and latest accepted webhook; 0 before any.
  int64_t first_accept_unix_ms = 0;
  int64_t last_accept_unix_ms = 0;

  // Accepted webhooks per second between the first and the latest.
  double accept_rate() const;
};

class SinkClient {
 public:
  // `address` is the sink's host:port.
  explicit SinkClient(std::string address) : address_(std::move(address)) {}

  // Makes the sink verify webhooks with `secret` too.
  absl::Status AddSecret(const std::string& secret) const;
  // Forgets events, counts and added secrets.
  absl::Status Reset() const;
  absl::StatusOr<SinkStats> Stats() const;

 private:
  std::string address_;
};

}  // namespace ats::bench

#endif  // ATS_TOOLS_ATS_BENCH_SINK_CLIENT_H_
