// The README's grpcurl walk-through, executed as written against the real
// ats-server, so the documentation cannot rot. grpcurl is not packaged for
// Debian; tests/e2e/grpcurl runs the same command lines through `buf curl`.

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/support/loopback_port.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"

namespace ats::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// Returns the README's shell blocks that use grpcurl, in order, as one script.
std::string GrpcurlWalkthrough(const std::string& readme) {
  static const std::regex kShellBlock("```sh\n([\\s\\S]*?)```");
  std::string script;
  for (std::sregex_iterator it(readme.begin(), readme.end(), kShellBlock), end;
       it != end; ++it) {
    const std::string block = (*it)[1];
    if (block.find("grpcurl") != std::string::npos) {
      absl::StrAppend(&script, block, "\n");
    }
  }
  return script;
}

TEST(ReadmeTest, GrpcurlWalkthroughRunsAsWritten) {
  const std::string script = GrpcurlWalkthrough(ReadFile(ATS_README));
  ASSERT_NE(script.find("MoveCandidate"), std::string::npos)
      << "the README lost its walk-through";
  const std::string dir = MakeTempDir();
  const int port = PickFreeLoopbackPort();
  const int sink_port = PickFreeLoopbackPort();
  const std::string address = absl::StrCat("127.0.0.1:", port);
  const std::string metrics_address =
      absl::StrCat("127.0.0.1:", PickFreeLoopbackPort());
  // The README starts it with tools/serve.sh, which opens loopback to
  // webhooks and serves metrics as this does.
  auto server =
      ChildProcess::Start({ATS_SERVER_BIN, absl::StrCat("--listen=", address),
                           absl::StrCat("--db=", dir, "/var/ats.db"),
                           "--allowed_destination_networks=127.0.0.0/8,::1/128",
                           absl::StrCat("--metrics_listen=", metrics_address)});
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE(server->WaitForTcpPort(port, absl::Seconds(30))) << server->Log();

  // The walk-through runs from the checkout's root, where var/ and build/
  // are; here the temp dir plays that part, and the server and the partner
  // sink listen on ports of their own.
  const std::string walkthrough = absl::StrReplaceAll(
      script,
      {{"S=127.0.0.1:50051", absl::StrCat("S=", address)},
       {"127.0.0.1:8090", absl::StrCat("127.0.0.1:", sink_port)},
       {"127.0.0.1:9464", metrics_address},
       {"build/tools/partner-sink/partner-sink", ATS_PARTNER_SINK_BIN}});
  const CommandResult result = RunCommand(
      {"/usr/bin/env", absl::StrCat("PATH=", ATS_GRPCURL_DIR, ":",
                                    std::getenv("PATH")),
       absl::StrCat("ATS_BUF_BIN=", ATS_BUF_BIN), "bash", "-c",
       absl::StrCat("set -euo pipefail; cd ", dir, "\n", walkthrough)},
      absl::Minutes(3));
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err << server->Log();
  // The candidate's history shows the move, and the partner got the event.
  EXPECT_NE(result.out.find("\"fromStage\""), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("EVENT_STATE_SENT"), std::string::npos)
      << result.out << server->Log();
  EXPECT_NE(result.out.find("java-senior"), std::string::npos) << result.out;
  // The scrape counted the moves and their events.
  EXPECT_NE(
      result.out.find("ats_events_created_total{integration=\"integrations/"),
      std::string::npos)
      << result.out;
  // The manual trigger and the bulk operations ran.
  EXPECT_NE(result.out.find("EVENT_SOURCE_MANUAL"), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("BULK_OPERATION_STATE_SUCCEEDED"),
            std::string::npos)
      << result.out;
  EXPECT_EQ(server->Stop(), 0) << server->Log();
  RemoveTree(dir);
}

}  // namespace
}  // namespace ats::testing
