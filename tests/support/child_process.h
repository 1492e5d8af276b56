// A program a test starts and stops, such as ats-server: its output goes to a
// log file the test can read, and it never outlives the test.
#ifndef ATS_TESTS_SUPPORT_CHILD_PROCESS_H_
#define ATS_TESTS_SUPPORT_CHILD_PROCESS_H_

#include <signal.h>
#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ats::testing {

// Exit codes follow the shell: the code of a normal exit, or 128 + the signal
// number for a process killed by a signal (143 for SIGTERM, 137 for SIGKILL).
class ChildProcess {
 public:
  // Starts argv[0] (a path, or a name looked up in PATH) with `argv`, this
  // process's environment plus `env_additions` (which override), stdin from
  // /dev/null, and stdout and stderr appended to one log file in a new
  // temporary directory. Fails if the program cannot be executed.
  static absl::StatusOr<ChildProcess> Start(
      const std::vector<std::string>& argv,
      const std::map<std::string, std::string>& env_additions = {});

  // Starts `argv` as Start does, then waits up to `timeout` for it to accept
  // TCP connections on 127.0.0.1:`port`; UNAVAILABLE with the program's log
  // if it does not.
  static absl::StatusOr<ChildProcess> StartListening(
      const std::vector<std::string>& argv, int port, absl::Duration timeout);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Kills the process if it still runs, and removes the log's directory
  // unless ATS_KEEP_TEST_LOGS is set (non-empty) in the environment.
  ~ChildProcess();

  pid_t pid() const { return pid_; }

  // True until the process has exited (reaping it if it just did).
  bool Running();

  // Returns true once something accepts TCP connections on 127.0.0.1:`port`,
  // false if `timeout` passes first or the process exits meanwhile.
  bool WaitForTcpPort(int port, absl::Duration timeout);

  // Waits up to `timeout` for the process to exit by itself and returns its
  // exit code, or std::nullopt if it is still running.
  std::optional<int> WaitForExit(absl::Duration timeout);

  // Sends `signal` to the process, waits up to `grace` for it to exit, then
  // SIGKILLs its whole process group; returns the exit code. Calling it on a
  // process that already exited just returns that exit code.
  int Stop(int signal = SIGTERM, absl::Duration grace = absl::Seconds(10));

  // SIGKILLs the process and its process group now and reaps it.
  void Kill();

  // Everything the process has written to stdout and stderr so far.
  std::string Log() const;
  const std::string& log_path() const { return log_path_; }

 private:
  ChildProcess(pid_t pid, std::string log_dir, std::string log_path);
  // What the destructor does; leaves *this empty.
  void Release();

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string log_dir_;
  std::string log_path_;
};

}  // namespace ats::testing

#endif  // ATS_TESTS_SUPPORT_CHILD_PROCESS_H_
