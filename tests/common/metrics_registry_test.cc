// The metrics registry: what each kind of metric counts, and the text it
// exposes, read back by the prometheus_client parser as Prometheus would.

#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "server/common/metrics/registry.h"
#include "tests/support/metrics_text.h"

namespace ats::server::metrics {
namespace {

using ::ats::testing::MetricSamples;
using ::ats::testing::ParseMetricsText;

TEST(MetricsRegistryTest, ExposesFamiliesByNameAndSeriesByLabels) {
  Registry registry;
  Family<Counter>& calls =
      registry.AddCounter("b_calls_total", "Calls made.", {"method", "code"});
  Family<Gauge>& depth = registry.AddGauge("a_depth", "Queue depth.");
  calls.With({"Get", "OK"}).Increment();
  calls.With({"Get", "OK"}).Increment(2);
  calls.With({"Delete", "NOT_FOUND"}).Increment();
  depth.With({}).Set(7);

  EXPECT_EQ(registry.Expose(),
            "# HELP a_depth Queue depth.\n"
            "# TYPE a_depth gauge\n"
            "a_depth 7\n"
            "# HELP b_calls_total Calls made.\n"
            "# TYPE b_calls_total counter\n"
            "b_calls_total{method=\"Delete\",code=\"NOT_FOUND\"} 1\n"
            "b_calls_total{method=\"Get\",code=\"OK\"} 3\n");
}

TEST(MetricsRegistryTest, AFamilyWithoutSeriesExposesOnlyItsDeclaration) {
  Registry registry;
  registry.AddCounter("idle_total", "Never counted.", {"kind"});
  EXPECT_EQ(registry.Expose(),
            "# HELP idle_total Never counted.\n# TYPE idle_total counter\n");
  absl::StatusOr<MetricSamples> samples = ParseMetricsText(registry.Expose());
  ASSERT_TRUE(samples.ok()) << samples.status();
  EXPECT_TRUE(samples->empty());
}

TEST(MetricsRegistryTest, WithReturnsTheSameSeriesForTheSameLabels) {
  Registry registry;
  Family<Counter>& family = registry.AddCounter("c_total", "C.", {"a"});
  Counter& first = family.With({"x"});
  EXPECT_EQ(&first, &family.With({"x"}));
  EXPECT_NE(&first, &family.With({"y"}));
}

TEST(MetricsRegistryTest, LabelValuesAndHelpAreEscapedAndReadBack) {
  Registry registry;
  Family<Counter>& family = registry.AddCounter(
      "odd_total", "Help with a \\ backslash\nand a newline.", {"value"});
  family.With({"quote \" backslash \\ newline \n end"}).Increment();
  const std::string text = registry.Expose();
  EXPECT_NE(text.find("Help with a \\\\ backslash\\nand a newline."),
            std::string::npos)
      << text;
  absl::StatusOr<MetricSamples> samples = ParseMetricsText(text);
  ASSERT_TRUE(samples.ok()) << samples.status() << "\n" << text;
  EXPECT_EQ(
      samples->at(
          "odd_total{value=\"quote \\\" backslash \\\\ newline \\n end\"}"),
      1);
}

TEST(MetricsRegistryTest, HistogramBucketsAreCumulativeAndInclusive) {
  Registry registry;
  Histogram& latency = registry
                           .AddHistogram("latency_seconds", "Latency.",
                                         {"outcome"}, {0.01, 0.1, 1})
                           .With({"success"});
  latency.Observe(0.005);
  latency.Observe(0.1);  // On a bound: counted in that bound's bucket.
  latency.Observe(0.5);
  latency.Observe(30);
  EXPECT_EQ(latency.count(), 4u);

  absl::StatusOr<MetricSamples> samples = ParseMetricsText(registry.Expose());
  ASSERT_TRUE(samples.ok()) << samples.status();
  const MetricSamples expected = {
      {"latency_seconds_bucket{le=\"0.01\",outcome=\"success\"}", 1},
      {"latency_seconds_bucket{le=\"0.1\",outcome=\"success\"}", 2},
      {"latency_seconds_bucket{le=\"1\",outcome=\"success\"}", 3},
      {"latency_seconds_bucket{le=\"+Inf\",outcome=\"success\"}", 4},
      {"latency_seconds_count{outcome=\"success\"}", 4},
      {"latency_seconds_sum{outcome=\"success\"}", 30.605},
  };
  ASSERT_EQ(samples->size(), expected.size()) << registry.Expose();
  for (const auto& [series, value] : expected) {
    ASSERT_EQ(samples->count(series), 1u) << series << "\n"
                                          << registry.Expose();
    EXPECT_DOUBLE_EQ(samples->at(series), value) << series;
  }
}

TEST(MetricsRegistryTest, GaugesGoBothWays) {
  Registry registry;
  Gauge& gauge = registry.AddGauge("g", "G.").With({});
  gauge.Set(2.5);
  gauge.Add(-4);
  EXPECT_EQ(gauge.value(), -1.5);
  EXPECT_NE(registry.Expose().find("\ng -1.5\n"), std::string::npos);
}

TEST(MetricsRegistryTest, IncrementToNeverLowersTheCount) {
  Registry registry;
  Counter& counter = registry.AddCounter("kept_total", "Kept.").With({});
  counter.IncrementTo(5);
  counter.IncrementTo(3);
  EXPECT_EQ(counter.value(), 5u);
  counter.Increment();
  counter.IncrementTo(10);
  EXPECT_EQ(counter.value(), 10u);
}

TEST(MetricsRegistryTest, ValuesAreShortestDecimalsOrInfinities) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(3), "3");
  EXPECT_EQ(FormatValue(0.1), "0.1");
  EXPECT_EQ(FormatValue(-2.25), "-2.25");
  EXPECT_EQ(FormatValue(1e-7), "1e-07");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
}

