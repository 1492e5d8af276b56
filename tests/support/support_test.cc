// Shows that the test helpers do what their headers promise, using only
// programs every Debian machine has (/bin/sh, sleep, cat).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/support/loopback_port.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"

namespace ats::testing {
namespace {

bool Exists(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0;
}

// Listens on 127.0.0.1:port in this process; returns the socket, or -1.
int ListenOnLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int reuse = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(fd, 16) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST(RunCommandTest, CollectsOutputAndExitCode) {
  CommandResult result = RunCommand(
      {"/bin/sh", "-c", "echo hi; echo oops >&2; exit 3"}, absl::Seconds(10));
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.out, "hi\n");
  EXPECT_EQ(result.err, "oops\n");
}

TEST(RunCommandTest, FindsProgramsInPathAndFeedsStdin) {
  std::string big(1 << 20, 'x');  // More than a pipe buffer holds.
  CommandResult result = RunCommand({"cat"}, absl::Seconds(10), big);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out.size(), big.size());
  EXPECT_EQ(result.out, big);
}

TEST(RunCommandTest, KillsACommandPastItsTimeLimit) {
  absl::Time start = absl::Now();
  CommandResult result = RunCommand({"sleep", "30"}, absl::Milliseconds(200));
  EXPECT_EQ(result.exit_code, -1);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(RunCommandTest, ReportsAProgramThatCannotStart) {
  CommandResult result =
      RunCommand({"/nonexistent/ats-no-such-program"}, absl::Seconds(5));
  EXPECT_EQ(result.exit_code, -1);
  EXPECT_NE(result.err.find("cannot execute"), std::string::npos) << result.err;
}

TEST(RunCommandTest, SurvivesACommandThatDoesNotReadStdin) {
  std::string big(1 << 20, 'x');
  CommandResult result =
      RunCommand({"/bin/sh", "-c", "exit 0"}, absl::Seconds(10), big);
  EXPECT_EQ(result.exit_code, 0);
}

TEST(ChildProcessTest, LogsOutputAndEnvironmentAdditions) {
  absl::StatusOr<ChildProcess> child = ChildProcess::Start(
      {"/bin/sh", "-c", "echo \"value=$ATS_SUPPORT_TEST\"; echo err >&2"},
      {{"ATS_SUPPORT_TEST", "42"}});
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(child->WaitForExit(absl::Seconds(10)), 0);
  EXPECT_EQ(child->Log(), "value=42\nerr\n");
  EXPECT_FALSE(child->Running());
}

TEST(ChildProcessTest, StopSendsTheSignalThenKillsAfterGrace) {
  absl::StatusOr<ChildProcess> polite = ChildProcess::Start({"sleep", "30"});
  ASSERT_TRUE(polite.ok()) << polite.status();
  EXPECT_EQ(polite->Stop(SIGTERM, absl::Seconds(10)), 128 + SIGTERM);

  absl::StatusOr<ChildProcess> stubborn = ChildProcess::Start(
      {"/bin/sh", "-c", "trap '' TERM; echo ready; sleep 30"});
  ASSERT_TRUE(stubborn.ok()) << stubborn.status();
  // Wait until the trap is set before signalling.
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (stubborn->Log().empty() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  absl::Time start = absl::Now();
  EXPECT_EQ(stubborn->Stop(SIGTERM, absl::Milliseconds(200)), 128 + SIGKILL);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(ChildProcessTest, DestructorKillsAndCleansUp) {
  std::string log_path;
  pid_t pid;
  {
    absl::StatusOr<ChildProcess> child = ChildProcess::Start({"sleep", "30"});
    ASSERT_TRUE(child.ok()) << child.status();
    log_path = child->log_path();
    pid = child->pid();
    EXPECT_TRUE(Exists(log_path));
  }
  EXPECT_NE(kill(pid, 0), 0);  // Reaped, so no such process.
  EXPECT_FALSE(Exists(log_path));
}

TEST(ChildProcessTest, StartFailsForAMissingProgram) {
  absl::StatusOr<ChildProcess> child =
      ChildProcess::Start({"/nonexistent/ats-no-such-program"});
  EXPECT_FALSE(child.ok());
}

TEST(ChildProcessTest, WaitForTcpPortSeesAListener) {
  int port = PickFreeLoopbackPort();
  ASSERT_GT(port, 0);
  absl::StatusOr<ChildProcess> child = ChildProcess::Start({"sleep", "30"});
  ASSERT_TRUE(child.ok()) << child.status();

  EXPECT_FALSE(child->WaitForTcpPort(port, absl::Milliseconds(100)));

  // Start listening a little later, as a server that is still starting would.
  int listener = -1;
  std::thread late_listener([&] {
    absl::SleepFor(absl::Milliseconds(100));
    listener = ListenOnLoopback(port);
  });
  EXPECT_TRUE(child->WaitForTcpPort(port, absl::Seconds(10)));
  late_listener.join();
  ASSERT_GE(listener, 0);
  close(listener);
}

TEST(ChildProcessTest, WaitForTcpPortGivesUpWhenTheProcessExits) {
  int port = PickFreeLoopbackPort();
  absl::StatusOr<ChildProcess> child =
      ChildProcess::Start({"/bin/sh", "-c", "exit 7"});
  ASSERT_TRUE(child.ok()) << child.status();
  absl::Time start = absl::Now();
  EXPECT_FALSE(child->WaitForTcpPort(port, absl::Seconds(30)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(child->Stop(), 7);
}

TEST(TempDirTest, MakesAndRemovesADirectory) {
  std::string dir = MakeTempDir();
  EXPECT_TRUE(Exists(dir));
  ASSERT_EQ(RunCommand({"/bin/sh", "-c", "mkdir -p \"$0/a/b\" && touch \"$0/a/b/f\"", dir},
                       absl::Seconds(10))
                .exit_code,
            0);
  RemoveTree(dir);
  EXPECT_FALSE(Exists(dir));
}

}  // namespace
}  // namespace ats::testing
