#ifndef ATS_STORAGE_EVENT_REPOSITORY_H_
#define ATS_STORAGE_EVENT_REPOSITORY_H_

#include <cstdint>
#include <map>
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
  // What is delivered, fixed at creation. Reads that decode only
  // PayloadParts::kShown fill stage_trigger, option_values and
  // notification alone.
  ats::v1::PartnerEvent payload;
  absl::Time create_time;
  absl::Time due_time;
  absl::Time update_time;
  int attempt_count = 0;
  std::optional<absl::Time> lease_expire_time;
  std::optional<ats::v1::PartnerResult> result;
  // What the trigger's moving rules did with the result, once one matched.
  std::optional<ats::v1::AutomaticMove> automatic_move;
  // What the partner said last (ats.v1.Event.partner_message).
  std::string partner_message;
};

// How much of an event's stored payload a read decodes. The payload is most
// of an event's bytes, and showing an event needs only two of its fields.
enum class PayloadParts {
  // Every field: what the dispatcher delivers.
  kAll,
  // stage_trigger, option_values and notification, what an ats.v1.Event
  // shows; the other
  // fields are skipped undecoded and left empty.
  kShown,
  // None: the payload is left empty.
  kNone,
};

// A due event as ListDue finds it, from the queue's index alone: enough to
// decide whether to claim it before reading (and decoding) its whole row
// with ReadDueEvent.
struct DueEvent {
  // The row's place in the store, which only ReadDueEvent reads.
  int64_t row_key = 0;
  // Its DeliveryDestination (see storage/delivery_destination.h).
  std::string destination;
};

// A due event's row as a claim reads it (ReadDueEvent).
struct DueEventRow {
  // The row, its payload left empty.
  EventRow event;
  // The payload as stored, a serialized ats.v1.PartnerEvent: decoded by
  // whoever sends it, outside the claim's write.
  std::string payload;
};

// The events waiting for a dispatcher, as CountDue finds them.
struct DueQueue {
  int64_t events = 0;
  // The due_time of the one due longest; unset when none is due.
  std::optional<absl::Time> oldest_due_time;
};

struct AttemptRow {
  std::string account_id;
  std::string event_id;
  // 1 for the first attempt. Numbers run across the event's whole life: after
  // a RetryEvent (which resets the event's attempt_count to 0) they continue
  // from the last one. Assigned by InsertAttempt.
  int number = 1;
  absl::Time attempt_time;
  // 0 when no response arrived.
  int http_status = 0;
  absl::Duration latency;
  std::string error;
  // The start of an error answer's body (ats.v1.DeliveryAttempt).
  std::string partner_message;
};

// Filters of ListEvents; empty or unspecified fields do not filter.
struct EventFilter {
  std::string candidate_id;
  std::string job_id;
  std::string integration_id;
  ats::v1::EventState state = ats::v1::EVENT_STATE_UNSPECIFIED;
};

// Events and their delivery attempts. Account-scoped like every repository,
// except the dispatcher's ListDue, which works across accounts because
// delivery is the platform's job, not a caller's. ListDue followed by
// ReadDueEvent and LeaseDueEvent (state SENDING, a lease) in one Store::Claim
// is an atomic claim: the events ReadDueEvent returns are locked for it.
class EventRepository {
 public:
  virtual ~EventRepository() = default;

  // Stores a new event, with its DeliveryDestination; ALREADY_EXISTS if its
  // id is taken.
  virtual absl::Status InsertEvent(const EventRow& event) = 0;
  // Replaces the mutable columns of event `event.id` of `event.account_id`:
  // state, state_reason, due_time, update_time, attempt_count,
  // lease_expire_time, result, automatic_move and partner_message (what was
  // delivered and to whom is fixed at creation); NOT_FOUND if absent.
  virtual absl::Status UpdateEvent(const EventRow& event) = 0;
  // Ends a delivery attempt's claim: sets the state, state_reason, due_time,
  // update_time, lease_expire_time and partner_message of `next` only if event
  // `claimed.id` of `claimed.account_id` is still as the claim `claimed` left
  // it (SENDING, with its attempt_count and lease_expire_time). Returns whether
  // it was; false when another dispatcher re-claimed it after the lease
  // expired, someone settled it meanwhile, or it is gone. One statement and
  // no read: the dispatcher records many outcomes in one write.
  virtual absl::StatusOr<bool> SettleClaim(const EventRow& claimed,
                                           const EventRow& next) = 0;
  // Returns event `id` with the `parts` of its payload, or NOT_FOUND;
  // DATA_LOSS if the stored payload or result does not decode.
  virtual absl::StatusOr<EventRow> GetEvent(std::string_view account_id,
                                            std::string_view id,
                                            PayloadParts parts) = 0;
  // Like GetEvent, for a write that changes the event it reads: on a store
  // that other servers share, the row stays locked until the write ends, so
  // no claim (Store::Claim) changes it in between.
  virtual absl::StatusOr<EventRow> GetEventToChange(std::string_view account_id,
                                                    std::string_view id,
                                                    PayloadParts parts) = 0;
  // Returns events newest first, in reverse order of insertion (which a
  // clock step cannot reorder, unlike create_time), with only the shown
  // parts of their payloads (PayloadParts::kShown): a list is for looking at
  // events, not delivering them.
  virtual absl::StatusOr<Page<EventRow>> ListEvents(
      std::string_view account_id, const EventFilter& filter,
      const PageRequest& page) = 0;

