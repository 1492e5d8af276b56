#include "storage/delivery_destination.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace ats::storage {

std::string DeliveryDestination(std::string_view account_id,
                                std::string_view integration_id,
                                std::string_view webhook_uri) {
  if (!integration_id.empty()) return std::string(integration_id);
  // The authority: after "scheme://", up to the path, query or fragment,
  // without any user info.
  std::string_view authority = webhook_uri;
  if (size_t scheme = authority.find("://"); scheme != authority.npos) {
    authority.remove_prefix(scheme + 3);
  }
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (size_t at = authority.rfind('@'); at != authority.npos) {
    authority.remove_prefix(at + 1);
  }
  // Spelled with a prefix no integration id (a resource id) can have.
  return absl::StrCat("webhook:", absl::string_view(account_id.data(),
                                                    account_id.size()),
                      "/",
                      absl::AsciiStrToLower(absl::string_view(
                          authority.data(), authority.size())));
}

}  // namespace ats::storage
