// The ats-bench subcommands; each returns the process exit code (0 when
// every check passed).
#ifndef ATS_TOOLS_ATS_BENCH_COMMANDS_H_
#define ATS_TOOLS_ATS_BENCH_COMMANDS_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tools/ats-bench/target.h"

namespace ats::bench {

struct MixOptions {
  TargetOptions target;
  int in_flight = 64;
  absl::Duration duration = absl::Seconds(10);
  absl::Duration warmup = absl::Seconds(1);
  // Stop each load after this many calls (0: run for `duration`).
  int64_t max_calls = 0;
  // Kinds of call with weights, e.g. {"move:1", "get_job:1"}; see main.cc.
  std::vector<std::string> mix = {"move", "get_job", "list_events"};
  // Run the kinds together in one load instead of each alone.
  bool together = false;
  // Then run the same loads against a stand-in answering from memory.
  bool replay = false;
  int jobs = 4;
  int applications_per_slot = 16;
  absl::Duration drain_timeout = absl::Minutes(5);
  // How often a move load samples the resident memory of a server started
  // here (0: never).
  absl::Duration rss_interval = absl::ZeroDuration();
};
int RunMix(const MixOptions& options);

struct MemoryOptions {
  TargetOptions target;
  int in_flight = 64;
  absl::Duration duration = absl::Minutes(5);
  absl::Duration interval = absl::Seconds(20);
  absl::Duration drain_timeout = absl::Minutes(5);
};
int RunMemory(const MemoryOptions& options);

struct BulkOptions {
  TargetOptions target;
  int candidates = 100000;
  int in_flight = 64;
  absl::Duration delivery_timeout = absl::Minutes(2);
  // The job as the peer does it: the server (started here) delivers nothing
  // while the events are created, then is restarted delivering them. By
  // default it delivers while it creates.
  bool deliver_after_creation = false;
};
int RunBulk(const BulkOptions& options);

struct EventsOptions {
  TargetOptions target;
  int64_t events = 1000000;
  int candidates = 1000;
  int page_size = 50;
  int deep_page = 1000;
  int samples = 200;
};
int RunEvents(const EventsOptions& options);

struct NoisyOptions {
  TargetOptions target;
  // Hanging integrations in each run; the run with 0 is the quiet baseline.
  std::vector<int> hanging = {0, 2, 10, 100};
  // Events each hanging integration holds.
  int hanging_events = 200;
  // Events each of the two healthy integrations gets, one every `spacing`.
  int healthy_events = 100;
  absl::Duration spacing = absl::Milliseconds(5);
  // The server's --delivery_timeout: how long a hanging delivery holds on.
  absl::Duration delivery_timeout = absl::Seconds(20);
};
int RunNoisy(const NoisyOptions& options);

struct CompareOptions {
  TargetOptions target;
  // Jobs the peer enqueues and delivers, and events our bulk trigger
  // creates.
  int jobs = 100000;
  // Times each step runs, the steps alternating.
  int rounds = 2;
  // Length of the move load.
  absl::Duration duration = absl::Seconds(10);
  // How long deliveries may take, ours and the peer's all told.
  absl::Duration delivery_timeout = absl::Minutes(5);
  // Leave out the peer (it needs PostgreSQL and graphile-worker from npm).
  bool skip_peer = false;
  // tools/peer-bench/run.sh, and its --node_modules (empty: its default).
  std::string peer_script;
  std::string peer_node_modules;
  // Passed to the peer as --complete_batch_ms: graphile-worker commits job
  // completions that come this close together in one transaction, its own
  // advice for throughput (-1: each alone).
  int peer_complete_batch_ms = 250;
  // How long the peer's run.sh may take, installing what it needs included.
  absl::Duration peer_timeout = absl::Minutes(30);
};
int RunCompare(const CompareOptions& options);

}  // namespace ats::bench

#endif  // ATS_TOOLS_ATS_BENCH_COMMANDS_H_
