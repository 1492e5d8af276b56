#ifndef ATS_SERVER_COMMON_METRICS_REGISTRY_H_
#define ATS_SERVER_COMMON_METRICS_REGISTRY_H_

// A small Prometheus metrics registry: counters, gauges and histograms with
// fixed buckets, in families of label sets, exposed in the text format
// (version 0.0.4) that Prometheus scrapes.
//
// Updating a metric is lock-free (relaxed atomics), so the hot paths hold on
// to the series they update: a family's With() finds or creates a series
// under the family's lock, once, and the reference it returns stays valid
// for the registry's life. Series are never removed.
//
//   Family<Counter>& calls = registry.AddCounter(
//       "ats_rpc_calls_total", "RPCs finished.", {"method", "code"});
//   Counter& ok = calls.With({"ats.v1.JobService/GetJob", "OK"});
//   ok.Increment();  // On every call: one atomic add.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace ats::server::metrics {

// The Content-Type of Registry::Expose's text.
inline constexpr char kExpositionContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";

// A count that only goes up. Thread-safe.
class Counter {
 public:
  static constexpr char kType[] = "counter";
  struct Options {};
  explicit Counter(const Options&) {}

  // Adds `by` to the count.
  void Increment(uint64_t by = 1) {
    value_.fetch_add(by, std::memory_order_relaxed);
  }
  // Raises the count to `total`, a count kept elsewhere and read when
  // scraped; a lower `total` changes nothing, so the count never goes back.
  void IncrementTo(uint64_t total);

  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

  // Appends this series' sample line.
  void Expose(const std::string& name, const std::string& labels,
              std::string* out) const;

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down. Thread-safe.
class Gauge {
 public:
  static constexpr char kType[] = "gauge";
  struct Options {};
  explicit Gauge(const Options&) {}

  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  // Adds `delta` (negative to subtract).
  void Add(double delta);

  double value() const { return value_.load(std::memory_order_relaxed); }

  // Appends this series' sample line.
  void Expose(const std::string& name, const std::string& labels,
              std::string* out) const;

 private:
  std::atomic<double> value_{0};
};

// Counts observations in buckets fixed when its family is made, and sums
// them. Thread-safe.
class Histogram {
 public:
  static constexpr char kType[] = "histogram";
  struct Options {
    // The buckets' inclusive upper bounds, ascending; +Inf is implied.
    std::vector<double> bounds;
  };
  // `options` must outlive the histogram (its family keeps them).
  explicit Histogram(const Options& options);

  // Counts `value` in the first bucket whose bound is at least `value`.
  void Observe(double value);

  // Observations so far, and their sum.
  uint64_t count() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }

  // Appends this series' _bucket lines (cumulative, ending with le="+Inf"),
  // _sum and _count; the count is the +Inf bucket's, so the two always
  // agree even while observations arrive.
  void Expose(const std::string& name, const std::string& labels,
              std::string* out) const;

 private:
  const std::vector<double>& bounds_;
  // One per bound, then the +Inf bucket; not cumulative.
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
};

// What every family has: a name, a help text, label names, and the text
// exposition of its series.
class FamilyBase {
 public:
  virtual ~FamilyBase() = default;

  const std::string& name() const { return name_; }

  // Appends the family's # HELP and # TYPE lines and its series, ordered by
  // label values. A family without series exposes nothing but those lines.
  virtual void Expose(std::string* out) const = 0;

 protected:
  FamilyBase(std::string name, std::string help, const char* type,
             std::vector<std::string> label_names);

  // Appends the # HELP and # TYPE lines.
  void ExposeHeader(std::string* out) const;
  // Returns `values` as the text between a sample's braces:
  // name1="value1",name2="value2" (escaped), or "" without labels.
  std::string LabelText(const std::vector<std::string>& values) const;
  // Aborts unless `values` has one value per label name.
  void CheckLabelCount(const std::vector<std::string>& values) const;

  const std::string name_;
  const std::string help_;
  const char* const type_;
  const std::vector<std::string> label_names_;
};

// The series of one metric, one per set of label values.
template <typename Metric>
class Family final : public FamilyBase {
 public:
  Family(std::string name, std::string help,
         std::vector<std::string> label_names, typename Metric::Options options)
      : FamilyBase(std::move(name), std::move(help), Metric::kType,
                   std::move(label_names)),
        options_(std::move(options)) {}

  // Returns the series with `values` (one per label name, in their order),
  // made at zero on first use; the reference stays valid for the family's
  // life. Takes the family's lock: look series up once, not per update.
  Metric& With(const std::vector<std::string>& values) {
    CheckLabelCount(values);
    absl::MutexLock lock(&mu_);
    std::unique_ptr<Metric>& series = series_[values];
    if (series == nullptr) series = std::make_unique<Metric>(options_);
    return *series;
  }

  void Expose(std::string* out) const override {
    ExposeHeader(out);
    absl::MutexLock lock(&mu_);
    for (const auto& [values, series] : series_) {
      series->Expose(name_, LabelText(values), out);
    }
  }

 private:
  const typename Metric::Options options_;
  mutable absl::Mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> series_
      ABSL_GUARDED_BY(mu_);
};

// The families a server exposes. Thread-safe; families live as long as the
// registry.
//
// Names and label names must be valid Prometheus names
// ([a-zA-Z_:][a-zA-Z0-9_:]* for metrics, no colon and no leading "__" for
// labels, no "le" on a histogram), each metric name used once, and bucket
// bounds ascending: the Add methods abort the process otherwise, since that is
// a bug found at start.
class Registry {
 public:
  Family<Counter>& AddCounter(std::string name, std::string help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(std::string name, std::string help,
                          std::vector<std::string> label_names = {});
  Family<Histogram>& AddHistogram(std::string name, std::string help,
                                  std::vector<std::string> label_names,
                                  std::vector<double> bounds);

  // Returns every family in the text exposition format, ordered by name.
  std::string Expose() const;

 private:
  // Checks `family`'s name and keeps it.
  template <typename Metric>
  Family<Metric>& Add(std::unique_ptr<Family<Metric>> family);
  // Returns `label_names` once checked (see the class comment).
  static std::vector<std::string> CheckedLabels(
      std::vector<std::string> label_names, bool histogram);

  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>> families_
      ABSL_GUARDED_BY(mu_);
};

// Returns `value` as the text format writes sample values and bucket
// bounds: the shortest decimal that reads back as `value`, or +Inf, -Inf,
// NaN.
std::string FormatValue(double value);

}  // namespace ats::server::metrics

#endif  // ATS_SERVER_COMMON_METRICS_REGISTRY_H_
