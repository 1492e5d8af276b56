// Internal to tests/support: starting a child process and waiting for it.
// Tests use ChildProcess (child_process.h) or RunCommand (run_command.h).
#ifndef ATS_TESTS_SUPPORT_SPAWN_H_
#define ATS_TESTS_SUPPORT_SPAWN_H_

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ats::testing::internal {

// What to start and where its standard streams go.
struct SpawnRequest {
  // argv[0] is the program: a path, or a name looked up in PATH.
  std::vector<std::string> argv;
  // Set in the child's environment on top of (and overriding) this process's.
  std::map<std::string, std::string> env_additions;
  // Descriptors that become the child's 0, 1 and 2. The caller keeps (and
  // closes) its own copies.
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
};

// Starts the child in its own process group, with default signal handling,
// no descriptors but 0-2 inherited, and SIGKILL sent to it should this
// process die first. Fails if the program cannot be executed.
absl::StatusOr<pid_t> Spawn(const SpawnRequest& request);

// Reaps `pid` if it exits before `deadline` and returns its exit status as
// ExitCodeFromWaitStatus does (-1 if it is no child of ours to wait for);
// std::nullopt if it is still running at `deadline`.
std::optional<int> WaitForExitUntil(pid_t pid, absl::Time deadline);

// The exit code of a normal exit, or 128 + the signal number for a child
// killed by a signal (the shell's convention).
int ExitCodeFromWaitStatus(int wait_status);

// Returns `fd` itself if it is above 2, else a close-on-exec duplicate above 2
// (closing `fd`), so it cannot collide with the child's standard streams.
int MoveAboveStandardStreams(int fd);

}  // namespace ats::testing::internal

#endif  // ATS_TESTS_SUPPORT_SPAWN_H_
