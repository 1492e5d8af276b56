// ats-bench noisy: partners that never answer beside partners that do. Each
// run starts a fresh server, gives every hanging integration a backlog of
// events, then triggers the healthy integrations at a steady pace and
// reports how long their events took from creation to their first attempt
// and to SENT, next to the same run with no hanging integration.

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ats/v1/integration_service.grpc.pb.h"
#include "google/protobuf/util/time_util.h"
#include "tools/ats-bench/api.h"
#include "tools/ats-bench/commands.h"
#include "tools/ats-bench/load.h"
#include "tools/ats-bench/seed.h"

namespace ats::bench {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kHangingPath[] = "/webhooks/hanging";

// Healthy events' latencies in one run, in milliseconds, sorted.
struct NoisyRun {
  int hanging = 0;
  std::vector<double> first_attempt_ms;
  std::vector<double> sent_ms;
  // Not SENT, or SENT only after half the hanging deliveries' timeout: held
  // up by them.
  int late = 0;
};

double Millis(const google::protobuf::Timestamp& from,
              const google::protobuf::Timestamp& to) {
  return TimeUtil::DurationToMicroseconds(to - from) / 1000.0;
}

// Gives `integration` an event for each of `candidates` in one bulk
// operation, and returns once the operation has ended.
absl::Status Backlog(const Target& target, const std::string& key,
                     const std::string& integration,
                     const std::vector<std::string>& candidates) {
  auto integrations = ats::v1::IntegrationService::NewStub(target.channel());
  ats::v1::BulkTriggerIntegrationRequest request;
  request.set_integration(integration);
  for (const std::string& candidate : candidates) {
    request.mutable_selection()->mutable_candidates()->add_candidates(
        candidate);
  }
  (*request.mutable_option_values())[kTestPackageOption] = kTestPackages[1];
  auto context = Context(key);
  auto reader = integrations->BulkTriggerIntegration(context.get(), request);
  ats::v1::BulkOperation progress;
  while (reader->Read(&progress)) {
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return ToStatus(status, "BulkTriggerIntegration");
  return absl::OkStatus();
}

// Triggers every healthy integration for `count` candidates in turn, one
// call every `spacing`; returns the events' names.
absl::StatusOr<std::vector<std::string>> TriggerHealthy(
    const Target& target, const Seeded& seeded, int count,
    absl::Duration spacing) {
  auto integrations = ats::v1::IntegrationService::NewStub(target.channel());
  std::vector<std::string> events;
  absl::Time next = absl::Now();
  for (int i = 0; i < count; ++i) {
    for (const std::string& integration : seeded.integrations) {
      absl::SleepFor(next - absl::Now());
      next += spacing;
      ats::v1::TriggerIntegrationRequest request;
      request.set_integration(integration);
      request.set_candidate(seeded.candidates[i % seeded.candidates.size()]);
      (*request.mutable_option_values())[kTestPackageOption] = kTestPackages[1];
      ats::v1::TriggerIntegrationResponse response;
      grpc::Status status = integrations->TriggerIntegration(
          Context(seeded.recruiter_key).get(), request, &response);
      if (!status.ok()) return ToStatus(status, "TriggerIntegration");
      events.push_back(response.event().name());
    }
  }
  return events;
}

// Waits until each of `events` has left the states before SENT, or until
// `timeout`; adds their latencies to `run`, counting those SENT after
// `late` (or not at all) as late.
absl::Status Collect(const Target& target, const std::string& key,
                     const std::vector<std::string>& events,
                     absl::Duration timeout, absl::Duration late,
                     NoisyRun& run) {
  auto integrations = ats::v1::IntegrationService::NewStub(target.channel());
  const absl::Time deadline = absl::Now() + timeout;
  for (const std::string& name : events) {
    ats::v1::Event event;
    for (;;) {
      ats::v1::GetEventRequest request;
      request.set_name(name);
      grpc::Status status =
          integrations->GetEvent(Context(key).get(), request, &event);
      if (!status.ok()) return ToStatus(status, "GetEvent");
      const bool waiting = event.state() == ats::v1::EVENT_STATE_PENDING ||
                           event.state() == ats::v1::EVENT_STATE_SENDING ||
                           event.state() == ats::v1::EVENT_STATE_RETRYING;
      if (!waiting || absl::Now() >= deadline) break;
      absl::SleepFor(absl::Milliseconds(50));
    }
    if (event.attempts_size() > 0) {
      run.first_attempt_ms.push_back(
          Millis(event.create_time(), event.attempts(0).attempt_time()));
    }
    const bool sent = event.state() == ats::v1::EVENT_STATE_SENT;
    if (sent) {
      run.sent_ms.push_back(Millis(event.create_time(), event.update_time()));
    }
    if (!sent || run.sent_ms.back() > absl::ToDoubleMilliseconds(late)) {
      ++run.late;
    }
  }
  std::sort(run.first_attempt_ms.begin(), run.first_attempt_ms.end());
  std::sort(run.sent_ms.begin(), run.sent_ms.end());
  return absl::OkStatus();
}

// One run with `hanging` integrations that never answer.
absl::StatusOr<NoisyRun> RunOnce(const NoisyOptions& options, int hanging) {
  TargetOptions target_options = options.target;
  const std::vector<std::string> flags = {
      absl::StrCat("--delivery_timeout=",
                   absl::FormatDuration(options.delivery_timeout)),
      absl::StrCat("--dispatch_lease=",
                   absl::FormatDuration(3 * options.delivery_timeout)),
      // The hanging deliveries are not waited for at the end.
      "--shutdown_grace=1s"};
  target_options.server_flags.insert(target_options.server_flags.begin(),
                                     flags.begin(), flags.end());
  SeedOptions seed;
  seed.jobs = 1;
  seed.candidates = std::max(options.hanging_events, options.healthy_events);
  seed.add_to_jobs = false;
  auto opened = OpenSeeded(target_options, seed);
  if (!opened.ok()) return opened.status();
  const Target& target = *opened->target;
  const Seeded& seeded = opened->seeded;

  absl::Status status = opened->sink.SetBehaviour(absl::StrCat(
      R"({"delay_ms": 600000, "path": ")", kHangingPath, R"("})"));
  if (!status.ok()) return status;
  const std::vector<std::string> backlog(
      seeded.candidates.begin(),
      seeded.candidates.begin() + options.hanging_events);
  for (int i = 0; i < hanging; ++i) {
    auto integration =
        CreateIntegration(target, opened->sink, 100 + i, kHangingPath);
    if (!integration.ok()) return integration.status();
    status = Backlog(target, seeded.recruiter_key, *integration, backlog);
    if (!status.ok()) return status;
  }
  // Let the dispatcher take up the backlogs before the healthy events come.
  absl::SleepFor(absl::Seconds(1));

  auto events = TriggerHealthy(target, seeded, options.healthy_events,
                               options.spacing);
  if (!events.ok()) return events.status();
  NoisyRun run;
  run.hanging = hanging;
  // Long enough to see what a server without fair limits does: the healthy
  // events wait for the hanging deliveries to time out.
  status = Collect(target, seeded.recruiter_key, *events,
                   2 * options.delivery_timeout, options.delivery_timeout / 2,
                   run);
  if (!status.ok()) return status;
  return run;
}

// `run`'s p99 of `latencies` over `quiet`'s.
double P99Ratio(const NoisyRun& run, const NoisyRun& quiet,
                std::vector<double> NoisyRun::*latencies) {
  const double baseline = SortedQuantile(quiet.*latencies, 0.99);
  return baseline > 0 ? SortedQuantile(run.*latencies, 0.99) / baseline : 0;
}

void PrintRun(const NoisyRun& run, const NoisyRun& quiet) {
  std::printf("%8d %9.1f %9.1f %9.2f %9.1f %9.1f %9.2f %9d\n", run.hanging,
              SortedQuantile(run.first_attempt_ms, 0.5),
              SortedQuantile(run.first_attempt_ms, 0.99),
              P99Ratio(run, quiet, &NoisyRun::first_attempt_ms),
              SortedQuantile(run.sent_ms, 0.5),
              SortedQuantile(run.sent_ms, 0.99),
              P99Ratio(run, quiet, &NoisyRun::sent_ms), run.late);
  std::fflush(stdout);
}

}  // namespace

int RunNoisy(const NoisyOptions& options) {
  if (options.hanging_events < 1 || options.healthy_events < 1) {
    std::fprintf(stderr, "--hanging_events and --healthy_events must be at "
                         "least 1\n");
    return 2;
  }
  std::printf(
      "noisy neighbours: %d hanging events per hanging integration (never "
      "answered, --delivery_timeout=%s); 2 healthy integrations get %d "
      "events each, one every %s; creation -> first attempt and -> SENT of "
      "the healthy events, in ms; late: not SENT within half the timeout\n",
      options.hanging_events,
      absl::FormatDuration(options.delivery_timeout).c_str(),
      options.healthy_events, absl::FormatDuration(options.spacing).c_str());
  std::printf("%8s %9s %9s %9s %9s %9s %9s %9s\n", "hanging", "first p50",
              "first p99", "/quiet", "SENT p50", "SENT p99", "/quiet",
              "late");
  NoisyRun quiet;
  int failures = 0;
  for (int hanging : options.hanging) {
    absl::StatusOr<NoisyRun> run = RunOnce(options, hanging);
    if (!run.ok()) {
      std::fprintf(stderr, "run with %d hanging integrations failed: %s\n",
                   hanging, run.status().ToString().c_str());
      return 1;
    }
    if (hanging == 0 || quiet.sent_ms.empty()) quiet = *run;
    PrintRun(*run, quiet);
    failures += run->late;
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace ats::bench
