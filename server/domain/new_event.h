#ifndef ATS_SERVER_DOMAIN_NEW_EVENT_H_
#define ATS_SERVER_DOMAIN_NEW_EVENT_H_

// Making and storing a new event, which every maker of events (the trigger
// engine, manual and bulk triggers, notifications) does the same way.

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ats/v1/partner_event.pb.h"
#include "server/common/random.h"
#include "storage/store.h"

namespace ats::server {

// Where an event comes from, apart from its candidate and target.
struct EventOrigin {
  std::string account_id;
  // Id of the API key that caused it; empty for a notification.
  std::string key_id;
  ats::v1::EventSource source = ats::v1::EVENT_SOURCE_UNSPECIFIED;
  // The job it is about, with its title; empty for none.
  std::string job_id;
  std::string job_title;
  // The bulk operation, for EVENT_SOURCE_BULK.
  std::string bulk_operation_id;
  absl::Time now;
};

// Returns a new event from `origin` about candidate `candidate_id` (empty
// for a notification) with a fresh id from `random`, PENDING and due at
// `origin.now`, and the parts of its payload every event has (id, account,
// source, job, triggered_by, create_time). Every event starts here.
storage::EventRow NewEvent(const EventOrigin& origin,
                           const std::string& candidate_id,
                           RandomSource& random);

// Stores the new `event` in `txn`. Event ids are time-ordered
// (NewTimeOrderedId): should the id be taken, the event gets a new one, in
// its payload too, and the insert is tried again.
absl::Status InsertNewEvent(storage::Transaction& txn, storage::EventRow& event,
                            RandomSource& random);

}  // namespace ats::server

#endif  // ATS_SERVER_DOMAIN_NEW_EVENT_H_
