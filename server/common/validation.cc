#include "server/common/validation.h"

#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "server/common/string_view.h"

namespace ats::server {
namespace {

constexpr size_t kMaxIdLength = 64;
constexpr size_t kMaxUriLength = 2048;
constexpr size_t kMaxRequestIdLength = 64;
constexpr size_t kMaxTagLength = 64;
constexpr size_t kMaxKeyLength = 64;
constexpr size_t kMaxEmailLength = 254;
constexpr size_t kMaxPhoneLength = 32;
// google.protobuf.Duration's documented range, about 10,000 years.
constexpr int64_t kMaxDurationSeconds = 315'576'000'000;
constexpr int32_t kNanosPerSecond = 1'000'000'000;

// Splits a resource name or pattern at '/'.
std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    segments.push_back(path.substr(start, slash - start));
    if (slash == std::string_view::npos) return segments;
    start = slash + 1;
  }
}

// Joins `items` with ", " for messages listing the valid choices.
template <typename Container>
std::string CommaList(const Container& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out.append(item.data(), item.size());
  }
  return out;
}

struct TextScan {
  size_t code_points = 0;
  bool has_forbidden_control = false;
};

// Decodes `text` strictly (no overlong forms, surrogates or code points past
// U+10FFFF), counting code points and noting control characters other than
// those `multiline` allows; nullopt when `text` is not valid UTF-8.
std::optional<TextScan> ScanText(std::string_view text, bool multiline) {
  TextScan scan;
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    uint32_t cp;
    size_t extra;
    uint32_t min_cp;
    if (lead < 0x80) {
      cp = lead, extra = 0, min_cp = 0;
    } else if ((lead & 0xE0) == 0xC0) {
      cp = lead & 0x1F, extra = 1, min_cp = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      cp = lead & 0x0F, extra = 2, min_cp = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      cp = lead & 0x07, extra = 3, min_cp = 0x10000;
    } else {
      return std::nullopt;
    }
    if (extra >= text.size() - i) return std::nullopt;
    for (size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (next & 0x3F);
    }
    if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return std::nullopt;
    }
    const bool control = cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
    if (control && !(multiline && (cp == '\n' || cp == '\t'))) {
      scan.has_forbidden_control = true;
    }
    ++scan.code_points;
    i += extra + 1;
  }
  return scan;
}

// Describes an allowed length range the way the proto comments do.
std::string LengthRange(size_t min, size_t max) {
  if (min == 0) return absl::StrCat("must be at most ", max, " characters");
  if (min == max) return absl::StrCat("must be exactly ", min, " characters");
  return absl::StrCat("must be ", min, " to ", max, " characters");
}

template <typename Predicate>
bool AllOf(std::string_view value, Predicate allowed) {
  return std::all_of(value.begin(), value.end(), allowed);
}

bool IsIdChar(char c) {
  return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-';
}

bool IsResourceId(std::string_view id) {
  return !id.empty() && id.size() <= kMaxIdLength && AllOf(id, IsIdChar);
}

bool IsPlaceholder(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// "apiKeys" -> "api_key", "jobs" -> "job", "entries" -> "entry".
std::string SingularSnakeCase(std::string_view collection) {
  std::string out;
  for (char c : collection) {
    if (absl::ascii_isupper(c)) {
      out.push_back('_');
      out.push_back(absl::ascii_tolower(c));
    } else {
      out.push_back(c);
    }
  }
  if (absl::EndsWith(out, "ies")) {
    out.replace(out.size() - 3, 3, "y");
  } else if (absl::EndsWith(out, "s")) {
    out.pop_back();
  }
  return out;
}

// The pattern as an error message shows it: "{}" placeholders get the
// singular of their collection.
std::string DisplayPattern(std::string_view pattern) {
  std::vector<std::string_view> segments = Segments(pattern);
  std::string out;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out.push_back('/');
    if (i > 0 && segments[i] == "{}") {
      absl::StrAppend(&out, "{", SingularSnakeCase(segments[i - 1]), "}");
    } else {
      out.append(segments[i]);
    }
  }
  return out;
}

// Characters RFC 3986 allows literally in a URL (unreserved, reserved and
// '%'): everything else must be percent-encoded.
bool IsUrlChar(char c) {
  if (absl::ascii_isalnum(c)) return true;
  return std::string_view("-._~:/?#[]@!$&'()*+,;=%").find(c) !=
         std::string_view::npos;
}

bool IsHostChar(char c) {
  return absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
         c == '~' || c == '%';
}

enum class UrlProblem { kNone, kCharacters, kForm, kCredentials };

