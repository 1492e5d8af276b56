// ats-bench bulk: one bulk trigger over many candidates: how long until every
// event exists, and how fast the partner sink then gets them, next to
// SQLite inserting as many event rows in one transaction.

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ats/v1/integration_service.grpc.pb.h"
#include "storage/sqlite/event_insert_baseline.h"
#include "tests/support/temp_dir.h"
#include "tools/ats-bench/api.h"
#include "tools/ats-bench/commands.h"
#include "tools/ats-bench/seed.h"

namespace ats::bench {
namespace {

// The size of the payload of the events the server wrote, or a typical one
// when its database is not ours to read.
int64_t EventPayloadBytes(const Target& target) {
  constexpr int64_t kTypical = 400;
  if (target.database_path().empty()) return kTypical;
  const absl::StatusOr<int64_t> bytes =
      storage::sqlite::AverageEventPayloadBytes(target.database_path());
  return bytes.ok() && *bytes > 0 ? *bytes : kTypical;
}

// The time SQLite takes to insert `rows` event rows of `payload_bytes` bytes
// into a scratch database.
absl::StatusOr<absl::Duration> SqliteInsertBaseline(int rows,
                                                    int64_t payload_bytes,
                                                    bool synchronous_full) {
  testing::TempDir dir;
  return storage::sqlite::TimeEventInserts(dir.File("baseline.db"), rows,
                                           payload_bytes, synchronous_full);
}

}  // namespace

int RunBulk(const BulkOptions& options) {
  SeedOptions seed;
  seed.jobs = 1;
  seed.candidates = options.candidates;
  seed.add_to_jobs = false;
  seed.in_flight = options.in_flight;
  seed.tag = absl::StrCat("bench-", absl::ToUnixMicros(absl::Now()));
  absl::StatusOr<SeededTarget> bench = OpenSeeded(options.target, seed);
  if (!bench.ok()) {
    std::fprintf(stderr, "ats-bench: %s\n", bench.status().ToString().c_str());
    return 1;
  }
  const Target& target = *bench->target;
  const SinkControl& sink = bench->sink;
  const Seeded& seeded = bench->seeded;
  std::printf("seeded %d candidates tagged %s in %.1f s\n", options.candidates,
              seed.tag.c_str(), absl::ToDoubleSeconds(bench->seed_time));
  absl::StatusOr<SinkStats> before = sink.Stats();

  auto integrations = ats::v1::IntegrationService::NewStub(target.channel());
  ats::v1::BulkTriggerIntegrationRequest request;
  request.set_integration(seeded.integrations[0]);
  request.mutable_selection()->set_tag(seed.tag);
  (*request.mutable_option_values())[kTestPackageOption] = kTestPackages[0];
  request.set_request_id(seed.tag);
  const absl::Time start = absl::Now();
  auto context = Context(seeded.recruiter_key);
  auto stream = integrations->BulkTriggerIntegration(context.get(), request);
  ats::v1::BulkOperation operation;
  while (stream->Read(&operation) &&
         operation.state() == ats::v1::BULK_OPERATION_STATE_RUNNING) {
  }
  const absl::Duration create_time = absl::Now() - start;
  grpc::Status finished = stream->Finish();
  if (!finished.ok() ||
      operation.state() != ats::v1::BULK_OPERATION_STATE_SUCCEEDED ||
      operation.created_count() != options.candidates) {
    std::printf(
        "CHECK FAILED: bulk operation %s ended %s with %lld of %d events "
        "created (%s)\n",
        operation.name().c_str(),
        ats::v1::BulkOperationState_Name(operation.state()).c_str(),
        static_cast<long long>(operation.created_count()), options.candidates,
        finished.error_message().c_str());
    return 1;
  }

  const absl::StatusOr<absl::Duration> baseline = SqliteInsertBaseline(
      options.candidates, EventPayloadBytes(target),
      options.target.sqlite_synchronous == "full");
  if (!baseline.ok()) {
    std::fprintf(stderr, "ats-bench: SQLite baseline: %s\n",
                 baseline.status().ToString().c_str());
    return 1;
  }
  const double baseline_rate =
      options.candidates / absl::ToDoubleSeconds(*baseline);
  std::printf("baseline: SQLite inserts %d event rows in one transaction in "
              "%.3f s = %.0f rows/s\n",
              options.candidates, absl::ToDoubleSeconds(*baseline),
              baseline_rate);
  std::printf("bulk: %d events created (operation SUCCEEDED) in %.3f s = "
              "%.0f/s; %.2fx the baseline's time\n",
              options.candidates, absl::ToDoubleSeconds(create_time),
              options.candidates / absl::ToDoubleSeconds(create_time),
              absl::ToDoubleSeconds(create_time) /
                  absl::ToDoubleSeconds(*baseline));

  if (!before.ok()) {
    std::printf("sink: no /stats (%s); delivery not measured\n",
                std::string(before.status().message()).c_str());
    return 1;
  }
  const absl::Time deadline = absl::Now() + options.delivery_timeout;
  absl::StatusOr<SinkStats> after = sink.Stats();
  while (after.ok() && after->accepted - before->accepted < options.candidates &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    after = sink.Stats();
  }
  if (!after.ok()) {
    std::printf("CHECK FAILED: %s\n", after.status().ToString().c_str());
    return 1;
  }
  const int64_t accepted = after->accepted - before->accepted;
  // From the first delivery of this run (or, on a sink that had deliveries
  // before, the start of the call) to the latest.
  const int64_t from_ms = before->accepted == 0
                              ? after->first_accept_unix_ms
                              : absl::ToUnixMillis(start);
  const double seconds = (after->last_accept_unix_ms - from_ms) / 1000.0;
  const double rate = seconds > 0 ? accepted / seconds : 0;
  std::printf("sink: %lld verified deliveries in %.3f s = %.0f/s (%.2fx the "
              "baseline's rows/s); duplicates %lld, rejected %lld, failed "
              "%lld\n",
              static_cast<long long>(accepted), seconds, rate,
              rate / baseline_rate,
              static_cast<long long>(after->duplicates - before->duplicates),
              static_cast<long long>(after->rejected - before->rejected),
              static_cast<long long>(after->failed - before->failed));
  const bool ok = accepted == options.candidates &&
                  after->rejected == before->rejected;
  if (!ok) std::printf("CHECK FAILED: not every event was accepted\n");
  return ok ? 0 : 1;
}

}  // namespace ats::bench
