#include "tests/support/run_command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "tests/support/spawn.h"

namespace ats::testing {
namespace {

// How long output is still read after the command exits, for descendants
// that keep its stdout or stderr open.
constexpr absl::Duration kDrainAfterExit = absl::Milliseconds(500);

struct Pipe {
  int read_end = -1;
  int write_end = -1;
};

bool MakePipe(Pipe& pipe) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  pipe.read_end = internal::MoveAboveStandardStreams(fds[0]);
  pipe.write_end = internal::MoveAboveStandardStreams(fds[1]);
  return pipe.read_end >= 0 && pipe.write_end >= 0;
}

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// Writing to a command that stopped reading must not kill this process with
// SIGPIPE: block it on this thread while writing and discard one left
// pending, leaving the process's own disposition alone.
ssize_t WriteWithoutSigpipe(int fd, const char* data, size_t size) {
  sigset_t sigpipe, previous;
  sigemptyset(&sigpipe);
  sigaddset(&sigpipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &sigpipe, &previous);
  ssize_t written = write(fd, data, size);
  int write_errno = errno;
  if (written < 0 && write_errno == EPIPE) {
    timespec no_wait{0, 0};
    sigtimedwait(&sigpipe, nullptr, &no_wait);
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  errno = write_errno;
  return written;
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv,
                         absl::Duration timeout, const std::string& stdin_data) {
  CommandResult result;
  Pipe in, out, err;
  if (!MakePipe(in) || !MakePipe(out) || !MakePipe(err)) {
    result.err = absl::StrCat("RunCommand: pipe2: ", std::strerror(errno));
    for (Pipe* p : {&in, &out, &err}) {
      CloseFd(p->read_end);
      CloseFd(p->write_end);
    }
    return result;
  }

  internal::SpawnRequest request;
  request.argv = argv;
  request.stdin_fd = in.read_end;
  request.stdout_fd = out.write_end;
  request.stderr_fd = err.write_end;
  absl::StatusOr<pid_t> spawned = internal::Spawn(request);
  CloseFd(in.read_end);
  CloseFd(out.write_end);
  CloseFd(err.write_end);
  if (!spawned.ok()) {
    CloseFd(in.write_end);
    CloseFd(out.read_end);
    CloseFd(err.read_end);
    result.err = std::string(spawned.status().message());
    return result;
  }
  pid_t pid = *spawned;

  fcntl(in.write_end, F_SETFL, O_NONBLOCK);
  size_t stdin_written = 0;
  if (stdin_data.empty()) CloseFd(in.write_end);

  absl::Time deadline = absl::Now() + timeout;
  std::optional<int> exit_code;
  bool timed_out = false;
  char buffer[65536];
  while (out.read_end >= 0 || err.read_end >= 0 || !exit_code.has_value()) {
    if (!exit_code.has_value()) {
      exit_code = internal::WaitForExitUntil(pid, absl::InfinitePast());
      if (exit_code.has_value()) {
        // Stop writing; read what is left for a short while at most.
        CloseFd(in.write_end);
        deadline = std::min(deadline, absl::Now() + kDrainAfterExit);
      }
    }
    absl::Time now = absl::Now();
    if (now >= deadline) {
      timed_out = !exit_code.has_value();
      break;
    }

    pollfd fds[3];
    int count = 0;
    for (int fd : {out.read_end, err.read_end}) {
      if (fd >= 0) fds[count++] = pollfd{fd, POLLIN, 0};
    }
    if (in.write_end >= 0) fds[count++] = pollfd{in.write_end, POLLOUT, 0};
    // Wake up now and then to notice the exit of a command whose output is
    // held open by a descendant.
    int wait_ms = static_cast<int>(std::min(
        absl::ToInt64Milliseconds(deadline - now) + 1, int64_t{20}));
    if (poll(fds, count, wait_ms) < 0 && errno != EINTR) break;

    for (int i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      int fd = fds[i].fd;
      if (fd == in.write_end) {
        ssize_t n = WriteWithoutSigpipe(fd, stdin_data.data() + stdin_written,
                                        stdin_data.size() - stdin_written);
        if (n > 0) stdin_written += static_cast<size_t>(n);
        if ((n < 0 && errno != EAGAIN && errno != EINTR) ||
            stdin_written == stdin_data.size()) {
          CloseFd(in.write_end);
        }
        continue;
      }
      ssize_t n = read(fd, buffer, sizeof buffer);
      if (n > 0) {
        (fd == out.read_end ? result.out : result.err).append(buffer, n);
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        CloseFd(fd == out.read_end ? out.read_end : err.read_end);
      }
    }
  }

  CloseFd(in.write_end);
  CloseFd(out.read_end);
  CloseFd(err.read_end);
  if (!exit_code.has_value()) {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    internal::WaitForExitUntil(pid, absl::InfiniteFuture());
  }
  result.exit_code = timed_out ? -1 : exit_code.value_or(-1);
  return result;
}

}  // namespace ats::testing
