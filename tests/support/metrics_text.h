// Reading Prometheus metrics as a scraper does: the text exposition format,
// parsed by the prometheus_client library (tests/support/parse_metrics.py).
#ifndef ATS_TESTS_SUPPORT_METRICS_TEXT_H_
#define ATS_TESTS_SUPPORT_METRICS_TEXT_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace ats::testing {

// Each sample of a scrape by its series, spelled with its labels sorted by
// name: `ats_rpc_calls_total{code="OK",method="ats.v1.JobService/GetJob"}`,
// `ats_storage_wal_bytes`.
using MetricSamples = std::map<std::string, double>;

// Returns the samples of `text`, parsed by prometheus_client and checked
// more strictly than it checks (see parse_metrics.py); INVALID_ARGUMENT with
// the parser's reason when `text` is not valid.
absl::StatusOr<MetricSamples> ParseMetricsText(const std::string& text);

// Returns the value of `series` in `samples`, 0 when absent (a series not
// yet touched).
double SampleOr0(const MetricSamples& samples, const std::string& series);

}  // namespace ats::testing

#endif  // ATS_TESTS_SUPPORT_METRICS_TEXT_H_
