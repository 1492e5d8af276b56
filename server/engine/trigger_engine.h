#ifndef ATS_SERVER_ENGINE_TRIGGER_ENGINE_H_
#define ATS_SERVER_ENGINE_TRIGGER_ENGINE_H_

// The trigger engine: what happens when a candidate enters a stage. It runs
// inside the write transaction of the move that caused the entry, so the
// events it creates (the transactional outbox the dispatcher delivers from)
// commit together with the move or not at all.
//
// Each kind of trigger action is one class in trigger_engine.cc (see
// TriggerAction there): a new kind is a new class plus one line in its
// lookup, not edits across the engine.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ats/v1/event.pb.h"
#include "ats/v1/pipeline.pb.h"
#include "google/protobuf/repeated_field.h"
#include "server/common/random.h"
#include "server/domain/caller.h"
#include "server/domain/new_event.h"
#include "storage/store.h"

namespace ats::server {

// Returns the candidate's data as a partner or webhook sees it: the name
// always, the other fields only when `fields` lists them.
ats::v1::CandidateSnapshot Snapshot(
    const storage::CandidateRow& candidate,
    const google::protobuf::RepeatedField<int>& fields);

// Addresses `event` to integration `integration_id` with `partner`: sets
// the integration and partner, the candidate as the partner's listing asks
// for it, and how the partner reports its result.
void TargetIntegration(storage::EventRow& event,
                       const std::string& integration_id,
                       const storage::PartnerRow& partner,
                       const storage::CandidateRow& candidate);

// Runs the triggers of `stage`, in position order, for the application `app`
// that has just entered it (its entry_count identifies the entry) on behalf
// of `caller`, at `now`:
//   - add_tag adds the tag to the candidate, in `txn`; no event;
//   - integration_event creates one event for the integration: SKIPPED with
//     the reason when the integration is missing, inactive or its endpoint
//     disabled; otherwise PENDING due `now`, or SCHEDULED due `now` + delay;
//   - webhook creates one event for its URL: SKIPPED with the reason when
//     the account has no webhook signing secret; otherwise PENDING or
//     SCHEDULED likewise.
// Every event carries its ats.v1.PartnerEvent payload, built now: candidate
// data limited to the fields the partner listing (or the webhook trigger)
// declares, including tags added by earlier triggers of the same entry.
// The created events are appended to `created` (when not null). Fails only
// when storage does, or when the application's job or candidate is missing.
absl::Status FireStageTriggers(storage::Transaction& txn,
                               const Caller& caller,
                               const storage::ApplicationRow& app,
                               const storage::StageRow& stage, absl::Time now,
                               RandomSource& random,
                               std::vector<storage::EventRow>* created);

// The candidate of `app` enters stage `to` at `now`, inside the write
// transaction `txn`: `app` becomes its state after the entry and is stored
// (inserted when `app.entry_count` is 0, i.e. the candidate is being added
// to the job with an empty `app.stage_id`), and the entry is appended to its
// stage history as made by `caller`. Then `to`'s triggers fire (see
// FireStageTriggers; event ids come from `random`), and the events they
// create are appended to `created`. The caller makes sure `to` is a stage of
// the application's job other than its current one, and runs this at most
// once per request (RunOnce), so that a retried request fires nothing. An
// automatic move names the moving rule that made it in `moved_by_rule`,
// which the history keeps.
absl::Status EnterStage(
    storage::Transaction& txn, const Caller& caller,
    storage::ApplicationRow& app, const storage::StageRow& to, absl::Time now,
    RandomSource& random, std::vector<storage::EventRow>* created,
    std::optional<ats::v1::RuleRef> moved_by_rule = std::nullopt);

}  // namespace ats::server

#endif  // ATS_SERVER_ENGINE_TRIGGER_ENGINE_H_
