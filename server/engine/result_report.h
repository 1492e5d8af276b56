#ifndef ATS_SERVER_ENGINE_RESULT_REPORT_H_
#define ATS_SERVER_ENGINE_RESULT_REPORT_H_

// A partner's result arriving for an event, by ReportPartnerResult or in
// the answer to the webhook: the result is recorded and the moving rules of
// the event's stage trigger decide, in the same write transaction, whether
// the candidate moves on.

#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ats/v1/partner_event.pb.h"
#include "server/common/random.h"
#include "storage/store.h"

namespace ats::server {

// Records `result` (already checked with ValidateResult) for `event`, read
// in `txn` to change it, at `now`, and stores the event:
//   - INVALID_ARGUMENT, with violations under `field` (e.g. "result"), when
//     its criteria misfit those the event's partner listing declares;
//     FAILED_PRECONDITION when the event's state takes no result
//     (ApplyResult);
//   - then, unless a rule already decided for this event, the first moving
//     rule of the event's stage trigger that the result (merged with the
//     results before it) meets decides, and the decision is kept on the
//     event (`automatic_move`): a move enters the destination stage as
//     MoveCandidate does (its triggers fire, with event ids from `random`,
//     on behalf of the key that caused the event) and records the rule in
//     the stage history; the move is skipped, with the reason, when the
//     candidate has left the trigger's stage or the job, the destination is
//     gone, or kMaxAutomaticMovesInARow automatic moves already came one
//     after another.
absl::Status RecordPartnerResult(storage::Transaction& txn,
                                 storage::EventRow& event,
                                 const ats::v1::PartnerResult& result,
                                 std::string_view field, absl::Time now,
                                 RandomSource& random);

}  // namespace ats::server

#endif  // ATS_SERVER_ENGINE_RESULT_REPORT_H_
