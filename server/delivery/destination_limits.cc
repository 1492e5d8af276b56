#include "server/delivery/destination_limits.h"

#include <algorithm>

namespace ats::server {

DestinationLimits::DestinationLimits(const DestinationLimitOptions& options)
    : options_(options) {
  options_.max_per_destination = std::max(1, options_.max_per_destination);
  options_.initial_window = std::clamp(options_.initial_window, 1,
                                       options_.max_per_destination);
}

bool DestinationLimits::MayStart(const std::string& destination) const {
  auto it = states_.find(destination);
  if (it == states_.end() || it->second.in_flight == 0) return true;
  return it->second.in_flight < it->second.window &&
         pooled() < options_.max_in_flight;
}

std::vector<std::string> DestinationLimits::Saturated() const {
  std::vector<std::string> saturated;
  for (const auto& [destination, state] : states_) {
    if (state.in_flight > 0 && !MayStart(destination)) {
      saturated.push_back(destination);
    }
  }
  return saturated;
}

void DestinationLimits::Started(const std::string& destination) {
  auto [it, inserted] =
      states_.try_emplace(destination, State{0, options_.initial_window});
  if (it->second.in_flight++ == 0) ++busy_;
  ++total_;
}

void DestinationLimits::Finished(const std::string& destination,
                                 bool answered) {
  auto it = states_.find(destination);
  if (it == states_.end()) return;
  int& window = it->second.window;
  window = answered ? std::min(window + 1, options_.max_per_destination)
                    : std::max(window / 2, 1);
  Abandoned(destination);
}

void DestinationLimits::Abandoned(const std::string& destination) {
  auto it = states_.find(destination);
  if (it == states_.end() || it->second.in_flight == 0) return;
  if (--it->second.in_flight == 0) --busy_;
  --total_;
  Tidy(it);
}

int DestinationLimits::InFlight(const std::string& destination) const {
  auto it = states_.find(destination);
  return it == states_.end() ? 0 : it->second.in_flight;
}

std::map<std::string, int> DestinationLimits::InFlightByDestination() const {
  std::map<std::string, int> in_flight;
  for (const auto& [destination, state] : states_) {
    if (state.in_flight > 0) in_flight.emplace(destination, state.in_flight);
  }
  return in_flight;
}

int DestinationLimits::Window(const std::string& destination) const {
  auto it = states_.find(destination);
  return it == states_.end() ? options_.initial_window : it->second.window;
}

void DestinationLimits::Tidy(std::map<std::string, State>::iterator it) {
  if (it->second.in_flight == 0 &&
      it->second.window == options_.initial_window) {
    states_.erase(it);
  }
}

}  // namespace ats::server
