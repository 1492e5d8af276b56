#include "tools/ats-bench/report.h"

#include <cstdio>

namespace ats::bench {
namespace {

double Ratio(double value, double baseline) {
  return baseline > 0 ? value / baseline : 0;
}

}  // namespace

void PrintLoadHeader() {
  std::printf("%-16s %9s %10s %7s | %-16s %-16s %-16s %-16s | %s\n", "rpc",
              "calls", "calls/s", "x base", "p50 ms (x base)",
              "p90 ms (x base)", "p99 ms (x base)", "max ms (x base)",
              "errors");
}

void PrintLoadRow(const KindResult& result, const KindResult& baseline) {
  std::printf("%-16s %9lld %10.0f %7.2f |", result.name.c_str(),
              static_cast<long long>(result.ok), result.throughput(),
              Ratio(result.throughput(), baseline.throughput()));
  for (double q : {0.5, 0.9, 0.99, 1.0}) {
    std::printf(" %7.2f (%5.2f) ", result.LatencyMs(q),
                Ratio(result.LatencyMs(q), baseline.LatencyMs(q)));
  }
  std::printf("| %lld%s%s\n", static_cast<long long>(result.errors),
              result.errors > 0 ? ", first: " : "",
              result.first_error.c_str());
  std::fflush(stdout);
}

}  // namespace ats::bench
