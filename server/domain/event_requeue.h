#ifndef ATS_SERVER_DOMAIN_EVENT_REQUEUE_H_
#define ATS_SERVER_DOMAIN_EVENT_REQUEUE_H_

// Delivering an event again, as RetryEvent does for one event and
// RecoverEvents for an integration's dead events.

#include "absl/time/time.h"
#include "storage/event_repository.h"

namespace ats::server {

// Makes `event` (DEAD or FAILED; the caller checks) due again at `now`,
// from a fresh retry schedule: PENDING, no lease, no reason, no result.
void Requeue(absl::Time now, storage::EventRow& event);

}  // namespace ats::server

#endif  // ATS_SERVER_DOMAIN_EVENT_REQUEUE_H_
