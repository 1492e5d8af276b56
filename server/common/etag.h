#ifndef ATS_SERVER_COMMON_ETAG_H_
#define ATS_SERVER_COMMON_ETAG_H_

// Etags of mutable shared resources (AIP-154). Each such row keeps a
// revision number bumped on every change; its etag is "r<revision>",
// unquoted so that it can be pasted into grpcurl JSON or a CLI flag as is.
// CheckEtag also accepts the HTTP forms "\"r7\"" and "W/\"r7\"", for clients
// that add the quotes out of habit.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/contract/errors.h"

namespace ats::server {
namespace etag_internal {

// The client's etag as an error message may quote it: short and printable,
// whatever the client sent.
inline std::string Quotable(std::string_view etag) {
  constexpr size_t kMaxShown = 64;
  bool printable = etag.size() <= kMaxShown;
  for (char c : etag) printable = printable && absl::ascii_isprint(c);
  if (printable) return std::string(etag);
  // (This Abseil build's absl::string_view is not std::string_view.)
  const absl::string_view shown(etag.data(), std::min(etag.size(), kMaxShown));
  return absl::StrCat(absl::CHexEscape(shown),
                      etag.size() > kMaxShown ? "..." : "");
}

}  // namespace etag_internal

// Returns the etag of a resource at `revision`, e.g. "r7".
inline std::string EtagOf(int64_t revision) {
  return absl::StrCat("r", revision);
}

// Returns OK when `given` is empty (the client skips the check) or is the
// etag of `revision`; otherwise ABORTED with ErrorInfo reason
// "ETAG_MISMATCH", since the client must read again before retrying.
inline absl::Status CheckEtag(std::string_view given, int64_t revision) {
  if (given.empty()) return absl::OkStatus();
  const std::string current = EtagOf(revision);
  std::string_view bare = given;
  if (bare.substr(0, 2) == "W/") bare.remove_prefix(2);
  if (bare.size() >= 2 && bare.front() == '"' && bare.back() == '"') {
    bare = bare.substr(1, bare.size() - 2);
  }
  if (bare == current) return absl::OkStatus();
  const std::string shown = etag_internal::Quotable(given);
  return WithErrorInfo(
      absl::AbortedError(absl::StrCat(
          "the resource changed since it was read (etag ", shown, ", now ",
          current, "); read it again and reapply your change")),
      "ETAG_MISMATCH", {{"givenEtag", shown}, {"currentEtag", current}});
}

}  // namespace ats::server

#endif  // ATS_SERVER_COMMON_ETAG_H_
