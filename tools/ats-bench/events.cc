// ats-bench events: the server with many events: its peak memory, and
// ListEvents deep in the list next to its first page.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "ats/v1/integration_service.grpc.pb.h"
#include "ats/v1/job_service.grpc.pb.h"
#include "tools/ats-bench/api.h"
#include "tools/ats-bench/commands.h"
#include "tools/ats-bench/load.h"
#include "tools/ats-bench/report.h"
#include "tools/ats-bench/seed.h"

namespace ats::bench {
namespace {

constexpr int kMaxBatchMove = 1000;  // BatchMoveCandidates' limit

// Moves every seeded candidate back and forth between its job's trigger
// stages, a thousand per call, until `events` events exist.
absl::Status CreateEvents(const Target& target, const Seeded& seeded,
                          int64_t events) {
  auto jobs = ats::v1::JobService::NewStub(target.channel());
  int64_t created = 0;
  const absl::Time start = absl::Now();
  int64_t next_report = 100000;
  for (int round = 0; created < events; ++round) {
    for (size_t first = 0;
         first < seeded.applications.size() && created < events;
         first += kMaxBatchMove) {
      ats::v1::BatchMoveCandidatesRequest request;
      request.set_parent(seeded.jobs[0]);
      request.set_stage(seeded.trigger_stages[0][round % 2]);
      for (size_t i = first;
           i < seeded.applications.size() && i < first + kMaxBatchMove; ++i) {
        request.add_candidates(seeded.candidates[i]);
      }
      ats::v1::BatchMoveCandidatesResponse response;
      grpc::Status status = jobs->BatchMoveCandidates(
          Context(seeded.recruiter_key).get(), request, &response);
      if (!status.ok()) return ToStatus(status, "BatchMoveCandidates");
      created += response.events_size();
      if (created >= next_report) {
        std::printf("  %lld events, %.0f/s\n", static_cast<long long>(created),
                    created / absl::ToDoubleSeconds(absl::Now() - start));
        std::fflush(stdout);
        next_report += 100000;
      }
    }
  }
  return absl::OkStatus();
}

// Returns the page token of page `page` (1-based) of ListEvents.
absl::StatusOr<std::string> PageToken(const Target& target,
                                      const std::string& key, int page_size,
                                      int page) {
  auto integrations = ats::v1::IntegrationService::NewStub(target.channel());
  ats::v1::ListEventsRequest request;
  request.set_page_size(page_size);
  for (int i = 1; i < page; ++i) {
    ats::v1::ListEventsResponse response;
    grpc::Status status =
        integrations->ListEvents(Context(key).get(), request, &response);
    if (!status.ok()) return ToStatus(status, "ListEvents");
    if (response.next_page_token().empty()) {
      return absl::OutOfRangeError("there are fewer pages than asked for");
    }
    request.set_page_token(response.next_page_token());
  }
  return request.page_token();
}

}  // namespace

int RunEvents(const EventsOptions& options) {
  TargetOptions target_options = options.target;
  // Only storage is measured: the events stay PENDING.
  target_options.server_flags.push_back("--dispatch=false");
  SeedOptions seed;
  seed.jobs = 1;
  seed.candidates = options.candidates;
  absl::StatusOr<SeededTarget> bench = OpenSeeded(target_options, seed);
  if (!bench.ok()) {
    std::fprintf(stderr, "ats-bench: %s\n", bench.status().ToString().c_str());
    return 1;
  }
  const Target& target = *bench->target;
  const Seeded& seeded = bench->seeded;
  std::printf("creating %lld events by moving %d candidates in batches "
              "(dispatch off)\n",
              static_cast<long long>(options.events), options.candidates);
  const absl::Time start = absl::Now();
  absl::Status created = CreateEvents(target, seeded, options.events);
  if (!created.ok()) {
    std::fprintf(stderr, "ats-bench: %s\n", created.ToString().c_str());
    return 1;
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("created %lld events in %.1f s = %.0f/s\n",
              static_cast<long long>(options.events), seconds,
              options.events / seconds);

  auto token = PageToken(target, seeded.recruiter_key, options.page_size,
                         options.deep_page);
  if (!token.ok()) {
    std::fprintf(stderr, "ats-bench: %s\n", token.status().ToString().c_str());
    return 1;
  }
  auto integrations =
      ats::v1::IntegrationService::NewStub(target.channel());
  std::vector<double> first_us;
  std::vector<double> deep_us;
  for (int i = 0; i < options.samples; ++i) {
    for (bool deep : {false, true}) {
      ats::v1::ListEventsRequest request;
      request.set_page_size(options.page_size);
      if (deep) request.set_page_token(*token);
      ats::v1::ListEventsResponse response;
      const absl::Time call_start = absl::Now();
      grpc::Status status = integrations->ListEvents(
          Context(seeded.recruiter_key).get(), request, &response);
      const double us = absl::ToDoubleMicroseconds(absl::Now() - call_start);
      if (!status.ok() || response.events_size() != options.page_size) {
        std::fprintf(stderr, "ats-bench: ListEvents page failed: %s\n",
                     status.error_message().c_str());
        return 1;
      }
      (deep ? deep_us : first_us).push_back(us);
    }
  }
  std::sort(first_us.begin(), first_us.end());
  std::sort(deep_us.begin(), deep_us.end());
  std::printf(
      "ListEvents(%d), %d calls each, one at a time: page 1 p50 %.2f ms p99 "
      "%.2f ms; page %d p50 %.2f ms p99 %.2f ms; page %d / page 1 (p50) = "
      "%.2f\n",
      options.page_size, options.samples, SortedQuantile(first_us, 0.5) / 1000,
      SortedQuantile(first_us, 0.99) / 1000, options.deep_page,
      SortedQuantile(deep_us, 0.5) / 1000, SortedQuantile(deep_us, 0.99) / 1000,
      options.deep_page,
      SortedQuantile(deep_us, 0.5) / SortedQuantile(first_us, 0.5));
  if (auto pid = target.server_pid(); pid.has_value()) {
    absl::StatusOr<int64_t> peak = PeakRssBytes(*pid);
    std::error_code error;
    const auto db_bytes =
        std::filesystem::file_size(target.database_path(), error);
    std::printf(
        "ats-server peak RSS (VmHWM): %.1f MiB; database file %.1f MiB\n",
        peak.ok() ? Mebibytes(*peak) : 0.0,
        error ? 0.0 : Mebibytes(static_cast<int64_t>(db_bytes)));
  }
  return 0;
}

}  // namespace ats::bench
