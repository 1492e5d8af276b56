#ifndef ATS_SERVER_API_AUTH_H_
#define ATS_SERVER_API_AUTH_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "ats/v1/account_service.pb.h"
#include "grpcpp/server_context.h"
#include "server/api/method_policy.h"
#include "server/api/rate_limiter.h"
#include "server/common/clock.h"
#include "server/domain/caller.h"
#include "storage/store.h"

namespace ats::server {

// Resolves the `authorization: Bearer <key>` metadata of a call to its Caller.
//
// Keys found are remembered (by the hash of their secret), so a call costs no
// read of the store for its key: a key never changes after it is created
// except by revocation, and RevokeApiKey calls ForgetKeys once the
// revocation is committed. This holds while this process is the only one
// revoking keys in its store, as with SQLite.
//
// It also applies the RateLimitOptions: every call of a key counts against
// the key's limit, and every failed authentication against the client
// address's. Thread-safe.
class Authenticator {
 public:
  // `store` and `clock` must outlive the authenticator.
  Authenticator(storage::Store& store, const RateLimitOptions& limits,
                const Clock& clock)
      : store_(store), limiter_(limits, clock) {}

  // Returns the caller of `context` if its key is valid, within its rate
  // limit, and its role is in `roles`; UNAUTHENTICATED for a missing,
  // malformed, unknown or revoked key, RESOURCE_EXHAUSTED (with RetryInfo)
  // for a key over its limit or a client address that failed too often
  // lately, PERMISSION_DENIED for a role not admitted.
  absl::StatusOr<Caller> Authenticate(const grpc::ServerContextBase& context,
                                      const RoleSet& roles) const;

  // Forgets the keys remembered so far; call after a key changed in the
  // store.
  void ForgetKeys();

  // Returns the calls refused by the rate limits so far.
  RateLimitRejections rate_limit_rejections() const {
    return limiter_.rejections();
  }

 private:
  // Returns the valid (not revoked) key that `context` carries, or
  // UNAUTHENTICATED.
  absl::StatusOr<storage::ApiKeyRow> Identify(
      const grpc::ServerContextBase& context) const;

  // Returns the key whose secret hashes to `secret_hash`, from memory or
  // from the store (NOT_FOUND when unknown).
  absl::StatusOr<storage::ApiKeyRow> FindKey(
      const std::string& secret_hash) const;

  storage::Store& store_;
  mutable RateLimiter limiter_;
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<std::string, storage::ApiKeyRow> keys_
      ABSL_GUARDED_BY(mu_);
  // Counts ForgetKeys calls: a key read from the store before one is not
  // remembered after it.
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

// Returns the secret of an `authorization: Bearer <secret>` header value, or
// empty when the value has another form.
std::string BearerToken(std::string_view header);

}  // namespace ats::server

#endif  // ATS_SERVER_API_AUTH_H_
