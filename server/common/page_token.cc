#include "server/common/page_token.h"

#include <openssl/sha.h>

#include <cstdint>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/contract/errors.h"

namespace ats::server {
namespace {

// Layout of the decoded token:
//   version (1 byte) | SHA-256(fingerprint)[0..8) | fields | checksum (4)
// where each field is a varint length and its bytes, and the checksum is the
// start of SHA-256 of everything before it. The version lets a later server
// change the layout and reject old tokens cleanly.
constexpr uint8_t kVersion = 1;
constexpr size_t kFingerprintDigestSize = 8;
constexpr size_t kChecksumSize = 4;
// Far above any real cursor; bounds the work an abusive token can cause.
constexpr size_t kMaxTokenLength = 4096;

std::string DigestPrefix(std::string_view data, size_t size) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         digest);
  return std::string(reinterpret_cast<const char*>(digest), size);
}

void AppendVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

// Reads a varint from the front of `*in`, consuming it; false when `*in`
// does not start with one of at most 32 bits.
bool ReadVarint(std::string_view* in, uint64_t* value) {
  *value = 0;
  for (int shift = 0; shift < 35 && !in->empty(); shift += 7) {
    const auto byte = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    *value |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return *value <= UINT32_MAX;
  }
  return false;
}

absl::Status Malformed() {
  return InvalidArgument(
      {{"page_token",
        "is not a page token of this service; pass the next_page_token of "
        "the previous response unchanged, or none for the first page"}});
}

}  // namespace

std::string QueryFingerprint(std::initializer_list<std::string_view> parts) {
  std::string fingerprint;
  for (std::string_view part : parts) {
    AppendVarint(part.size(), &fingerprint);
    fingerprint.append(part);
  }
  return fingerprint;
}

std::string EncodePageToken(const std::vector<std::string>& cursor,
                            std::string_view query_fingerprint) {
  if (cursor.empty()) return "";
  std::string bytes(1, static_cast<char>(kVersion));
  bytes += DigestPrefix(query_fingerprint, kFingerprintDigestSize);
  for (const std::string& field : cursor) {
    AppendVarint(field.size(), &bytes);
    bytes += field;
  }
  bytes += DigestPrefix(bytes, kChecksumSize);
  return absl::WebSafeBase64Escape(bytes);
}

absl::StatusOr<std::vector<std::string>> DecodePageToken(
    std::string_view token, std::string_view query_fingerprint) {
  std::vector<std::string> cursor;
  if (token.empty()) return cursor;
  if (token.size() > kMaxTokenLength) return Malformed();

  std::string bytes;
  // Re-encoding must give the token back: this rejects padding, whitespace
  // and non-canonical trailing bits, so each cursor has exactly one token.
  // (This Abseil build's absl::string_view is not std::string_view.)
  if (!absl::WebSafeBase64Unescape(
          absl::string_view(token.data(), token.size()), &bytes) ||
      absl::WebSafeBase64Escape(bytes) != token) {
    return Malformed();
  }
  if (bytes.size() < 1 + kFingerprintDigestSize + kChecksumSize ||
      static_cast<uint8_t>(bytes[0]) != kVersion) {
    return Malformed();
  }
  std::string_view body(bytes.data(), bytes.size() - kChecksumSize);
  std::string_view checksum =
      std::string_view(bytes).substr(bytes.size() - kChecksumSize);
  if (DigestPrefix(body, kChecksumSize) != checksum) return Malformed();

  std::string_view fingerprint_digest = body.substr(1, kFingerprintDigestSize);
  std::string_view fields = body.substr(1 + kFingerprintDigestSize);
  while (!fields.empty()) {
    uint64_t size = 0;
    if (!ReadVarint(&fields, &size) || size > fields.size()) {
      return Malformed();
    }
    cursor.emplace_back(fields.substr(0, size));
    fields.remove_prefix(size);
  }
  if (cursor.empty()) return Malformed();

  // Checked last: a token that is intact but for other filters deserves the
  // more specific message.
  if (DigestPrefix(query_fingerprint, kFingerprintDigestSize) !=
      fingerprint_digest) {
    return InvalidArgument(
        {{"page_token",
          "does not match the request's filters; send the same filters as "
          "the request that returned it, or start again without a "
          "page_token"}});
  }
  return cursor;
}

}  // namespace ats::server