// Checks the form of `url`; on success stores its host (an IPv6 address
// without its brackets) in `*host_out` when not null.
UrlProblem CheckUrl(std::string_view url, std::string_view* host_out) {
  if (!AllOf(url, IsUrlChar)) return UrlProblem::kCharacters;
  std::string_view rest;
  if (absl::StartsWithIgnoreCase(AbslView(url), "https://")) {
    rest = url.substr(8);
  } else if (absl::StartsWithIgnoreCase(AbslView(url), "http://")) {
    rest = url.substr(7);
  } else {
    return UrlProblem::kForm;
  }
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) {
    return UrlProblem::kCredentials;
  }
  std::string_view host = authority;
  std::string_view port;
  // An IPv6 literal comes in brackets, as in https://[::1]:8443/hook.
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos || close < 2) return UrlProblem::kForm;
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return UrlProblem::kForm;
      port = after.substr(1);
      if (port.empty()) return UrlProblem::kForm;
    }
    const bool ipv6 = AllOf(host, [](char c) {
      return absl::ascii_isxdigit(c) || c == ':' || c == '.';
    });
    if (!ipv6) return UrlProblem::kForm;
  } else {
    const size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      if (port.empty()) return UrlProblem::kForm;
    }
    if (host.empty() || !AllOf(host, IsHostChar)) return UrlProblem::kForm;
  }
  if (!port.empty()) {
    uint32_t number = 0;
    if (port.size() > 5 ||
        !AllOf(port, [](char c) { return absl::ascii_isdigit(c); }) ||
        !absl::SimpleAtoi(AbslView(port), &number) || number == 0 ||
        number > 65535) {
      return UrlProblem::kForm;
    }
  }
  if (host_out != nullptr) *host_out = host;
  return UrlProblem::kNone;
}

// Returns `host` with its %XX escapes decoded (curl may decode them before
// resolving), or nullopt when an escape is malformed or decodes to a byte
// no host has.
std::optional<std::string> PercentDecodedHost(std::string_view host) {
  const auto hex = [](char c) {
    return absl::ascii_isdigit(c) ? c - '0' : absl::ascii_tolower(c) - 'a' + 10;
  };
  std::string out;
  for (size_t i = 0; i < host.size(); ++i) {
    if (host[i] != '%') {
      out.push_back(host[i]);
      continue;
    }
    if (i + 2 >= host.size() || !absl::ascii_isxdigit(host[i + 1]) ||
        !absl::ascii_isxdigit(host[i + 2])) {
      return std::nullopt;
    }
    const char c = static_cast<char>(hex(host[i + 1]) * 16 + hex(host[i + 2]));
    if (!IsHostChar(c) || c == '%') return std::nullopt;
    out.push_back(c);
    i += 2;
  }
  return out;
}

bool IsEmailShaped(std::string_view email) {
  std::optional<TextScan> scan = ScanText(email, /*multiline=*/false);
  if (!scan.has_value() || scan->has_forbidden_control) return false;
  if (email.find_first_of(" \t\r\n") != std::string_view::npos) return false;
  const size_t at = email.find('@');
  if (at == std::string_view::npos || at == 0) return false;
  std::string_view domain = email.substr(at + 1);
  if (domain.find('@') != std::string_view::npos) return false;
  return domain.size() >= 3 && domain.front() != '.' && domain.back() != '.' &&
         domain.find('.') != std::string_view::npos;
}

}  // namespace

int32_t ClampPageSize(int32_t page_size) {
  if (page_size <= 0) return kDefaultPageSize;
  return std::min(page_size, kMaxPageSize);
}

bool ParseResourceName(std::string_view name, std::string_view pattern,
                       std::vector<std::string>* ids) {
  std::vector<std::string> found;
  const std::vector<std::string_view> name_segments = Segments(name);
  const std::vector<std::string_view> pattern_segments = Segments(pattern);
  bool ok = name_segments.size() == pattern_segments.size();
  for (size_t i = 0; ok && i < name_segments.size(); ++i) {
    if (IsPlaceholder(pattern_segments[i])) {
      ok = IsResourceId(name_segments[i]);
      found.emplace_back(name_segments[i]);
    } else {
      ok = name_segments[i] == pattern_segments[i];
    }
  }
  if (ids != nullptr) {
    ids->clear();
    if (ok) *ids = std::move(found);
  }
  return ok;
}

