// ats-bench runs end to end and its own checks hold: every move is recorded
// in its application's history and every event it created exists. No
// figure is asserted: they depend on the machine.

#include <regex>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/support/run_command.h"

namespace ats::testing {
namespace {

TEST(AtsBenchTest, MixRecordsEveryMoveAndEveryEvent) {
  CommandResult result = RunCommand(
      {ATS_BENCH_BIN, "mix", "--in_flight=8", "--max_calls=300",
       "--duration=60s", "--warmup=0s", "--jobs=2", "--applications_per_slot=4",
       "--drain_timeout=60s", "--server_flag=--log_level=warn", "--replay"},
      absl::Minutes(4));
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  // 300 moves of two triggers each.
  EXPECT_TRUE(absl::StrContains(
      result.out, "check: 600 events listed, 600 returned by 300 moves: ok"))
      << result.out;
  // Each of the 32 applications entered its first stage once, then moved.
  EXPECT_TRUE(absl::StrContains(
      result.out,
      "check: 332 transitions recorded for 300 moves + 32 adds: ok"))
      << result.out;
  EXPECT_FALSE(absl::StrContains(result.out, "MISMATCH")) << result.out;
  // The stand-in answered every replayed call (an error would fail the exit
  // code) with the server's recorded responses, which pass the same checks.
  EXPECT_TRUE(absl::StrContains(result.out, "replay: the same loads"))
      << result.out;
}

// End to end through the real binaries: partners that never answer, with
// backlogs, do not keep a healthy partner's events from being sent. The
// bound is generous (half the hanging deliveries' timeout, against the
// milliseconds the benchmark measures); the figures are not asserted.
TEST(AtsBenchTest, NoisyHealthyEventsAreSentWhileOthersHang) {
  CommandResult result =
      RunCommand({ATS_BENCH_BIN, "noisy", "--hanging=0,3",
                  "--hanging_events=20", "--healthy_events=10",
                  "--delivery_timeout=20s", "--server_flag=--log_level=warn"},
                 absl::Minutes(4));
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_TRUE(absl::StrContains(result.out, "late")) << result.out;
}

// The peer needs PostgreSQL and graphile-worker from npm, so it is left
// out: what remains are our steps and the ceiling, each in both rounds.
TEST(AtsBenchTest, CompareWithoutThePeerPrintsOursAndTheCeiling) {
  CommandResult result =
      RunCommand({ATS_BENCH_BIN, "compare", "--skip_peer", "--jobs=2000",
                  "--duration=2s", "--server_flag=--log_level=warn"},
                 absl::Minutes(4));
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  for (const char* step :
       {"ours bulk create", "ours bulk deliver", "ours create, no send",
        "ours deliver backlog", "event insert ceiling", "ours moves",
        "move ceiling", "move+delivery ceiling"}) {
    for (const char* round : {"1 ", "2 "}) {
      // A row of the table: the step in 22 columns, a space, the round in 5.
      std::string row = "\n" + std::string(step);
      row.resize(24, ' ');
      EXPECT_TRUE(absl::StrContains(result.out, row + "    " + round))
          << step << " round " << round << "\n"
          << result.out;
    }
  }
  EXPECT_TRUE(absl::StrContains(result.out, "x move ceiling")) << result.out;
  EXPECT_FALSE(absl::StrContains(result.out, "FAILED")) << result.out;
  EXPECT_FALSE(absl::StrContains(result.out, "peer enqueue  ")) << result.out;
}

TEST(AtsBenchTest, MemorySamplesTheServerThroughoutTheLoad) {
  CommandResult result =
      RunCommand({ATS_BENCH_BIN, "memory", "--duration=3s", "--interval=500ms",
                  "--server_flag=--log_level=warn"},
                 absl::Minutes(2));
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  // A sample at the start and about one per interval after it, each a
  // positive size.
  const std::regex sample("\n +[0-9.]+s +([0-9]+\\.[0-9]) +[0-9]+");
  int samples = 0;
  for (std::sregex_iterator it(result.out.begin(), result.out.end(), sample),
       end;
       it != end; ++it) {
    EXPECT_GT(std::stod((*it)[1]), 0) << result.out;
    ++samples;
  }
  EXPECT_GE(samples, 4) << result.out;
  EXPECT_TRUE(absl::StrContains(result.out, "second half:")) << result.out;
  EXPECT_FALSE(absl::StrContains(result.out, "CHECK FAILED")) << result.out;
}

TEST(AtsBenchTest, MixRejectsAnUnknownCall) {
  CommandResult result = RunCommand(
      {ATS_BENCH_BIN, "mix", "--mix=move,teleport"}, absl::Minutes(2));
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
  EXPECT_TRUE(absl::StrContains(result.err, "unknown mix entry 'teleport'"))
      << result.err;
}

}  // namespace
}  // namespace ats::testing
