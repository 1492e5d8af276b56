#include "tools/ats-bench/report.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

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
              result.errors > 0 ? ", first: " : "", result.first_error.c_str());
  std::fflush(stdout);
}

void PrintCompareTable(const std::vector<CompareRow>& rows) {
  std::printf("%-22s %5s %10s %8s  %-22s %6s\n", "step", "round", "per s",
              "p99 ms", "ratio", "load1");
  for (const CompareRow& row : rows) {
    std::printf("%-22s %5d ", row.step.c_str(), row.round);
    if (!row.failure.empty()) {
      std::printf("FAILED: %s\n", row.failure.c_str());
      continue;
    }
    std::printf("%10.0f ", row.rate);
    if (row.p99_ms >= 0) {
      std::printf("%8.1f  ", row.p99_ms);
    } else {
      std::printf("%8s  ", "");
    }
    const std::string ratio =
        row.versus.empty()
            ? ""
            : (row.ratio > 0
                   ? absl::StrFormat("%.2fx %s", row.ratio, row.versus)
                   : absl::StrCat("- (no ", row.versus, ")"));
    std::printf("%-22s %6.2f\n", ratio.c_str(), row.load1);
  }
  std::fflush(stdout);
}

}  // namespace ats::bench
