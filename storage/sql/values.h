#ifndef ATS_STORAGE_SQL_VALUES_H_
#define ATS_STORAGE_SQL_VALUES_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/message_lite.h"
#include "storage/page.h"
#include "storage/sql/session.h"

// Conversions between domain values and the SQLite columns that hold them,
// and the statement idioms the repositories share: reading rows, keyset
// pages, existence checks and the errors that name a row.
namespace ats::storage::sql {

// Times are stored as Unix microseconds.
inline int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
inline absl::Time FromMicros(int64_t micros) {
  return absl::FromUnixMicros(micros);
}

// Parses column `column` of `stmt`'s current row, a serialized protobuf
// message, into `message` straight from SQLite's buffer; returns false if
// the bytes do not decode.
inline bool ParseColumn(const Statement& stmt, int column,
                        google::protobuf::MessageLite* message) {
  const std::string_view bytes = stmt.ColumnBlob(column);
  return message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

// Reads nullable column `column`, a serialized `Message`, into `*message`:
// empty for NULL. Returns false if the bytes do not decode.
template <typename Message>
bool ParseOptionalColumn(const Statement& stmt, int column,
                         std::optional<Message>* message) {
  message->reset();
  if (stmt.ColumnIsNull(column)) return true;
  return ParseColumn(stmt, column, &message->emplace());
}

// --- Reading rows ----------------------------------------------------------

// Steps `stmt` (already bound) to the end, reading every row with `read`, a
// function of the statement returning Row or absl::StatusOr<Row>; stops at
// the first error.
template <typename Row, typename ReadFn>
absl::StatusOr<std::vector<Row>> ReadAll(Statement& stmt, ReadFn read) {
  std::vector<Row> rows;
  for (;;) {
    absl::StatusOr<bool> has_row = stmt.Step();
    if (!has_row.ok()) return has_row.status();
    if (!*has_row) return rows;
    absl::StatusOr<Row> row = read(stmt);
    if (!row.ok()) return row.status();
    rows.push_back(*std::move(row));
  }
}

// Same, for a query of at most one row: returns it, or nullopt when there is
// none.
template <typename Row, typename ReadFn>
absl::StatusOr<std::optional<Row>> ReadOptional(Statement& stmt, ReadFn read) {
  absl::StatusOr<std::vector<Row>> rows = ReadAll<Row>(stmt, read);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::nullopt;
  return std::move(rows->front());
}

// Same, for a query of exactly one row: returns `not_found` when there is
// none.
template <typename Row, typename ReadFn>
absl::StatusOr<Row> ReadOne(Statement& stmt, ReadFn read,
                            absl::Status not_found) {
  absl::StatusOr<std::optional<Row>> row = ReadOptional<Row>(stmt, read);
  if (!row.ok()) return row.status();
  if (!row->has_value()) return not_found;
  return **std::move(row);
}

// Steps `stmt` (already bound), a SELECT of one row of 0/1 flags such as
// `EXISTS (...)`, into `flags` (all false if there is no row), then finishes
// it so it keeps no cursor open.
inline absl::Status ReadFlags(Statement& stmt, std::vector<bool>& flags) {
  absl::StatusOr<bool> row = stmt.Step();
  if (!row.ok()) return row.status();
  for (size_t i = 0; i < flags.size(); ++i) {
    flags[i] = *row && stmt.ColumnInt64(static_cast<int>(i)) != 0;
  }
  return stmt.Run();
}

// Same, for a SELECT of one flag.
inline absl::StatusOr<bool> ReadFlag(Statement& stmt) {
  std::vector<bool> flag(1);
  absl::Status status = ReadFlags(stmt, flag);
  if (!status.ok()) return status;
  return flag[0];
}

// --- Binding ----------------------------------------------------------------

// Binds `value` to parameter `index`, or NULL when it is empty: an unset
// reference to another row must be NULL for its foreign key to admit it.
inline void BindTextOrNull(Statement& stmt, int index,
                           const std::string& value) {
  if (value.empty()) {
    stmt.BindNull(index);
  } else {
    stmt.Bind(index, value);
  }
}

// Binds `message` serialized to parameter `index`, or NULL when it is empty.
template <typename Message>
void BindMessageOrNull(Statement& stmt, int index,
                       const std::optional<Message>& message) {
  if (message.has_value()) {
    stmt.BindBlob(index, message->SerializeAsString());
  } else {
    stmt.BindNull(index);
  }
}

// --- Rows that must be there -----------------------------------------------

// NOT_FOUND for the row `what` `id` (e.g. "job 123 not found").
inline absl::Status RowNotFound(std::string_view what, std::string_view id) {
  return absl::NotFoundError(
      absl::StrCat(std::string(what), " ", std::string(id), " not found"));
}

// NOT_FOUND for the row `what` `id` unless `exists_sql`, a
// `SELECT EXISTS (...)` with ?1 = account and ?2 = id, finds it.
inline absl::Status RequireRow(Session& db, const char* exists_sql,
                               std::string_view what,
                               std::string_view account_id,
                               std::string_view id) {
  Statement& stmt = db.Prepare(exists_sql);
  stmt.Bind(1, account_id).Bind(2, id);
  absl::StatusOr<bool> exists = ReadFlag(stmt);
  if (!exists.ok()) return exists.status();
  return *exists ? absl::OkStatus() : RowNotFound(what, id);
}

// Returns the outcome of an UPDATE or DELETE of the row `what` `id` that
// returned `status`: its error, or NOT_FOUND when it changed no row.
inline absl::Status RowChanged(Session& db, absl::Status status,
                               std::string_view what, std::string_view id) {
  if (!status.ok()) return status;
  if (db.changes() == 0) return RowNotFound(what, id);
  return absl::OkStatus();
}

// Runs `delete_sql`, a DELETE with ?1 = account and ?2 = id; NOT_FOUND for
// the row `what` `id` when it deletes nothing.
inline absl::Status DeleteRow(Session& db, const char* delete_sql,
                              std::string_view what,
                              std::string_view account_id,
                              std::string_view id) {
  return RowChanged(
      db, db.Prepare(delete_sql).Bind(1, account_id).Bind(2, id).Run(), what,
      id);
}

// Runs `select_sql`, a SELECT of the row `what` `id` with ?1 = account and
// ?2 = id, and reads it with `read` (as ReadOne); NOT_FOUND when it finds
// nothing.
template <typename Row, typename ReadFn>
absl::StatusOr<Row> SelectRow(Session& db, const char* select_sql,
                              std::string_view what,
                              std::string_view account_id, std::string_view id,
                              ReadFn read) {
  Statement& stmt = db.Prepare(select_sql);
  stmt.Bind(1, account_id).Bind(2, id);
  return ReadOne<Row>(stmt, read, RowNotFound(what, id));
}

// Runs `select_sql`, a SELECT with ?1 = account and ?2 = `key`, and reads
// every row it finds with `read` (as ReadAll).
template <typename Row, typename ReadFn>
absl::StatusOr<std::vector<Row>> SelectRows(Session& db,
                                            const char* select_sql,
                                            std::string_view account_id,
                                            std::string_view key, ReadFn read) {
  Statement& stmt = db.Prepare(select_sql);
  stmt.Bind(1, account_id).Bind(2, key);
  return ReadAll<Row>(stmt, read);
}

// Returns `status`, except that a duplicate key (ALREADY_EXISTS, which
// SQLite words in terms of its constraint) becomes ALREADY_EXISTS with
// `message`, naming the row for the caller.
inline absl::Status RewordDuplicate(absl::Status status,
                                    std::string_view message) {
  if (!absl::IsAlreadyExists(status)) return status;
  return absl::AlreadyExistsError(std::string(message));
}

// Returns the outcome of an `INSERT ... ON CONFLICT DO NOTHING` whose run
// returned `run`: ALREADY_EXISTS with `message` when it inserted nothing.
// Repositories whose callers go on after a duplicate (with a new id, or a
// read that explains it) insert this way rather than let the duplicate fail
// the statement: on PostgreSQL a failed statement ends the transaction.
inline absl::Status InsertedOrAlreadyExists(Session& db, absl::Status run,
                                            std::string_view message) {
  if (!run.ok()) return run;
  if (db.changes() == 0) return absl::AlreadyExistsError(std::string(message));
  return absl::OkStatus();
}

// --- Keyset pages -----------------------------------------------------------

// A keyset position in a list ordered by (sort key, id).
struct Keyset {
  std::string sort_key;
  std::string id;
};

// Returns the position a page starts after, or nullopt for the first page;
// INVALID_ARGUMENT for a cursor this list did not produce.
inline absl::StatusOr<std::optional<Keyset>> KeysetAfter(
    const PageRequest& page) {
  if (page.after.empty()) return std::nullopt;
  if (page.after.size() != 2) {
    return absl::InvalidArgumentError("page_token is not valid for this list");
  }
  return Keyset{page.after[0], page.after[1]};
}

// Same, for lists ordered by a time column: the sort key must be a number.
inline absl::StatusOr<std::optional<std::pair<int64_t, std::string>>>
TimeKeysetAfter(const PageRequest& page) {
  auto keyset = KeysetAfter(page);
  if (!keyset.ok()) return keyset.status();
  if (!keyset->has_value()) return std::nullopt;
  int64_t micros = 0;
  if (!absl::SimpleAtoi((*keyset)->sort_key, &micros)) {
    return absl::InvalidArgumentError("page_token is not valid for this list");
  }
  return std::make_pair(micros, std::move((*keyset)->id));
}

// Returns the sequence number a page of a list ordered by a unique integer
// key starts after, or nullopt for the first page; INVALID_ARGUMENT for a
// cursor this list did not produce.
inline absl::StatusOr<std::optional<int64_t>> SequenceAfter(
    const PageRequest& page) {
  if (page.after.empty()) return std::nullopt;
  int64_t sequence = 0;
  if (page.after.size() != 1 || !absl::SimpleAtoi(page.after[0], &sequence)) {
    return absl::InvalidArgumentError("page_token is not valid for this list");
  }
  return sequence;
}

// The cursor of a row of a list ordered by a unique integer key, as
// SequenceAfter reads it back.
inline std::vector<std::string> SequenceCursor(int64_t sequence) {
  return {absl::StrCat(sequence)};
}

// The cursor of a row of a list ordered by (time, id), as TimeKeysetAfter
// reads it back.
inline std::vector<std::string> TimeCursor(absl::Time time,
                                           const std::string& id) {
  return {absl::StrCat(ToMicros(time)), id};
}

// Binds where a page starts to parameters `first` and `first`+1 of
// `?first IS NULL OR (key, id) > (?first, ?first+1)`: the keyset, or NULL
// for the first page.
inline void BindKeysetAfter(Statement& stmt, int first,
                            const std::optional<Keyset>& after) {
  if (after.has_value()) {
    stmt.Bind(first, after->sort_key).Bind(first + 1, after->id);
  } else {
    stmt.BindNull(first).BindNull(first + 1);
  }
}

// Same, for a (time, id) keyset from TimeKeysetAfter.
inline void BindKeysetAfter(
    Statement& stmt, int first,
    const std::optional<std::pair<int64_t, std::string>>& after) {
  if (after.has_value()) {
    stmt.Bind(first, after->first).Bind(first + 1, after->second);
  } else {
    stmt.BindNull(first).BindNull(first + 1);
  }
}

// Binds where a newest-first page starts to parameters `first` and
// `first`+1 of `(create_time, id) < (?, ?)`. The first page starts below the
// largest time rather than testing for NULL, which lets SQLite seek the
// index to the cursor instead of scanning from the newest row.
inline void BindNewestFirstKeyset(
    Statement& stmt, int first,
    const std::optional<std::pair<int64_t, std::string>>& after) {
  if (after.has_value()) {
    stmt.Bind(first, after->first).Bind(first + 1, after->second);
  } else {
    stmt.Bind(first, std::numeric_limits<int64_t>::max())
        .Bind(first + 1, std::string_view(""));
  }
}

// Trims `rows` (fetched with limit + 1) to the page size and sets the next
// cursor from the last row kept when more rows exist.
template <typename Row, typename CursorOf>
Page<Row> MakePage(std::vector<Row> rows, int limit, CursorOf cursor_of) {
  Page<Row> page;
  if (static_cast<int>(rows.size()) > limit) {
    rows.resize(limit);
    page.next = cursor_of(rows.back());
  }
  page.rows = std::move(rows);
  return page;
}

// Returns `keyed`, a page whose rows were read with the sort key their
// cursor needs beside them, without those keys.
template <typename Row, typename SortKey>
Page<Row> WithoutSortKeys(Page<std::pair<Row, SortKey>> keyed) {
  Page<Row> page;
  page.next = std::move(keyed.next);
  page.rows.reserve(keyed.rows.size());
  for (auto& row : keyed.rows) page.rows.push_back(std::move(row.first));
  return page;
}

}  // namespace ats::storage::sql

#endif  // ATS_STORAGE_SQL_VALUES_H_
