#ifndef ATS_SERVER_DOMAIN_CALLER_H_
#define ATS_SERVER_DOMAIN_CALLER_H_

#include <string>

#include "ats/v1/account_service.pb.h"

namespace ats::server {

// Who is calling: the API key the request carried.
struct Caller {
  std::string key_id;
  ats::v1::Role role = ats::v1::ROLE_UNSPECIFIED;
  // Empty for operator keys.
  std::string account_id;
  // Set for partner keys only.
  std::string integration_id;

  // `apiKeys/{id}` of the caller's key.
  std::string key_name() const { return "apiKeys/" + key_id; }
};

}  // namespace ats::server

#endif  // ATS_SERVER_DOMAIN_CALLER_H_
