// How ats-bench prints its figures.
#ifndef ATS_TOOLS_ATS_BENCH_REPORT_H_
#define ATS_TOOLS_ATS_BENCH_REPORT_H_

#include <string>
#include <vector>

#include "tools/ats-bench/load.h"

namespace ats::bench {

// Prints the column headings of PrintLoadRow.
void PrintLoadHeader();

// Prints one kind's throughput and latencies, each also as a ratio to
// `baseline`'s (throughput: result / baseline; latency: result / baseline).
void PrintLoadRow(const KindResult& result, const KindResult& baseline);

}  // namespace ats::bench

#endif  // ATS_TOOLS_ATS_BENCH_REPORT_H_
