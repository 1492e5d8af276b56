#include "storage/sql/event_repository.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/delivery_destination.h"
#include "storage/sql/event_payload.h"
#include "storage/sql/values.h"

namespace ats::storage::sql {
namespace {

constexpr char kEventColumns[] =
    "account_id, id, state, state_reason, integration_id, webhook_uri, "
    "candidate_id, job_id, source, trigger_id, stage_id, stage_entry, "
    "bulk_operation_id, triggered_by, payload, create_time, due_time, "
    "update_time, attempt_count, lease_expire_time, result, automatic_move, "
    "partner_message";
constexpr char kAttemptColumns[] =
    "account_id, event_id, number, attempt_time, http_status, latency_micros, "
    "error, partner_message";

// States an event can still be delivered from (and cancelled in), as the
// integers stored; they match events_to_dispatch's WHERE clause.
static_assert(ats::v1::EVENT_STATE_SCHEDULED == 1 &&
              ats::v1::EVENT_STATE_PENDING == 2 &&
              ats::v1::EVENT_STATE_SENDING == 3 &&
              ats::v1::EVENT_STATE_RETRYING == 5 &&
              ats::v1::EVENT_STATE_CANCELED == 9);

absl::Status EventNotFound(std::string_view id) {
  return absl::NotFoundError(
      absl::StrCat("event ", std::string(id), " not found"));
}

// The column of kEventColumns that holds the payload.
constexpr int kPayloadColumn = 14;

// Reads the row `stmt` is at, decoding the `parts` of its payload.
absl::StatusOr<EventRow> ReadEvent(const Statement& stmt, PayloadParts parts) {
  EventRow event;
  event.account_id = stmt.ColumnText(0);
  event.id = stmt.ColumnText(1);
  event.state = static_cast<ats::v1::EventState>(stmt.ColumnInt64(2));
  event.state_reason = stmt.ColumnText(3);
  event.integration_id = stmt.ColumnText(4);
  event.webhook_uri = stmt.ColumnText(5);
  event.candidate_id = stmt.ColumnText(6);
  event.job_id = stmt.ColumnText(7);
  event.source = static_cast<ats::v1::EventSource>(stmt.ColumnInt64(8));
  event.trigger_id = stmt.ColumnText(9);
  event.stage_id = stmt.ColumnText(10);
  event.stage_entry = stmt.ColumnInt64(11);
  event.bulk_operation_id = stmt.ColumnText(12);
  event.triggered_by = stmt.ColumnText(13);
  if (!DecodeEventPayload(stmt.ColumnBlob(kPayloadColumn), parts,
                          &event.payload)) {
    return absl::DataLossError(
        absl::StrCat("stored payload of event ", event.id, " is corrupt"));
  }
  event.create_time = FromMicros(stmt.ColumnInt64(15));
  event.due_time = FromMicros(stmt.ColumnInt64(16));
  event.update_time = FromMicros(stmt.ColumnInt64(17));
  event.attempt_count = static_cast<int>(stmt.ColumnInt64(18));
  if (!stmt.ColumnIsNull(19)) {
    event.lease_expire_time = FromMicros(stmt.ColumnInt64(19));
  }
  if (!stmt.ColumnIsNull(20)) {
    ats::v1::PartnerResult result;
    if (!ParseColumn(stmt, 20, &result)) {
      return absl::DataLossError(
          absl::StrCat("stored result of event ", event.id, " is corrupt"));
    }
    event.result = std::move(result);
  }
  if (!ParseOptionalColumn(stmt, 21, &event.automatic_move)) {
    return absl::DataLossError(absl::StrCat("stored automatic move of event ",
                                            event.id, " is corrupt"));
  }
  event.partner_message = stmt.ColumnText(22);
  return event;
}

// Reads every row `stmt` yields with `read`, a function of the statement
// returning StatusOr<Row>; `expected_rows` (the query's LIMIT) sizes the
// vector once.
template <typename Row, typename ReadFn>
absl::StatusOr<std::vector<Row>> ReadEventRows(Statement& stmt,
                                               int expected_rows, ReadFn read) {
  std::vector<Row> rows;
  rows.reserve(expected_rows);
  for (;;) {
    absl::StatusOr<bool> has_row = stmt.Step();
    if (!has_row.ok()) return has_row.status();
    if (!*has_row) return rows;
    absl::StatusOr<Row> row = read(stmt);
    if (!row.ok()) {
      (void)stmt.Run();  // Drops the cursor; the corruption is the news.
      return row.status();
    }
    rows.push_back(*std::move(row));
  }
}

AttemptRow ReadAttempt(const Statement& stmt) {
  AttemptRow attempt;
  attempt.account_id = stmt.ColumnText(0);
  attempt.event_id = stmt.ColumnText(1);
  attempt.number = static_cast<int>(stmt.ColumnInt64(2));
  attempt.attempt_time = FromMicros(stmt.ColumnInt64(3));
  attempt.http_status = static_cast<int>(stmt.ColumnInt64(4));
  attempt.latency = absl::Microseconds(stmt.ColumnInt64(5));
  attempt.error = stmt.ColumnText(6);
  attempt.partner_message = stmt.ColumnText(7);
  return attempt;
}

std::optional<int64_t> LeaseMicros(const EventRow& event) {
  if (!event.lease_expire_time.has_value()) return std::nullopt;
  return ToMicros(*event.lease_expire_time);
}

// The ListEvents queries, one per index: the first filter set (candidate,
// job, integration, state, in that order) picks the index whose prefix it is;
// the other filters are checked on the rows that index yields. Each index
// ends in the table's key, seq, so walking its range backwards from the
// cursor lists newest first. Parameters: ?1 account, ?2 candidate, ?3 job,
// ?4 integration, ?5 state (0 = any), ?6 the seq the page starts below, ?7
// the row limit. seq is the last column read. SENDING events, which the
// list by state does not hold, are few (the deliveries under way): their
// list reads every one from events_leased and sorts them.
enum class ListIndex {
  kAccount,
  kCandidate,
  kJob,
  kIntegration,
  kState,
  kSending
};

ListIndex IndexFor(const EventFilter& filter) {
  if (!filter.candidate_id.empty()) return ListIndex::kCandidate;
  if (!filter.job_id.empty()) return ListIndex::kJob;
  if (!filter.integration_id.empty()) return ListIndex::kIntegration;
  if (filter.state == ats::v1::EVENT_STATE_SENDING) return ListIndex::kSending;
  if (filter.state != ats::v1::EVENT_STATE_UNSPECIFIED)
    return ListIndex::kState;
  return ListIndex::kAccount;
}

constexpr int kSeqColumn = 23;

std::string ListSql(const char* index, const char* leading) {
  return absl::StrCat(
      "SELECT ", kEventColumns, ", seq FROM events INDEXED BY ", index,
      " WHERE account_id = ?1", leading,
      " AND (?2 = '' OR candidate_id = ?2) AND (?3 = '' OR job_id = ?3) "
      "AND (?4 = '' OR integration_id = ?4) AND (?5 = 0 OR state = ?5) "
      "AND seq < ?6 ORDER BY seq DESC LIMIT ?7");
}

const char* ListEventsSql(ListIndex index) {
  static const std::array<std::string, 6> sql = {
      ListSql("events_by_account", ""),
      ListSql("events_by_candidate", " AND candidate_id = ?2"),
      // The index holds only events with a job.
      ListSql("events_by_job", " AND job_id = ?3 AND job_id <> ''"),
      ListSql("events_by_integration", " AND integration_id = ?4"),
      // The index holds no SENDING event.
      ListSql("events_by_state", " AND state = ?5 AND state <> 3"),
      ListSql("events_leased", " AND state = 3"),
  };
  return sql[static_cast<size_t>(index)].c_str();
}

// `values` as a JSON array of strings, for json_each.
std::string JsonStringArray(const std::vector<std::string>& values) {
  std::string json = "[";
  for (const std::string& value : values) {
    if (json.size() > 1) json += ',';
    json += '"';
    for (char c : value) {
      if (c == '"' || c == '\\') {
        json += '\\';
        json += c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        absl::StrAppend(&json, "\\u00", absl::Hex(c, absl::kZeroPad2));
      } else {
        json += c;
      }
    }
    json += '"';
  }
  json += ']';
  return json;
}

}  // namespace

absl::Status SqlEventRepository::InsertEvent(const EventRow& event) {
  NoteIfDue(event);
  static const std::string sql = absl::StrCat(
      "INSERT INTO events (", kEventColumns,
      ", destination) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
      "?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24) "
      "ON CONFLICT DO NOTHING");
  // Borrowed binds: `event` and these outlive the statement's one run.
  const std::string payload = event.payload.SerializeAsString();
  const std::string destination = DeliveryDestination(
      event.account_id, event.integration_id, event.webhook_uri);
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.BindBorrowed(1, event.account_id)
      .BindBorrowed(2, event.id)
      .Bind(3, static_cast<int>(event.state))
      .BindBorrowed(4, event.state_reason);
  // NULL rather than '' for webhook events: the column references
  // integrations.
  if (event.integration_id.empty()) {
    stmt.BindNull(5);
  } else {
    stmt.BindBorrowed(5, event.integration_id);
  }
  stmt.BindBorrowed(6, event.webhook_uri)
      .BindBorrowed(7, event.candidate_id)
      .BindBorrowed(8, event.job_id)
      .Bind(9, static_cast<int>(event.source))
      .BindBorrowed(10, event.trigger_id)
      .BindBorrowed(11, event.stage_id)
      .Bind(12, event.stage_entry)
      .BindBorrowed(13, event.bulk_operation_id)
      .BindBorrowed(14, event.triggered_by)
      .BindBlobBorrowed(15, payload)
      .Bind(16, ToMicros(event.create_time))
      .Bind(17, ToMicros(event.due_time))
      .Bind(18, ToMicros(event.update_time))
      .Bind(19, event.attempt_count)
      .Bind(20, LeaseMicros(event));
  BindMessageOrNull(stmt, 21, event.result);
  BindMessageOrNull(stmt, 22, event.automatic_move);
  stmt.BindBorrowed(23, event.partner_message);
  stmt.BindBorrowed(24, destination);
  return InsertedOrAlreadyExists(
      db_, stmt.Run(), absl::StrCat("event ", event.id, " already exists"));
}

absl::Status SqlEventRepository::UpdateEvent(const EventRow& event) {
  NoteIfDue(event);
  Statement& stmt = db_.Prepare(
      "UPDATE events SET state = ?3, state_reason = ?4, due_time = ?5, "
      "update_time = ?6, attempt_count = ?7, lease_expire_time = ?8, "
      "result = ?9, automatic_move = ?10, partner_message = ?11 "
      "WHERE account_id = ?1 AND id = ?2");
  stmt.Bind(1, event.account_id)
      .Bind(2, event.id)
      .Bind(3, static_cast<int>(event.state))
      .Bind(4, event.state_reason)
      .Bind(5, ToMicros(event.due_time))
      .Bind(6, ToMicros(event.update_time))
      .Bind(7, event.attempt_count)
      .Bind(8, LeaseMicros(event));
  BindMessageOrNull(stmt, 9, event.result);
  BindMessageOrNull(stmt, 10, event.automatic_move);
  stmt.Bind(11, event.partner_message);
  absl::Status status = stmt.Run();
  if (!status.ok()) return status;
  if (db_.changes() == 0) return EventNotFound(event.id);
  return absl::OkStatus();
}

absl::StatusOr<bool> SqlEventRepository::SettleClaim(
    const EventRow& claimed, const EventRow& next) {
  // `IS` so that a claim without a lease matches a stored NULL.
  Statement& stmt = db_.Prepare(
      "UPDATE events SET state = ?5, state_reason = ?6, due_time = ?7, "
      "update_time = ?8, lease_expire_time = ?9, partner_message = ?10 "
      "WHERE account_id = ?1 AND id = ?2 AND state = 3 "
      "AND attempt_count = ?3 AND lease_expire_time IS NOT DISTINCT FROM ?4");
  stmt.Bind(1, claimed.account_id)
      .Bind(2, claimed.id)
      .Bind(3, claimed.attempt_count)
      .Bind(4, LeaseMicros(claimed))
      .Bind(5, static_cast<int>(next.state))
      .Bind(6, next.state_reason)
      .Bind(7, ToMicros(next.due_time))
      .Bind(8, ToMicros(next.update_time))
      .Bind(9, LeaseMicros(next))
      .Bind(10, next.partner_message);
  absl::Status status = stmt.Run();
  if (!status.ok()) return status;
  return db_.changes() > 0;
}

absl::StatusOr<EventRow> SqlEventRepository::GetEvent(
    std::string_view account_id, std::string_view id, PayloadParts parts) {
  static const std::string sql =
      absl::StrCat("SELECT ", kEventColumns,
                   " FROM events WHERE account_id = ?1 AND id = ?2");
  return ReadOneEvent(db_.Prepare(sql.c_str()), account_id, id, parts);
}

absl::StatusOr<EventRow> SqlEventRepository::GetEventToChange(
    std::string_view account_id, std::string_view id, PayloadParts parts) {
  // SQLite's one writer needs no lock.
  if (db_.dialect() == Dialect::kSqlite) return GetEvent(account_id, id, parts);
  static const std::string sql =
      absl::StrCat("SELECT ", kEventColumns,
                   " FROM events WHERE account_id = ?1 AND id = ?2 FOR UPDATE");
  return ReadOneEvent(db_.Prepare(sql.c_str()), account_id, id, parts);
}

absl::StatusOr<EventRow> SqlEventRepository::ReadOneEvent(
    Statement& stmt, std::string_view account_id, std::string_view id,
    PayloadParts parts) {
  stmt.Bind(1, account_id).Bind(2, id);
  auto rows = ReadEventRows<EventRow>(
      stmt, 1, [parts](const Statement& row) { return ReadEvent(row, parts); });
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return EventNotFound(id);
  return std::move(rows->front());
}

absl::StatusOr<Page<EventRow>> SqlEventRepository::ListEvents(
    std::string_view account_id, const EventFilter& filter,
    const PageRequest& page) {
  auto after = SequenceAfter(page);
  if (!after.ok()) return after.status();
  Statement& stmt = db_.Prepare(ListEventsSql(IndexFor(filter)));
  stmt.Bind(1, account_id)
      .Bind(2, filter.candidate_id)
      .Bind(3, filter.job_id)
      .Bind(4, filter.integration_id)
      .Bind(5, static_cast<int>(filter.state))
      .Bind(6, after->value_or(std::numeric_limits<int64_t>::max()))
      .Bind(7, page.limit + 1);
  using Keyed = std::pair<EventRow, int64_t>;
  auto rows = ReadEventRows<Keyed>(
      stmt, page.limit + 1, [](const Statement& row) -> absl::StatusOr<Keyed> {
        absl::StatusOr<EventRow> event = ReadEvent(row, PayloadParts::kShown);
        if (!event.ok()) return event.status();
        return Keyed{*std::move(event), row.ColumnInt64(kSeqColumn)};
      });
  if (!rows.ok()) return rows.status();
  return WithoutSortKeys(
      MakePage(*std::move(rows), page.limit,
               [](const Keyed& row) { return SequenceCursor(row.second); }));
}

absl::Status SqlEventRepository::InsertAttempt(const AttemptRow& attempt) {
  // Numbered from the attempts already stored, not from the event's
  // attempt_count, which RetryEvent resets. Read apart from the insert: an
  // INSERT whose SELECT reads the table it fills makes SQLite copy the
  // selected rows aside first, which cost a quarter of the insert.
  auto number = ReadOne<int64_t>(
      db_.Prepare("SELECT (SELECT coalesce(max(a.number), 0) + 1 "
                  "FROM delivery_attempts a WHERE a.event_id = e.id) "
                  "FROM events e WHERE e.account_id = ?1 AND e.id = ?2")
          .Bind(1, attempt.account_id)
          .Bind(2, attempt.event_id),
      [](const Statement& row) { return row.ColumnInt64(0); },
      EventNotFound(attempt.event_id));
  if (!number.ok()) return number.status();
  static const std::string sql =
      absl::StrCat("INSERT INTO delivery_attempts (", kAttemptColumns,
                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  return db_.Prepare(sql.c_str())
      .Bind(1, attempt.account_id)
      .Bind(2, attempt.event_id)
      .Bind(3, *number)
      .Bind(4, ToMicros(attempt.attempt_time))
      .Bind(5, attempt.http_status)
      .Bind(6, absl::ToInt64Microseconds(attempt.latency))
      .Bind(7, attempt.error)
      .Bind(8, attempt.partner_message)
      .Run();
}

absl::StatusOr<std::vector<AttemptRow>> SqlEventRepository::ListAttempts(
    std::string_view account_id, std::string_view event_id) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kAttemptColumns,
      " FROM delivery_attempts WHERE account_id = ?1 AND event_id = ?2 "
      "ORDER BY number");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.Bind(1, account_id).Bind(2, event_id);
  std::vector<AttemptRow> rows;
  for (;;) {
    absl::StatusOr<bool> has_row = stmt.Step();
    if (!has_row.ok()) return has_row.status();
    if (!*has_row) return rows;
    rows.push_back(ReadAttempt(stmt));
  }
}

