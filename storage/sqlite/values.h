#ifndef ATS_STORAGE_SQLITE_VALUES_H_
#define ATS_STORAGE_SQLITE_VALUES_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "storage/page.h"

// Conversions between domain values and the SQLite columns that hold them.
namespace ats::storage::sqlite {

// Times are stored as Unix microseconds.
inline int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
inline absl::Time FromMicros(int64_t micros) {
  return absl::FromUnixMicros(micros);
}

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

}  // namespace ats::storage::sqlite

#endif  // ATS_STORAGE_SQLITE_VALUES_H_
