#ifndef ATS_STORAGE_EVENT_REPOSITORY_H_
#define ATS_STORAGE_EVENT_REPOSITORY_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ats/v1/event.pb.h"
#include "ats/v1/partner_event.pb.h"
#include "storage/page.h"

namespace ats::storage {

struct EventRow {
  std::string account_id;
  std::string id;
  ats::v1::EventState state = ats::v1::EVENT_STATE_PENDING;
  std::string state_reason;
  // Empty for webhook triggers.
  std::string integration_id;
  std::string webhook_uri;
  std::string candidate_id;
  std::string job_id;
  ats::v1::EventSource source = ats::v1::EVENT_SOURCE_UNSPECIFIED;
  std::string trigger_id;
  std::string stage_id;
  // The application's entry_count when the trigger fired (0 if none).
  int64_t stage_entry = 0;
  std::string bulk_operation_id;
  std::string triggered_by;
  // What is delivered, fixed at creation.
  ats::v1::PartnerEvent payload;
  absl::Time create_time;
  absl::Time due_time;
  absl::Time update_time;
  int attempt_count = 0;
  std::optional<absl::Time> lease_expire_time;
  std::optional<ats::v1::PartnerResult> result;
};

struct AttemptRow {
  std::string account_id;
  std::string event_id;
  // 1 for the first attempt.
  int number = 1;
  absl::Time attempt_time;
  // 0 when no response arrived.
  int http_status = 0;
  absl::Duration latency;
  std::string error;
};

// Filters of ListEvents; empty or unspecified fields do not filter.
struct EventFilter {
  std::string candidate_id;
  std::string job_id;
  std::string integration_id;
  ats::v1::EventState state = ats::v1::EVENT_STATE_UNSPECIFIED;
};

// Events and their delivery attempts. Account-scoped like every repository,
// except the dispatcher's methods (Claim...), which work across accounts
// because delivery is the platform's job, not a caller's.
class EventRepository {
 public:
  virtual ~EventRepository() = default;

  // Stores a new event.
  virtual absl::Status InsertEvent(const EventRow& event) = 0;
  // Replaces event `event.id` (every mutable column); NOT_FOUND if absent.
  virtual absl::Status UpdateEvent(const EventRow& event) = 0;
  // Returns event `id`, or NOT_FOUND.
  virtual absl::StatusOr<EventRow> GetEvent(std::string_view account_id,
                                            std::string_view id) = 0;
  // Returns events newest first.
  virtual absl::StatusOr<Page<EventRow>> ListEvents(
      std::string_view account_id, const EventFilter& filter,
      const PageRequest& page) = 0;

  // Appends a delivery attempt.
  virtual absl::Status InsertAttempt(const AttemptRow& attempt) = 0;
  // Returns the event's attempts, oldest first.
  virtual absl::StatusOr<std::vector<AttemptRow>> ListAttempts(
      std::string_view account_id, std::string_view event_id) = 0;

  // Returns up to `limit` events of any account that are due at `now`:
  // SCHEDULED, PENDING or RETRYING with due_time <= now, or SENDING with an
  // expired lease; oldest due first.
  virtual absl::StatusOr<std::vector<EventRow>> ListDue(absl::Time now,
                                                        int limit) = 0;

  // Cancels every SCHEDULED, PENDING or RETRYING event of the candidate
  // (only those of `job_id` unless it is empty) with `reason`; returns how
  // many.
  virtual absl::StatusOr<int64_t> CancelOpenEvents(std::string_view account_id,
                                                   std::string_view candidate_id,
                                                   std::string_view job_id,
                                                   std::string_view reason,
                                                   absl::Time now) = 0;
};

}  // namespace ats::storage

#endif  // ATS_STORAGE_EVENT_REPOSITORY_H_
