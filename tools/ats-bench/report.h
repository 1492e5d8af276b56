// How ats-bench prints its figures.
#ifndef ATS_TOOLS_ATS_BENCH_REPORT_H_
#define ATS_TOOLS_ATS_BENCH_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tools/ats-bench/load.h"

namespace ats::bench {

// `bytes` in MiB, as memory and file sizes are printed.
inline double Mebibytes(int64_t bytes) { return bytes / 1048576.0; }

// Prints the column headings of PrintLoadRow.
void PrintLoadHeader();

// Prints one kind's throughput and latencies, each also as a ratio to
// `baseline`'s (throughput: result / baseline; latency: result / baseline).
void PrintLoadRow(const KindResult& result, const KindResult& baseline);

// One row of compare's table: a step of one round.
struct CompareRow {
  std::string step;
  int round = 0;
  // Per second; meaningless when `failure` is set.
  double rate = 0;
  // Latency of the step's calls, when it makes calls (negative: none).
  double p99_ms = -1;
  // What `rate` is divided by for `ratio`; empty: no ratio.
  std::string versus;
  double ratio = 0;
  // The 1-minute load average when the step ended.
  double load1 = 0;
  // Why the step has no figure; empty when it has one.
  std::string failure;
};

// Prints `rows` as one table.
void PrintCompareTable(const std::vector<CompareRow>& rows);

}  // namespace ats::bench

#endif  // ATS_TOOLS_ATS_BENCH_REPORT_H_
