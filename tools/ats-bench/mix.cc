// ats-bench mix: the service's everyday calls under load, next to the health
// check at the same concurrency, and how fast the dispatcher delivers the
// events the moves create.

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "ats/v1/integration_service.grpc.pb.h"
#include "ats/v1/job_service.grpc.pb.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/time_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tools/ats-bench/api.h"
#include "tools/ats-bench/commands.h"
#include "tools/ats-bench/event_walk.h"
#include "tools/ats-bench/load.h"
#include "tools/ats-bench/replay.h"
#include "tools/ats-bench/report.h"
#include "tools/ats-bench/seed.h"
#include "tools/ats-bench/steps.h"

namespace ats::bench {
namespace {

using ats::v1::IntegrationService;
using ats::v1::JobService;
using grpc::health::v1::Health;

absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixMicros(
      google::protobuf::util::TimeUtil::TimestampToMicroseconds(t));
}

using Channels = std::vector<std::shared_ptr<grpc::Channel>>;

// What the move load did in total (warm-up included), for the checks.
struct MoveTally {
  std::atomic<int64_t> moves{0};
  std::atomic<int64_t> events{0};
};

// The first response one kind of call got: what the replay answers with.
class Sample {
 public:
  void Keep(const google::protobuf::Message& response) {
    std::call_once(kept_, [&] {
      message_.reset(response.New());
      message_->CopyFrom(response);
    });
  }
  // Null until a call succeeded; read once the load is over.
  const google::protobuf::Message* message() const { return message_.get(); }

