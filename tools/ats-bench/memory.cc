// ats-bench memory: the server's resident memory under a long move load,
// sampled at intervals: whether it levels off or keeps growing.

#include <cstdio>

#include "absl/time/time.h"
#include "tools/ats-bench/commands.h"
#include "tools/ats-bench/report.h"
#include "tools/ats-bench/steps.h"

namespace ats::bench {

int RunMemory(const MemoryOptions& options) {
  if (!options.target.servers.empty()) {
    std::fprintf(stderr,
                 "ats-bench: memory samples a server it starts itself; "
                 "leave out --server\n");
    return 2;
  }
  MixOptions mix;
  mix.target = options.target;
  mix.in_flight = options.in_flight;
  mix.duration = options.duration;
  mix.drain_timeout = options.drain_timeout;
  mix.rss_interval = options.interval;
  const absl::StatusOr<MoveLoad> load = RunMoveLoad(mix);
  if (!load.ok()) {
    std::fprintf(stderr, "ats-bench: %s\n", load.status().ToString().c_str());
    return 1;
  }
  std::printf("%10s %10s %12s\n", "elapsed", "rss MiB", "moves");
  for (const RssSample& sample : load->rss) {
    std::printf("%9.1fs %10.1f %12lld\n", absl::ToDoubleSeconds(sample.elapsed),
                Mebibytes(sample.bytes), static_cast<long long>(sample.moves));
  }
  bool ok = load->moves.errors == 0 && load->delivered.ok();
  if (!ok) {
    std::printf("CHECK FAILED: %lld failed moves, delivery: %s\n",
                static_cast<long long>(load->moves.errors),
                load->delivered.ToString().c_str());
  }
  if (load->rss.size() < 3) {
    std::printf("too few samples to say whether memory levels off\n");
    return ok ? 0 : 1;
  }
  // Growth over each half of the run: memory that levels off grows in the
  // first half (caches filling) and hardly in the second.
  const RssSample& first = load->rss.front();
  const RssSample& middle = load->rss[load->rss.size() / 2];
  const RssSample& last = load->rss.back();
  std::printf(
      "first half: %+.1f MiB over %.0f s; second half: %+.1f MiB over %.0f s "
      "(%+.1f MiB per minute); %.0f moves/s\n",
      Mebibytes(middle.bytes - first.bytes),
      absl::ToDoubleSeconds(middle.elapsed - first.elapsed),
      Mebibytes(last.bytes - middle.bytes),
      absl::ToDoubleSeconds(last.elapsed - middle.elapsed),
      Mebibytes(last.bytes - middle.bytes) * 60 /
          absl::ToDoubleSeconds(last.elapsed - middle.elapsed),
      load->moves.throughput());
  return ok ? 0 : 1;
}

}  // namespace ats::bench
