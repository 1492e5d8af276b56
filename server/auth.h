#ifndef ATS_SERVER_AUTH_H_
#define ATS_SERVER_AUTH_H_

#include <initializer_list>
#include <string>

#include "absl/status/statusor.h"
#include "ats/v1/account_service.pb.h"
#include "grpcpp/server_context.h"
#include "storage/store.h"

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

// The roles an RPC admits.
class Roles {
 public:
  Roles(std::initializer_list<ats::v1::Role> roles);
  bool Admits(ats::v1::Role role) const { return (mask_ >> role) & 1u; }

 private:
  unsigned mask_ = 0;
};

// Resolves the `authorization: Bearer <key>` metadata of a call to its Caller.
class Authenticator {
 public:
  explicit Authenticator(storage::Store& store) : store_(store) {}

  // Returns the caller of `context` if its key is valid and its role is in
  // `roles`; UNAUTHENTICATED for a missing, malformed, unknown or revoked key,
  // PERMISSION_DENIED for a role not admitted.
  absl::StatusOr<Caller> Authenticate(const grpc::ServerContextBase& context,
                                      const Roles& roles) const;

 private:
  storage::Store& store_;
};

// Returns the secret of an `authorization: Bearer <secret>` header value, or
// empty when the value has another form.
std::string BearerToken(std::string_view header);

}  // namespace ats::server

#endif  // ATS_SERVER_AUTH_H_
