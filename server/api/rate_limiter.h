#ifndef ATS_SERVER_API_RATE_LIMITER_H_
#define ATS_SERVER_API_RATE_LIMITER_H_

// Limits on how fast callers may use the API: a token bucket per API key,
// and one per client address for failed authentications, so that neither a
// runaway client nor someone guessing keys can take the server from the
// other tenants.

#include <atomic>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/common/clock.h"

namespace ats::server {

// How fast callers may go; a zero rate turns its limit off.
struct RateLimitOptions {
  // Calls per second each API key may make, sustained.
  double key_calls_per_second = 0;
  // Calls a key may make at once after being idle (the bucket's size).
  int key_burst = 0;
  // Failed authentications a client address may make per minute, and at
  // once; past that its calls are refused, whatever key they carry, until
  // the next one is allowed (every 60/N seconds).
  int auth_failures_per_minute = 0;
  // Most client addresses whose failures are remembered; past that the one
  // that failed least recently is forgotten, so memory stays bounded
  // whatever the number of addresses calling.
  int max_tracked_peers = 10000;
};

// Returns OK when `options` describe limits the server can apply, else
// INVALID_ARGUMENT naming the ats-server flag.
absl::Status ValidateRateLimitOptions(const RateLimitOptions& options);

// The size and refill rate of a TokenBucket.
struct BucketShape {
  // The time it takes to earn one token (one over the rate).
  absl::Duration interval = absl::ZeroDuration();
  // The most tokens the bucket holds.
  int64_t capacity = 0;
};

// A bucket that holds up to `capacity` tokens and earns one every
// `interval`; it starts full. Kept as the time at which it is full again
// (the "theoretical arrival time" of GCRA), so it is one word, and its
// arithmetic is absl::Duration's integer arithmetic: waits are exact. Not
// thread-safe: its owner locks. The shape is passed to each call rather than
// stored, since every bucket of a limiter shares it.
class TokenBucket {
 public:
  // Takes one token at `now` and returns zero, or, when the bucket holds
  // none, takes nothing and returns how long until it does.
  absl::Duration Take(const BucketShape& shape, absl::Time now);

  // Returns zero when the bucket holds a token at `now`, else how long until
  // it does; takes nothing.
  absl::Duration WaitForToken(const BucketShape& shape, absl::Time now) const;

  // Returns whether the bucket has refilled completely by `now` (it is then
  // no different from a new one and need not be kept).
  bool Full(absl::Time now) const { return full_at_ <= now; }

 private:
  // Each token taken moves it one interval later; at `now` the bucket holds
  // capacity - (full_at_ - now) / interval tokens. A clock that went back
  // only makes the bucket look emptier.
  absl::Time full_at_ = absl::InfinitePast();
};

// Calls a RateLimiter has refused so far, by the limit that refused them.
struct RateLimitRejections {
  // Calls of a key over its rate (AdmitKey).
  uint64_t api_key = 0;
  // Calls from a client address that failed authentication too often
  // (AdmitPeer).
  uint64_t client_address = 0;
};

// Applies RateLimitOptions. Thread-safe; cheap on the path of every call: a
// lock and a hash lookup for the key, and nothing for the client address
// unless some address has failed lately.
class RateLimiter {
 public:
  // `clock` must outlive the limiter.
  RateLimiter(const RateLimitOptions& options, const Clock& clock);

  // Counts a call of API key `key_name` (`apiKeys/{id}`): OK, or
  // RESOURCE_EXHAUSTED with a google.rpc.RetryInfo of when the key's next
  // call is allowed when it is over its limit.
  absl::Status AdmitKey(const std::string& key_name);

  // Returns whether failed authentications are remembered for some client
  // address, i.e. whether AdmitPeer could refuse anything.
  bool TracksPeers() const {
    return tracked_peers_.load(std::memory_order_relaxed) > 0;
  }

  // Returns OK unless client address `peer` has failed authentication too
  // often lately: then RESOURCE_EXHAUSTED with a google.rpc.RetryInfo of
  // when its next attempt is allowed.
  absl::Status AdmitPeer(const std::string& peer);

  // Counts a failed authentication from client address `peer`.
  void RecordAuthFailure(const std::string& peer);

  // Returns the calls refused so far.
  RateLimitRejections rejections() const {
    return {key_rejections_.load(std::memory_order_relaxed),
            peer_rejections_.load(std::memory_order_relaxed)};
  }

 private:
  struct PeerEntry {
    TokenBucket bucket;
    // Its place in peer_order_.
    std::list<std::string>::iterator order;
  };

  const RateLimitOptions options_;
  const BucketShape key_shape_;
  const BucketShape peer_shape_;
  const Clock& clock_;

  absl::Mutex keys_mu_;
  // One bucket per key that has called: no more than the store's key table
  // holds, since only keys that authenticate get one.
  absl::flat_hash_map<std::string, TokenBucket> keys_ ABSL_GUARDED_BY(keys_mu_);

  absl::Mutex peers_mu_;
  absl::flat_hash_map<std::string, PeerEntry> peers_ ABSL_GUARDED_BY(peers_mu_);
  // Addresses by their latest failure, most recent first.
  std::list<std::string> peer_order_ ABSL_GUARDED_BY(peers_mu_);
  // peers_.size(), readable without the lock.
  std::atomic<size_t> tracked_peers_{0};
  std::atomic<uint64_t> key_rejections_{0};
  std::atomic<uint64_t> peer_rejections_{0};
};

// Returns the address part of a gRPC peer string, without the port:
// "ipv4:10.0.0.7:51234" → "10.0.0.7", "ipv6:[::1]:51234" → "::1"; other
// forms (a Unix socket path) are returned whole.
std::string PeerAddress(std::string_view peer);

}  // namespace ats::server

#endif  // ATS_SERVER_API_RATE_LIMITER_H_