std::string FormatName(std::string_view pattern,
                       std::initializer_list<std::string_view> ids) {
  // Called for every name in every response: one pass, one allocation.
  size_t size = pattern.size();
  for (std::string_view id : ids) size += id.size();
  std::string name;
  name.reserve(size);
  auto next_id = ids.begin();
  for (size_t start = 0;;) {
    const size_t slash = pattern.find('/', start);
    const std::string_view segment = pattern.substr(start, slash - start);
    if (!IsPlaceholder(segment)) {
      name.append(segment);
    } else if (next_id != ids.end()) {
      name.append(*next_id++);
    }
    if (slash == std::string_view::npos) return name;
    name.push_back('/');
    start = slash + 1;
  }
}

bool Validator::Require(bool ok, std::string_view field,
                        std::string_view description) {
  if (!ok) {
    violations_.push_back({std::string(field), std::string(description)});
  }
  return ok;
}

bool Validator::CheckText(std::string_view field, std::string_view value,
                          size_t min, size_t max, bool multiline) {
  std::optional<TextScan> scan = ScanText(value, multiline);
  if (!scan.has_value()) return Require(false, field, "must be valid UTF-8");
  if (scan->code_points < min || scan->code_points > max) {
    return Require(false, field, LengthRange(min, max));
  }
  return Require(!scan->has_forbidden_control, field,
                 multiline ? "must not contain control characters other than "
                             "newline and tab"
                           : "must not contain control characters such as "
                             "newlines or tabs");
}

bool Validator::Length(std::string_view field, std::string_view value,
                       size_t min, size_t max) {
  return CheckText(field, value, min, max, /*multiline=*/false);
}

bool Validator::MultilineLength(std::string_view field, std::string_view value,
                                size_t min, size_t max) {
  return CheckText(field, value, min, max, /*multiline=*/true);
}

bool Validator::PageSize(std::string_view field, int32_t value) {
  return Require(value >= 0, field, "must not be negative");
}

bool Validator::Uri(std::string_view field, std::string_view value,
                    bool required) {
  constexpr char kForm[] =
      "an absolute http:// or https:// URL with a host, e.g. "
      "https://partner.example.com/hooks";
  if (value.empty()) {
    return Require(!required, field, absl::StrCat("is required: ", kForm));
  }
  if (value.size() > kMaxUriLength) {
    return Require(false, field, LengthRange(0, kMaxUriLength));
  }
  switch (CheckUrl(value, nullptr)) {
    case UrlProblem::kNone:
      return true;
    case UrlProblem::kCharacters:
      return Require(false, field,
                     "must contain only characters allowed in a URL; "
                     "percent-encode spaces and non-ASCII characters");
    case UrlProblem::kCredentials:
      return Require(false, field,
                     "must not contain user:password@ credentials; calls are "
                     "authenticated by their webhook signature");
    case UrlProblem::kForm:
      break;
  }
  return Require(false, field, absl::StrCat("must be ", kForm));
}

bool Validator::Destination(std::string_view field, std::string_view value,
                            const DestinationPolicy& destinations) {
  if (!Uri(field, value, /*required=*/true)) return false;
  std::string_view host;
  CheckUrl(value, &host);
  const std::optional<std::string> decoded = PercentDecodedHost(host);
  if (!decoded.has_value()) {
    return Require(false, field,
                   "must have a host without malformed %-escapes");
  }
  const std::optional<IpAddress> address = ParseIpLiteral(*decoded);
  if (!address.has_value()) return true;  // A name: checked on connect.
  const std::optional<std::string> refused = destinations.WhyRefused(*address);
  if (!refused.has_value()) return true;
  const std::string shown = address->ToString();
  return Require(
      false, field,
      absl::StrCat("must not point at ", shown,
                   shown == host ? ""
                                 : absl::StrCat(" (written \"",
                                                AbslView(host), "\")"),
                   ", which is ", *refused,
                   ": webhooks go to public addresses only, unless the "
                   "server's --allowed_destination_networks opens the range"));
}

bool Validator::RequestId(std::string_view field, std::string_view value) {
  const bool ok =
      value.size() <= kMaxRequestIdLength && AllOf(value, [](char c) {
        return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == ':' ||
               c == '-';
      });
  return Require(ok, field,
                 "must be at most 64 characters of letters, digits, '.', '_', "
                 "':' and '-' (a UUID fits)");
}

bool Validator::Tag(std::string_view field, std::string_view value) {
  const bool ok = !value.empty() && value.size() <= kMaxTagLength &&
                  AllOf(value, [](char c) {
                    return absl::ascii_islower(c) || absl::ascii_isdigit(c) ||
                           c == '-' || c == '_' || c == ':' || c == '.';
                  });
  return Require(ok, field,
                 "must be 1 to 64 characters of lower-case letters, digits, "
                 "'-', '_', ':' and '.'");
}

