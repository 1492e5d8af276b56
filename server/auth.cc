#include "server/auth.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/random.h"

namespace ats::server {

Roles::Roles(std::initializer_list<ats::v1::Role> roles) {
  for (ats::v1::Role role : roles) mask_ |= 1u << role;
}

std::string BearerToken(std::string_view header) {
  // Debian's Abseil has its own string_view type, distinct from std's.
  const absl::string_view value(header.data(), header.size());
  constexpr absl::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      !absl::StartsWithIgnoreCase(value, kScheme)) {
    return "";
  }
  return std::string(absl::StripAsciiWhitespace(value.substr(kScheme.size())));
}

absl::StatusOr<Caller> Authenticator::Authenticate(
    const grpc::ServerContextBase& context, const Roles& roles) const {
  const auto& metadata = context.client_metadata();
  auto header = metadata.find("authorization");
  if (header == metadata.end()) {
    return absl::UnauthenticatedError(
        "missing API key: send the metadata header "
        "'authorization: Bearer <api key>'");
  }
  std::string secret = BearerToken(
      std::string_view(header->second.data(), header->second.size()));
  if (secret.empty()) {
    return absl::UnauthenticatedError(
        "malformed authorization header: expected 'Bearer <api key>'");
  }
  storage::ApiKeyRow key;
  absl::Status status = store_.Read([&](storage::Transaction& txn) {
    absl::StatusOr<storage::ApiKeyRow> found =
        txn.accounts().FindApiKeyBySecretHash(Sha256(secret));
    if (!found.ok()) return found.status();
    key = *std::move(found);
    return absl::OkStatus();
  });
  if (absl::IsNotFound(status)) {
    return absl::UnauthenticatedError("unknown API key");
  }
  if (!status.ok()) return status;
  if (key.revoke_time.has_value()) {
    return absl::UnauthenticatedError(
        absl::StrCat("API key apiKeys/", key.id, " has been revoked"));
  }
  if (!roles.Admits(key.role)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "API key apiKeys/", key.id, " has role ",
        ats::v1::Role_Name(key.role), ", which may not call this method"));
  }
  return Caller{key.id, key.role, key.account_id, key.integration_id};
}

}  // namespace ats::server
