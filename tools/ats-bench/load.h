// The closed-loop load driver of ats-bench: a fixed number of requests in
// flight, each slot issuing its next call as soon as the previous one ends.
#ifndef ATS_TOOLS_ATS_BENCH_LOAD_H_
#define ATS_TOOLS_ATS_BENCH_LOAD_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/support/status.h"

namespace ats::bench {

// Ends one call: its gRPC status, or a failed check of the response
// (reported as an error of the call).
using CallDone = std::function<void(const grpc::Status&)>;

// Starts one call for `slot` (0 to in_flight - 1) and invokes `done` exactly
// once when it ends, from any thread, without blocking. A slot has at most
// one call outstanding, so per-slot state needs no lock.
using StartCall = std::function<void(int slot, CallDone done)>;

// One kind of call in a load: its name in the report, and how often a slot
// picks it relative to the others.
struct CallKind {
  std::string name;
  int weight = 1;
  StartCall start;
};

struct LoadOptions {
  int in_flight = 64;
  // Calls are started until this much time has passed...
  absl::Duration duration = absl::Seconds(10);
  // ...or this many have been started (0: no limit).
  int64_t max_calls = 0;
  // Calls ending in the first `warmup` are neither timed nor counted.
  absl::Duration warmup = absl::ZeroDuration();
};

// What one kind of call did during the measured window.
struct KindResult {
  std::string name;
  int64_t ok = 0;
  int64_t errors = 0;
  std::string first_error;
  double seconds = 0;  // length of the measured window
  // Latency of the successful calls, in microseconds, sorted.
  std::vector<double> latencies_us;

  double throughput() const { return seconds > 0 ? ok / seconds : 0; }
  // The q-quantile (0..1) of the latencies in milliseconds; 0 without calls.
  double LatencyMs(double q) const;
};

// Returns the q-quantile (0..1) of `sorted` by nearest rank; 0 when empty.
double SortedQuantile(const std::vector<double>& sorted, double q);

// Runs `kinds` with `options.in_flight` calls outstanding; each slot cycles
// through the kinds by weight. Returns one result per kind, in order.
std::vector<KindResult> RunLoad(const std::vector<CallKind>& kinds,
                                const LoadOptions& options);

}  // namespace ats::bench

#endif  // ATS_TOOLS_ATS_BENCH_LOAD_H_
