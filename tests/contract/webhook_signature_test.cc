// Standard Webhooks signing (server/contract/webhook_signature.h), checked against the
// specification's published example and against OpenSSL used directly.

#include "server/contract/webhook_signature.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/common/random.h"

namespace ats::server {
namespace {

// The example of the Standard Webhooks specification.
constexpr char kSpecSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr char kSpecId[] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kSpecTimestamp = 1614265330;
constexpr char kSpecBody[] = R"({"test": 2432232314})";
constexpr char kSpecSignature[] =
    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

// The signature computed with OpenSSL's HMAC and base64 directly, without
// any of the code under test.
std::string OpenSslSignature(const std::string& key, const std::string& content) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(content.data()), content.size(),
       mac, &mac_size);
  unsigned char encoded[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  const int encoded_size = EVP_EncodeBlock(encoded, mac, static_cast<int>(mac_size));
  return "v1," + std::string(reinterpret_cast<const char*>(encoded),
                             static_cast<size_t>(encoded_size));
}

TEST(WebhookSignatureTest, MatchesTheSpecificationExample) {
  const absl::StatusOr<std::string> signature =
      WebhookSignature(kSpecSecret, kSpecId, kSpecTimestamp, kSpecBody);
  ASSERT_TRUE(signature.ok()) << signature.status();
  EXPECT_EQ(*signature, kSpecSignature);
}

TEST(WebhookSignatureTest, MatchesOpenSslForAGeneratedSecret) {
  SeededRandom random(42);
  for (int i = 0; i < 20; ++i) {
    const std::string secret = NewWebhookSecret(random);
    std::string key;
    ASSERT_TRUE(absl::Base64Unescape(secret.substr(6), &key));
    ASSERT_EQ(key.size(), 32u);
    const std::string id = absl::StrCat("events/e", i);
    const int64_t timestamp = 1704067200 + i;
    const std::string body = absl::StrCat(R"({"eventId":"events/e)", i,
                                          R"(","note":"caf\u00e9 \n"})");
    const absl::StatusOr<std::string> signature =
        WebhookSignature(secret, id, timestamp, body);
    ASSERT_TRUE(signature.ok()) << signature.status();
    EXPECT_EQ(*signature,
              OpenSslSignature(key, absl::StrCat(id, ".", timestamp, ".", body)));
  }
}

TEST(WebhookSignatureTest, KeyIsTheBase64AfterThePrefix) {
  const absl::StatusOr<std::string> key = WebhookSigningKey(kSpecSecret);
  ASSERT_TRUE(key.ok()) << key.status();
  std::string expected;
  ASSERT_TRUE(absl::Base64Unescape("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &expected));
  EXPECT_EQ(*key, expected);
}

TEST(WebhookSignatureTest, MalformedSecretsAreInvalidArgument) {
  for (const char* secret :
       {"", "whsec_", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!",
        "whsec_MfKQ9r8GKYqrTwjU-D8ILPZIo2LaLaSw" /* web-safe '-' */,
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw===="}) {
    const absl::StatusOr<std::string> signature =
        WebhookSignature(secret, kSpecId, kSpecTimestamp, kSpecBody);
    EXPECT_EQ(signature.status().code(), absl::StatusCode::kInvalidArgument)
        << "secret: \"" << secret << "\"";
    EXPECT_FALSE(VerifyWebhookSignature(secret, kSpecId, kSpecTimestamp,
                                        kSpecBody, kSpecSignature));
  }
}

TEST(VerifyWebhookSignatureTest, AcceptsTheSignature) {
  EXPECT_TRUE(VerifyWebhookSignature(kSpecSecret, kSpecId, kSpecTimestamp,
                                     kSpecBody, kSpecSignature));
}

TEST(VerifyWebhookSignatureTest, RejectsTamperedContent) {
  EXPECT_FALSE(VerifyWebhookSignature(kSpecSecret, kSpecId, kSpecTimestamp,
                                      R"({"test": 2432232315})", kSpecSignature));
  EXPECT_FALSE(VerifyWebhookSignature(kSpecSecret, kSpecId, kSpecTimestamp,
                                      R"({"test": 2432232314} )",
                                      kSpecSignature));
  EXPECT_FALSE(VerifyWebhookSignature(kSpecSecret, "msg_p5jXN8AQM9LWM0D4loKWxJel",
                                      kSpecTimestamp, kSpecBody, kSpecSignature));
  EXPECT_FALSE(VerifyWebhookSignature(kSpecSecret, kSpecId, kSpecTimestamp + 1,
                                      kSpecBody, kSpecSignature));
  EXPECT_FALSE(VerifyWebhookSignature("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                      kSpecId, kSpecTimestamp, kSpecBody,
                                      kSpecSignature));
}

TEST(VerifyWebhookSignatureTest, RejectsMalformedHeaders) {
  const std::string signature = std::string(kSpecSignature).substr(3);
  for (const std::string& header :
       {std::string(), std::string("v1,"), signature,
        "v2," + signature,                      // Another version.
        "v1a," + signature,                     // Not "v1,".
        "v1," + signature.substr(0, 20),        // Truncated.
        "v1," + signature + "x",                // Extended.
        "V1," + signature}) {
    EXPECT_FALSE(VerifyWebhookSignature(kSpecSecret, kSpecId, kSpecTimestamp,
                                        kSpecBody, header))
        << "header: \"" << header << "\"";
  }
}

TEST(VerifyWebhookSignatureTest, AcceptsAnyOfSeveralSignatures) {
  const absl::StatusOr<std::string> other =
      WebhookSignature("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", kSpecId,
                       kSpecTimestamp, kSpecBody);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(VerifyWebhookSignature(kSpecSecret, kSpecId, kSpecTimestamp,
                                     kSpecBody,
                                     absl::StrCat(*other, " ", kSpecSignature)));
  EXPECT_TRUE(VerifyWebhookSignature(kSpecSecret, kSpecId, kSpecTimestamp,
                                     kSpecBody,
                                     absl::StrCat(kSpecSignature, " ", *other)));
  EXPECT_TRUE(VerifyWebhookSignature(
      kSpecSecret, kSpecId, kSpecTimestamp, kSpecBody,
      absl::StrCat("v1a,whatever ", kSpecSignature, " v2,abc")));
  EXPECT_FALSE(VerifyWebhookSignature(kSpecSecret, kSpecId, kSpecTimestamp,
                                      kSpecBody, *other));
}

}  // namespace
}  // namespace ats::server
