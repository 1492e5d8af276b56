#ifndef ATS_SERVER_API_LIST_PAGE_H_
#define ATS_SERVER_API_LIST_PAGE_H_

// The paging every List RPC does the same way (AIP-158): decode the
// request's page_token for the query's fingerprint, read one page from
// storage, convert its rows and hand out the token of the next page. Only
// the query and the row conversion differ between RPCs:
//
//   auto paging = ListPage::Start(request->page_token(),
//                                 request->page_size(),
//                                 QueryFingerprint({call.method(), account}));
//   if (!paging.ok()) return call.Finish(paging.status());
//   return call.Read([&](storage::Transaction& txn) {
//     return paging->Fill(txn.things().ListThings(account, paging->request()),
//                         response, [&](const storage::ThingRow& row) {
//                           ToProto(row, response->add_things());
//                         });
//   });

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/common/page_token.h"
#include "server/common/validation.h"
#include "storage/page.h"

namespace ats::server {

// One List call's page: where it starts and what query its tokens belong to.
class ListPage {
 public:
  // Starts the page a request asks for with `page_token` and `page_size`
  // (already validated) in the query of `fingerprint` (QueryFingerprint);
  // INVALID_ARGUMENT when the token is not one this query handed out.
  static absl::StatusOr<ListPage> Start(std::string_view page_token,
                                        int32_t page_size,
                                        std::string fingerprint) {
    auto cursor = DecodePageToken(page_token, fingerprint);
    if (!cursor.ok()) return cursor.status();
    return ListPage(
        storage::PageRequest{*std::move(cursor), ClampPageSize(page_size)},
        std::move(fingerprint));
  }

  // Returns what to ask storage for.
  const storage::PageRequest& request() const { return request_; }

  // Converts each row of `page` (storage's answer to request()) with
  // `add_row`, which returns void or absl::Status (the first error stops
  // the page) and may move from the row it is given, then sets
  // `response`'s next_page_token, empty on the last page.
  template <typename Row, typename Response, typename AddRow>
  absl::Status Fill(absl::StatusOr<storage::Page<Row>> page,
                    Response* response, AddRow add_row) const {
    if (!page.ok()) return page.status();
    for (Row& row : page->rows) {
      if constexpr (std::is_void_v<std::invoke_result_t<AddRow&, Row&>>) {
        add_row(row);
      } else {
        absl::Status status = add_row(row);
        if (!status.ok()) return status;
      }
    }
    response->set_next_page_token(EncodePageToken(page->next, fingerprint_));
    return absl::OkStatus();
  }

 private:
  ListPage(storage::PageRequest request, std::string fingerprint)
      : request_(std::move(request)), fingerprint_(std::move(fingerprint)) {}

  storage::PageRequest request_;
  std::string fingerprint_;
};

}  // namespace ats::server

#endif  // ATS_SERVER_API_LIST_PAGE_H_
