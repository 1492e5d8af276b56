#include "tests/support/metrics_text.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/support/run_command.h"

#if !defined(ATS_SYSTEM_PYTHON3) || !defined(ATS_PARSE_METRICS_SCRIPT)
#error "ATS_SYSTEM_PYTHON3 and ATS_PARSE_METRICS_SCRIPT must be defined"
#endif

namespace ats::testing {

absl::StatusOr<MetricSamples> ParseMetricsText(const std::string& text) {
  const CommandResult parsed = RunCommand(
      {ATS_SYSTEM_PYTHON3, ATS_PARSE_METRICS_SCRIPT}, absl::Seconds(60), text);
  if (parsed.exit_code != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "parse_metrics.py exited with ", parsed.exit_code, ": ", parsed.err));
  }
  MetricSamples samples;
  for (absl::string_view line :
       absl::StrSplit(parsed.out, '\n', absl::SkipEmpty())) {
    // The value follows the last space; label values may hold spaces.
    const size_t space = line.rfind(' ');
    double value = 0;
    if (space == absl::string_view::npos ||
        !absl::SimpleAtod(line.substr(space + 1), &value)) {
      return absl::InternalError(
          absl::StrCat("parse_metrics.py printed \"", line, "\""));
    }
    samples[std::string(line.substr(0, space))] = value;
  }
  return samples;
}

double SampleOr0(const MetricSamples& samples, const std::string& series) {
  auto it = samples.find(series);
  return it == samples.end() ? 0 : it->second;
}

}  // namespace ats::testing
