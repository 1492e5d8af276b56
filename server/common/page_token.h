#ifndef ATS_SERVER_COMMON_PAGE_TOKEN_H_
#define ATS_SERVER_COMMON_PAGE_TOKEN_H_

// Opaque keyset page tokens for List RPCs (AIP-158). A token carries the
// sort key of the last row served (the "cursor", e.g. {create_time, id}), so
// the next page is a `WHERE (key) < (cursor)` query rather than an OFFSET
// that drifts when rows are inserted. It also carries a digest of the query's
// filters: a token is only valid for the filters it was issued for, and a
// client that changes them mid-listing gets INVALID_ARGUMENT, not a silently
// wrong page.
//
// Tokens are checksummed but not encrypted or signed: decoding one reveals
// the cursor, and a forged one can only move within the caller's own
// (account-scoped) results. Clients must treat them as opaque all the same.

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ats::server {

// Returns a canonical fingerprint of a List query built from `parts` (the
// account, parent and every filter value, in a fixed order; never page_size,
// which may change between pages). Parts are length-prefixed, so {"ab", "c"}
// and {"a", "bc"} differ.
std::string QueryFingerprint(std::initializer_list<std::string_view> parts);

// Returns the page token for resuming after `cursor` in the query of
// `query_fingerprint`: web-safe base64 without padding. An empty cursor
// gives the empty token, i.e. no next page. The cursor's fields must total
// under 3,000 bytes (sort keys are short): DecodePageToken refuses tokens
// over 4,096 characters.
std::string EncodePageToken(const std::vector<std::string>& cursor,
                            std::string_view query_fingerprint);

// Returns the cursor in `token`; the empty token gives an empty cursor (the
// first page). A token that is not one EncodePageToken made, or one issued
// for another `query_fingerprint`, gives INVALID_ARGUMENT with a BadRequest
// violation of field "page_token". Safe on arbitrary input.
absl::StatusOr<std::vector<std::string>> DecodePageToken(
    std::string_view token, std::string_view query_fingerprint);

}  // namespace ats::server

#endif  // ATS_SERVER_COMMON_PAGE_TOKEN_H_
