#ifndef ATS_SERVER_DOMAIN_FIELD_PATHS_H_
#define ATS_SERVER_DOMAIN_FIELD_PATHS_H_

// The paths of nested request fields that violations name, and the count
// check the domain's list rules share.

#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "server/common/string_view.h"
#include "server/common/validation.h"

namespace ats::server {

// Returns `field.child`.
inline std::string Child(std::string_view field, std::string_view child) {
  return absl::StrCat(AbslView(field), ".", AbslView(child));
}

// Returns `field[index]`.
inline std::string Indexed(std::string_view field, int index) {
  return absl::StrCat(AbslView(field), "[", index, "]");
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
