// ats-bench bulk: one bulk trigger over many candidates: how long until every
// event exists, and how fast the partner sink then gets them, next to
// SQLite inserting as many event rows in one transaction.

#include <cstdio>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ats/v1/integration_service.grpc.pb.h"
#include "storage/sqlite/event_insert_baseline.h"
#include "tests/support/temp_dir.h"
#include "tools/ats-bench/api.h"
#include "tools/ats-bench/commands.h"
#include "tools/ats-bench/seed.h"
#include "tools/ats-bench/steps.h"

namespace ats::bench {
absl::StatusOr<BulkCreation> CreateBulkEvents(const BulkOptions& options) {
  SeedOptions seed;
  seed.jobs = 1;
  seed.candidates = options.candidates;
  seed.add_to_jobs = false;
  seed.in_flight = options.in_flight;
  seed.tag = absl::StrCat("bench-", absl::ToUnixMicros(absl::Now()));
  TargetOptions target_options = options.target;
  if (options.deliver_after_creation) {
    if (!target_options.servers.empty()) {
      return absl::InvalidArgumentError(
          "--deliver_after_creation restarts the server: it needs one "
          "started by ats-bench, not --server");
    }
    target_options.server_flags.push_back("--dispatch=false");
  }
  absl::StatusOr<SeededTarget> bench = OpenSeeded(target_options, seed);
  if (!bench.ok()) {
    std::fprintf(stderr, "ats-bench: %s\n", bench.status().ToString().c_str());
    return bench.status();
  }
  std::printf("seeded %d candidates tagged %s in %.1f s\n", options.candidates,
              seed.tag.c_str(), absl::ToDoubleSeconds(bench->seed_time));
  BulkCreation creation(*std::move(bench));
  const Target& target = *creation.bench.target;
  const Seeded& seeded = creation.bench.seeded;
  creation.sink_before = creation.bench.sink.Stats();

  auto integrations = ats::v1::IntegrationService::NewStub(target.channel());
  ats::v1::BulkTriggerIntegrationRequest request;
  request.set_integration(seeded.integrations[0]);
  request.mutable_selection()->set_tag(seed.tag);
  (*request.mutable_option_values())[kTestPackageOption] = kTestPackages[0];
  request.set_request_id(seed.tag);
  creation.start = absl::Now();
  auto context = Context(seeded.recruiter_key);
  auto stream = integrations->BulkTriggerIntegration(context.get(), request);
  ats::v1::BulkOperation operation;
  while (stream->Read(&operation) &&
         operation.state() == ats::v1::BULK_OPERATION_STATE_RUNNING) {
  }
  creation.create_time = absl::Now() - creation.start;
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
    return absl::InternalError("the bulk operation did not create every event");
  }
  if (options.deliver_after_creation) {
    absl::Status restarted =
        creation.bench.target->RestartServer({"--dispatch=true"});
    if (!restarted.ok()) {
      std::printf("CHECK FAILED: cannot restart the server delivering: %s\n",
                  restarted.ToString().c_str());
      return restarted;
    }
  }
  return creation;
}

absl::StatusOr<absl::Duration> TimeBareEventInserts(
    const BulkCreation& creation, int rows, bool synchronous_full) {
  testing::TempDir dir;
  return storage::sqlite::TimeEventInserts(
      dir.File("baseline.db"), rows, EventPayloadBytes(*creation.bench.target),
      synchronous_full);
}

absl::StatusOr<BulkDelivery> AwaitBulkDelivery(const BulkCreation& creation,
                                               int64_t expected,
                                               absl::Duration timeout) {
  const absl::StatusOr<SinkStats>& before = creation.sink_before;
  if (!before.ok()) {
    std::printf("sink: no /stats (%s); delivery not measured\n",
                std::string(before.status().message()).c_str());
    return before.status();
  }
  const SinkControl& sink = creation.bench.sink;
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<SinkStats> after = sink.Stats();
  while (after.ok() && after->accepted - before->accepted < expected &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    after = sink.Stats();
  }
  if (!after.ok()) {
    std::printf("CHECK FAILED: %s\n", after.status().ToString().c_str());
    return after.status();
  }
  BulkDelivery delivery;
  delivery.accepted = after->accepted - before->accepted;
  delivery.duplicates = after->duplicates - before->duplicates;
  delivery.rejected = after->rejected - before->rejected;
  delivery.failed = after->failed - before->failed;
  const int64_t from_ms = before->accepted == 0
                              ? after->first_accept_unix_ms
                              : absl::ToUnixMillis(creation.start);
  delivery.seconds = (after->last_accept_unix_ms - from_ms) / 1000.0;
  return delivery;
}

int RunBulk(const BulkOptions& options) {
  absl::StatusOr<BulkCreation> creation = CreateBulkEvents(options);
  if (!creation.ok()) return 1;
  const double create_seconds = absl::ToDoubleSeconds(creation->create_time);
  std::printf(
      "bulk: %d events created (operation SUCCEEDED) in %.3f s = %.0f/s "
      "(%s)\n",
      options.candidates, create_seconds, options.candidates / create_seconds,
      options.deliver_after_creation ? "nothing delivered meanwhile"
                                     : "delivering meanwhile");

  const absl::StatusOr<BulkDelivery> delivery = AwaitBulkDelivery(
      *creation, options.candidates, options.delivery_timeout);
  if (!delivery.ok()) return 1;
  std::printf(
      "sink: %lld verified deliveries in %.3f s = %.0f/s; duplicates %lld, "
      "rejected %lld, failed %lld\n",
      static_cast<long long>(delivery->accepted), delivery->seconds,
      delivery->rate(), static_cast<long long>(delivery->duplicates),
      static_cast<long long>(delivery->rejected),
      static_cast<long long>(delivery->failed));
  if (delivery->accepted != options.candidates || delivery->rejected != 0) {
    std::printf("CHECK FAILED: not every event was accepted\n");
    return 1;
  }

  // Once every event is delivered, so that neither slows the other.
  const absl::StatusOr<absl::Duration> baseline =
      TimeBareEventInserts(*creation, options.candidates,
                           options.target.sqlite_synchronous == "full");
  if (!baseline.ok()) {
    std::fprintf(stderr, "ats-bench: SQLite baseline: %s\n",
                 baseline.status().ToString().c_str());
    return 1;
  }
  const double baseline_seconds = absl::ToDoubleSeconds(*baseline);
  const double baseline_rate = options.candidates / baseline_seconds;
  std::printf(
      "baseline: SQLite inserts %d event rows in one transaction in %.3f s = "
      "%.0f rows/s; creation took %.2fx its time, delivery ran at %.2fx its "
      "rows/s\n",
      options.candidates, baseline_seconds, baseline_rate,
      create_seconds / baseline_seconds, delivery->rate() / baseline_rate);
  return 0;
}

}  // namespace ats::bench
