#include "tests/support/child_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tests/support/spawn.h"
#include "tests/support/temp_dir.h"

namespace ats::testing {
namespace {

bool AcceptsTcpConnection(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // A loopback connect is answered at once: accepted or refused.
  bool connected =
      connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return connected;
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

absl::StatusOr<ChildProcess> ChildProcess::Start(
    const std::vector<std::string>& argv,
    const std::map<std::string, std::string>& env_additions) {
  if (argv.empty()) {
    return absl::InvalidArgumentError("ChildProcess needs at least argv[0]");
  }
  std::string log_dir = MakeTempDir();
  std::string log_path = absl::StrCat(log_dir, "/", BaseName(argv[0]), ".log");

  int log_fd = internal::MoveAboveStandardStreams(
      open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  int null_fd = internal::MoveAboveStandardStreams(
      open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (log_fd < 0 || null_fd < 0) {
    int error = errno;
    if (log_fd >= 0) close(log_fd);
    if (null_fd >= 0) close(null_fd);
    RemoveTree(log_dir);
    return absl::InternalError(
        absl::StrCat("cannot open ", log_path, ": ", std::strerror(error)));
  }

  internal::SpawnRequest request;
  request.argv = argv;
  request.env_additions = env_additions;
  request.stdin_fd = null_fd;
  request.stdout_fd = log_fd;
  request.stderr_fd = log_fd;
  absl::StatusOr<pid_t> pid = internal::Spawn(request);
  close(log_fd);
  close(null_fd);
  if (!pid.ok()) {
    RemoveTree(log_dir);
    return pid.status();
  }
  return ChildProcess(*pid, std::move(log_dir), std::move(log_path));
}

ChildProcess::ChildProcess(pid_t pid, std::string log_dir, std::string log_path)
    : pid_(pid), log_dir_(std::move(log_dir)), log_path_(std::move(log_path)) {}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      exit_code_(std::exchange(other.exit_code_, std::nullopt)),
      log_dir_(std::exchange(other.log_dir_, "")),
      log_path_(std::exchange(other.log_path_, "")) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    Release();
    pid_ = std::exchange(other.pid_, -1);
    exit_code_ = std::exchange(other.exit_code_, std::nullopt);
    log_dir_ = std::exchange(other.log_dir_, "");
    log_path_ = std::exchange(other.log_path_, "");
  }
  return *this;
}

ChildProcess::~ChildProcess() { Release(); }

void ChildProcess::Release() {
  if (pid_ > 0 && !exit_code_.has_value()) Kill();
  const char* keep = std::getenv("ATS_KEEP_TEST_LOGS");
  if (!log_dir_.empty() && (keep == nullptr || *keep == '\0')) {
    RemoveTree(log_dir_);
  }
  pid_ = -1;
  exit_code_.reset();
  log_dir_.clear();
  log_path_.clear();
}

bool ChildProcess::Running() {
  if (pid_ <= 0 || exit_code_.has_value()) return false;
  exit_code_ = internal::WaitForExitUntil(pid_, absl::InfinitePast());
  return !exit_code_.has_value();
}

absl::StatusOr<ChildProcess> ChildProcess::StartListening(
    const std::vector<std::string>& argv, int port, absl::Duration timeout) {
  absl::StatusOr<ChildProcess> process = Start(argv);
  if (!process.ok()) return process.status();
  if (!process->WaitForTcpPort(port, timeout)) {
    return absl::UnavailableError(absl::StrCat(
        argv[0], " did not start listening on port ", port, "; its log:\n",
        process->Log()));
  }
  return process;
}

bool ChildProcess::WaitForTcpPort(int port, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (Running()) {
    if (AcceptsTcpConnection(port)) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

std::optional<int> ChildProcess::WaitForExit(absl::Duration timeout) {
  if (pid_ <= 0 || exit_code_.has_value()) return exit_code_;
  exit_code_ = internal::WaitForExitUntil(pid_, absl::Now() + timeout);
  return exit_code_;
}

int ChildProcess::Stop(int signal, absl::Duration grace) {
  if (pid_ <= 0) return -1;
  if (Running()) {
    kill(pid_, signal);
    if (!WaitForExit(grace).has_value()) Kill();
  }
  return *exit_code_;
}

void ChildProcess::Kill() {
  if (pid_ <= 0 || exit_code_.has_value()) return;
  kill(-pid_, SIGKILL);  // The child leads its own process group.
  kill(pid_, SIGKILL);
  exit_code_ = internal::WaitForExitUntil(pid_, absl::InfiniteFuture());
}

std::string ChildProcess::Log() const {
  std::ifstream file(log_path_, std::ios::binary);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

}  // namespace ats::testing
