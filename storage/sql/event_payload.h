#ifndef ATS_STORAGE_SQL_EVENT_PAYLOAD_H_
#define ATS_STORAGE_SQL_EVENT_PAYLOAD_H_

#include <string_view>

#include "ats/v1/partner_event.pb.h"
#include "storage/event_repository.h"

namespace ats::storage::sql {

// Decodes `stored`, a serialized ats.v1.PartnerEvent, into `payload` (which
// starts empty): every field for PayloadParts::kAll; for kShown only
// stage_trigger, option_values and notification, stepping over the other fields
// on the wire without building them. Either way the fields decoded come out as
// the generated parser makes them (repeated stage_trigger merged, a later
// option key winning, a missing map key or value empty). Returns false when
// the bytes it reads are not a valid encoding.
bool DecodeEventPayload(std::string_view stored, PayloadParts parts,
                        ats::v1::PartnerEvent* payload);

}  // namespace ats::storage::sql

#endif  // ATS_STORAGE_SQL_EVENT_PAYLOAD_H_
