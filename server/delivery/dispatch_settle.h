#ifndef ATS_SERVER_DELIVERY_DISPATCH_SETTLE_H_
#define ATS_SERVER_DELIVERY_DISPATCH_SETTLE_H_

// What the dispatcher's claim (dispatch_claim.cc) and recorder
// (dispatch_record.cc) both do to an event that stops being sent.

#include <cstddef>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "ats/v1/event.pb.h"
#include "storage/event_repository.h"

namespace ats::server {

// Longest attempt error and state reason kept, per the Event contract.
inline constexpr size_t kMaxErrorLength = 1000;

// Returns `text` cut to at most `max` bytes, never inside a UTF-8 sequence.
inline std::string Truncate(std::string text, size_t max = kMaxErrorLength) {
  if (text.size() <= max) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  text.resize(end);
  return text;
}

// Settles `event` in the final (or waiting) `state` for `reason` at `now`.
inline void Settle(storage::EventRow& event, ats::v1::EventState state,
                   std::string reason, absl::Time now) {
  event.state = state;
  event.state_reason = Truncate(std::move(reason));
  event.update_time = now;
  event.lease_expire_time.reset();
}

}  // namespace ats::server

#endif  // ATS_SERVER_DELIVERY_DISPATCH_SETTLE_H_
