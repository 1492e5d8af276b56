#include "server/domain/event_requeue.h"

namespace ats::server {

void Requeue(absl::Time now, storage::EventRow& event) {
  // A fresh retry schedule: attempt_count restarts, while the attempts so
  // far stay in the history and numbering continues after them.
  event.state = ats::v1::EVENT_STATE_PENDING;
  event.state_reason.clear();
  event.due_time = now;
  event.attempt_count = 0;
  event.lease_expire_time.reset();
  event.update_time = now;
  // A FAILED event's result was about the delivery being replaced; kept, it
  // would contradict the new state. The partner reports afresh.
  event.result.reset();
}

}  // namespace ats::server