absl::StatusOr<std::vector<DueEvent>> SqlEventRepository::ListDue(
    absl::Time now, int limit,
    const std::vector<std::string>& skip_destinations) {
  const std::set<std::string> skip(skip_destinations.begin(),
                                   skip_destinations.end());
  // Each destination's deliverable events are one range of
  // events_to_dispatch. The destinations that have any are found by jumping
  // from one range to the next, so a skipped destination's backlog is never
  // walked.
  static const std::string kDestinations = absl::StrCat(
      "WITH RECURSIVE queue(id) AS ("
      "SELECT (SELECT min(destination) "
      "FROM events INDEXED BY events_to_dispatch WHERE ",
      kWaitingForDispatch,
      ") UNION ALL SELECT (SELECT min(destination) "
      "FROM events INDEXED BY events_to_dispatch WHERE ",
      kWaitingForDispatch,
      " AND destination > queue.id) "
      "FROM queue WHERE queue.id IS NOT NULL) "
      "SELECT id FROM queue WHERE id IS NOT NULL");
  auto destinations = ReadAll<std::string>(
      db_.Prepare(kDestinations.c_str()),
      [](const Statement& row) { return row.ColumnText(0); });
  if (!destinations.ok()) return destinations.status();
  std::vector<std::string> queues;
  for (std::string& id : *destinations) {
    if (skip.count(id) == 0) queues.push_back(std::move(id));
  }

  // The oldest due of every queue, read from the index alone, then merged.
  struct Due {
    int64_t due_time;
    int64_t state;
    DueEvent event;
    bool operator<(const Due& other) const {
      return std::tie(due_time, state, event.row_key) <
             std::tie(other.due_time, other.state, other.event.row_key);
    }
  };
  const auto read_due = [](const Statement& row) {
    return Due{row.ColumnInt64(0), row.ColumnInt64(1),
               DueEvent{row.ColumnInt64(2), row.ColumnText(3)}};
  };
  static const std::string kQueue = absl::StrCat(
      "SELECT due_time, state, seq, destination "
      "FROM events INDEXED BY events_to_dispatch "
      "WHERE destination = ?1 AND ",
      kWaitingForDispatch,
      " AND due_time <= ?2 ORDER BY due_time, state, seq LIMIT ?3");
  std::vector<Due> due;
  for (const std::string& queue : queues) {
    auto rows = ReadAll<Due>(db_.Prepare(kQueue.c_str())
                                 .Bind(1, queue)
                                 .Bind(2, ToMicros(now))
                                 .Bind(3, limit),
                             read_due);
    if (!rows.ok()) return rows.status();
    due.insert(due.end(), rows->begin(), rows->end());
  }
  // Deliveries whose lease ran out (the dispatcher died mid-send): few, so
  // the skipped destinations are filtered on the rows.
  // The skipped destinations arrive as one JSON array, so one statement
  // serves any number of them; each dialect has its own way to read it.
  auto expired = ReadAll<Due>(
      db_.Prepare(
             db_.dialect() == Dialect::kSqlite
                 ? "SELECT due_time, state, seq, destination "
                   "FROM events INDEXED BY events_leased "
                   "WHERE state = 3 AND lease_expire_time <= ?1 "
                   "AND due_time <= ?1 "
                   "AND destination NOT IN (SELECT value FROM json_each(?2)) "
                   "ORDER BY lease_expire_time LIMIT ?3"
                 : "SELECT due_time, state, seq, destination FROM events "
                   "WHERE state = 3 AND lease_expire_time <= ?1 "
                   "AND due_time <= ?1 AND destination NOT IN "
                   "(SELECT json_array_elements_text(CAST(?2 AS json))) "
                   "ORDER BY lease_expire_time LIMIT ?3")
          .Bind(1, ToMicros(now))
          .Bind(2, JsonStringArray(skip_destinations))
          .Bind(3, limit),
      read_due);
  if (!expired.ok()) return expired.status();
  due.insert(due.end(), expired->begin(), expired->end());

  std::sort(due.begin(), due.end());
  if (static_cast<int>(due.size()) > limit) due.resize(limit);
  std::vector<DueEvent> events;
  events.reserve(due.size());
  for (Due& event : due) events.push_back(std::move(event.event));
  return events;
}

