#ifndef ATS_SERVER_CONTRACT_WEBHOOK_SIGNATURE_H_
#define ATS_SERVER_CONTRACT_WEBHOOK_SIGNATURE_H_

// Signing webhook deliveries per the Standard Webhooks convention
// (https://www.standardwebhooks.com): the signed content is
// `<webhook-id>.<webhook-timestamp>.<body>`, the key is the base64-decoded
// part of the integration's secret after "whsec_", and the header value is
// "v1,<standard base64 of HMAC-SHA256(key, signed content)>".

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ats::server {

// Header names, lower case (HTTP header names are case-insensitive).
// (Character arrays rather than string_view: this Abseil build's
// absl::string_view is not std::string_view, and arrays convert to both.)
inline constexpr char kWebhookIdHeader[] = "webhook-id";
inline constexpr char kWebhookTimestampHeader[] = "webhook-timestamp";
inline constexpr char kWebhookSignatureHeader[] = "webhook-signature";
// What a signing secret starts with.
inline constexpr char kWebhookSecretPrefix[] = "whsec_";
// Why a webhook trigger's event is SKIPPED when its account has no signing
// secret to sign it with: at creation, or at delivery should it lose it.
inline constexpr char kNoWebhookSecret[] =
    "the account has no webhook signing secret; create one with "
    "AccountService.RotateWebhookSigningSecret";

// Returns the HMAC key of `secret`: the base64 (standard alphabet, padding
// optional) after "whsec_". INVALID_ARGUMENT when the prefix is missing, the
// base64 is malformed or the key is empty.
absl::StatusOr<std::string> WebhookSigningKey(std::string_view secret);

// Returns the `webhook-signature` header value for a delivery of `body` with
// `id` at `timestamp` (Unix seconds): "v1,<base64 signature>".
// INVALID_ARGUMENT when `secret` is malformed (see WebhookSigningKey).
absl::StatusOr<std::string> WebhookSignature(std::string_view secret,
                                             std::string_view id,
                                             int64_t timestamp,
                                             std::string_view body);

// Returns whether `header_value` (space-separated "<version>,<signature>"
// entries, several while a secret is being rotated) holds a "v1" signature
// of `id`, `timestamp` and `body` under `secret`. Signatures are compared in
// constant time; entries of other versions are ignored; a malformed secret
// verifies nothing. The caller checks the timestamp's freshness.
bool VerifyWebhookSignature(std::string_view secret, std::string_view id,
                            int64_t timestamp, std::string_view body,
                            std::string_view header_value);

}  // namespace ats::server

#endif  // ATS_SERVER_CONTRACT_WEBHOOK_SIGNATURE_H_
