#ifndef ATS_SERVER_DOMAIN_PARTNER_RESULT_H_
#define ATS_SERVER_DOMAIN_PARTNER_RESULT_H_

// A partner's result for an event: the shape it must have, and what it does
// to the event's state. Shared by ReportPartnerResult and by the dispatcher,
// which reads results from the answers to webhooks. Pure: nothing here
// touches storage.

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ats/v1/partner_event.pb.h"
#include "server/common/validation.h"
#include "storage/event_repository.h"

namespace ats::server {

// Records in `v` what is wrong with `result`, named `field` (e.g.
// "result"), that needs no listing: the status, a finite score, summary,
// link, attachments and details within their limits, and criteria values
// that are set and finite (ValidateResultCriteria checks them against the
// listing).
void ValidateResult(Validator& v, std::string_view field,
                    const ats::v1::PartnerResult& result);

// FAILED_PRECONDITION (ErrorInfo EVENT_STATE_MISMATCH) for an event whose
// state does not allow what was asked: "event events/x is <STATE>; <why>".
absl::Status StateMismatch(const storage::EventRow& event,
                           const std::string& why);

// StateMismatch for an event whose state does not allow `what`; `allowed`
// lists the states that do.
absl::Status WrongState(const storage::EventRow& event, const std::string& what,
                        const std::string& allowed);

// Records `result` for `event`, reported at `now`, if the event's state
// allows it (see ReportPartnerResult in integration_service.proto), with
// the criteria of the result before it that `result` leaves out; the
// event's state follows the result's status. FAILED_PRECONDITION naming the
// state otherwise.
absl::Status ApplyResult(const ats::v1::PartnerResult& result, absl::Time now,
                         storage::EventRow& event);

}  // namespace ats::server

#endif  // ATS_SERVER_DOMAIN_PARTNER_RESULT_H_