TEST(MetricsRegistryTest, ConcurrentUpdatesAreAllCounted) {
  Registry registry;
  Counter& counter = registry.AddCounter("n_total", "N.").With({});
  Histogram& histogram = registry.AddHistogram("h", "H.", {}, {1, 2}).With({});
  constexpr int kThreads = 4;
  constexpr int kEach = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        counter.Increment();
        histogram.Observe(1.5);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(counter.value(), uint64_t{kThreads} * kEach);
  EXPECT_EQ(histogram.count(), uint64_t{kThreads} * kEach);
  EXPECT_DOUBLE_EQ(histogram.sum(), 1.5 * kThreads * kEach);
}

using MetricsRegistryDeathTest = ::testing::Test;

TEST(MetricsRegistryDeathTest, MisusesStopTheProcess) {
  EXPECT_DEATH(Registry().AddCounter("1st_total", "Bad name."),
               "invalid metric name");
  EXPECT_DEATH(Registry().AddGauge("g", "Bad label.", {"a-b"}),
               "invalid label name");
  EXPECT_DEATH(Registry().AddGauge("g", "Reserved label.", {"__a"}),
               "invalid label name");
  EXPECT_DEATH(Registry().AddHistogram("h", "le is the buckets'.", {"le"}, {1}),
               "invalid label name");
  EXPECT_DEATH(Registry().AddGauge("g", "Twice.", {"a", "a"}), "named twice");
  EXPECT_DEATH(Registry().AddHistogram("h", "Unsorted.", {}, {2, 1}),
               "ascending");
  EXPECT_DEATH(
      {
        Registry registry;
        registry.AddGauge("g", "Once.");
        registry.AddCounter("g", "Twice.");
      },
      "registered twice");
  EXPECT_DEATH(Registry().AddGauge("g", "Two labels.", {"a", "b"}).With({"x"}),
               "has 2 labels, given 1 values");
}

}  // namespace
}  // namespace ats::server::metrics
