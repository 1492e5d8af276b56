// What ats-bench measures: an ats-server and a partner-sink, either started
// here (on loopback ports, over a fresh database) or already running.
#ifndef ATS_TOOLS_ATS_BENCH_TARGET_H_
#define ATS_TOOLS_ATS_BENCH_TARGET_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace ats::bench {

struct TargetOptions {
  // host:port of running ats-servers, replicas on one database whose calls
  // are spread over them all; none starts one.
  std::vector<std::string> servers;
  // Where those servers keep ats.operator.key and ats.admin.key (the key
  // files of a database named ats.db).
  std::string key_dir;
  // host:port of a running partner-sink; empty starts one.
  std::string sink;
  // The programs to start.
  std::string server_program;
  std::string sink_program;
  // --sqlite_synchronous of a server started here: "normal" or "full".
  std::string sqlite_synchronous = "normal";
  // More flags for a server started here.
  std::vector<std::string> server_flags;
  // gRPC connections to each server the load is spread over.
  int channels = 1;
};

class Target {
 public:
  static absl::StatusOr<std::unique_ptr<Target>> Open(
      const TargetOptions& options);

  // Stops what was started here.
  ~Target();

  // The channel for calls of load slot `slot`.
  const std::shared_ptr<grpc::Channel>& channel(int slot = 0) const {
    return channels_[slot % channels_.size()];
  }
  // Every connection (TargetOptions.channels to each server), the servers
  // taking turns.
  const std::vector<std::shared_ptr<grpc::Channel>>& channels() const {
    return channels_;
  }
  const std::string& operator_key() const { return operator_key_; }
  const std::string& admin_key() const { return admin_key_; }
  // host:port of the partner sink.
  const std::string& sink() const { return sink_; }
  // Stops the server started here and starts it again, on the same
  // database, port and keys, with `flags` after the ones it had (the last
  // value of a flag wins); the channels reconnect by themselves.
  // FAILED_PRECONDITION for servers not started here.
  absl::Status RestartServer(const std::vector<std::string>& flags);

  // The server's process id and database file, when started here.
  std::optional<pid_t> server_pid() const;
  std::string database_path() const;

 private:
  Target() = default;

  std::unique_ptr<testing::TempDir> dir_;
  std::optional<testing::ChildProcess> server_process_;
  // How the server started here was started: its command line and port.
  std::vector<std::string> server_argv_;
  int server_port_ = 0;
  std::optional<testing::ChildProcess> sink_process_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::string operator_key_;
  std::string admin_key_;
  std::string sink_;
};

// Opens `count` (at least one) connections to `address`, each its own TCP
// connection.
std::vector<std::shared_ptr<grpc::Channel>> OpenChannels(
    const std::string& address, int count);

// Returns the average size of the payloads of the events `target`'s server
// wrote, or a typical one when its database is not ours to read.
int64_t EventPayloadBytes(const Target& target);

// Returns the peak resident set size (VmHWM) of process `pid` in bytes.
absl::StatusOr<int64_t> PeakRssBytes(pid_t pid);
// Returns the resident set size (VmRSS) of process `pid` in bytes.
absl::StatusOr<int64_t> RssBytes(pid_t pid);

}  // namespace ats::bench

#endif  // ATS_TOOLS_ATS_BENCH_TARGET_H_
