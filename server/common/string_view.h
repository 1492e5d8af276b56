#ifndef ATS_SERVER_COMMON_STRING_VIEW_H_
#define ATS_SERVER_COMMON_STRING_VIEW_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace ats::server {

// Debian's Abseil is built with its own absl::string_view rather than
// std::string_view, and the two do not convert implicitly; this crosses over
// without copying.
inline absl::string_view AbslView(std::string_view s) {
  return {s.data(), s.size()};
}

}  // namespace ats::server

#endif  // ATS_SERVER_COMMON_STRING_VIEW_H_
