// ats-bench compare: our server next to graphile-worker on PostgreSQL (the
// peer, tools/peer-bench) doing the same durable job, both delivering while
// creating and, as the peer's steps are timed, creating first and then
// delivering, with SQLite inserting the same event rows bare; and our moves
// next to SQLite writing a move's rows bare. The
// steps alternate, round after round, so that a machine that slows down (two
// shared cores) slows every one of them alike, and the table shows the load
// each ran under.

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "storage/sqlite/move_ceiling.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"
#include "tools/ats-bench/commands.h"
#include "tools/ats-bench/report.h"
#include "tools/ats-bench/steps.h"

namespace ats::bench {
namespace {

// The 1-minute load average, or -1 when /proc/loadavg cannot be read.
double LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double load = -1;
  in >> load;
  return load;
}

// What the peer's last machine-readable line says.
struct PeerFigures {
  double enqueue_per_s = 0;
  double deliver_per_s = 0;
};

// Parses the last "peer: key=value ..." line of `out`.
absl::StatusOr<PeerFigures> ParsePeerLine(const std::string& out) {
  std::map<std::string, std::string> values;
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (!absl::ConsumePrefix(&line, "peer: ")) continue;
    values.clear();
    for (absl::string_view pair :
         absl::StrSplit(line, ' ', absl::SkipEmpty())) {
      std::pair<std::string, std::string> kv = absl::StrSplit(pair, '=');
      values[kv.first] = kv.second;
    }
  }
  PeerFigures figures;
  if (!absl::SimpleAtod(values["enqueue_per_s"], &figures.enqueue_per_s) ||
      !absl::SimpleAtod(values["deliver_per_s"], &figures.deliver_per_s)) {
    return absl::DataLossError(
        "no peer: line with enqueue_per_s and "
        "deliver_per_s in the peer's output");
  }
  if (values["rejected"] != "0") {
    return absl::DataLossError(absl::StrCat(
        "the sink rejected ", values["rejected"], " of the peer's deliveries"));
  }
  return figures;
}

// The last `lines` lines of `text`, to show why a run failed.
std::string Tail(const std::string& text, int lines) {
  size_t at = text.size();
  for (int i = 0; i <= lines && at != std::string::npos && at > 0; ++i) {
    at = text.rfind('\n', at - 1);
  }
  return at == std::string::npos ? text : text.substr(at + 1);
}

class Comparison {
 public:
  explicit Comparison(const CompareOptions& options) : options_(options) {}

  void RunPeer(int round) {
    std::vector<std::string> argv = {
        options_.peer_script, "--jobs", absl::StrCat(options_.jobs),
        "--sink_program", options_.target.sink_program, "--complete_batch_ms",
        absl::StrCat(options_.peer_complete_batch_ms)};
    if (!options_.peer_node_modules.empty()) {
      argv.insert(argv.end(), {"--node_modules", options_.peer_node_modules});
    }
    const testing::CommandResult result =
        testing::RunCommand(argv, options_.peer_timeout);
    absl::StatusOr<PeerFigures> figures = ParsePeerLine(result.out);
    CompareRow enqueue = Row("peer enqueue", round);
    CompareRow deliver = Row("peer deliver", round);
    if (result.exit_code != 0 || !figures.ok()) {
      std::printf("%s%s", Tail(result.out, 10).c_str(),
                  Tail(result.err, 10).c_str());
      enqueue.failure = deliver.failure =
          result.exit_code != 0
              ? absl::StrCat("peer exited with ", result.exit_code)
              : std::string(figures.status().message());
    } else {
      enqueue.rate = figures->enqueue_per_s;
      deliver.rate = figures->deliver_per_s;
    }
    Add(enqueue);
    Add(deliver);
  }

  // Ours bulk-creating and delivering options_.jobs events: delivering
  // while creating (as a server does), or, `after_creation`, creating with
  // delivery off, then delivering (as the peer's steps are timed).
  void RunBulk(int round, bool after_creation) {
    BulkOptions bulk;
    bulk.target = options_.target;
    bulk.candidates = options_.jobs;
    bulk.delivery_timeout = options_.delivery_timeout;
    bulk.deliver_after_creation = after_creation;
    CompareRow create =
        Row(after_creation ? "ours create, no send" : "ours bulk create", round,
            "peer enqueue");
    CompareRow deliver =
        Row(after_creation ? "ours deliver backlog" : "ours bulk deliver",
            round, "peer deliver");
    absl::StatusOr<BulkCreation> creation = CreateBulkEvents(bulk);
    if (!creation.ok()) {
      create.failure = deliver.failure =
          std::string(creation.status().message());
    } else {
      create.rate =
          options_.jobs / absl::ToDoubleSeconds(creation->create_time);
      absl::StatusOr<BulkDelivery> delivery = AwaitBulkDelivery(
          *creation, options_.jobs, options_.delivery_timeout);
      if (!delivery.ok()) {
        deliver.failure = std::string(delivery.status().message());
      } else if (delivery->accepted != options_.jobs ||
                 delivery->rejected != 0) {
        deliver.failure =
            absl::StrCat(delivery->accepted, " of ", options_.jobs,
                         " accepted, ", delivery->rejected, " rejected");
      } else {
        deliver.rate = delivery->rate();
      }
    }
    Add(create);
    Add(deliver);
    if (!after_creation) return;
    // The same rows inserted by SQLite alone, once the server has delivered
    // every event and is idle: the most creation could reach on this schema
    // in this round.
    CompareRow bare = Row("event insert ceiling", round, "peer enqueue");
    absl::StatusOr<absl::Duration> inserted = absl::FailedPreconditionError(
        "ours did not create and deliver every event");
    if (creation.ok() && deliver.failure.empty()) {
      inserted =
          TimeBareEventInserts(*creation, options_.jobs,
                               options_.target.sqlite_synchronous == "full");
    }
    if (inserted.ok()) {
      bare.rate = options_.jobs / absl::ToDoubleSeconds(*inserted);
    } else {
      bare.failure = std::string(inserted.status().message());
    }
    Add(bare);
  }