  // Appends a delivery attempt to event `attempt.event_id` of
  // `attempt.account_id`, numbering it one more than the event's last stored
  // attempt (1 for the first): `attempt.number` is ignored. NOT_FOUND if the
  // event is absent. Does not touch the event's attempt_count.
  virtual absl::Status InsertAttempt(const AttemptRow& attempt) = 0;
  // Returns the event's attempts, oldest first.
  virtual absl::StatusOr<std::vector<AttemptRow>> ListAttempts(
      std::string_view account_id, std::string_view event_id) = 0;

  // Returns up to `limit` events of any account that are due at `now`:
  // SCHEDULED, PENDING or RETRYING with due_time <= now, or SENDING (which
  // always has a lease) with lease_expire_time <= now and due_time <= now;
  // oldest due first (ties by state, then in insertion order). Events of
  // the delivery destinations in `skip_destinations` (see
  // storage/delivery_destination.h) are left out without being read, so a
  // dispatcher passes over the backlog of destinations it cannot send more
  // to at no cost; its cost grows with the number of destinations that have
  // events to deliver, not with their backlogs. The rows are not read (nor
  // locked): ReadDueEvent does that for the events a claim takes. Runs in a
  // write only. A claim must leave a SENDING event's due_time at or before
  // its lease's expiry (keeping the due_time it was claimed at does). Final
  // states never come back.
  virtual absl::StatusOr<std::vector<DueEvent>> ListDue(
      absl::Time now, int limit,
      const std::vector<std::string>& skip_destinations) = 0;
  // Returns the event `due` names, its payload not decoded, if it is still
  // due at `now` as ListDue means it; nullopt if it no longer is, or if a
  // concurrent write holds it (on a store that servers share), so that a
  // claim passes over it. The event stays locked until the write ends.
  // DATA_LOSS if its result does not decode. Runs in a write only.
  virtual absl::StatusOr<std::optional<DueEventRow>> ReadDueEvent(
      const DueEvent& due, absl::Time now) = 0;
  // Leases the event `due` names, which ReadDueEvent returned in this
  // write, to a delivery: state SENDING, no state_reason, and the
  // attempt_count, lease_expire_time and update_time of `leased`; the other
  // columns stay as they are. NOT_FOUND if it is gone. Runs in a write only.
  virtual absl::Status LeaseDueEvent(const DueEvent& due,
                                     const EventRow& leased) = 0;
  // Returns, by delivery destination, how many events of every account are
  // being delivered at `now`: SENDING under a lease that has not expired,
  // whichever server claimed them. Destinations with none are left out.
  virtual absl::StatusOr<std::map<std::string, int64_t>> CountLeased(
      absl::Time now) = 0;
  // Returns how many events of every account ListDue(now, ...) could
  // return (due, and not under a live lease), and the oldest due_time among
  // them. Its cost grows with the events not yet delivered, those due later
  // included: for monitoring, not for every call.
  virtual absl::StatusOr<DueQueue> CountDue(absl::Time now) = 0;

  // Cancels (state CANCELED, `reason`, update_time `now`, no lease) every
  // SCHEDULED, PENDING or RETRYING event of candidate `candidate_id`, only
  // those of job `job_id` unless it is empty; with `candidate_id` empty, those
  // of every candidate of job `job_id`. Returns how many were cancelled.
  // INVALID_ARGUMENT when both are empty. SENDING events are left to finish.
  virtual absl::StatusOr<int64_t> CancelOpenEvents(std::string_view account_id,
                                                   std::string_view candidate_id,
                                                   std::string_view job_id,
                                                   std::string_view reason,
                                                   absl::Time now) = 0;
};

}  // namespace ats::storage

#endif  // ATS_STORAGE_EVENT_REPOSITORY_H_
