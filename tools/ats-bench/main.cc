// ats-bench: measures ats-server against the machine it runs on. Every
// figure comes with a baseline measured in the same run: the health check at
// the same concurrency, or SQLite doing the same writes bare.
//
//   ats-bench mix     [--in_flight 64] [--duration 10s]
//                     [--mix move,get_job,list_events] [--replay]
//   ats-bench bulk    [--candidates 100000] [--deliver_after_creation]
//   ats-bench events  [--events 1000000] [--deep_page 1000]
//   ats-bench noisy   [--hanging 0,2,10,100] [--hanging_events 200]
//   ats-bench compare [--jobs 100000] [--rounds 2] [--skip_peer]
//   ats-bench memory  [--duration 5m] [--interval 20s]
//
// By default each command starts its own ats-server (fresh database in a
// temporary directory) and partner-sink on loopback ports; --server and
// --sink point it at running ones instead.

#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/time/time.h"
#include "tools/ats-bench/commands.h"

namespace {

// Adds the flags choosing what is measured.
void AddTargetFlags(CLI::App& command, ats::bench::TargetOptions& target) {
  target.server_program = ATS_BENCH_SERVER_PROGRAM;
  target.sink_program = ATS_BENCH_SINK_PROGRAM;
  command.add_option("--server", target.servers,
                     "host:port of a running ats-server (default: start one); "
                     "repeated, the calls are spread over every replica "
                     "named");
  command.add_option(
      "--key_dir", target.key_dir,
      "where that server keeps ats.operator.key and ats.admin.key");
  command.add_option(
      "--sink", target.sink,
      "host:port of a running partner-sink (default: start one)");
  command
      .add_option("--server_program", target.server_program,
                  "the ats-server to start")
      ->capture_default_str();
  command
      .add_option("--sink_program", target.sink_program,
                  "the partner-sink to start")
      ->capture_default_str();
  command
      .add_option("--sqlite_synchronous", target.sqlite_synchronous,
                  "--sqlite_synchronous of the started server (and of the "
                  "SQLite baseline): normal or full")
      ->check(CLI::IsMember({"normal", "full"}))
      ->capture_default_str();
  command.add_option("--server_flag", target.server_flags,
                     "another flag for the started server, e.g. "
                     "--server_flag=--log_level=warn (repeatable)");
  command
      .add_option("--channels", target.channels,
                  "gRPC connections the calls are spread over")
      ->capture_default_str();
}

// Adds a duration flag written the absl way (10s, 500ms, 2m).
void AddDuration(CLI::App& command, const std::string& name,
                 absl::Duration& value, const std::string& help) {
  command
      .add_option_function<std::string>(
          name,
          [&value, name](const std::string& text) {
            if (!absl::ParseDuration(text, &value)) {
              throw CLI::ValidationError(name, "not a duration: " + text);
            }
          },
          help)
      ->default_str(absl::FormatDuration(value));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ats-bench: load and growth figures for ats-server"};
  app.require_subcommand(1);

  ats::bench::MixOptions mix;
  CLI::App* mix_command = app.add_subcommand(
      "mix",
      "seed an account (jobs whose stages carry two partner triggers, "
      "candidates in them), then load the server with a mix of calls and "
      "report throughput and latency per call next to the health check at "
      "the same concurrency, and how fast the dispatcher delivered the "
      "events the moves created");
  AddTargetFlags(*mix_command, mix.target);
  mix_command->add_option("--in_flight", mix.in_flight, "calls in flight")
      ->capture_default_str();
  AddDuration(*mix_command, "--duration", mix.duration, "length of each load");
  AddDuration(*mix_command, "--warmup", mix.warmup,
              "calls ending this early in a load are not counted");
  mix_command->add_option("--max_calls", mix.max_calls,
                          "end each load after this many calls (0: no limit)");
  mix_command
      ->add_option("--mix", mix.mix,
                   "calls to make: move (MoveCandidate into a stage with two "
                   "partner triggers), get_job, list_events (a page of 50), "
                   "health; each may carry a :weight for --together")
      ->delimiter(',')
      ->capture_default_str();
  mix_command->add_flag("--together", mix.together,
                        "one load mixing the calls by weight, instead of one "
                        "load per call");
  mix_command->add_flag(
      "--replay", mix.replay,
      "then run the same loads against a stand-in server inside ats-bench "
      "that answers every call from memory with the first response the "
      "server gave: what gRPC and these messages cost alone, the most any "
      "server could reach with them on this machine");
  mix_command->add_option("--jobs", mix.jobs, "jobs seeded")
      ->capture_default_str();
  mix_command
      ->add_option("--applications_per_slot", mix.applications_per_slot,
                   "candidates each call slot moves in turn")
      ->capture_default_str();
  AddDuration(*mix_command, "--drain_timeout", mix.drain_timeout,
              "how long to wait for the dispatcher to deliver every event");

  ats::bench::BulkOptions bulk;
  CLI::App* bulk_command = app.add_subcommand(
      "bulk",
      "bulk-trigger an integration for many candidates: time until every "
      "event exists and the partner sink's delivery rate, next to SQLite "
      "inserting as many event rows in one transaction");
  AddTargetFlags(*bulk_command, bulk.target);
  bulk_command
      ->add_option("--candidates", bulk.candidates, "candidates triggered")
      ->capture_default_str();
  AddDuration(*bulk_command, "--delivery_timeout", bulk.delivery_timeout,
              "how long to wait for the sink to receive every event");
  bulk_command->add_flag(
      "--deliver_after_creation", bulk.deliver_after_creation,
      "as the peer does: create every event with delivery off, then restart "
      "the server delivering them (default: deliver while creating)");

  ats::bench::EventsOptions events;
  CLI::App* events_command = app.add_subcommand(
      "events",
      "create many events (dispatch off), then report the server's peak "
      "memory and ListEvents deep in the list next to its first page");
  AddTargetFlags(*events_command, events.target);
  events_command->add_option("--events", events.events, "events created")
      ->capture_default_str();
  events_command
      ->add_option("--candidates", events.candidates,
                   "candidates moved back and forth to create them")
      ->capture_default_str();
  events_command->add_option("--page_size", events.page_size)
      ->capture_default_str();
  events_command
      ->add_option("--deep_page", events.deep_page,
                   "the page compared with page 1")
      ->capture_default_str();
  events_command
      ->add_option("--samples", events.samples,
                   "ListEvents calls timed per page")
      ->capture_default_str();

  ats::bench::NoisyOptions noisy;
  CLI::App* noisy_command = app.add_subcommand(
      "noisy",
      "noisy neighbours: with 0, 2, 10 and 100 integrations whose partner "
      "never answers, each holding a backlog, how long two healthy "
      "integrations' events take from creation to the first attempt and to "
      "SENT (a fresh server per run)");
  AddTargetFlags(*noisy_command, noisy.target);
  noisy_command
      ->add_option("--hanging", noisy.hanging,
                   "hanging integrations in each run")
      ->delimiter(',')
      ->capture_default_str();
  noisy_command
      ->add_option("--hanging_events", noisy.hanging_events,
                   "events each hanging integration holds")
      ->capture_default_str();
  noisy_command
      ->add_option("--healthy_events", noisy.healthy_events,
                   "events each healthy integration gets")
      ->capture_default_str();
  AddDuration(*noisy_command, "--spacing", noisy.spacing,
              "time between two healthy events");
  AddDuration(*noisy_command, "--delivery_timeout", noisy.delivery_timeout,
              "the server's --delivery_timeout");

  ats::bench::CompareOptions compare;
  compare.peer_script = ATS_BENCH_REPO_ROOT "/tools/peer-bench/run.sh";
  CLI::App* compare_command = app.add_subcommand(
      "compare",
      "rounds of: the peer (graphile-worker on PostgreSQL, "
      "tools/peer-bench/run.sh) enqueuing and delivering --jobs jobs; ours "
      "bulk-creating and delivering as many events, and SQLite inserting as "
      "many event rows bare (the event insert ceiling); ours moving candidates "
      "into stages with two partner triggers (64 in flight); SQLite writing "
      "a move's rows bare (the move ceiling), then with the least that "
      "delivering its events writes (the move+delivery ceiling); then one "
      "table of their rates "
      "and ratios with the load average at each step");
  AddTargetFlags(*compare_command, compare.target);
  compare_command
      ->add_option("--jobs", compare.jobs,
                   "jobs the peer runs and events ours creates")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  compare_command->add_option("--rounds", compare.rounds, "rounds of steps")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  AddDuration(*compare_command, "--duration", compare.duration,
              "length of the move load");
  AddDuration(*compare_command, "--delivery_timeout", compare.delivery_timeout,
              "how long our deliveries may take");
  compare_command->add_flag("--skip_peer", compare.skip_peer,
                            "leave out the peer (it needs PostgreSQL and npm)");
  compare_command
      ->add_option("--peer_script", compare.peer_script, "the peer's run.sh")
      ->capture_default_str();
  compare_command->add_option(
      "--peer_node_modules", compare.peer_node_modules,
      "passed to the peer as --node_modules: where graphile-worker is, or is "
      "installed");
  compare_command
      ->add_option("--peer_complete_batch_ms", compare.peer_complete_batch_ms,
                   "passed to the peer as --complete_batch_ms: its job "
                   "completions within this many ms share a transaction "
                   "(-1: each alone)")
      ->capture_default_str();
  AddDuration(*compare_command, "--peer_timeout", compare.peer_timeout,
              "how long one run of the peer may take");

  ats::bench::MemoryOptions memory;
  CLI::App* memory_command = app.add_subcommand(
      "memory",
      "MoveCandidate under load for a long while, sampling the server's "
      "resident memory: the curve, and how much it grew in each half");
  AddTargetFlags(*memory_command, memory.target);
  memory_command->add_option("--in_flight", memory.in_flight, "calls in flight")
      ->capture_default_str();
  AddDuration(*memory_command, "--duration", memory.duration,
              "length of the load");
  AddDuration(*memory_command, "--interval", memory.interval,
              "time between samples");
  AddDuration(*memory_command, "--drain_timeout", memory.drain_timeout,
              "how long to wait for the dispatcher to deliver every event");

  CLI11_PARSE(app, argc, argv);
  if (memory_command->parsed()) return ats::bench::RunMemory(memory);
  if (compare_command->parsed()) return ats::bench::RunCompare(compare);
  if (mix_command->parsed()) return ats::bench::RunMix(mix);
  if (bulk_command->parsed()) return ats::bench::RunBulk(bulk);
  if (noisy_command->parsed()) return ats::bench::RunNoisy(noisy);
  return ats::bench::RunEvents(events);
}
