// What monitoring, and the dispatcher's limits across servers, ask of the
// events table, apart from the queries that serve the API and the
// dispatcher's claims (event_repository.cc).

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/sql/event_repository.h"
#include "storage/sql/values.h"

namespace ats::storage::sql {

absl::StatusOr<DueQueue> SqlEventRepository::CountDue(absl::Time now) {
  // The two kinds of due event ListDue claims, each from its own index:
  // deliverable states (1, 2, 5) that are due, and deliveries (3) whose
  // lease ran out.
  static const std::string kCount = absl::StrCat(
      "SELECT sum(events), min(oldest) FROM ("
      "SELECT count(*) AS events, min(due_time) AS oldest "
      "FROM events INDEXED BY events_to_dispatch WHERE ",
      kWaitingForDispatch,
      " AND due_time <= ?1 "
      "UNION ALL SELECT count(*), min(due_time) "
      "FROM events INDEXED BY events_leased "
      "WHERE state = 3 AND lease_expire_time <= ?1 AND due_time <= ?1) AS due");
  return ReadOne<DueQueue>(
      db_.Prepare(kCount.c_str()).Bind(1, ToMicros(now)),
      [](const Statement& row) {
        DueQueue queue;
        queue.events = row.ColumnInt64(0);
        if (!row.ColumnIsNull(1)) {
          queue.oldest_due_time = FromMicros(row.ColumnInt64(1));
        }
        return queue;
      },
      absl::InternalError("counting due events returned no row"));
}

absl::StatusOr<std::map<std::string, int64_t>> SqlEventRepository::CountLeased(
    absl::Time now) {
  Statement& stmt = db_.Prepare(
      "SELECT destination, count(*) FROM events INDEXED BY events_leased "
      "WHERE state = 3 AND lease_expire_time > ?1 GROUP BY destination");
  stmt.Bind(1, ToMicros(now));
  auto rows = ReadAll<std::pair<std::string, int64_t>>(
      stmt, [](const Statement& row) {
        return std::pair(row.ColumnText(0), row.ColumnInt64(1));
      });
  if (!rows.ok()) return rows.status();
  return std::map<std::string, int64_t>(rows->begin(), rows->end());
}

}  // namespace ats::storage::sql
