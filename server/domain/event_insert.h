#ifndef ATS_SERVER_DOMAIN_EVENT_INSERT_H_
#define ATS_SERVER_DOMAIN_EVENT_INSERT_H_

// Storing a new event, which every maker of events (the trigger engine,
// manual and bulk triggers, notifications) does the same way.

#include "absl/status/status.h"
#include "server/common/random.h"
#include "storage/store.h"

namespace ats::server {

// Stores the new `event` in `txn`. Event ids are time-ordered
// (NewTimeOrderedId): should the id be taken, the event gets a new one, in
// its payload too, and the insert is tried again.
absl::Status InsertNewEvent(storage::Transaction& txn, storage::EventRow& event,
                            RandomSource& random);

}  // namespace ats::server

#endif  // ATS_SERVER_DOMAIN_EVENT_INSERT_H_
