// Reading back the events a benchmark caused.
#ifndef ATS_TOOLS_ATS_BENCH_EVENT_WALK_H_
#define ATS_TOOLS_ATS_BENCH_EVENT_WALK_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ats/v1/event.pb.h"
#include "tools/ats-bench/target.h"

namespace ats::bench {

// Calls `visit` for every event of the caller's account, newest first.
absl::Status ForEachEvent(const Target& target, const std::string& key,
                          const std::function<void(const ats::v1::Event&)>& visit);

// Waits until no event of the caller's account is waiting for delivery
// (scheduled, pending, sending or retrying); DEADLINE_EXCEEDED after
// `timeout`.
absl::Status WaitForDelivery(const Target& target, const std::string& key,
                             absl::Duration timeout);

}  // namespace ats::bench

#endif  // ATS_TOOLS_ATS_BENCH_EVENT_WALK_H_
