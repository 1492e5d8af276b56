#include "tests/delivery/sink_process.h"

#include <regex>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace ats::testing {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(20);

}  // namespace

absl::StatusOr<std::unique_ptr<SinkProcess>> SinkProcess::Start(
    const std::string& binary, const std::vector<std::string>& more_args) {
  std::vector<std::string> args = {binary, "--listen", "127.0.0.1:0"};
  args.insert(args.end(), more_args.begin(), more_args.end());
  auto process = ChildProcess::Start(args);
  if (!process.ok()) return process.status();
  static const std::regex kListening(
      R"(partner-sink listening on 127\.0\.0\.1:(\d+))");
  const absl::Time deadline = absl::Now() + kStartTimeout;
  for (;;) {
    const std::string log = process->Log();
    std::smatch match;
    int port = 0;
    if (std::regex_search(log, match, kListening) &&
        absl::SimpleAtoi(match[1].str(), &port)) {
      return std::unique_ptr<SinkProcess>(
          new SinkProcess(*std::move(process), port));
    }
    if (!process->Running() || absl::Now() > deadline) {
      return absl::UnavailableError(
          absl::StrCat("partner-sink did not start; its log:\n", log));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

SinkProcess::SinkProcess(ChildProcess process, int port)
    : process_(std::move(process)),
      port_(port),
      control_(absl::StrCat("127.0.0.1:", port)) {}

std::string SinkProcess::webhook_url() const {
  return absl::StrCat("http://127.0.0.1:", port_, "/webhooks");
}

}  // namespace ats::testing
