#ifndef ATS_STORAGE_SQL_EVENT_REPOSITORY_H_
#define ATS_STORAGE_SQL_EVENT_REPOSITORY_H_

#include "storage/event_repository.h"
#include "storage/sql/session.h"

namespace ats::storage::sql {

// The states of the events waiting for a dispatcher (SCHEDULED, PENDING,
// RETRYING), spelled as the condition of the events_to_dispatch index is
// (SQLite migration 16): a query that says it so may use that index.
// Comparisons, not an IN list, for which SQLite builds a table each time.
inline constexpr char kWaitingForDispatch[] =
    "(state = 1 OR state = 2 OR state = 5)";

// EventRepository on one SQL session, inside its open transaction.
// The payload and the result are stored as serialized protos; every list
// names the index it walks (INDEXED BY), so a query the index cannot serve
// fails when prepared instead of scanning the table.
class SqlEventRepository final : public EventRepository {
 public:
  explicit SqlEventRepository(Session& db) : db_(db) {}

  absl::Status InsertEvent(const EventRow& event) override;
  absl::Status UpdateEvent(const EventRow& event) override;
  absl::StatusOr<bool> SettleClaim(const EventRow& claimed,
                                   const EventRow& next) override;
  absl::StatusOr<EventRow> GetEvent(std::string_view account_id,
                                    std::string_view id,
                                    PayloadParts parts) override;
  absl::StatusOr<EventRow> GetEventToChange(std::string_view account_id,
                                            std::string_view id,
                                            PayloadParts parts) override;
  absl::StatusOr<Page<EventRow>> ListEvents(std::string_view account_id,
                                            const EventFilter& filter,
                                            const PageRequest& page) override;
  absl::Status InsertAttempt(const AttemptRow& attempt) override;
  absl::StatusOr<std::vector<AttemptRow>> ListAttempts(
      std::string_view account_id, std::string_view event_id) override;
  absl::StatusOr<std::vector<DueEvent>> ListDue(
      absl::Time now, int limit,
      const std::vector<std::string>& skip_destinations) override;
  absl::StatusOr<std::optional<DueEventRow>> ReadDueEvent(
      const DueEvent& due, absl::Time now) override;
  absl::Status LeaseDueEvent(const DueEvent& due,
                             const EventRow& leased) override;
  // Defined in event_due_queue.cc.
  absl::StatusOr<DueQueue> CountDue(absl::Time now) override;
  absl::StatusOr<std::map<std::string, int64_t>> CountLeased(
      absl::Time now) override;
  absl::StatusOr<int64_t> CancelOpenEvents(std::string_view account_id,
                                           std::string_view candidate_id,
                                           std::string_view job_id,
                                           std::string_view reason,
                                           absl::Time now) override;

 private:
  // Reads the one event `stmt` selects by (?1, ?2) = (`account_id`, `id`),
  // or NOT_FOUND.
  absl::StatusOr<EventRow> ReadOneEvent(Statement& stmt,
                                        std::string_view account_id,
                                        std::string_view id,
                                        PayloadParts parts);
  // Tells the session when `event` waits for a dispatcher (see
  // Session::NoteEventsDue).
  void NoteIfDue(const EventRow& event) {
    if (event.state == ats::v1::EVENT_STATE_SCHEDULED ||
        event.state == ats::v1::EVENT_STATE_PENDING ||
        event.state == ats::v1::EVENT_STATE_RETRYING) {
      db_.NoteEventsDue();
    }
  }

  Session& db_;
};

}  // namespace ats::storage::sql

#endif  // ATS_STORAGE_SQL_EVENT_REPOSITORY_H_
