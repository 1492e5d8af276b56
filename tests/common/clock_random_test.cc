#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/common/random.h"
#include "server/contract/digests.h"
#include "server/common/validation.h"

namespace ats::server {
namespace {

TEST(ClockTest, SystemClockIsNearNow) {
  SystemClock clock;
  EXPECT_LT(absl::AbsDuration(clock.Now() - absl::Now()), absl::Seconds(5));
}

TEST(ClockTest, FakeClockMovesOnlyWhenTold) {
  FakeClock clock;
  const absl::Time start = clock.Now();
  EXPECT_EQ(start, absl::FromUnixSeconds(1704067200));
  EXPECT_EQ(clock.Now(), start);
  clock.Advance(absl::Hours(72));
  EXPECT_EQ(clock.Now(), start + absl::Hours(72));
  clock.Set(absl::UnixEpoch());
  EXPECT_EQ(clock.Now(), absl::UnixEpoch());
}

TEST(ClockTest, FakeClockIsThreadSafe) {
  FakeClock clock(absl::UnixEpoch());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&clock] {
      for (int i = 0; i < 1000; ++i) {
        clock.Advance(absl::Milliseconds(1));
        (void)clock.Now();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(clock.Now(), absl::UnixEpoch() + absl::Seconds(4));
}

std::string Bytes(RandomSource& random, size_t n) {
  std::string out(n, '\0');
  random.Fill(reinterpret_cast<uint8_t*>(out.data()), n);
  return out;
}

TEST(RandomTest, SeededRandomIsDeterministic) {
  SeededRandom a(7), b(7), c(8);
  const std::string first = Bytes(a, 37);
  EXPECT_EQ(first, Bytes(b, 37));
  EXPECT_NE(first, Bytes(c, 37));
  EXPECT_NE(first, Bytes(a, 37));  // the stream moves on
}

TEST(RandomTest, SeededRandomKnownAnswer) {
  // SplitMix64 with seed 0: first output 0xE220A8397B1DCDAF, little-endian.
  SeededRandom random(0);
  EXPECT_EQ(absl::BytesToHexString(Bytes(random, 8)), "afcd1d7b39a820e2");
}

TEST(RandomTest, SecureRandomFillsAndDiffers) {
  SecureRandom random;
  EXPECT_NE(Bytes(random, 32), Bytes(random, 32));
  EXPECT_EQ(Bytes(random, 0), "");
}

TEST(RandomTest, SecureRandomNeverRepeatsAcrossItsBuffer) {
  SecureRandom random;
  // Small draws come from a refilled per-thread buffer: 100 KB of 10-byte
  // draws crosses many refills, and no draw may come out twice.
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    EXPECT_TRUE(seen.insert(Bytes(random, 10)).second) << "draw " << i;
  }
  // Large draws go straight to OpenSSL.
  const std::string large = Bytes(random, 5000);
  EXPECT_EQ(large.size(), 5000u);
  EXPECT_NE(large, Bytes(random, 5000));
}

TEST(NewResourceIdTest, ShapeAndUniqueness) {
  SecureRandom random;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewResourceId(random);
    ASSERT_EQ(id.size(), 16u);
    EXPECT_EQ(id.find_first_not_of("abcdefghijklmnopqrstuvwxyz234567"),
              std::string::npos)
        << id;
    EXPECT_TRUE(ParseResourceName("jobs/" + id, "jobs/{job}", nullptr));
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(NewTimeOrderedIdTest, LaterIdsSortLaterAndLookLikeAnyId) {
  SecureRandom random;
  const absl::Time start = absl::FromUnixMillis(1790000000000);
  std::string previous;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id =
        NewTimeOrderedId(start + absl::Milliseconds(i), random);
    ASSERT_EQ(id.size(), 16u);
    EXPECT_EQ(id.find_first_not_of("abcdefghijklmnopqrstuvwxyz234567"),
              std::string::npos)
        << id;
    EXPECT_TRUE(ParseResourceName("events/" + id, "events/{event}", nullptr));
    EXPECT_GT(id, previous);
    previous = id;
    seen.insert(id);
  }
  // Within one millisecond the random part tells them apart.
  for (int i = 0; i < 1000; ++i) seen.insert(NewTimeOrderedId(start, random));
  EXPECT_EQ(seen.size(), 2000u);
}

TEST(NewResourceIdTest, EncodesAllEightyBits) {
  // All-zero bytes map to all 'a'; all-one bytes to all '7'.
  class ConstantRandom final : public RandomSource {
   public:
    explicit ConstantRandom(uint8_t byte) : byte_(byte) {}
    void Fill(uint8_t* out, size_t n) override {
      for (size_t i = 0; i < n; ++i) out[i] = byte_;
    }

   private:
    uint8_t byte_;
  };
  ConstantRandom zeros(0x00), ones(0xFF), pattern(0x84);
  EXPECT_EQ(NewResourceId(zeros), "aaaaaaaaaaaaaaaa");
  EXPECT_EQ(NewResourceId(ones), "7777777777777777");
  // 0x84 repeated = 10000100 10000100 ... -> 10000 10010 00010 01000 ...
  EXPECT_EQ(NewResourceId(pattern).substr(0, 4), "qsci");
}

TEST(NewSecretTest, ApiKeyIsPrefixedWebSafeBase64Of32Bytes) {
  SeededRandom random(1);
  const std::string secret = NewSecret(random, "ats_");
  ASSERT_EQ(secret.substr(0, 4), "ats_");
  const std::string encoded = secret.substr(4);
  EXPECT_EQ(encoded.size(), 43u);
  std::string bytes;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(encoded, &bytes));
  EXPECT_EQ(bytes.size(), 32u);
  EXPECT_EQ(encoded.find_first_of("+/="), std::string::npos);
  EXPECT_NE(NewSecret(random, "ats_"), secret);
}

TEST(NewSecretTest, WebhookSecretIsStandardBase64Of32Bytes) {
  SeededRandom random(2);
  const std::string secret = NewWebhookSecret(random);
  ASSERT_EQ(secret.substr(0, 6), "whsec_");
  const std::string encoded = secret.substr(6);
  EXPECT_EQ(encoded.size(), 44u);
  EXPECT_EQ(encoded.back(), '=');
  std::string bytes;
  ASSERT_TRUE(absl::Base64Unescape(encoded, &bytes));
  EXPECT_EQ(bytes.size(), 32u);
}

TEST(HashTest, Sha256KnownAnswer) {
  EXPECT_EQ(absl::BytesToHexString(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256("").size(), 32u);
}

TEST(HashTest, HmacSha256Rfc4231TestCase2) {
  const std::string mac = HmacSha256("Jefe", "what do ya want for nothing?");
  EXPECT_EQ(absl::BytesToHexString(mac),
            "5bdcc146bf60754e6a042426089575c7"
            "5a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HmacSha256Base64("Jefe", "what do ya want for nothing?"),
            absl::Base64Escape(mac));
  EXPECT_EQ(HmacSha256Base64("Jefe", "what do ya want for nothing?"),
            "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
}

TEST(HashTest, HmacSha256KeysEachMessageAfresh) {
  // RFC 4231 test case 1, then case 2 on the same thread, then case 1 again:
  // no key carries over from the message before.
  const std::string key1(20, '\x0b');
  const std::string case1 =
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
  EXPECT_EQ(absl::BytesToHexString(HmacSha256(key1, "Hi There")), case1);
  EXPECT_EQ(absl::BytesToHexString(
                HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(absl::BytesToHexString(HmacSha256(key1, "Hi There")), case1);
  // An empty key is a key of its own (as HMAC() computes it), not the last.
  EXPECT_EQ(absl::BytesToHexString(HmacSha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HashTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
}

}  // namespace
}  // namespace ats::server
