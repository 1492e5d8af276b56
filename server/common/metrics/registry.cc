#include "server/common/metrics/registry.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace ats::server::metrics {
namespace {

// Stops the process for a misuse of the registry: a bug in the code that
// names the metrics, which the first start shows.
[[noreturn]] void Misuse(const std::string& message) {
  std::fprintf(stderr, "metrics registry: %s\n", message.c_str());
  std::abort();
}

bool IsNameStart(char c) { return absl::ascii_isalpha(c) || c == '_'; }

// [a-zA-Z_:][a-zA-Z0-9_:]* for metric names; labels have no colon.
bool IsValidName(const std::string& name, bool colon_allowed) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = IsNameStart(c) || (i > 0 && absl::ascii_isdigit(c)) ||
                    (colon_allowed && c == ':');
    if (!ok) return false;
  }
  return true;
}

// Appends `text` with backslashes and newlines escaped, and double quotes
// too when `quotes` (label values; help texts keep theirs).
void AppendEscaped(const std::string& text, bool quotes, std::string* out) {
  for (const char c : text) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (quotes && c == '"') {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

// Appends one sample line: name{labels} value.
void AppendSample(const std::string& name, const std::string& labels,
                  const std::string& value, std::string* out) {
  out->append(name);
  if (!labels.empty()) absl::StrAppend(out, "{", labels, "}");
  absl::StrAppend(out, " ", value, "\n");
}

// Adds `delta` to `value` (atomic<double> has no fetch_add before C++20).
void AtomicAdd(std::atomic<double>& value, double delta) {
  double current = value.load(std::memory_order_relaxed);
  while (!value.compare_exchange_weak(current, current + delta,
                                      std::memory_order_relaxed)) {
  }
}

}  // namespace

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char text[32];
  const std::to_chars_result written =
      std::to_chars(text, text + sizeof(text), value);
  return std::string(text, written.ptr);
}

void Counter::IncrementTo(uint64_t total) {
  uint64_t current = value_.load(std::memory_order_relaxed);
  while (current < total && !value_.compare_exchange_weak(
                                current, total, std::memory_order_relaxed)) {
  }
}

void Counter::Expose(const std::string& name, const std::string& labels,
                     std::string* out) const {
  AppendSample(name, labels, absl::StrCat(value()), out);
}

void Gauge::Add(double delta) { AtomicAdd(value_, delta); }

void Gauge::Expose(const std::string& name, const std::string& labels,
                   std::string* out) const {
  AppendSample(name, labels, FormatValue(value()), out);
}

Histogram::Histogram(const Options& options)
    : bounds_(options.bounds),
      buckets_(new std::atomic<uint64_t>[options.bounds.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::Observe(double value) {
  const size_t bucket =
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, value);
}

uint64_t Histogram::count() const {
  uint64_t count = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    count += buckets_[i].load(std::memory_order_relaxed);
  }
  return count;
}

void Histogram::Expose(const std::string& name, const std::string& labels,
                       std::string* out) const {
  const std::string bucket_name = name + "_bucket";
  const std::string prefix = labels.empty() ? "" : labels + ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    const std::string bound =
        i < bounds_.size() ? FormatValue(bounds_[i]) : "+Inf";
    AppendSample(bucket_name, absl::StrCat(prefix, "le=\"", bound, "\""),
                 absl::StrCat(cumulative), out);
  }
  AppendSample(name + "_sum", labels, FormatValue(sum()), out);
  AppendSample(name + "_count", labels, absl::StrCat(cumulative), out);
}

FamilyBase::FamilyBase(std::string name, std::string help, const char* type,
                       std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)) {}

void FamilyBase::ExposeHeader(std::string* out) const {
  absl::StrAppend(out, "# HELP ", name_, " ");
  AppendEscaped(help_, /*quotes=*/false, out);
  absl::StrAppend(out, "\n# TYPE ", name_, " ", type_, "\n");
}

std::string FamilyBase::LabelText(
    const std::vector<std::string>& values) const {
  std::string text;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) text.push_back(',');
    absl::StrAppend(&text, label_names_[i], "=\"");
    AppendEscaped(values[i], /*quotes=*/true, &text);
    text.push_back('"');
  }
  return text;
}

void FamilyBase::CheckLabelCount(const std::vector<std::string>& values) const {
  if (values.size() != label_names_.size()) {
    Misuse(absl::StrCat(name_, " has ", label_names_.size(), " labels, given ",
                        values.size(), " values"));
  }
}

template <typename Metric>
Family<Metric>& Registry::Add(std::unique_ptr<Family<Metric>> family) {
  const std::string& name = family->name();
  if (!IsValidName(name, /*colon_allowed=*/true)) {
    Misuse(absl::StrCat("invalid metric name \"", name, "\""));
  }
  Family<Metric>& added = *family;
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = families_.try_emplace(name, std::move(family));
  if (!inserted) Misuse(absl::StrCat(name, " is registered twice"));
  return added;
}

Family<Counter>& Registry::AddCounter(std::string name, std::string help,
                                      std::vector<std::string> label_names) {
  return Add(std::make_unique<Family<Counter>>(
      std::move(name), std::move(help), CheckedLabels(label_names, false),
      Counter::Options{}));
}

Family<Gauge>& Registry::AddGauge(std::string name, std::string help,
                                  std::vector<std::string> label_names) {
  return Add(std::make_unique<Family<Gauge>>(std::move(name), std::move(help),
                                             CheckedLabels(label_names, false),
                                             Gauge::Options{}));
}

Family<Histogram>& Registry::AddHistogram(std::string name, std::string help,
                                          std::vector<std::string> label_names,
                                          std::vector<double> bounds) {
  if (bounds.empty() || !std::is_sorted(bounds.begin(), bounds.end()) ||
      std::adjacent_find(bounds.begin(), bounds.end()) != bounds.end() ||
      !std::all_of(bounds.begin(), bounds.end(),
                   [](double bound) { return std::isfinite(bound); })) {
    Misuse(absl::StrCat(name, ": bucket bounds must be finite and ascending"));
  }
  return Add(std::make_unique<Family<Histogram>>(
      std::move(name), std::move(help), CheckedLabels(label_names, true),
      Histogram::Options{std::move(bounds)}));
}

std::vector<std::string> Registry::CheckedLabels(
    std::vector<std::string> label_names, bool histogram) {
  for (const std::string& label : label_names) {
    if (!IsValidName(label, /*colon_allowed=*/false) ||
        absl::StartsWith(label, "__") || (histogram && label == "le")) {
      Misuse(absl::StrCat("invalid label name \"", label, "\""));
    }
    if (std::count(label_names.begin(), label_names.end(), label) > 1) {
      Misuse(absl::StrCat("label \"", label, "\" is named twice"));
    }
  }
  return label_names;
}

std::string Registry::Expose() const {
  std::string out;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, family] : families_) family->Expose(&out);
  return out;
}

}  // namespace ats::server::metrics
