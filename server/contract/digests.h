#ifndef ATS_SERVER_CONTRACT_DIGESTS_H_
#define ATS_SERVER_CONTRACT_DIGESTS_H_

// The digests secrets and signatures are checked with: API key secrets are
// stored as their SHA-256, webhook signatures are HMAC-SHA256, and both are
// compared in constant time.

#include <string>
#include <string_view>

namespace ats::server {

// Returns the raw 32-byte SHA-256 digest of `data`; API key secrets are
// stored only as this.
std::string Sha256(std::string_view data);

// Returns the raw 32-byte HMAC-SHA256 of `message` under `key`.
std::string HmacSha256(std::string_view key, std::string_view message);

// Returns HmacSha256(key, message) in standard, padded base64, as the
// Standard Webhooks `webhook-signature: v1,<signature>` header carries it.
std::string HmacSha256Base64(std::string_view key, std::string_view message);

// Returns whether `a` equals `b`, in time that depends only on the lengths,
// so comparing a secret's digest or a signature leaks nothing through timing.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace ats::server

#endif  // ATS_SERVER_CONTRACT_DIGESTS_H_
