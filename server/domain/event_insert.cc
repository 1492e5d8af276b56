#include "server/domain/event_insert.h"

#include "server/domain/event_convert.h"

namespace ats::server {

absl::Status InsertNewEvent(storage::Transaction& txn, storage::EventRow& event,
                            RandomSource& random) {
  // Each try has a fresh 35-bit random part: three collisions in a row
  // would take a store of billions of events made in one millisecond.
  for (int tries = 1;; ++tries) {
    absl::Status status = txn.events().InsertEvent(event);
    if (!absl::IsAlreadyExists(status) || tries == 3) return status;
    event.id = NewTimeOrderedId(event.create_time, random);
    event.payload.set_event_id(EventName(event.id));
    if (event.payload.has_result_reporting()) {
      event.payload.mutable_result_reporting()->set_event(EventName(event.id));
    }
  }
}

}  // namespace ats::server
