#include "server/contract/digests.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "absl/strings/escaping.h"

namespace ats::server {

std::string Sha256(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

namespace {

[[noreturn]] void HmacFailed() {
  // Only allocation failure or an oversized key (> INT_MAX) make OpenSSL's
  // HMAC fail; neither is recoverable here, and a wrong signature must never
  // go out.
  std::fprintf(stderr, "FATAL: OpenSSL HMAC-SHA256 failed\n");
  std::abort();
}

struct MacContextFree {
  void operator()(EVP_MAC_CTX* context) const { EVP_MAC_CTX_free(context); }
};
using MacContext = std::unique_ptr<EVP_MAC_CTX, MacContextFree>;

// An HMAC-SHA256 context with its algorithms looked up, keyed afresh for
// each message: OpenSSL 3's one-shot HMAC() looks both up by name every
// time, which cost more than signing a webhook body.
MacContext NewHmacSha256Context() {
  struct MacFree {
    void operator()(EVP_MAC* mac) const { EVP_MAC_free(mac); }
  };
  const std::unique_ptr<EVP_MAC, MacFree> hmac(
      EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (hmac == nullptr) HmacFailed();
  MacContext context(EVP_MAC_CTX_new(hmac.get()));
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  if (context == nullptr ||
      EVP_MAC_CTX_set_params(context.get(), params) != 1) {
    HmacFailed();
  }
  return context;
}

}  // namespace

std::string HmacSha256(std::string_view key, std::string_view message) {
  thread_local const MacContext context = NewHmacSha256Context();
  // A null key would mean "the previous message's key" to EVP_MAC_init, so
  // an empty one points here; and the context is keyed with it again after
  // each message, so that no secret stays in it between calls (as none did
  // in the one-shot HMAC()).
  static constexpr unsigned char kPlaceholder[1] = {0};
  const auto* key_bytes =
      key.empty() ? kPlaceholder
                  : reinterpret_cast<const unsigned char*>(key.data());
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_size = 0;
  if (key.size() > INT_MAX ||
      EVP_MAC_init(context.get(), key_bytes, key.size(), nullptr) != 1 ||
      EVP_MAC_update(context.get(),
                     reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1 ||
      EVP_MAC_final(context.get(), mac, &mac_size, sizeof(mac)) != 1 ||
      EVP_MAC_init(context.get(), kPlaceholder, sizeof(kPlaceholder),
                   nullptr) != 1) {
    HmacFailed();
  }
  return std::string(reinterpret_cast<const char*>(mac), mac_size);
}

std::string HmacSha256Base64(std::string_view key, std::string_view message) {
  return absl::Base64Escape(HmacSha256(key, message));
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace ats::server
