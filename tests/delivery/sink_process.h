// The partner-sink program (tools/partner-sink) run by a test: a real HTTP
// partner on a loopback port that verifies signatures, deduplicates by
// webhook-id, answers as programmed and reports what it received.
#ifndef ATS_TESTS_DISPATCH_SINK_PROCESS_H_
#define ATS_TESTS_DISPATCH_SINK_PROCESS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/support/child_process.h"
#include "tools/partner-sink/control_client.h"

namespace ats::testing {

using ::ats::partner_sink::SinkReceived;

class SinkProcess {
 public:
  // Starts `binary` on 127.0.0.1 and a free port, with `more_args` (e.g.
  // --form-file), and waits until it listens.
  static absl::StatusOr<std::unique_ptr<SinkProcess>> Start(
      const std::string& binary,
      const std::vector<std::string>& more_args = {});

  int port() const { return port_; }
  // The URL webhooks go to.
  std::string webhook_url() const;

  // Its control API (see partner_sink::SinkControl).
  absl::Status AddSecret(const std::string& secret) const {
    return control_.AddSecret(secret);
  }
  absl::Status SetBehaviour(const std::string& json) const {
    return control_.SetBehaviour(json);
  }
  absl::StatusOr<SinkReceived> Received() const { return control_.Received(); }

  // Everything the sink printed.
  std::string Log() const { return process_.Log(); }

 private:
  SinkProcess(ChildProcess process, int port);

  ChildProcess process_;
  int port_;
  partner_sink::SinkControl control_;
};

}  // namespace ats::testing

#endif  // ATS_TESTS_DISPATCH_SINK_PROCESS_H_
