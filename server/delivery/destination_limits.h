#ifndef ATS_SERVER_DELIVERY_DESTINATION_LIMITS_H_
#define ATS_SERVER_DELIVERY_DESTINATION_LIMITS_H_

// How many deliveries each destination (an integration, or one account's
// webhook host: see storage/delivery_destination.h) may have under way, so
// that no destination can hold the deliveries of another:
//   - a destination with nothing under way may always start one, whatever
//     the others hold: its first slot is outside the shared pool;
//   - further deliveries come from the shared pool (`max_in_flight`), and
//     only up to the destination's window;
//   - the window is earned: it starts at `initial_window`, grows by one for
//     each delivery answered (any HTTP status) and halves for each that got
//     no answer (timeout, refused connection), within [1,
//     max_per_destination]. A partner that never answers keeps one or two
//     slots; a healthy one opens up to its cap within a few round trips.
// Not thread-safe: the dispatcher guards it with its lock, and claims work
// on a copy.

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace ats::server {

struct DestinationLimitOptions {
  // Deliveries under way at once beyond each busy destination's first.
  int max_in_flight = 256;
  // Most deliveries under way at once to one destination.
  int max_per_destination = 128;
  // A destination's window before it has answered or failed to: one, so
  // that concurrency is earned by answering.
  int initial_window = 1;
};

class DestinationLimits {
 public:
  explicit DestinationLimits(const DestinationLimitOptions& options);

  // Returns whether one more delivery to `destination` may start now.
  bool MayStart(const std::string& destination) const;
  // Returns the destinations that have deliveries under way and may start
  // no more now (every busy one when the pool is used up).
  std::vector<std::string> Saturated() const;

  // Counts a delivery to `destination` as started.
  void Started(const std::string& destination);
  // Ends a delivery to `destination`: `answered` whether the partner sent
  // any HTTP response in time, which grows or shrinks its window.
  void Finished(const std::string& destination, bool answered);
  // Ends a delivery to `destination` that never went out (its claim was
  // rolled back): the window stays.
  void Abandoned(const std::string& destination);

  // Deliveries under way, in all.
  int total() const { return total_; }
  // Deliveries under way beyond each busy destination's first: what the
  // shared pool holds.
  int pooled() const { return total_ - static_cast<int>(busy_); }
  // Deliveries under way to `destination`.
  int InFlight(const std::string& destination) const;
  // Deliveries under way, by destination (those with any).
  std::map<std::string, int> InFlightByDestination() const;
  // `destination`'s current window.
  int Window(const std::string& destination) const;

 private:
  struct State {
    int in_flight = 0;
    int window = 0;
  };

  // Forgets `it` once it holds nothing the defaults would not give.
  void Tidy(std::map<std::string, State>::iterator it);

  DestinationLimitOptions options_;
  int total_ = 0;
  // Destinations with deliveries under way.
  size_t busy_ = 0;
  // Destinations with deliveries under way or a window other than the
  // initial one; bounded by the destinations that have events.
  std::map<std::string, State> states_;
};

}  // namespace ats::server

#endif  // ATS_SERVER_DELIVERY_DESTINATION_LIMITS_H_