 private:
  std::once_flag kept_;
  std::unique_ptr<google::protobuf::Message> message_;
};

// The stubs of every channel, so slots spread over the connections.
template <typename Service>
std::vector<std::shared_ptr<typename Service::Stub>> Stubs(
    const Channels& channels) {
  std::vector<std::shared_ptr<typename Service::Stub>> stubs;
  for (const auto& channel : channels) {
    stubs.push_back(Service::NewStub(channel));
  }
  return stubs;
}

CallKind HealthCheck(const Channels& channels, Sample* sample) {
  auto stubs = Stubs<Health>(channels);
  return {"health.Check", 1, [stubs, sample](int slot, CallDone done) {
            auto stub = stubs[slot % stubs.size()];
            CallAsync<grpc::health::v1::HealthCheckRequest,
                      grpc::health::v1::HealthCheckResponse>(
                [stub](auto... args) { stub->async()->Check(args...); }, "", {},
                [done, sample](const grpc::Status& status, auto& response) {
                  if (status.ok()) sample->Keep(response);
                  done(status);
                });
          }};
}

// Each slot moves its own applications in turn, each back and forth between
// its job's two trigger stages, so every move enters a stage with two
// partner triggers.
CallKind Move(const Channels& channels, const Seeded& seeded, int in_flight,
              MoveTally* tally, Sample* sample) {
  auto stubs = Stubs<JobService>(channels);
  struct SlotState {
    std::vector<const Application*> apps;
    std::vector<int> next_stage;
    size_t next = 0;
  };
  auto slots = std::make_shared<std::vector<SlotState>>(in_flight);
  for (size_t i = 0; i < seeded.applications.size(); ++i) {
    SlotState& slot = (*slots)[i % in_flight];
    slot.apps.push_back(&seeded.applications[i]);
    slot.next_stage.push_back(0);
  }
  const std::string key = seeded.recruiter_key;
  return {
      "MoveCandidate", 1,
      [stubs, slots, key, &seeded, tally, sample](int slot_index,
                                                  CallDone done) {
        auto stub = stubs[slot_index % stubs.size()];
        SlotState& slot = (*slots)[slot_index];
        const size_t app = slot.next;
        slot.next = (slot.next + 1) % slot.apps.size();
        const int stage = slot.next_stage[app];
        slot.next_stage[app] = 1 - stage;
        ats::v1::MoveCandidateRequest request;
        request.set_name(slot.apps[app]->name);
        request.set_stage(seeded.trigger_stages[slot.apps[app]->job][stage]);
        CallAsync<ats::v1::MoveCandidateRequest,
                  ats::v1::MoveCandidateResponse>(
            [stub](auto... args) { stub->async()->MoveCandidate(args...); },
            key, std::move(request),
            [done, tally, sample](const grpc::Status& status,
                                  ats::v1::MoveCandidateResponse& response) {
              if (!status.ok()) return done(status);
              if (!response.moved() ||
                  response.events_size() != kIntegrations) {
                return done(grpc::Status(
                    grpc::StatusCode::INTERNAL,
                    "the move did not enter the stage with its triggers"));
              }
              tally->moves.fetch_add(1);
              tally->events.fetch_add(response.events_size());
              sample->Keep(response);
              done(status);
            });
      }};
}

CallKind GetJob(const Channels& channels, const Seeded& seeded,
                Sample* sample) {
  auto stubs = Stubs<JobService>(channels);
  return {"GetJob", 1, [stubs, &seeded, sample](int slot, CallDone done) {
            auto stub = stubs[slot % stubs.size()];
            ats::v1::GetJobRequest request;
            request.set_name(seeded.jobs[slot % seeded.jobs.size()]);
            CallAsync<ats::v1::GetJobRequest, ats::v1::Job>(
                [stub](auto... args) { stub->async()->GetJob(args...); },
                seeded.recruiter_key, std::move(request),
                [done, sample](const grpc::Status& status, auto& response) {
                  if (status.ok()) sample->Keep(response);
                  done(status);
                });
          }};
}

CallKind ListEvents(const Channels& channels, const Seeded& seeded,
                    Sample* sample) {
  auto stubs = Stubs<IntegrationService>(channels);
  return {"ListEvents(50)", 1,
          [stubs, &seeded, sample](int slot, CallDone done) {
            auto stub = stubs[slot % stubs.size()];
            ats::v1::ListEventsRequest request;
            request.set_page_size(50);
            CallAsync<ats::v1::ListEventsRequest, ats::v1::ListEventsResponse>(
                [stub](auto... args) { stub->async()->ListEvents(args...); },
                seeded.recruiter_key, std::move(request),
                [done, sample](const grpc::Status& status,
                               ats::v1::ListEventsResponse& response) {
                  if (status.ok() && response.events_size() == 0) {
                    return done(grpc::Status(grpc::StatusCode::INTERNAL,
                                             "ListEvents returned no events"));
                  }
                  if (status.ok()) sample->Keep(response);
                  done(status);
                });
          }};
}

// Checks every move left one transition in its application's history.
bool CheckHistories(const Target& target, const Seeded& seeded, int64_t moves) {
  auto jobs = JobService::NewStub(target.channel());
  int64_t transitions = 0;
  for (const Application& app : seeded.applications) {
    ats::v1::GetApplicationRequest request;
    request.set_name(app.name);
    ats::v1::Application got;
    grpc::Status status = jobs->GetApplication(
        Context(seeded.recruiter_key).get(), request, &got);
    if (!status.ok()) {
      std::printf("CHECK FAILED: GetApplication: %s\n",
                  status.error_message().c_str());
      return false;
    }
    transitions += got.history_size();
  }
  // Each application entered its first stage once when it was added.
  const int64_t expected =
      moves + static_cast<int64_t>(seeded.applications.size());
  std::printf(
      "check: %lld transitions recorded for %lld moves + %zu adds: %s\n",
      static_cast<long long>(transitions), static_cast<long long>(moves),
      seeded.applications.size(), transitions == expected ? "ok" : "MISMATCH");
  return transitions == expected;
}

// Reports how long events took from creation to SENT, and checks every
// event the moves returned exists and was delivered.
bool ReportDelivery(const Target& target, const SinkControl& sink_control,
                    const Seeded& seeded, const MixOptions& options,
                    const MoveTally& tally) {
  // A server started with --dispatch=false delivers nothing: the events
  // are only checked.
  const std::vector<std::string>& flags = options.target.server_flags;
  if (std::find(flags.begin(), flags.end(), "--dispatch=false") ==
      flags.end()) {
    absl::Status drained =
        WaitForDelivery(target, seeded.recruiter_key, options.drain_timeout);
    if (!drained.ok()) {
      std::printf("delivery: %s\n", std::string(drained.message()).c_str());
    }
  }
  std::vector<double> to_sent_ms;
  std::map<std::string, int64_t> by_state;
  int64_t events = 0;
  absl::Time first_create = absl::InfiniteFuture();
  absl::Time last_sent = absl::InfinitePast();
  absl::Status walked = ForEachEvent(
      target, seeded.recruiter_key, [&](const ats::v1::Event& event) {
        ++events;
        ++by_state[ats::v1::EventState_Name(event.state())];
        const absl::Time created = FromProto(event.create_time());
        first_create = std::min(first_create, created);
        if (event.state() == ats::v1::EVENT_STATE_SENT) {
          const absl::Time sent = FromProto(event.update_time());
          last_sent = std::max(last_sent, sent);
          to_sent_ms.push_back(absl::ToDoubleMilliseconds(sent - created));
        }
      });
  if (!walked.ok()) {
    std::printf("CHECK FAILED: %s\n", std::string(walked.message()).c_str());
    return false;
  }
  std::sort(to_sent_ms.begin(), to_sent_ms.end());
  std::printf("events: %lld (", static_cast<long long>(events));
  for (const auto& [state, count] : by_state) {
    std::printf(" %s=%lld", state.c_str(), static_cast<long long>(count));
  }
  std::printf(" )\n");
  if (!to_sent_ms.empty()) {
    const double span_s = absl::ToDoubleSeconds(last_sent - first_create);
    std::printf(
        "delivery: creation -> SENT p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, "
        "max %.1f ms; %zu SENT in %.2f s from the first creation = %.0f/s\n",
        SortedQuantile(to_sent_ms, 0.5), SortedQuantile(to_sent_ms, 0.9),
        SortedQuantile(to_sent_ms, 0.99), SortedQuantile(to_sent_ms, 1.0),
        to_sent_ms.size(), span_s, span_s > 0 ? to_sent_ms.size() / span_s : 0);
  }
  absl::StatusOr<SinkStats> sink = sink_control.Stats();
  if (sink.ok()) {
    std::printf(
        "sink: accepted %lld, duplicates %lld, rejected %lld, failed %lld; "
        "%.0f accepted/s between its first and latest\n",
        static_cast<long long>(sink->accepted),
        static_cast<long long>(sink->duplicates),
        static_cast<long long>(sink->rejected),
        static_cast<long long>(sink->failed), sink->accept_rate());
  } else {
    std::printf("sink: no /stats (%s)\n",
                std::string(sink.status().message()).c_str());
  }
  const bool all_created = events == tally.events.load();
  std::printf("check: %lld events listed, %lld returned by %lld moves: %s\n",
              static_cast<long long>(events),
              static_cast<long long>(tally.events.load()),
              static_cast<long long>(tally.moves.load()),
              all_created ? "ok" : "MISMATCH");
  return all_created;
}

// The full method name of each kind of call, for the replay.
const std::map<std::string, std::string> kMethods = {
    {"move", "/ats.v1.JobService/MoveCandidate"},
    {"get_job", "/ats.v1.JobService/GetJob"},
    {"list_events", "/ats.v1.IntegrationService/ListEvents"},
    {"health", "/grpc.health.v1.Health/Check"},
};

// The kinds of call over `channels`, by their --mix names; each keeps its
// first response in `samples`.
std::map<std::string, CallKind> MakeKinds(
    const Channels& channels, const Seeded& seeded, int in_flight,
    MoveTally* tally, std::map<std::string, Sample>* samples) {
  return {
      {"move", Move(channels, seeded, in_flight, tally, &(*samples)["move"])},
      {"get_job", GetJob(channels, seeded, &(*samples)["get_job"])},
      {"list_events", ListEvents(channels, seeded, &(*samples)["list_events"])},
      {"health", HealthCheck(channels, &(*samples)["health"])},
  };
}

// Runs the health check baseline, then the chosen kinds (each alone, or
// together), and prints each next to the baseline. Returns whether every
// call succeeded.
bool RunAndPrint(const std::map<std::string, CallKind>& kinds,
                 const std::vector<std::pair<std::string, int>>& chosen,
                 const LoadOptions& load, bool together) {
  const KindResult baseline = RunLoad({kinds.at("health")}, load)[0];
  PrintLoadHeader();
  PrintLoadRow(baseline, baseline);
  bool ok = baseline.errors == 0;
  std::vector<CallKind> chosen_kinds;
  for (const auto& [name, weight] : chosen) {
    chosen_kinds.push_back(kinds.at(name));
    chosen_kinds.back().weight = weight;
  }
  auto run = [&](const std::vector<CallKind>& load_kinds) {
    for (const KindResult& result : RunLoad(load_kinds, load)) {
      PrintLoadRow(result, baseline);
      ok = ok && result.errors == 0;
    }
  };
  if (together) {
    run(chosen_kinds);
  } else {
    for (const CallKind& kind : chosen_kinds) run({kind});
  }
  return ok;
}

// Runs the same loads against a stand-in server that answers each call with
// the first response the real server gave it (see replay.h): what gRPC and
// these messages cost on this machine with no server work at all.
bool Replay(const std::map<std::string, Sample>& samples, const Seeded& seeded,
            const std::vector<std::pair<std::string, int>>& chosen,
            const LoadOptions& load, const MixOptions& options) {
  std::map<std::string, const google::protobuf::Message*> responses;
  for (const auto& [name, sample] : samples) {
    if (sample.message() != nullptr) {
      responses[kMethods.at(name)] = sample.message();
    }
  }
  auto replay = ReplayServer::Start(responses, options.target.channels);
  if (!replay.ok()) {
    std::printf("replay: %s\n", replay.status().ToString().c_str());
    return false;
  }
  std::printf(
      "replay: the same loads against a stand-in answering every call from "
      "memory with the server's response (gRPC and the messages alone):");
  for (const auto& [method, response] : responses) {
    std::printf(" %s %zu bytes;", method.c_str(), response->ByteSizeLong());
  }
  std::printf("\n");
  MoveTally tally;
  std::map<std::string, Sample> replay_samples;
  return RunAndPrint(MakeKinds((*replay)->channels(), seeded, options.in_flight,
                               &tally, &replay_samples),
                     chosen, load, options.together);
}

// Opens the target and seeds it for the loads of `options`: its jobs, with
// in_flight * applications_per_slot candidates in them.
absl::StatusOr<SeededTarget> OpenMixTarget(const MixOptions& options) {
  SeedOptions seed;
  seed.jobs = options.jobs;
  seed.candidates = options.in_flight * options.applications_per_slot;
  absl::StatusOr<SeededTarget> bench = OpenSeeded(options.target, seed);
  if (!bench.ok()) {
    std::fprintf(stderr, "ats-bench: %s\n", bench.status().ToString().c_str());
    return bench.status();
  }
  std::printf("seeded %d jobs, %zu candidates in them, in %.1f s\n",
              options.jobs, bench->seeded.applications.size(),
              absl::ToDoubleSeconds(bench->seed_time));
  return bench;
}

LoadOptions MixLoad(const MixOptions& options) {
  LoadOptions load;
  load.in_flight = options.in_flight;
  load.duration = options.duration;
  load.warmup = options.warmup;
  load.max_calls = options.max_calls;
  return load;
}

}  // namespace

