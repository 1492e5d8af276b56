#include "server/domain/new_event.h"

#include "absl/strings/str_cat.h"
#include "server/contract/timestamps.h"
#include "server/domain/event_convert.h"
#include "server/domain/pipeline_convert.h"

namespace ats::server {

storage::EventRow NewEvent(const EventOrigin& origin,
                           const std::string& candidate_id,
                           RandomSource& random) {
  storage::EventRow event;
  event.account_id = origin.account_id;
  event.id = NewTimeOrderedId(origin.now, random);
  event.state = ats::v1::EVENT_STATE_PENDING;
  event.candidate_id = candidate_id;
  event.job_id = origin.job_id;
  event.source = origin.source;
  event.bulk_operation_id = origin.bulk_operation_id;
  event.triggered_by = origin.key_id;
  event.create_time = origin.now;
  event.due_time = origin.now;
  event.update_time = origin.now;

  ats::v1::PartnerEvent& payload = event.payload;
  payload.set_event_id(EventName(event.id));
  payload.set_account(absl::StrCat("accounts/", event.account_id));
  payload.set_source(event.source);
  if (!origin.job_id.empty()) {
    payload.set_job(JobName(origin.job_id));
    payload.set_job_title(origin.job_title);
  }
  if (!origin.key_id.empty()) {
    payload.set_triggered_by(ApiKeyName(origin.key_id));
  }
  *payload.mutable_create_time() = ToProtoTime(origin.now);
  return event;
}

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
