#include "server/common/random.h"

#include <openssl/err.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/escaping.h"

namespace ats::server {
namespace {

constexpr size_t kSecretBytes = 32;
constexpr size_t kResourceIdBytes = 10;  // 80 bits = 16 base32 characters

// Fills `out[0, n)` from RAND_bytes, or aborts.
void FillFromOpenSsl(uint8_t* out, size_t n) {
  while (n > 0) {
    const int chunk = static_cast<int>(n > INT_MAX ? INT_MAX : n);
    if (RAND_bytes(out, chunk) != 1) {
      std::fprintf(stderr,
                   "FATAL: OpenSSL RAND_bytes failed (error %lu); refusing to "
                   "continue without secure randomness\n",
                   ERR_get_error());
      std::abort();
    }
    out += chunk;
    n -= static_cast<size_t>(chunk);
  }
}

}  // namespace

void SecureRandom::Fill(uint8_t* out, size_t n) {
  constexpr size_t kBufferBytes = 4096;
  if (n > kBufferBytes / 8) {
    FillFromOpenSsl(out, n);
    return;
  }
  thread_local uint8_t buffer[kBufferBytes];
  thread_local size_t used = kBufferBytes;
  if (kBufferBytes - used < n) {
    FillFromOpenSsl(buffer, kBufferBytes);
    used = 0;
  }
  std::memcpy(out, buffer + used, n);
  // Handed out bytes are not kept around.
  OPENSSL_cleanse(buffer + used, n);
  used += n;
}

void SeededRandom::Fill(uint8_t* out, size_t n) {
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < n; i += 8) {
    state_ += 0x9E3779B97F4A7C15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    for (size_t k = 0; k < 8 && i + k < n; ++k) {
      out[i + k] = static_cast<uint8_t>(z >> (8 * k));
    }
  }
}

std::string NewTimeOrderedId(absl::Time now, RandomSource& random) {
  // NewResourceId's alphabet in ASCII order, so that ids sort as numbers.
  static constexpr char kAlphabet[] = "234567abcdefghijklmnopqrstuvwxyz";
  const uint64_t millis =
      static_cast<uint64_t>(std::max<int64_t>(absl::ToUnixMillis(now), 0));
  uint8_t bytes[5];
  random.Fill(bytes, sizeof(bytes));
  uint64_t noise = 0;
  for (uint8_t byte : bytes) noise = (noise << 8) | byte;
  std::string id(16, 'a');
  // 9 characters of time (45 bits), then 7 of noise (35 bits).
  for (int i = 8; i >= 0; --i) id[8 - i] = kAlphabet[(millis >> (5 * i)) & 0x1F];
  for (int i = 6; i >= 0; --i) id[15 - i] = kAlphabet[(noise >> (5 * i)) & 0x1F];
  return id;
}

std::string NewResourceId(RandomSource& random) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  uint8_t bytes[kResourceIdBytes];
  random.Fill(bytes, sizeof(bytes));
  std::string id;
  id.reserve(kResourceIdBytes * 8 / 5);
  // Each 5 bytes are 40 bits, i.e. eight 5-bit characters.
  for (size_t group = 0; group < kResourceIdBytes; group += 5) {
    uint64_t bits = 0;
    for (size_t k = 0; k < 5; ++k) bits = (bits << 8) | bytes[group + k];
    for (int shift = 35; shift >= 0; shift -= 5) {
      id.push_back(kAlphabet[(bits >> shift) & 0x1F]);
    }
  }
  return id;
}

std::string NewSecret(RandomSource& random, std::string_view prefix) {
  uint8_t bytes[kSecretBytes];
  random.Fill(bytes, sizeof(bytes));
  std::string secret(prefix);
  secret += absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
  OPENSSL_cleanse(bytes, sizeof(bytes));
  return secret;
}

std::string NewWebhookSecret(RandomSource& random) {
  uint8_t bytes[kSecretBytes];
  random.Fill(bytes, sizeof(bytes));
  std::string secret = "whsec_";
  secret += absl::Base64Escape(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
  OPENSSL_cleanse(bytes, sizeof(bytes));
  return secret;
}

}  // namespace ats::server
