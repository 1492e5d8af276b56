#include "tools/ats-bench/load.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace ats::bench {

double SortedQuantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  // Nearest rank: the smallest value at or above a fraction q of them.
  const auto rank = static_cast<size_t>(std::ceil(q * sorted.size()));
  return sorted[std::min(sorted.size(), std::max<size_t>(rank, 1)) - 1];
}

double KindResult::LatencyMs(double q) const {
  return SortedQuantile(latencies_us, q) / 1000.0;
}

namespace {

// What a slot records; only the slot's own call touches it.
struct SlotTally {
  std::vector<std::vector<double>> latencies_us;  // per kind
  std::vector<int64_t> ok;
  std::vector<int64_t> errors;
  std::vector<std::string> first_error;
  size_t next = 0;  // position in the weighted schedule
};

class Driver {
 public:
  Driver(const std::vector<CallKind>& kinds, const LoadOptions& options)
      : kinds_(kinds), options_(options), slots_(options.in_flight) {
    for (size_t k = 0; k < kinds.size(); ++k) {
      for (int i = 0; i < std::max(1, kinds[k].weight); ++i) {
        schedule_.push_back(k);
      }
    }
    for (SlotTally& slot : slots_) {
      slot.latencies_us.resize(kinds.size());
      slot.ok.resize(kinds.size());
      slot.errors.resize(kinds.size());
      slot.first_error.resize(kinds.size());
    }
  }

  std::vector<KindResult> Run() {
    start_ = absl::Now();
    measure_from_ = start_ + options_.warmup;
    end_ = start_ + options_.duration;
    running_.store(options_.in_flight);
    for (int slot = 0; slot < options_.in_flight; ++slot) {
      // Slots may be started offset in the schedule, so a mix is mixed from
      // the first call on.
      slots_[slot].next = slot % schedule_.size();
      Next(slot);
    }
    all_done_.WaitForNotification();
    return Collect();
  }

 private:
  void Next(int slot) {
    const int64_t started = started_.fetch_add(1);
    if (absl::Now() >= end_ ||
        (options_.max_calls > 0 && started >= options_.max_calls)) {
      if (running_.fetch_sub(1) == 1) {
        last_end_ = absl::Now();
        all_done_.Notify();
      }
      return;
    }
    SlotTally& tally = slots_[slot];
    const size_t kind = schedule_[tally.next];
    tally.next = (tally.next + 1) % schedule_.size();
    const absl::Time call_start = absl::Now();
    kinds_[kind].start(slot, [this, slot, kind,
                              call_start](const grpc::Status& status) {
      const absl::Time call_end = absl::Now();
      SlotTally& tally = slots_[slot];
      if (call_end >= measure_from_) {
        if (status.ok()) {
          ++tally.ok[kind];
          tally.latencies_us[kind].push_back(
              absl::ToDoubleMicroseconds(call_end - call_start));
        } else {
          if (tally.errors[kind]++ == 0) {
            tally.first_error[kind] = absl::StrCat(
                "code ", status.error_code(), ": ", status.error_message());
          }
        }
      }
      Next(slot);
    });
  }

  std::vector<KindResult> Collect() {
    // The window ends when the last call ends, so calls that overrun the
    // duration are counted over the time they took.
    const double seconds = absl::ToDoubleSeconds(last_end_ - measure_from_);
    std::vector<KindResult> results(kinds_.size());
    for (size_t k = 0; k < kinds_.size(); ++k) {
      KindResult& result = results[k];
      result.name = kinds_[k].name;
      result.seconds = seconds;
      for (SlotTally& slot : slots_) {
        result.ok += slot.ok[k];
        result.errors += slot.errors[k];
        if (result.first_error.empty()) result.first_error = slot.first_error[k];
        result.latencies_us.insert(result.latencies_us.end(),
                                   slot.latencies_us[k].begin(),
                                   slot.latencies_us[k].end());
      }
      std::sort(result.latencies_us.begin(), result.latencies_us.end());
    }
    return results;
  }

  const std::vector<CallKind>& kinds_;
  const LoadOptions options_;
  std::vector<size_t> schedule_;
  std::vector<SlotTally> slots_;
  absl::Time start_;
  absl::Time measure_from_;
  absl::Time end_;
  absl::Time last_end_;
  std::atomic<int64_t> started_{0};
  std::atomic<int> running_{0};
  absl::Notification all_done_;
};

}  // namespace

std::vector<KindResult> RunLoad(const std::vector<CallKind>& kinds,
                                const LoadOptions& options) {
  Driver driver(kinds, options);
  return driver.Run();
}

}  // namespace ats::bench
