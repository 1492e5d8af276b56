#ifndef ATS_STORAGE_SQLITE_EVENT_REPOSITORY_H_
#define ATS_STORAGE_SQLITE_EVENT_REPOSITORY_H_

#include "storage/event_repository.h"
#include "storage/sqlite/connection.h"

namespace ats::storage::sqlite {

// EventRepository on one SQLite connection, inside its open transaction.
// The payload and the result are stored as serialized protos; every list
// names the index it walks (INDEXED BY), so a query the index cannot serve
// fails when prepared instead of scanning the table.
class SqliteEventRepository final : public EventRepository {
 public:
  explicit SqliteEventRepository(Connection& db) : db_(db) {}

  absl::Status InsertEvent(const EventRow& event) override;
  absl::Status UpdateEvent(const EventRow& event) override;
  absl::StatusOr<bool> SettleClaim(const EventRow& claimed,
                                   const EventRow& next) override;
  absl::StatusOr<EventRow> GetEvent(std::string_view account_id,
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
  // Defined in event_due_queue.cc.
  absl::StatusOr<DueQueue> CountDue(absl::Time now) override;
  absl::StatusOr<int64_t> CancelOpenEvents(std::string_view account_id,
                                           std::string_view candidate_id,
                                           std::string_view job_id,
                                           std::string_view reason,
                                           absl::Time now) override;

 private:
  Connection& db_;
};

}  // namespace ats::storage::sqlite

#endif  // ATS_STORAGE_SQLITE_EVENT_REPOSITORY_H_
