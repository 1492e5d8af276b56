// The partner-sink program (tools/partner-sink) run by a test: a real HTTP
// partner on a loopback port that verifies signatures, deduplicates by
// webhook-id, answers as programmed and reports what it received.
#ifndef ATS_TESTS_DISPATCH_SINK_PROCESS_H_
#define ATS_TESTS_DISPATCH_SINK_PROCESS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/support/child_process.h"

namespace ats::testing {

// What the sink reports at GET /received.
struct SinkReceived {
  int64_t accepted = 0;
  int64_t duplicates = 0;
  int64_t rejected = 0;
  int64_t failed = 0;
  // Deliveries (1 + duplicates) of each event accepted, by webhook-id.
  std::map<std::string, int64_t> deliveries;
  // The body of each event accepted, by webhook-id.
  std::map<std::string, std::string> bodies;
  // Why recent webhooks were rejected.
  std::vector<std::string> rejections;
};

class SinkProcess {
 public:
  // Starts `binary` on 127.0.0.1 and a free port, and waits until it listens.
  static absl::StatusOr<std::unique_ptr<SinkProcess>> Start(
      const std::string& binary);

  int port() const { return port_; }
  // The URL webhooks go to.
  std::string webhook_url() const;

  // POST /secrets: verify with `secret` too.
  absl::Status AddSecret(const std::string& secret);
  // POST /behaviour with `json`, e.g. {"status": 503, "times": 1}.
  absl::Status SetBehaviour(const std::string& json);
  // GET /received.
  absl::StatusOr<SinkReceived> Received();

  // Everything the sink printed.
  std::string Log() const { return process_.Log(); }

 private:
  SinkProcess(ChildProcess process, int port)
      : process_(std::move(process)), port_(port) {}

  absl::StatusOr<std::string> Post(const std::string& path,
                                   const std::string& json);

  ChildProcess process_;
  int port_;
};

}  // namespace ats::testing

#endif  // ATS_TESTS_DISPATCH_SINK_PROCESS_H_
