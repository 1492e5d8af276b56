#include "tests/support/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace ats::testing::internal {
namespace {

bool IsExecutableFile(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         access(path.c_str(), X_OK) == 0;
}

// Resolves a bare program name through PATH before fork, since searching
// after fork is not async-signal-safe.
std::string ResolveProgram(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  for (absl::string_view dir :
       absl::StrSplit(path != nullptr ? path : "/usr/bin:/bin", ':')) {
    std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", program);
    if (IsExecutableFile(candidate)) return candidate;
  }
  return program;  // execve fails with ENOENT and Spawn says so.
}

std::vector<std::string> MergedEnvironment(
    const std::map<std::string, std::string>& additions) {
  std::vector<std::string> merged;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    absl::string_view text(*entry);
    std::string name(text.substr(0, text.find('=')));
    if (additions.count(name) == 0) merged.emplace_back(text);
  }
  for (const auto& [name, value] : additions) {
    merged.push_back(absl::StrCat(name, "=", value));
  }
  return merged;
}

std::vector<char*> NullTerminated(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Runs in the forked child: only async-signal-safe calls until execve.
[[noreturn]] void ExecChild(const SpawnRequest& request, pid_t parent,
                            const char* program, char* const* argv,
                            char* const* envp, int error_pipe) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);  // The parent died before prctl.

  struct sigaction default_action;
  std::memset(&default_action, 0, sizeof default_action);
  default_action.sa_handler = SIG_DFL;
  for (int signal_number = 1; signal_number < NSIG; ++signal_number) {
    sigaction(signal_number, &default_action, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);

  if (dup2(request.stdin_fd, 0) < 0 || dup2(request.stdout_fd, 1) < 0 ||
      dup2(request.stderr_fd, 2) < 0) {
    int error = errno;
    (void)!write(error_pipe, &error, sizeof error);
    _exit(127);
  }
  // Keep the close-on-exec error pipe at 3 and close everything above it, so
  // the child holds no listening socket or pipe end of this process.
  if (error_pipe != 3) {
    if (dup3(error_pipe, 3, O_CLOEXEC) < 0) _exit(127);
    error_pipe = 3;
  }
  if (close_range(4, UINT_MAX, 0) != 0) {
    long max_fd = sysconf(_SC_OPEN_MAX);
    for (int fd = 4; fd < (max_fd > 0 ? max_fd : 1024); ++fd) close(fd);
  }

  execve(program, argv, envp);
  int error = errno;
  (void)!write(error_pipe, &error, sizeof error);
  _exit(127);
}

}  // namespace

int MoveAboveStandardStreams(int fd) {
  if (fd < 0 || fd > 2) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  close(fd);
  return moved;
}

absl::StatusOr<pid_t> Spawn(const SpawnRequest& request) {
  if (request.argv.empty()) {
    return absl::InvalidArgumentError("Spawn needs at least argv[0]");
  }
  // Everything the child needs is built here, before fork.
  std::string program = ResolveProgram(request.argv[0]);
  std::vector<std::string> argv_strings = request.argv;
  std::vector<std::string> env_strings = MergedEnvironment(request.env_additions);
  std::vector<char*> argv = NullTerminated(argv_strings);
  std::vector<char*> envp = NullTerminated(env_strings);

  // The child reports a failed exec as an errno on this pipe; a successful
  // exec closes it (O_CLOEXEC) and the parent reads end-of-file.
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }
  int read_end = MoveAboveStandardStreams(pipe_fds[0]);
  int write_end = MoveAboveStandardStreams(pipe_fds[1]);

  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int error = errno;
    close(read_end);
    close(write_end);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(error)));
  }
  if (pid == 0) {
    close(read_end);
    ExecChild(request, parent, program.c_str(), argv.data(), envp.data(),
              write_end);
  }
  close(write_end);

  int child_errno = 0;
  ssize_t n;
  do {
    n = read(read_end, &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  close(read_end);
  if (n > 0) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot execute ", program, ": ", std::strerror(child_errno)));
  }
  return pid;
}

std::optional<int> WaitForExitUntil(pid_t pid, absl::Time deadline) {
  while (true) {
    int status = 0;
    pid_t reaped = waitpid(pid, &status, WNOHANG);
    if (reaped == pid) return ExitCodeFromWaitStatus(status);
    if (reaped < 0 && errno != EINTR) return -1;  // Already reaped elsewhere.
    if (absl::Now() >= deadline) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

int ExitCodeFromWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

}  // namespace ats::testing::internal