absl::StatusOr<MoveLoad> RunMoveLoad(const MixOptions& options) {
  absl::StatusOr<SeededTarget> bench = OpenMixTarget(options);
  if (!bench.ok()) return bench.status();
  const Target& target = *bench->target;
  const Seeded& seeded = bench->seeded;
  MoveTally tally;
  Sample sample;
  MoveLoad load;
  // Samples the server's memory beside the load, on a thread of its own.
  absl::Notification load_done;
  std::thread sampler;
  const std::optional<pid_t> pid = target.server_pid();
  if (options.rss_interval > absl::ZeroDuration() && pid.has_value()) {
    sampler = std::thread([&] {
      const absl::Time start = absl::Now();
      do {
        const absl::StatusOr<int64_t> bytes = RssBytes(*pid);
        if (!bytes.ok()) return;
        load.rss.push_back(
            RssSample{absl::Now() - start, *bytes, tally.moves.load()});
      } while (!load_done.WaitForNotificationWithTimeout(options.rss_interval));
    });
  }
  load.moves = RunLoad(
      {Move(target.channels(), seeded, options.in_flight, &tally, &sample)},
      MixLoad(options))[0];
  load_done.Notify();
  if (sampler.joinable()) sampler.join();
  load.applications = static_cast<int>(seeded.applications.size());
  load.delivered =
      WaitForDelivery(target, seeded.recruiter_key, options.drain_timeout);
  load.payload_bytes = EventPayloadBytes(target);
  return load;
}

