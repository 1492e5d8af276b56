#include "storage/sql/bulk_operation_repository.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "storage/sql/values.h"

namespace ats::storage::sql {
namespace {

constexpr char kOperationColumns[] =
    "account_id, id, integration_id, spec, state, state_reason, total_count, "
    "created_count, skipped_count, failed_count, created_by, resolved, "
    "resolve_cursor, process_cursor, create_time, update_time, end_time, "
    "kind";
constexpr char kItemColumns[] =
    "account_id, operation_id, item_key, candidate_id, outcome, event_id, "
    "reason";

static_assert(ats::v1::BULK_ITEM_OUTCOME_PENDING == 4 &&
                  ats::v1::BULK_ITEM_OUTCOME_CREATED == 1 &&
                  ats::v1::BULK_ITEM_OUTCOME_REQUEUED == 5 &&
                  ats::v1::BULK_OPERATION_KIND_TRIGGER == 1 &&
                  ats::v1::BULK_OPERATION_KIND_RECOVER == 2 &&
                  ats::v1::BULK_OPERATION_STATE_RUNNING == 1 &&
                  ats::v1::EVENT_STATE_DEAD == 8,
              "the SQL below spells item outcomes, operation kinds, RUNNING "
              "operations and DEAD events");

// A recover's item key: the event's death time and seq, each as 20 digits,
// so that text order is death order.
std::string DeadEventKey(int64_t update_micros, int64_t seq) {
  return absl::StrFormat("%020d%020d", update_micros, seq);
}

// Reads DeadEventKey's parts back; false for a key it did not make.
bool ParseDeadEventKey(const std::string& key, int64_t* update_micros,
                       int64_t* seq) {
  return key.size() == 40 &&
         absl::SimpleAtoi(key.substr(0, 20), update_micros) &&
         absl::SimpleAtoi(key.substr(20), seq);
}

absl::StatusOr<BulkOperationRow> ReadOperation(const Statement& stmt) {
  BulkOperationRow row;
  row.account_id = stmt.ColumnText(0);
  row.id = stmt.ColumnText(1);
  row.integration_id = stmt.ColumnText(2);
  row.kind = static_cast<ats::v1::BulkOperationKind>(stmt.ColumnInt64(17));
  google::protobuf::MessageLite* spec = &row.spec;
  if (row.kind == ats::v1::BULK_OPERATION_KIND_RECOVER) spec = &row.recover;
  if (!ParseColumn(stmt, 3, spec)) {
    return absl::DataLossError(
        absl::StrCat("stored spec of bulk operation ", row.id, " is corrupt"));
  }
  row.state = static_cast<ats::v1::BulkOperationState>(stmt.ColumnInt64(4));
  row.state_reason = stmt.ColumnText(5);
  row.total_count = stmt.ColumnInt64(6);
  row.created_count = stmt.ColumnInt64(7);
  row.skipped_count = stmt.ColumnInt64(8);
  row.failed_count = stmt.ColumnInt64(9);
  row.created_by = stmt.ColumnText(10);
  row.resolved = stmt.ColumnInt64(11) != 0;
  row.resolve_cursor = stmt.ColumnText(12);
  row.process_cursor = stmt.ColumnText(13);
  row.create_time = FromMicros(stmt.ColumnInt64(14));
  row.update_time = FromMicros(stmt.ColumnInt64(15));
  if (!stmt.ColumnIsNull(16)) row.end_time = FromMicros(stmt.ColumnInt64(16));
  return row;
}

// Items per statement when items are written in bulk: a batch of a thousand
// costs a few dozen statement runs instead of a thousand.
constexpr size_t kItemsPerStatement = 64;

// The row placeholders of `rows` rows of `per_row` parameters each, after
// the two every row shares (?1 the account, ?2 the operation): `row(first)`
// spells one row whose own parameters start at ?first.
template <typename RowFn>
std::string ItemRows(size_t rows, int per_row, RowFn row) {
  std::string values;
  for (size_t i = 0; i < rows; ++i) {
    absl::StrAppend(&values, i == 0 ? "" : ", ",
                    row(3 + per_row * static_cast<int>(i)));
  }
  return values;
}

// Writes `items` in statements of kItemsPerStatement items (`many_sql`),
// then one item per statement (`one_sql`) for the rest. Each statement has
// ?1 `account_id`, ?2 `operation_id`, then `per_row` parameters per item
// that `bind(stmt, first, item)` binds; `ran(first_index, rows)` checks
// each statement's effect after it runs.
template <typename BindFn, typename RanFn>
absl::Status WriteItems(Session& db, std::string_view account_id,
                        std::string_view operation_id,
                        const std::vector<BulkItemRow>& items,
                        const std::string& many_sql, const char* one_sql,
                        int per_row, BindFn bind, RanFn ran) {
  size_t next = 0;
  while (next < items.size()) {
    const size_t rows =
        items.size() - next >= kItemsPerStatement ? kItemsPerStatement : 1;
    Statement& stmt =
        db.Prepare(rows == kItemsPerStatement ? many_sql.c_str() : one_sql);
    stmt.Bind(1, account_id).Bind(2, operation_id);
    for (size_t row = 0; row < rows; ++row) {
      bind(stmt, static_cast<int>(3 + per_row * row), items[next + row]);
    }
    absl::Status status = stmt.Run();
    if (status.ok()) status = ran(next, rows);
    if (!status.ok()) return status;
    next += rows;
  }
  return absl::OkStatus();
}

BulkItemRow ReadItem(const Statement& stmt) {
  BulkItemRow item;
  item.account_id = stmt.ColumnText(0);
  item.operation_id = stmt.ColumnText(1);
  item.key = stmt.ColumnText(2);
  item.candidate_id = stmt.ColumnText(3);
  item.outcome = static_cast<ats::v1::BulkItemOutcome>(stmt.ColumnInt64(4));
  item.event_id = stmt.ColumnText(5);
  item.reason = stmt.ColumnText(6);
  return item;
}

std::optional<int64_t> EndMicros(const BulkOperationRow& row) {
  if (!row.end_time.has_value()) return std::nullopt;
  return ToMicros(*row.end_time);
}

}  // namespace

absl::Status SqlBulkOperationRepository::InsertOperation(
    const BulkOperationRow& row) {
  static const std::string sql = absl::StrCat(
      "INSERT INTO bulk_operations (", kOperationColumns,
      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
      "?15, ?16, ?17, ?18)");
  const std::string spec = row.kind == ats::v1::BULK_OPERATION_KIND_RECOVER
                               ? row.recover.SerializeAsString()
                               : row.spec.SerializeAsString();
  absl::Status status = db_.Prepare(sql.c_str())
                            .Bind(1, row.account_id)
                            .Bind(2, row.id)
                            .Bind(3, row.integration_id)
                            .BindBlob(4, spec)
                            .Bind(5, static_cast<int>(row.state))
                            .Bind(6, row.state_reason)
                            .Bind(7, row.total_count)
                            .Bind(8, row.created_count)
                            .Bind(9, row.skipped_count)
                            .Bind(10, row.failed_count)
                            .Bind(11, row.created_by)
                            .Bind(12, row.resolved ? 1 : 0)
                            .Bind(13, row.resolve_cursor)
                            .Bind(14, row.process_cursor)
                            .Bind(15, ToMicros(row.create_time))
                            .Bind(16, ToMicros(row.update_time))
                            .Bind(17, EndMicros(row))
                            .Bind(18, static_cast<int>(row.kind))
                            .Run();
  return RewordDuplicate(
      status, absl::StrCat("bulk operation ", row.id, " already exists"));
}

absl::Status SqlBulkOperationRepository::UpdateOperation(
    const BulkOperationRow& row) {
  Statement& stmt = db_.Prepare(
      "UPDATE bulk_operations SET state = ?3, state_reason = ?4, "
      "total_count = ?5, created_count = ?6, skipped_count = ?7, "
      "failed_count = ?8, resolved = ?9, resolve_cursor = ?10, "
      "process_cursor = ?11, update_time = ?12, end_time = ?13 "
      "WHERE account_id = ?1 AND id = ?2");
  stmt.Bind(1, row.account_id)
      .Bind(2, row.id)
      .Bind(3, static_cast<int>(row.state))
      .Bind(4, row.state_reason)
      .Bind(5, row.total_count)
      .Bind(6, row.created_count)
      .Bind(7, row.skipped_count)
      .Bind(8, row.failed_count)
      .Bind(9, row.resolved ? 1 : 0)
      .Bind(10, row.resolve_cursor)
      .Bind(11, row.process_cursor)
      .Bind(12, ToMicros(row.update_time))
      .Bind(13, EndMicros(row));
  return RowChanged(db_, stmt.Run(), "bulk operation", row.id);
}

absl::StatusOr<BulkOperationRow> SqlBulkOperationRepository::GetOperation(
    std::string_view account_id, std::string_view id) {
  static const std::string sql =
      absl::StrCat("SELECT ", kOperationColumns,
                   " FROM bulk_operations WHERE account_id = ?1 AND id = ?2");
  return SelectRow<BulkOperationRow>(db_, sql.c_str(), "bulk operation",
                                     account_id, id, ReadOperation);
}

absl::StatusOr<Page<BulkOperationRow>>
SqlBulkOperationRepository::ListOperations(std::string_view account_id,
                                              const PageRequest& page) {
  auto after = TimeKeysetAfter(page);
  if (!after.ok()) return after.status();
  static const std::string sql = absl::StrCat(
      "SELECT ", kOperationColumns,
      " FROM bulk_operations INDEXED BY bulk_operations_newest_first "
      "WHERE account_id = ?1 AND (create_time, id) < (?2, ?3) "
      "ORDER BY create_time DESC, id DESC LIMIT ?4");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.Bind(1, account_id);
  BindNewestFirstKeyset(stmt, 2, *after);
  stmt.Bind(4, page.limit + 1);
  auto rows = ReadAll<BulkOperationRow>(stmt, ReadOperation);
  if (!rows.ok()) return rows.status();
  return MakePage(*std::move(rows), page.limit,
                  [](const BulkOperationRow& row) {
                    return TimeCursor(row.create_time, row.id);
                  });
}

absl::StatusOr<std::vector<BulkOperationRow>>
SqlBulkOperationRepository::ListRunningOperations() {
  static const std::string sql = absl::StrCat(
      "SELECT ", kOperationColumns,
      " FROM bulk_operations INDEXED BY bulk_operations_running "
      "WHERE state = 1 ORDER BY create_time");
  return ReadAll<BulkOperationRow>(db_.Prepare(sql.c_str()), ReadOperation);
}

absl::StatusOr<int64_t>
SqlBulkOperationRepository::CountRunningOperations() {
  return ReadOne<int64_t>(
      db_.Prepare("SELECT count(*) FROM bulk_operations "
                  "INDEXED BY bulk_operations_running WHERE state = 1"),
      [](const Statement& row) { return row.ColumnInt64(0); },
      absl::InternalError("count(*) returned no row"));
}

absl::StatusOr<std::vector<std::string>>
SqlBulkOperationRepository::ListSelectedCandidates(
    std::string_view account_id, const CandidateSelector& selector,
    std::string_view after_candidate_id, int limit) {
  // One text per kind, each walking an index in candidate id order: the
  // applications' primary key (job_id, candidate_id), candidate_tags_by_tag,
  // candidates_by_id. Parameters: ?1 account, ?2 after, ?3 limit, ?4 job or
  // tag, ?5 stage.
  const char* sql =
      !selector.job_id.empty()
          ? "SELECT candidate_id FROM applications WHERE job_id = ?4 "
            "AND account_id = ?1 AND (?5 = '' OR stage_id = ?5) "
            "AND candidate_id > ?2 ORDER BY candidate_id LIMIT ?3"
      : !selector.tag.empty()
          ? "SELECT candidate_id FROM candidate_tags INDEXED BY "
            "candidate_tags_by_tag WHERE account_id = ?1 AND tag = ?4 "
            "AND candidate_id > ?2 ORDER BY candidate_id LIMIT ?3"
          : "SELECT id FROM candidates INDEXED BY candidates_by_id "
            "WHERE account_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3";
  Statement& stmt = db_.Prepare(sql);
  // Through std::string: an empty std::string_view may bind NULL.
  stmt.Bind(1, account_id)
      .Bind(2, std::string(after_candidate_id))
      .Bind(3, limit);
  if (!selector.job_id.empty()) {
    stmt.Bind(4, selector.job_id).Bind(5, selector.stage_id);
  } else if (!selector.tag.empty()) {
    stmt.Bind(4, selector.tag);
  }
  return ReadAll<std::string>(
      stmt, [](const Statement& row) { return row.ColumnText(0); });
}

absl::StatusOr<std::vector<BulkItemRow>>
SqlBulkOperationRepository::ListDeadEventItems(std::string_view account_id,
                                               const DeadEventWindow& window,
                                               std::string_view after_key,
                                               int limit) {
  // Walks events_dead_by_integration from the window's start, or from just
  // after the item `after_key`: (update_time, seq) is its order.
  int64_t after_micros = ToMicros(window.since);
  int64_t after_seq = -1;
  const std::string after(after_key);
  if (!after.empty() && !ParseDeadEventKey(after, &after_micros, &after_seq)) {
    return absl::InternalError(
        absl::StrCat("bad recover cursor \"", after, "\""));
  }
  Statement& stmt = db_.Prepare(
      "SELECT update_time, seq, candidate_id, id FROM events "
      "WHERE account_id = ?1 AND integration_id = ?2 AND state = 8 "
      "AND (update_time, seq) > (?3, ?4) AND update_time < ?5 "
      "ORDER BY update_time, seq LIMIT ?6");
  stmt.Bind(1, account_id)
      .Bind(2, window.integration_id)
      .Bind(3, after_micros)
      .Bind(4, after_seq)
      .Bind(5, ToMicros(window.until))
      .Bind(6, limit);
  return ReadAll<BulkItemRow>(stmt, [](const Statement& row) {
    BulkItemRow item;
    item.key = DeadEventKey(row.ColumnInt64(0), row.ColumnInt64(1));
    item.candidate_id = row.ColumnText(2);
    item.event_id = row.ColumnText(3);
    return item;
  });
}

absl::StatusOr<int64_t> SqlBulkOperationRepository::AddItems(
    std::string_view account_id, std::string_view operation_id,
    const std::vector<BulkItemRow>& items) {
  constexpr int kPerRow = 5;
  const auto row = [](int first) {
    return absl::StrCat("(?1, ?2, ?", first, ", ?", first + 1, ", ?", first + 2,
                        ", ?", first + 3, ", ?", first + 4, ")");
  };
  const auto insert = [](const std::string& rows) {
    return absl::StrCat("INSERT INTO bulk_operation_items (", kItemColumns,
                        ") VALUES ", rows,
                        " ON CONFLICT (operation_id, item_key) DO NOTHING");
  };
  static const std::string many_sql =
      insert(ItemRows(kItemsPerStatement, kPerRow, row));
  static const std::string one_sql = insert(row(3));
  int64_t added = 0;
  absl::Status status = WriteItems(
      db_, account_id, operation_id, items, many_sql, one_sql.c_str(), kPerRow,
      [](Statement& stmt, int first, const BulkItemRow& item) {
        stmt.Bind(first, item.key)
            .Bind(first + 1, item.candidate_id)
            .Bind(first + 2, static_cast<int>(item.outcome))
            .Bind(first + 3, item.event_id)
            .Bind(first + 4, item.reason);
      },
      [&](size_t, size_t) {
        added += db_.changes();
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return added;
}

absl::StatusOr<std::vector<PendingBulkItem>>
SqlBulkOperationRepository::ListPendingItems(std::string_view account_id,
                                             std::string_view operation_id,
                                             std::string_view after_key,
                                             int limit, bool with_tags) {
  // Tags come as one space-separated text (tags hold no spaces), so a page
  // costs one query rather than one per candidate.
  Statement& stmt = db_.Prepare(
      "SELECT i.candidate_id, c.id IS NOT NULL, c.given_name, c.family_name, "
      "c.email, c.phone, c.create_time, c.update_time, c.revision, "
      "CASE WHEN ?5 THEN (SELECT group_concat(t.tag, ' ') FROM candidate_tags "
      "t WHERE t.candidate_id = c.id) END, i.item_key, i.event_id "
      "FROM bulk_operation_items i LEFT JOIN candidates c "
      "ON c.id = i.candidate_id AND c.account_id = i.account_id "
      "WHERE i.operation_id = ?2 AND i.account_id = ?1 "
      "AND i.item_key > ?3 AND i.outcome = 4 "
      "ORDER BY i.item_key LIMIT ?4");
  stmt.Bind(1, account_id)
      .Bind(2, operation_id)
      .Bind(3, std::string(after_key))
      .Bind(4, limit)
      .Bind(5, with_tags ? 1 : 0);
  return ReadAll<PendingBulkItem>(stmt, [account_id](const Statement& row) {
    PendingBulkItem item;
    item.candidate_id = row.ColumnText(0);
    item.key = row.ColumnText(10);
    item.event_id = row.ColumnText(11);
    if (row.ColumnInt64(1) == 0) return item;
    CandidateRow& candidate = item.candidate.emplace();
    candidate.account_id = std::string(account_id);
    candidate.id = item.candidate_id;
    candidate.given_name = row.ColumnText(2);
    candidate.family_name = row.ColumnText(3);
    candidate.email = row.ColumnText(4);
    candidate.phone = row.ColumnText(5);
    candidate.create_time = FromMicros(row.ColumnInt64(6));
    candidate.update_time = FromMicros(row.ColumnInt64(7));
    candidate.revision = row.ColumnInt64(8);
    if (!row.ColumnIsNull(9)) {
      candidate.tags = absl::StrSplit(row.ColumnText(9), ' ');
      std::sort(candidate.tags.begin(), candidate.tags.end());
    }
    return item;
  });
}

absl::Status SqlBulkOperationRepository::UpdateItems(
    std::string_view account_id, std::string_view operation_id,
    const std::vector<BulkItemRow>& items) {
  constexpr int kPerRow = 4;
  // PostgreSQL reads untyped VALUES as text: the outcome says it is a
  // number.
  static const std::string many_sql = absl::StrCat(
      "UPDATE bulk_operation_items AS i SET outcome = v.column2, "
      "event_id = v.column3, reason = v.column4 FROM (VALUES ",
      ItemRows(kItemsPerStatement, kPerRow,
               [](int first) {
                 return absl::StrCat("(?", first, ", CAST(?", first + 1,
                                     " AS BIGINT), ?", first + 2, ", ?",
                                     first + 3, ")");
               }),
      ") AS v WHERE i.operation_id = ?2 AND i.item_key = v.column1 "
      "AND i.account_id = ?1");
  constexpr char kOneSql[] =
      "UPDATE bulk_operation_items SET outcome = ?4, event_id = ?5, "
      "reason = ?6 WHERE operation_id = ?2 AND item_key = ?3 "
      "AND account_id = ?1";
  return WriteItems(
      db_, account_id, operation_id, items, many_sql, kOneSql, kPerRow,
      [](Statement& stmt, int first, const BulkItemRow& item) {
        stmt.Bind(first, item.key)
            .Bind(first + 1, static_cast<int>(item.outcome))
            .Bind(first + 2, item.event_id)
            .Bind(first + 3, item.reason);
      },
      [&](size_t first, size_t rows) -> absl::Status {
        if (db_.changes() == static_cast<int64_t>(rows)) {
          return absl::OkStatus();
        }
        if (rows == 1) {
          return RowNotFound("bulk operation item", items[first].key);
        }
        return absl::NotFoundError(
            absl::StrCat("bulk operation ", std::string(operation_id),
                         " has no item for some of the keys ", items[first].key,
                         " to ", items[first + rows - 1].key));
      });
}

absl::StatusOr<Page<BulkItemRow>> SqlBulkOperationRepository::ListItems(
    std::string_view account_id, std::string_view operation_id,
    ats::v1::BulkItemOutcome outcome, const PageRequest& page) {
  if (page.after.size() > 1) {
    return absl::InvalidArgumentError("page_token is not valid for this list");
  }
  // The primary key serves the order; an outcome filter reads past the
  // items with other outcomes, which for one operation is bounded. An item
  // still PENDING at or before the process cursor was handled the
  // operation's way (see the interface): its outcome follows the kind, and a
  // trigger's event is the one the operation made for the candidate, found
  // through the candidate's events.
  static const std::string sql = absl::StrCat(
      "SELECT account_id, operation_id, item_key, candidate_id, outcome, "
      "event_id, reason FROM (SELECT i.account_id, i.operation_id, "
      "i.item_key, i.candidate_id, i.reason, "
      "CASE WHEN i.outcome = 4 AND i.item_key <= o.process_cursor "
      "THEN CASE o.kind WHEN 2 THEN 5 ELSE 1 END ELSE i.outcome END "
      "AS outcome, "
      "CASE WHEN i.outcome = 4 AND i.item_key <= o.process_cursor "
      "AND o.kind = 1 THEN COALESCE((SELECT e.id FROM events e "
      "WHERE e.account_id = i.account_id AND e.candidate_id = i.candidate_id "
      "AND e.bulk_operation_id = i.operation_id), '') "
      "ELSE i.event_id END AS event_id "
      "FROM bulk_operation_items i JOIN bulk_operations o "
      "ON o.id = i.operation_id AND o.account_id = i.account_id "
      "WHERE i.operation_id = ?2 AND i.account_id = ?1 "
      "AND i.item_key > ?4) AS items "
      "WHERE ?3 = 0 OR outcome = ?3 ORDER BY item_key LIMIT ?5");
  Statement& stmt = db_.Prepare(sql.c_str());
  stmt.Bind(1, account_id)
      .Bind(2, operation_id)
      .Bind(3, static_cast<int>(outcome))
      .Bind(4, page.after.empty() ? std::string() : page.after[0])
      .Bind(5, page.limit + 1);
  auto rows = ReadAll<BulkItemRow>(stmt, ReadItem);
  if (!rows.ok()) return rows.status();
  return MakePage(*std::move(rows), page.limit, [](const BulkItemRow& item) {
    return std::vector<std::string>{item.key};
  });
}

}  // namespace ats::storage::sql
