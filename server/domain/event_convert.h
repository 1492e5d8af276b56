#ifndef ATS_SERVER_DOMAIN_EVENT_CONVERT_H_
#define ATS_SERVER_DOMAIN_EVENT_CONVERT_H_

// Pure helpers shared by everything that shows events (the trigger engine's
// move responses, the events RPCs): resource names and the conversions from
// storage rows to protos. Nothing here touches storage.

#include <string>
#include <string_view>

#include "ats/v1/event.pb.h"
#include "storage/event_repository.h"

namespace ats::server {

// Resource name pattern of events, as Validator::Name takes it.
inline constexpr char kEventPattern[] = "events/{event}";

// Returns the method a partner calls to report a result, as PartnerEvent's
// result_reporting names it: the RPC that takes ReportPartnerResultRequest,
// "ats.v1.IntegrationService/ReportPartnerResult".
const std::string& ReportPartnerResultMethod();

// Returns `events/{event_id}`.
std::string EventName(std::string_view event_id);

// Returns `apiKeys/{key_id}`.
std::string ApiKeyName(std::string_view key_id);

// Returns `bulkOperations/{bulk_operation_id}`.
std::string BulkOperationName(std::string_view bulk_operation_id);

// Fills `event` from `row`, without attempts (GetEvent adds those). The
// stage trigger reference, option values and notification come from the
// stored payload, so they show what was sent even after the trigger changed.
// Takes `row` by value so that a caller done with it moves its strings and maps
// rather than copying them (a page of events is mostly that).
void EventToProto(storage::EventRow row, ats::v1::Event* event);

// Fills `attempt` from `row`.
void AttemptToProto(const storage::AttemptRow& row,
                    ats::v1::DeliveryAttempt* attempt);

}  // namespace ats::server

#endif  // ATS_SERVER_DOMAIN_EVENT_CONVERT_H_