int RunMix(const MixOptions& options) {
  std::vector<std::pair<std::string, int>> chosen;
  for (const std::string& entry : options.mix) {
    std::vector<std::string> parts = absl::StrSplit(entry, ':');
    int weight = 1;
    if (kMethods.count(parts[0]) == 0 ||
        (parts.size() > 1 && !absl::SimpleAtoi(parts[1], &weight))) {
      std::fprintf(stderr,
                   "ats-bench: unknown mix entry '%s'; use move, get_job, "
                   "list_events or health, each optionally :weight\n",
                   entry.c_str());
      return 2;
    }
    chosen.emplace_back(parts[0], weight);
  }

  absl::StatusOr<SeededTarget> bench = OpenMixTarget(options);
  if (!bench.ok()) return 1;
  const Target& target = *bench->target;
  const Seeded& seeded = bench->seeded;

  const LoadOptions load = MixLoad(options);
  std::printf(
      "load: %d in flight over %zu connection(s), %s each (first %s not "
      "counted)\n",
      options.in_flight, target.channels().size(),
      absl::FormatDuration(load.duration).c_str(),
      absl::FormatDuration(load.warmup).c_str());
  MoveTally tally;
  std::map<std::string, Sample> samples;
  bool ok = RunAndPrint(
      MakeKinds(target.channels(), seeded, options.in_flight, &tally, &samples),
      chosen, load, options.together);

  if (tally.moves.load() > 0) {
    ok = ReportDelivery(target, bench->sink, seeded, options, tally) && ok;
    ok = CheckHistories(target, seeded, tally.moves.load()) && ok;
  }
  if (options.replay) ok = Replay(samples, seeded, chosen, load, options) && ok;
  return ok ? 0 : 1;
}

}  // namespace ats::bench
