// The measurements of bulk and mix that compare runs too, as functions, so
// both commands measure the very same thing. Each reports its own failures
// (on stdout or stderr, as the commands always did) and then returns an
// error the caller need not print again.
#ifndef ATS_TOOLS_ATS_BENCH_STEPS_H_
#define ATS_TOOLS_ATS_BENCH_STEPS_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/ats-bench/commands.h"
#include "tools/ats-bench/load.h"
#include "tools/ats-bench/seed.h"

namespace ats::bench {

// A bulk trigger whose operation has SUCCEEDED: every event exists.
struct BulkCreation {
  explicit BulkCreation(SeededTarget seeded) : bench(std::move(seeded)) {}

  SeededTarget bench;
  // When the call started, and how long until its operation succeeded.
  absl::Time start;
  absl::Duration create_time;
  // The sink's counts before the call.
  absl::StatusOr<SinkStats> sink_before;
};

// Seeds options.candidates candidates with one tag and bulk-triggers an
// integration for that tag, timing until the operation has created every
// event.
absl::StatusOr<BulkCreation> CreateBulkEvents(const BulkOptions& options);

// How long SQLite alone takes to insert as many event rows as `creation`
// created, of the size its events have, in one transaction into a scratch
// database with the server's schema: the least creating them could cost.
absl::StatusOr<absl::Duration> TimeBareEventInserts(
    const BulkCreation& creation, int rows, bool synchronous_full);

// What the sink received of a bulk trigger's events.
struct BulkDelivery {
  int64_t accepted = 0;
  int64_t duplicates = 0;
  int64_t rejected = 0;
  int64_t failed = 0;
  // From the first delivery (or the call's start, on a sink that had
  // deliveries before) to the latest.
  double seconds = 0;
  double rate() const { return seconds > 0 ? accepted / seconds : 0; }
};

// Waits up to `timeout` for the sink to verify `expected` events of
// `creation`, and returns what it received by then.
absl::StatusOr<BulkDelivery> AwaitBulkDelivery(const BulkCreation& creation,
                                               int64_t expected,
                                               absl::Duration timeout);

// The server's resident memory at one moment of a load.
struct RssSample {
  // Since the load started.
  absl::Duration elapsed;
  int64_t bytes = 0;
  // Moves made by then.
  int64_t moves = 0;
};

// MoveCandidate alone under mix's load, on a target seeded as mix seeds it.
struct MoveLoad {
  KindResult moves;
  // Candidates the moves went round.
  int applications = 0;
  // Average payload size of the events the moves created.
  int64_t payload_bytes = 0;
  // Whether the dispatcher delivered every event within drain_timeout.
  absl::Status delivered;
  // Every options.rss_interval during the load, when it is set and the
  // server was started here; the first at the start.
  std::vector<RssSample> rss;
};

// Seeds as mix does and runs its move load alone (options.mix is ignored),
// then waits for the dispatcher to deliver the events.
absl::StatusOr<MoveLoad> RunMoveLoad(const MixOptions& options);

}  // namespace ats::bench

#endif  // ATS_TOOLS_ATS_BENCH_STEPS_H_