absl::StatusOr<std::optional<DueEventRow>> SqlEventRepository::ReadDueEvent(
    const DueEvent& due, absl::Time now) {
  // Read again, still due, and on PostgreSQL locked for the claim: one that
  // a concurrent write holds, or that changed since ListDue, is passed over.
  static const std::string kStillDue = absl::StrCat(
      "SELECT ", kEventColumns,
      " FROM events WHERE seq = ?1 AND due_time <= ?2 AND (",
      kWaitingForDispatch, " OR (state = 3 AND lease_expire_time <= ?2))");
  static const std::string kLockStillDue =
      absl::StrCat(kStillDue, " FOR UPDATE SKIP LOCKED");
  Statement& stmt =
      db_.Prepare(db_.dialect() == Dialect::kSqlite ? kStillDue.c_str()
                                                    : kLockStillDue.c_str());
  stmt.Bind(1, due.row_key).Bind(2, ToMicros(now));
  // The payload is decoded by the sender, off the store's busiest thread.
  auto rows = ReadEventRows<DueEventRow>(
      stmt, 1, [](const Statement& row) -> absl::StatusOr<DueEventRow> {
        absl::StatusOr<EventRow> event = ReadEvent(row, PayloadParts::kNone);
        if (!event.ok()) return event.status();
        return DueEventRow{*std::move(event),
                           std::string(row.ColumnBlob(kPayloadColumn))};
      });
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::nullopt;
  return std::move(rows->front());
}