  void RunMovesAndCeiling(int round) {
    MixOptions mix;
    mix.target = options_.target;
    mix.duration = options_.duration;
    mix.drain_timeout = options_.delivery_timeout;
    CompareRow moves = Row("ours moves", round, "move ceiling");
    absl::StatusOr<MoveLoad> load = RunMoveLoad(mix);
    if (!load.ok()) {
      moves.failure = std::string(load.status().message());
    } else if (load->moves.errors > 0) {
      moves.failure =
          absl::StrCat(load->moves.errors,
                       " failed calls, first: ", load->moves.first_error);
    } else if (!load->delivered.ok()) {
      moves.failure = std::string(load->delivered.message());
    } else {
      moves.rate = load->moves.throughput();
      moves.p99_ms = load->moves.LatencyMs(0.99);
    }
    Add(moves);

    // As many moves as ours made, over as many applications, with payloads
    // of the size the server's events had; at least enough commits that no
    // single slow fsync decides the figure.
    // Then the same with the least that delivering the moves' events
    // writes: a bound on moves with delivery on, as a share of the first.
    constexpr int kMinCeilingMoves = 100 * 64;
    for (const auto& [step, rows] :
         {std::pair("move ceiling", storage::sqlite::CeilingRows::kMove),
          std::pair("move+delivery ceiling",
                    storage::sqlite::CeilingRows::kMoveAndDelivery)}) {
      CompareRow ceiling = Row(
          step, round,
          rows == storage::sqlite::CeilingRows::kMove ? "" : "move ceiling");
      if (!load.ok()) {
        ceiling.failure = "no move load to take its shape from";
      } else {
        testing::TempDir dir;
        const absl::StatusOr<double> rate = storage::sqlite::MeasureMoveCeiling(
            dir.File("ceiling.db"), load->applications,
            static_cast<int>(
                std::max<int64_t>(kMinCeilingMoves, load->moves.ok)),
            load->payload_bytes, options_.target.sqlite_synchronous == "full",
            rows);
        if (rate.ok()) {
          ceiling.rate = *rate;
        } else {
          ceiling.failure = std::string(rate.status().message());
        }
      }
      Add(ceiling);
    }
  }

  // Fills in each row's ratio to the same round's row it is compared with,
  // prints the table and returns whether every step succeeded.
  bool Print() {
    bool ok = true;
    for (CompareRow& row : rows_) {
      ok = ok && row.failure.empty();
      if (row.versus.empty() || !row.failure.empty()) continue;
      for (const CompareRow& other : rows_) {
        if (other.round == row.round && other.step == row.versus &&
            other.failure.empty() && other.rate > 0) {
          row.ratio = row.rate / other.rate;
        }
      }
    }
    std::printf("\n");
    PrintCompareTable(rows_);
    return ok;
  }

 private:
  static CompareRow Row(const std::string& step, int round,
                        const std::string& versus = "") {
    CompareRow row;
    row.step = step;
    row.round = round;
    row.versus = versus;
    return row;
  }

  // Keeps `row`, with the load average it ended under, and says so.
  void Add(CompareRow row) {
    row.load1 = LoadAverage();
    const std::string figure = row.failure.empty()
                                   ? absl::StrFormat("%.0f/s", row.rate)
                                   : absl::StrCat("FAILED: ", row.failure);
    std::printf("[round %d] %s: %s (load %.2f)\n", row.round, row.step.c_str(),
                figure.c_str(), row.load1);
    std::fflush(stdout);
    rows_.push_back(std::move(row));
  }

  const CompareOptions& options_;
  std::vector<CompareRow> rows_;
};

}  // namespace

int RunCompare(const CompareOptions& options) {
  Comparison comparison(options);
  for (int round = 1; round <= options.rounds; ++round) {
    if (!options.skip_peer) comparison.RunPeer(round);
    comparison.RunBulk(round, /*after_creation=*/false);
    comparison.RunBulk(round, /*after_creation=*/true);
    comparison.RunMovesAndCeiling(round);
  }
  return comparison.Print() ? 0 : 1;
}

}  // namespace ats::bench
