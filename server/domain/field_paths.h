#ifndef ATS_SERVER_DOMAIN_FIELD_PATHS_H_
#define ATS_SERVER_DOMAIN_FIELD_PATHS_H_

// The paths of nested request fields that violations name, and the count
// check the domain's list rules share.

#include <string>
#include <string_view>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/common/string_view.h"
#include "server/common/validation.h"

namespace ats::server {

// Returns `field.child` ("a.b" + "c" = "a.b.c"); a request-level field has
// no parent, so an empty `field` gives `child`.
inline std::string Child(std::string_view field, std::string_view child) {
  if (field.empty()) return std::string(child);
  return absl::StrCat(AbslView(field), ".", AbslView(child));
}

// Returns `field[index]`.
inline std::string Indexed(std::string_view field, int index) {
  return absl::StrCat(AbslView(field), "[", index, "]");
}

// Returns the path of map entry `key` of the map field `field`, `field[key]`,
// the key escaped so that whatever a client sent stays printable in the
// error.
inline std::string Entry(std::string_view field, std::string_view key) {
  return absl::StrCat(AbslView(field), "[", absl::CHexEscape(AbslView(key)),
                      "]");
}

// Records in `v` a list `field` of `count` entries over `max`, and returns
// whether it is within it. Lists over their limit are refused whole rather
// than truncated, and their entries are not checked one by one, which keeps
// the error small.
inline bool CheckCount(Validator& v, std::string_view field, int count,
                       int max) {
  return v.Require(count <= max, field,
                   absl::StrCat("must have at most ", max, " entries, has ",
                                count));
}

}  // namespace ats::server

#endif  // ATS_SERVER_DOMAIN_FIELD_PATHS_H_
