// The limiter alone, on a fake clock: bucket arithmetic, independence of
// keys and of client addresses, and the bound on what it remembers.

#include "server/api/rate_limiter.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/contract/errors.h"

namespace ats::server {
namespace {

TEST(TokenBucketTest, StartsFullAndRefillsOneTokenPerInterval) {
  const BucketShape shape{absl::Milliseconds(250), 2};
  const absl::Time start = absl::FromUnixSeconds(1000);
  TokenBucket bucket;
  EXPECT_TRUE(bucket.Full(start));
  EXPECT_EQ(bucket.Take(shape, start), absl::ZeroDuration());
  EXPECT_FALSE(bucket.Full(start));
  EXPECT_EQ(bucket.Take(shape, start), absl::ZeroDuration());
  EXPECT_EQ(bucket.Take(shape, start), absl::Milliseconds(250));
  // A refused take takes nothing: the wait does not grow.
  EXPECT_EQ(bucket.Take(shape, start), absl::Milliseconds(250));
  EXPECT_EQ(bucket.WaitForToken(shape, start + absl::Milliseconds(100)),
            absl::Milliseconds(150));
  EXPECT_EQ(bucket.Take(shape, start + absl::Milliseconds(250)),
            absl::ZeroDuration());
  // Empty at 250 ms: two intervals later it is full.
  EXPECT_FALSE(bucket.Full(start + absl::Milliseconds(749)));
  EXPECT_TRUE(bucket.Full(start + absl::Milliseconds(750)));
  // Idle time beyond full earns nothing more than the capacity.
  const absl::Time later = start + absl::Hours(1);
  EXPECT_EQ(bucket.Take(shape, later), absl::ZeroDuration());
  EXPECT_EQ(bucket.Take(shape, later), absl::ZeroDuration());
  EXPECT_EQ(bucket.Take(shape, later), absl::Milliseconds(250));
}

TEST(TokenBucketTest, AClockThatGoesBackEarnsNothing) {
  const BucketShape shape{absl::Seconds(1), 1};
  const absl::Time start = absl::FromUnixSeconds(1000);
  TokenBucket bucket;
  EXPECT_EQ(bucket.Take(shape, start), absl::ZeroDuration());
  EXPECT_EQ(bucket.Take(shape, start - absl::Seconds(5)), absl::Seconds(6));
}

RateLimitOptions Limits(double per_second, int burst, int failures) {
  RateLimitOptions options;
  options.key_calls_per_second = per_second;
  options.key_burst = burst;
  options.auth_failures_per_minute = failures;
  return options;
}

TEST(RateLimiterTest, KeysHaveTheirOwnBuckets) {
  FakeClock clock;
  RateLimiter limiter(Limits(2, 3, 0), clock);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(limiter.AdmitKey("apiKeys/a").ok());
  }
  absl::Status over = limiter.AdmitKey("apiKeys/a");
  EXPECT_TRUE(absl::IsResourceExhausted(over)) << over;
  EXPECT_EQ(RetryDelayOf(over), absl::Milliseconds(500));
  EXPECT_TRUE(limiter.AdmitKey("apiKeys/b").ok());
  clock.Advance(absl::Milliseconds(500));
  EXPECT_TRUE(limiter.AdmitKey("apiKeys/a").ok());
  // Only the refusal is counted, as a key's.
  EXPECT_EQ(limiter.rejections().api_key, 1u);
  EXPECT_EQ(limiter.rejections().client_address, 0u);
}

TEST(RateLimiterTest, ZeroTurnsLimitsOff) {
  FakeClock clock;
  RateLimiter limiter(Limits(0, 0, 0), clock);
  for (int i = 0; i < 10000; ++i) {
    ASSERT_TRUE(limiter.AdmitKey("apiKeys/a").ok());
    limiter.RecordAuthFailure("10.0.0.1");
  }
  EXPECT_FALSE(limiter.TracksPeers());
  EXPECT_TRUE(limiter.AdmitPeer("10.0.0.1").ok());
}

TEST(RateLimiterTest, AddressesAreThrottledIndependently) {
  FakeClock clock;
  RateLimiter limiter(Limits(0, 0, 2), clock);
  EXPECT_FALSE(limiter.TracksPeers());
  limiter.RecordAuthFailure("10.0.0.1");
  EXPECT_TRUE(limiter.TracksPeers());
  EXPECT_TRUE(limiter.AdmitPeer("10.0.0.1").ok());
  limiter.RecordAuthFailure("10.0.0.1");
  absl::Status refused = limiter.AdmitPeer("10.0.0.1");
  EXPECT_TRUE(absl::IsResourceExhausted(refused)) << refused;
  EXPECT_EQ(RetryDelayOf(refused), absl::Seconds(30));
  EXPECT_TRUE(limiter.AdmitPeer("10.0.0.2").ok());
  EXPECT_EQ(limiter.rejections().client_address, 1u);
  EXPECT_EQ(limiter.rejections().api_key, 0u);
  // Forgiven failures are forgotten, and with them the need to look.
  clock.Advance(absl::Minutes(1));
  EXPECT_TRUE(limiter.AdmitPeer("10.0.0.1").ok());
  EXPECT_FALSE(limiter.TracksPeers());
}

TEST(RateLimiterTest, RemembersABoundedNumberOfAddresses) {
  FakeClock clock;
  RateLimitOptions options = Limits(0, 0, 1);
  options.max_tracked_peers = 100;
  RateLimiter limiter(options, clock);
  // Far more addresses than it keeps, each throttled after one failure.
  for (int i = 0; i < 10000; ++i) {
    limiter.RecordAuthFailure(absl::StrCat("10.0.", i / 256, ".", i % 256));
  }
  // The most recent ones are still throttled; the first were forgotten (it
  // is their failure that was least recent).
  EXPECT_FALSE(limiter.AdmitPeer("10.0.39.15").ok());  // i = 9999
  EXPECT_FALSE(limiter.AdmitPeer("10.0.38.176").ok());  // i = 9904
  EXPECT_TRUE(limiter.AdmitPeer("10.0.0.0").ok());
  EXPECT_TRUE(limiter.AdmitPeer("10.0.38.171").ok());  // i = 9899
}

TEST(RateLimiterTest, AFreshFailureKeepsAnAddressRemembered) {
  FakeClock clock;
  RateLimitOptions options = Limits(0, 0, 1);
  options.max_tracked_peers = 2;
  RateLimiter limiter(options, clock);
  limiter.RecordAuthFailure("10.0.0.1");
  limiter.RecordAuthFailure("10.0.0.2");
  limiter.RecordAuthFailure("10.0.0.1");  // now the most recent
  limiter.RecordAuthFailure("10.0.0.3");  // evicts 10.0.0.2
  EXPECT_FALSE(limiter.AdmitPeer("10.0.0.1").ok());
  EXPECT_TRUE(limiter.AdmitPeer("10.0.0.2").ok());
  EXPECT_FALSE(limiter.AdmitPeer("10.0.0.3").ok());
}

TEST(RateLimiterTest, ValidatesOptions) {
  EXPECT_TRUE(ValidateRateLimitOptions(Limits(500, 1000, 30)).ok());
  EXPECT_TRUE(ValidateRateLimitOptions(Limits(0, 0, 0)).ok());
  EXPECT_FALSE(ValidateRateLimitOptions(Limits(-1, 10, 0)).ok());
  EXPECT_FALSE(ValidateRateLimitOptions(Limits(10, 0, 0)).ok());
  EXPECT_FALSE(ValidateRateLimitOptions(Limits(0, 0, -1)).ok());
}

TEST(PeerAddressTest, DropsThePort) {
  EXPECT_EQ(PeerAddress("ipv4:10.0.0.7:51234"), "10.0.0.7");
  EXPECT_EQ(PeerAddress("ipv6:[::1]:51234"), "::1");
  EXPECT_EQ(PeerAddress("ipv6:[fe80::1%25eth0]:443"), "fe80::1%25eth0");
  EXPECT_EQ(PeerAddress("unix:/run/ats.sock"), "unix:/run/ats.sock");
  EXPECT_EQ(PeerAddress(""), "");
}

}  // namespace
}  // namespace ats::server
