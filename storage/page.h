#ifndef ATS_STORAGE_PAGE_H_
#define ATS_STORAGE_PAGE_H_

#include <string>
#include <vector>

namespace ats::storage {

// Where a keyset-paginated list starts and how much it returns. The cursor is
// opaque to callers: it is what the previous Page returned.
struct PageRequest {
  // Empty for the first page.
  std::vector<std::string> after;
  // Rows wanted, at least 1.
  int limit = 50;
};

// One page of rows in list order.
template <typename Row>
struct Page {
  std::vector<Row> rows;
  // Cursor of the next page; empty when this is the last one.
  std::vector<std::string> next;
};

}  // namespace ats::storage

#endif  // ATS_STORAGE_PAGE_H_