absl::Status SqlEventRepository::LeaseDueEvent(const DueEvent& due,
                                               const EventRow& leased) {
  // By the row's place, and only what a claim changes: the claim is the
  // dispatcher's busiest write.
  Statement& stmt = db_.Prepare(
      "UPDATE events SET state = 3, state_reason = '', update_time = ?2, "
      "attempt_count = ?3, lease_expire_time = ?4 WHERE seq = ?1");
  stmt.Bind(1, due.row_key)
      .Bind(2, ToMicros(leased.update_time))
      .Bind(3, leased.attempt_count)
      .Bind(4, LeaseMicros(leased));
  absl::Status status = stmt.Run();
  if (!status.ok()) return status;
  if (db_.changes() == 0) return EventNotFound(leased.id);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> SqlEventRepository::CancelOpenEvents(
    std::string_view account_id, std::string_view candidate_id,
    std::string_view job_id, std::string_view reason, absl::Time now) {
  if (candidate_id.empty() && job_id.empty()) {
    return absl::InvalidArgumentError(
        "CancelOpenEvents needs a candidate or a job");
  }
  // Two texts so that each walks the index of its leading column.
  static const std::string kOfJob = absl::StrCat(
      "UPDATE events INDEXED BY events_by_job SET state = 9, "
      "state_reason = ?3, update_time = ?4, lease_expire_time = NULL "
      "WHERE account_id = ?1 AND job_id = ?2 AND job_id <> '' AND ",
      kWaitingForDispatch);
  static const std::string kOfCandidate = absl::StrCat(
      "UPDATE events INDEXED BY events_by_candidate SET state = 9, "
      "state_reason = ?4, update_time = ?5, lease_expire_time = NULL "
      "WHERE account_id = ?1 AND candidate_id = ?2 "
      "AND (?3 = '' OR job_id = ?3) AND ",
      kWaitingForDispatch);
  const char* sql =
      candidate_id.empty() ? kOfJob.c_str() : kOfCandidate.c_str();
  // Through std::string: an empty std::string_view may bind NULL, which
  // `?3 = ''` does not match. Each text takes only the values it uses, as
  // PostgreSQL cannot tell the type of a parameter nothing uses.
  Statement& stmt = db_.Prepare(sql);
  stmt.Bind(1, account_id);
  int next = 2;
  if (!candidate_id.empty()) stmt.Bind(next++, std::string(candidate_id));
  absl::Status status = stmt.Bind(next, std::string(job_id))
                            .Bind(next + 1, std::string(reason))
                            .Bind(next + 2, ToMicros(now))
                            .Run();
  if (!status.ok()) return status;
  return db_.changes();
}

}  // namespace ats::storage::sql