bool Validator::Key(std::string_view field, std::string_view value) {
  const bool ok =
      !value.empty() && value.size() <= kMaxKeyLength &&
      absl::ascii_islower(value.front()) && AllOf(value, [](char c) {
        return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_';
      });
  return Require(ok, field,
                 "must be 1 to 64 characters of lower-case letters, digits "
                 "and '_', starting with a letter");
}

bool Validator::Email(std::string_view field, std::string_view value,
                      bool required) {
  if (value.empty()) {
    return Require(!required, field,
                   "is required: an email address like name@example.com");
  }
  if (value.size() > kMaxEmailLength) {
    return Require(false, field, LengthRange(0, kMaxEmailLength));
  }
  return Require(IsEmailShaped(value), field,
                 "must be an email address like name@example.com: one '@', a "
                 "domain with a dot, no spaces");
}

bool Validator::Phone(std::string_view field, std::string_view value) {
  if (value.empty()) return true;
  const bool ok =
      value.size() <= kMaxPhoneLength &&
      std::any_of(value.begin(), value.end(),
                  [](char c) { return absl::ascii_isdigit(c); }) &&
      AllOf(value, [](char c) {
        return absl::ascii_isdigit(c) ||
               std::string_view(" +-().").find(c) != std::string_view::npos;
      });
  return Require(ok, field,
                 "must be at most 32 characters of digits, spaces and "
                 "'+-().', with at least one digit");
}

bool Validator::CheckEnum(std::string_view field, int value, bool valid,
                          bool allow_unspecified,
                          const google::protobuf::EnumDescriptor* descriptor) {
  if (valid && (value != 0 || allow_unspecified)) return true;
  std::vector<std::string> names;
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* v = descriptor->value(i);
    if (v->number() != 0 || allow_unspecified) names.push_back(v->name());
  }
  const std::string choices = CommaList(names);
  if (value == 0) {
    return Require(false, field, absl::StrCat("is required: one of ", choices));
  }
  return Require(
      false, field,
      absl::StrCat("has unknown value ", value, "; must be one of ", choices));
}

bool Validator::Duration(std::string_view field,
                         const google::protobuf::Duration& value,
                         absl::Duration max) {
  const int64_t seconds = value.seconds();
  const int32_t nanos = value.nanos();
  const bool normalized =
      seconds >= -kMaxDurationSeconds && seconds <= kMaxDurationSeconds &&
      nanos > -kNanosPerSecond && nanos < kNanosPerSecond &&
      !(seconds > 0 && nanos < 0) && !(seconds < 0 && nanos > 0);
  if (!normalized) {
    return Require(false, field,
                   "must be a normalized duration: seconds and nanos of the "
                   "same sign, nanos below one second");
  }
  if (seconds < 0 || nanos < 0) {
    return Require(false, field, "must not be negative");
  }
  const absl::Duration duration =
      absl::Seconds(seconds) + absl::Nanoseconds(nanos);
  return Require(duration <= max, field,
                 absl::StrCat("must be at most ", absl::FormatDuration(max)));
}

bool Validator::UpdateMask(std::string_view field,
                           const google::protobuf::FieldMask& mask,
                           std::initializer_list<std::string_view> allowed) {
  const std::string allowed_list = CommaList(allowed);
  if (mask.paths_size() == 0) {
    return Require(false, field,
                   absl::StrCat("is required: list the fields to change, "
                                "among: ",
                                allowed_list));
  }
  bool ok = true;
  for (const std::string& path : mask.paths()) {
    const bool known =
        std::find(allowed.begin(), allowed.end(), path) != allowed.end();
    ok &= Require(known, field,
                  absl::StrCat("has unknown or read-only path \"", path,
                               "\"; allowed paths: ", allowed_list));
  }
  return ok;
}

bool Validator::Name(std::string_view field, std::string_view value,
                     std::string_view pattern, std::vector<std::string>* ids,
                     bool required) {
  if (value.empty() && !required) {
    if (ids != nullptr) ids->clear();
    return true;
  }
  const bool ok = ParseResourceName(value, pattern, ids);
  if (ok) return true;
  const std::string form = DisplayPattern(pattern);
  if (value.empty()) {
    return Require(
        false, field,
        absl::StrCat("is required: a resource name of the form ", form));
  }
  return Require(false, field,
                 absl::StrCat("must be a resource name of the form ", form,
                              ", each id 1 to 64 characters of [a-z0-9-]"));
}

absl::Status Validator::status() const {
  if (ok()) return absl::OkStatus();
  return InvalidArgument(violations_);
}

}  // namespace ats::server
