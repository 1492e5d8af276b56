#ifndef ATS_SERVER_TRIGGER_ENGINE_H_
#define ATS_SERVER_TRIGGER_ENGINE_H_

// The trigger engine: what happens when a candidate enters a stage. It runs
// inside the write transaction of the move that caused the entry, so the
// events it creates (the transactional outbox the dispatcher delivers from)
// commit together with the move or not at all.
//
// Each kind of trigger action is one class in trigger_engine.cc (see
// TriggerAction there): a new kind is a new class plus one line in its
// lookup, not edits across the engine.

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ats/v1/event.pb.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "server/auth.h"
#include "server/random.h"
#include "storage/store.h"

namespace ats::server {

// Runs the triggers of `stage`, in position order, for the application `app`
// that has just entered it (its entry_count identifies the entry) on behalf
// of `caller`, at `now`:
//   - add_tag adds the tag to the candidate, in `txn`; no event;
//   - integration_event creates one event for the integration: SKIPPED with
//     the reason when the integration is missing, inactive or its endpoint
//     disabled; otherwise PENDING due `now`, or SCHEDULED due `now` + delay;
//   - webhook creates one event for its URL, PENDING or SCHEDULED likewise.
// Every event carries its ats.v1.PartnerEvent payload, built now: candidate
// data limited to the fields the partner listing asks for (a webhook gets
// every field), including tags added by earlier triggers of the same entry.
// The created events are appended to `events` (when not null). Fails only
// when storage does, or when the application's job or candidate is missing.
absl::Status FireStageTriggers(
    storage::Transaction& txn, const Caller& caller,
    const storage::ApplicationRow& app, const storage::StageRow& stage,
    absl::Time now, RandomSource& random,
    google::protobuf::RepeatedPtrField<ats::v1::Event>* events);

}  // namespace ats::server

#endif  // ATS_SERVER_TRIGGER_ENGINE_H_
