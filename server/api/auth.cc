#include "server/api/auth.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/contract/digests.h"

namespace ats::server {

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
    const grpc::ServerContextBase& context, const RoleSet& roles) const {
  // An address that keeps failing is refused before its key is looked at,
  // so guessing keys costs it time and the store nothing. The peer string
  // is only built when some address is being watched.
  std::string peer;
  if (limiter_.TracksPeers()) {
    peer = PeerAddress(context.peer());
    absl::Status admitted = limiter_.AdmitPeer(peer);
    if (!admitted.ok()) return admitted;
  }
  absl::StatusOr<storage::ApiKeyRow> found = Identify(context);
  if (absl::IsUnauthenticated(found.status())) {
    if (peer.empty()) peer = PeerAddress(context.peer());
    limiter_.RecordAuthFailure(peer);
  }
  if (!found.ok()) return found.status();
  const storage::ApiKeyRow& key = *found;
  // Before the role check: a key calling what it may not still spends
  // the server's time.
  absl::Status admitted = limiter_.AdmitKey(absl::StrCat("apiKeys/", key.id));
  if (!admitted.ok()) return admitted;
  if (!roles.Admits(key.role)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "API key apiKeys/", key.id, " has role ",
        ats::v1::Role_Name(key.role), ", which may not call this method"));
  }
  return Caller{key.id, key.role, key.account_id, key.integration_id};
}

absl::StatusOr<storage::ApiKeyRow> Authenticator::Identify(
    const grpc::ServerContextBase& context) const {
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
  absl::StatusOr<storage::ApiKeyRow> found = FindKey(Sha256(secret));
  if (absl::IsNotFound(found.status())) {
    return absl::UnauthenticatedError("unknown API key");
  }
  if (!found.ok()) return found.status();
  if (found->revoke_time.has_value()) {
    return absl::UnauthenticatedError(
        absl::StrCat("API key apiKeys/", found->id, " has been revoked"));
  }
  return found;
}

absl::StatusOr<storage::ApiKeyRow> Authenticator::FindKey(
    const std::string& secret_hash) const {
  uint64_t generation;
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = keys_.find(secret_hash);
    if (it != keys_.end()) return it->second;
    generation = generation_;
  }
  storage::ApiKeyRow key;
  absl::Status status = store_.Read([&](storage::Transaction& txn) {
    absl::StatusOr<storage::ApiKeyRow> found =
        txn.accounts().FindApiKeyBySecretHash(secret_hash);
    if (!found.ok()) return found.status();
    key = *std::move(found);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  absl::MutexLock lock(&mu_);
  // Only keys that exist are remembered, so the map is as large as the
  // store's key table at most.
  if (generation == generation_) keys_.emplace(secret_hash, key);
  return key;
}

void Authenticator::ForgetKeys() {
  absl::MutexLock lock(&mu_);
  keys_.clear();
  ++generation_;
}

}  // namespace ats::server
