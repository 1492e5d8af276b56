#include "tools/ats-bench/target.h"

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "storage/sqlite/event_insert_baseline.h"
#include "tests/support/loopback_port.h"

namespace ats::bench {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(30);

absl::StatusOr<std::string> ReadKey(const std::string& path) {
  std::ifstream in(path);
  std::string key;
  if (!(in >> key)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read an API key from ", path));
  }
  return key;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Target>> Target::Open(
    const TargetOptions& options) {
  std::unique_ptr<Target> target(new Target());
  std::vector<std::string> servers = options.servers;
  std::string key_dir = options.key_dir;
  if (servers.empty() || options.sink.empty()) {
    target->dir_ = std::make_unique<testing::TempDir>();
  }
  if (options.sink.empty()) {
    const int port = testing::PickFreeLoopbackPort();
    auto sink = testing::ChildProcess::StartListening(
        {options.sink_program, "--listen", absl::StrCat("127.0.0.1:", port)},
        port, kStartTimeout);
    if (!sink.ok()) return sink.status();
    target->sink_process_ = *std::move(sink);
    target->sink_ = absl::StrCat("127.0.0.1:", port);
  } else {
    target->sink_ = options.sink;
  }
  if (servers.empty()) {
    const int port = testing::PickFreeLoopbackPort();
    const std::string server = absl::StrCat("127.0.0.1:", port);
    servers.push_back(server);
    key_dir = target->dir_->path();
    // Loopback is opened to webhooks: that is where the sink listens. One
    // key drives thousands of calls/s, past ats-server's default limit per
    // key: a limit that never binds keeps the bucket's cost in every figure
    // without refusing calls. A --server_flag overrides it, since the last
    // value of a flag wins.
    std::vector<std::string> argv = {
        options.server_program,
        "--listen=" + server,
        "--db=" + target->dir_->File("ats.db"),
        "--sqlite_synchronous=" + options.sqlite_synchronous,
        "--allowed_destination_networks=127.0.0.0/8,::1/128",
        "--rate_limit=1000000",
        "--rate_burst=1000000"};
    argv.insert(argv.end(), options.server_flags.begin(),
                options.server_flags.end());
    auto process =
        testing::ChildProcess::StartListening(argv, port, kStartTimeout);
    if (!process.ok()) return process.status();
    target->server_process_ = *std::move(process);
    target->server_argv_ = std::move(argv);
    target->server_port_ = port;
  }
  auto operator_key = ReadKey(key_dir + "/ats.operator.key");
  if (!operator_key.ok()) return operator_key.status();
  auto admin_key = ReadKey(key_dir + "/ats.admin.key");
  if (!admin_key.ok()) return admin_key.status();
  target->operator_key_ = *operator_key;
  target->admin_key_ = *admin_key;
  // Interleaved, so that load slots (slot % channels) take turns between
  // the servers.
  std::vector<std::vector<std::shared_ptr<grpc::Channel>>> by_server;
  for (const std::string& server : servers) {
    by_server.push_back(OpenChannels(server, options.channels));
  }
  for (size_t i = 0; i < by_server.front().size(); ++i) {
    for (const auto& channels : by_server) target->channels_.push_back(channels[i]);
  }
  return target;
}

std::vector<std::shared_ptr<grpc::Channel>> OpenChannels(
    const std::string& address, int count) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < std::max(1, count); ++i) {
    grpc::ChannelArguments arguments;
    // Its own TCP connection per channel, not one shared subchannel.
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    channels.push_back(grpc::CreateCustomChannel(
        address, grpc::InsecureChannelCredentials(), arguments));
  }
  return channels;
}

Target::~Target() {
  if (server_process_.has_value()) server_process_->Stop();
  if (sink_process_.has_value()) sink_process_->Stop();
}

absl::Status Target::RestartServer(const std::vector<std::string>& flags) {
  if (!server_process_.has_value()) {
    return absl::FailedPreconditionError(
        "only a server started by ats-bench can be restarted");
  }
  server_process_->Stop();
  server_process_.reset();
  std::vector<std::string> argv = server_argv_;
  argv.insert(argv.end(), flags.begin(), flags.end());
  auto process =
      testing::ChildProcess::StartListening(argv, server_port_, kStartTimeout);
  if (!process.ok()) return process.status();
  server_process_ = *std::move(process);
  return absl::OkStatus();
}

std::optional<pid_t> Target::server_pid() const {
  if (!server_process_.has_value()) return std::nullopt;
  return server_process_->pid();
}

std::string Target::database_path() const {
  if (!server_process_.has_value()) return "";
  return dir_->File("ats.db");
}

int64_t EventPayloadBytes(const Target& target) {
  constexpr int64_t kTypical = 400;
  if (target.database_path().empty()) return kTypical;
  const absl::StatusOr<int64_t> bytes =
      storage::sqlite::AverageEventPayloadBytes(target.database_path());
  return bytes.ok() && *bytes > 0 ? *bytes : kTypical;
}

namespace {

// Returns the `field` line (e.g. "VmHWM:") of /proc/`pid`/status in bytes.
absl::StatusOr<int64_t> StatusBytes(pid_t pid, absl::string_view field) {
  const std::string path = absl::StrCat("/proc/", pid, "/status");
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view value(line);
    if (!absl::ConsumePrefix(&value, field)) continue;
    value = absl::StripAsciiWhitespace(value);
    absl::ConsumeSuffix(&value, "kB");
    int64_t kib = 0;
    if (absl::SimpleAtoi(value, &kib)) return kib * 1024;
  }
  return absl::NotFoundError(absl::StrCat("no ", field, " line in ", path));
}

}  // namespace

absl::StatusOr<int64_t> PeakRssBytes(pid_t pid) {
  return StatusBytes(pid, "VmHWM:");
}

absl::StatusOr<int64_t> RssBytes(pid_t pid) {
  return StatusBytes(pid, "VmRSS:");
}

}  // namespace ats::bench
