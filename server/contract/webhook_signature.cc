#include "server/contract/webhook_signature.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/contract/digests.h"

namespace ats::server {
namespace {

constexpr std::string_view kVersionPrefix = "v1,";

// Returns the signed content: "<id>.<timestamp>.<body>".
std::string SignedContent(std::string_view id, int64_t timestamp,
                          std::string_view body) {
  std::string content;
  const std::string timestamp_text = std::to_string(timestamp);
  content.reserve(id.size() + timestamp_text.size() + body.size() + 2);
  content.append(id);
  content.push_back('.');
  content.append(timestamp_text);
  content.push_back('.');
  content.append(body);
  return content;
}

}  // namespace

absl::StatusOr<std::string> WebhookSigningKey(std::string_view secret) {
  const std::string_view prefix = kWebhookSecretPrefix;
  if (secret.substr(0, prefix.size()) != prefix) {
    return absl::InvalidArgumentError(
        absl::StrCat("webhook signing secret must start with \"",
                     kWebhookSecretPrefix, "\""));
  }
  const std::string encoded(secret.substr(prefix.size()));
  // absl::Base64Unescape also accepts the web-safe alphabet; the secret
  // format is the standard one, so refuse anything else.
  for (const char c : encoded) {
    const bool standard = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '+' || c == '/' ||
                          c == '=';
    if (!standard) {
      return absl::InvalidArgumentError(
          "webhook signing secret is not standard base64 after \"whsec_\"");
    }
  }
  std::string key;
  if (!absl::Base64Unescape(encoded, &key)) {
    return absl::InvalidArgumentError(
        "webhook signing secret is not valid base64 after \"whsec_\"");
  }
  if (key.empty()) {
    return absl::InvalidArgumentError("webhook signing secret has an empty key");
  }
  return key;
}

absl::StatusOr<std::string> WebhookSignature(std::string_view secret,
                                             std::string_view id,
                                             int64_t timestamp,
                                             std::string_view body) {
  absl::StatusOr<std::string> key = WebhookSigningKey(secret);
  if (!key.ok()) return key.status();
  std::string signature(kVersionPrefix);
  signature += HmacSha256Base64(*key, SignedContent(id, timestamp, body));
  return signature;
}

bool VerifyWebhookSignature(std::string_view secret, std::string_view id,
                            int64_t timestamp, std::string_view body,
                            std::string_view header_value) {
  absl::StatusOr<std::string> key = WebhookSigningKey(secret);
  if (!key.ok()) return false;
  const std::string expected =
      HmacSha256Base64(*key, SignedContent(id, timestamp, body));
  bool matched = false;
  size_t start = 0;
  while (start <= header_value.size()) {
    size_t end = header_value.find(' ', start);
    if (end == std::string_view::npos) end = header_value.size();
    const std::string_view entry = header_value.substr(start, end - start);
    if (entry.substr(0, kVersionPrefix.size()) == kVersionPrefix &&
        ConstantTimeEquals(entry.substr(kVersionPrefix.size()), expected)) {
      // Keep going: every entry is compared, whichever one matches.
      matched = true;
    }
    start = end + 1;
  }
  return matched;
}

}  // namespace ats::server
