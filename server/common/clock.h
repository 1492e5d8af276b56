#ifndef ATS_SERVER_COMMON_CLOCK_H_
#define ATS_SERVER_COMMON_CLOCK_H_

// The server's source of time. Everything that stamps, schedules or expires
// takes a Clock, so tests can run a three-day retry schedule by moving a
// FakeClock instead of sleeping.

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ats::server {

// A source of the current time. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;

  // Returns the current time.
  virtual absl::Time Now() const = 0;
};

// The real wall clock.
class SystemClock final : public Clock {
 public:
  // Returns absl::Now().
  absl::Time Now() const override;
};

// A clock that only moves when told to; for tests.
class FakeClock final : public Clock {
 public:
  // Starts at `start`; the default, 2024-01-01T00:00:00Z, keeps test output
  // stable.
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1704067200));

  // Returns the time last set.
  absl::Time Now() const override;

  // Makes Now() return `now` (which may be earlier than before).
  void Set(absl::Time now);

  // Moves Now() forward by `delta` (backward when negative).
  void Advance(absl::Duration delta);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ats::server

#endif  // ATS_SERVER_COMMON_CLOCK_H_
