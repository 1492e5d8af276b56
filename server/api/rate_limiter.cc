#include "server/api/rate_limiter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/contract/errors.h"

namespace ats::server {
namespace {

// A limit that is off has an empty shape; its buckets are never used.
BucketShape KeyShape(const RateLimitOptions& options) {
  if (options.key_calls_per_second <= 0) return {};
  return {absl::Seconds(1) / options.key_calls_per_second, options.key_burst};
}

BucketShape PeerShape(const RateLimitOptions& options) {
  if (options.auth_failures_per_minute <= 0) return {};
  return {absl::Minutes(1) / options.auth_failures_per_minute,
          options.auth_failures_per_minute};
}

// How a person reads a delay in a message: "1.5s", "120ms".
std::string Readable(absl::Duration delay) {
  return absl::FormatDuration(absl::Ceil(delay, absl::Milliseconds(1)));
}

}  // namespace

absl::Status ValidateRateLimitOptions(const RateLimitOptions& options) {
  if (options.key_calls_per_second < 0) {
    return absl::InvalidArgumentError(
        "--rate_limit must not be negative (0 turns the limit off)");
  }
  if (options.key_calls_per_second > 0 && options.key_burst < 1) {
    return absl::InvalidArgumentError(
        "--rate_burst must be at least 1 when --rate_limit is on");
  }
  if (options.auth_failures_per_minute < 0) {
    return absl::InvalidArgumentError(
        "--auth_failure_limit must not be negative (0 turns the limit off)");
  }
  if (options.max_tracked_peers < 1) {
    return absl::InvalidArgumentError(
        "at least one client address must be tracked");
  }
  return absl::OkStatus();
}

absl::Duration TokenBucket::WaitForToken(const BucketShape& shape,
                                         absl::Time now) const {
  // Taking a token leaves the bucket full this much after now; it may be
  // at most the whole bucket's worth of tokens away.
  const absl::Duration debt = std::max(full_at_, now) + shape.interval - now;
  return std::max(absl::ZeroDuration(), debt - shape.capacity * shape.interval);
}

absl::Duration TokenBucket::Take(const BucketShape& shape, absl::Time now) {
  const absl::Duration wait = WaitForToken(shape, now);
  if (wait == absl::ZeroDuration()) {
    full_at_ = std::max(full_at_, now) + shape.interval;
  }
  return wait;
}

RateLimiter::RateLimiter(const RateLimitOptions& options, const Clock& clock)
    : options_(options),
      key_shape_(KeyShape(options)),
      peer_shape_(PeerShape(options)),
      clock_(clock) {}

absl::Status RateLimiter::AdmitKey(const std::string& key_name) {
  if (key_shape_.capacity == 0) return absl::OkStatus();
  const absl::Time now = clock_.Now();
  absl::Duration wait;
  {
    absl::MutexLock lock(&keys_mu_);
    wait = keys_[key_name].Take(key_shape_, now);
  }
  if (wait == absl::ZeroDuration()) return absl::OkStatus();
  key_rejections_.fetch_add(1, std::memory_order_relaxed);
  const absl::Status status = absl::ResourceExhaustedError(absl::StrCat(
      "API key ", key_name, " is over its rate limit of ",
      options_.key_calls_per_second, " calls/s (bursts of up to ",
      options_.key_burst, "); retry in ", Readable(wait),
      ". Spread the calls out, or ask the operator for a higher "
      "--rate_limit"));
  return WithRetryInfo(
      WithErrorInfo(status, "RATE_LIMITED",
                    {{"api_key", key_name},
                     {"calls_per_second",
                      absl::StrCat(options_.key_calls_per_second)},
                     {"burst", absl::StrCat(options_.key_burst)}}),
      wait);
}

absl::Status RateLimiter::AdmitPeer(const std::string& peer) {
  const absl::Time now = clock_.Now();
  absl::Duration wait;
  {
    absl::MutexLock lock(&peers_mu_);
    auto it = peers_.find(peer);
    if (it == peers_.end()) return absl::OkStatus();
    wait = it->second.bucket.WaitForToken(peer_shape_, now);
    // An address whose failures are all forgiven is forgotten, so that a
    // server whose clients authenticate again stops looking addresses up.
    if (it->second.bucket.Full(now)) {
      peer_order_.erase(it->second.order);
      peers_.erase(it);
      tracked_peers_.store(peers_.size(), std::memory_order_relaxed);
    }
  }
  if (wait == absl::ZeroDuration()) return absl::OkStatus();
  peer_rejections_.fetch_add(1, std::memory_order_relaxed);
  // RESOURCE_EXHAUSTED rather than UNAUTHENTICATED: the key was not looked
  // at and may be valid, and what the caller should do is wait, not change
  // credentials.
  const absl::Status status = absl::ResourceExhaustedError(absl::StrCat(
      "too many failed authentications from ", peer, " (limit: ",
      options_.auth_failures_per_minute,
      " per minute); calls from this address are refused for ",
      Readable(wait), ". Check the API key the client sends"));
  return WithRetryInfo(
      WithErrorInfo(status, "TOO_MANY_AUTH_FAILURES", {{"peer", peer}}),
      wait);
}

void RateLimiter::RecordAuthFailure(const std::string& peer) {
  if (peer_shape_.capacity == 0) return;
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&peers_mu_);
  auto [it, inserted] = peers_.try_emplace(peer);
  if (inserted) {
    peer_order_.push_front(peer);
  } else {
    peer_order_.splice(peer_order_.begin(), peer_order_, it->second.order);
  }
  it->second.order = peer_order_.begin();
  it->second.bucket.Take(peer_shape_, now);
  if (peers_.size() > static_cast<size_t>(options_.max_tracked_peers)) {
    peers_.erase(peer_order_.back());
    peer_order_.pop_back();
  }
  tracked_peers_.store(peers_.size(), std::memory_order_relaxed);
}

std::string PeerAddress(std::string_view peer) {
  std::string_view rest = peer;
  const bool ipv4 = rest.substr(0, 5) == "ipv4:";
  const bool ipv6 = rest.substr(0, 5) == "ipv6:";
  if (!ipv4 && !ipv6) return std::string(peer);
  rest.remove_prefix(5);
  if (ipv6) {
    // "[addr]:port", possibly percent-encoded ("%25" for a zone).
    const size_t close = rest.find(']');
    if (rest.empty() || rest.front() != '[' || close == rest.npos) {
      return std::string(peer);
    }
    return std::string(rest.substr(1, close - 1));
  }
  return std::string(rest.substr(0, rest.rfind(':')));
}

}  // namespace ats::server
