#ifndef ATS_SERVER_COMMON_RANDOM_H_
#define ATS_SERVER_COMMON_RANDOM_H_

// The server's source of randomness, and what it makes: resource ids and
// secrets (API keys, webhook signing secrets). The digests those secrets are
// checked with are in server/contract/digests.h.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ats::server {

// A source of random bytes. Implementations are thread-safe.
class RandomSource {
 public:
  virtual ~RandomSource() = default;

  // Fills `out[0, n)` with random bytes.
  virtual void Fill(uint8_t* out, size_t n) = 0;
};

// Cryptographically secure bytes from OpenSSL's RAND_bytes. If OpenSSL cannot
// provide them the process aborts with a message: handing out a guessable
// API key is worse than stopping.
//
// Small requests (every id of every event) are served from a per-thread
// buffer filled by one RAND_bytes call, whose fixed cost would otherwise
// dominate; each byte is still handed out once.
class SecureRandom final : public RandomSource {
 public:
  // Fills `out[0, n)` with RAND_bytes output, or aborts.
  void Fill(uint8_t* out, size_t n) override;
};

// A deterministic stream (SplitMix64) for tests: the same seed always gives
// the same bytes, on every platform. Never use it for secrets.
class SeededRandom final : public RandomSource {
 public:
  // Starts the stream at `seed`.
  explicit SeededRandom(uint64_t seed) : state_(seed) {}

  // Fills `out[0, n)` with the next `n` bytes of the stream.
  void Fill(uint8_t* out, size_t n) override;

 private:
  absl::Mutex mu_;
  uint64_t state_ ABSL_GUARDED_BY(mu_);
};

// Returns a new resource id: 16 characters of lower-case base32 [a-z2-7],
// 80 random bits, valid in resource names (see ParseResourceName).
std::string NewResourceId(RandomSource& random);

// Returns a new resource id for rows created in bulk, such as events: like
// NewResourceId, but the first 9 characters encode `now` in milliseconds
// (45 bits) and only the last 7 are random (35 bits), so ids made later sort
// later and a database index on them grows at its end instead of at random
// places. Ids made in the same millisecond collide with a probability of
// about n^2 / 2^36 for n of them: callers must handle ALREADY_EXISTS.
std::string NewTimeOrderedId(absl::Time now, RandomSource& random);

// Returns `prefix` followed by 32 random bytes in web-safe base64 without
// padding (43 characters); for API keys, e.g. prefix "ats_". The alphabet
// needs no quoting in a shell or an HTTP header.
std::string NewSecret(RandomSource& random, std::string_view prefix);

// Returns a new webhook signing secret in the Standard Webhooks form:
// "whsec_" followed by 32 random key bytes in standard, padded base64 (which
// partners' verification libraries decode to get the HMAC key).
std::string NewWebhookSecret(RandomSource& random);

}  // namespace ats::server

#endif  // ATS_SERVER_COMMON_RANDOM_H_
