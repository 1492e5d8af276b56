#ifndef ATS_SERVER_COMMON_VALIDATION_H_
#define ATS_SERVER_COMMON_VALIDATION_H_

// Request validation for the RPC handlers. A Validator collects every bad
// field of a request, so the client fixes them all in one round trip instead
// of discovering them one error at a time:
//
//   Validator v;
//   v.Length("job.title", job.title(), 1, 200);
//   v.PageSize("page_size", request.page_size());
//   if (!v.ok()) return v.status();  // INVALID_ARGUMENT + BadRequest
//
// Every check returns whether the value passed, so a handler can skip checks
// that depend on it. Lengths count Unicode code points ("characters" in the
// proto comments), not bytes.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/generated_enum_reflection.h"
#include "server/common/destination_guard.h"
#include "server/contract/errors.h"

namespace ats::server {

// Page size used when a List request leaves page_size at 0.
inline constexpr int32_t kDefaultPageSize = 50;
// Largest page a List returns; larger requests are served this many.
inline constexpr int32_t kMaxPageSize = 1000;

// Returns the page size to serve for a validated `page_size`: 0 (or a
// negative value, which validation rejects) means kDefaultPageSize, and
// anything above kMaxPageSize is served as kMaxPageSize.
int32_t ClampPageSize(int32_t page_size);

// Returns whether `name` has the form of `pattern`, e.g. "jobs/{job}/stages/
// {stage}" (any text in braces, "{}" included, stands for one id), where each
// id is 1 to 64 characters of [a-z0-9-]; on success stores the ids in order
// in `*ids` (when not null), on failure clears it.
bool ParseResourceName(std::string_view name, std::string_view pattern,
                       std::vector<std::string>* ids);

// Returns `pattern` with its brace placeholders replaced by `ids` in order
// ("jobs/{job}/stages/{stage}", {"a", "b"} gives "jobs/a/stages/b"); the
// number of ids must match the number of placeholders (missing ids format as
// empty, extra ids are ignored).
std::string FormatName(std::string_view pattern,
                       std::initializer_list<std::string_view> ids);

// Collects the field violations of one request. Not thread-safe; use one per
// request.
class Validator {
 public:
  Validator() = default;
  Validator(const Validator&) = delete;
  Validator& operator=(const Validator&) = delete;

  // Records that `field` violates `description` unless `ok`; returns `ok`.
  bool Require(bool ok, std::string_view field, std::string_view description);

  // Checks single-line text (titles, names): valid UTF-8, `min` to `max`
  // code points, and no control characters at all.
  bool Length(std::string_view field, std::string_view value, size_t min,
              size_t max);

  // Checks free text (descriptions, summaries): valid UTF-8, `min` to `max`
  // code points, and no control characters other than newline and tab.
  bool MultilineLength(std::string_view field, std::string_view value,
                       size_t min, size_t max);

  // Checks a List page_size: it must not be negative. Values above
  // kMaxPageSize are accepted (AIP-158) and served clamped by ClampPageSize.
  bool PageSize(std::string_view field, int32_t value);

  // Checks an absolute http:// or https:// URL with a non-empty host, at
  // most 2048 characters, without spaces, control, non-ASCII characters or
  // user:password@ credentials (partners authenticate calls by signature, and
  // URLs end up in logs). Empty passes unless `required`.
  bool Uri(std::string_view field, std::string_view value, bool required);

  // Checks a URL the service will send webhooks to: a required Uri whose
  // host, when it is an IP address in any spelling a resolver accepts
  // (2130706433, 0x7f000001, 127.1, [::ffff:7f00:1], %-escaped), must be one
  // `destinations` allows. A host name passes: it is resolved, and each of
  // its addresses checked, only when connecting (no DNS on the request path).
  bool Destination(std::string_view field, std::string_view value,
                   const DestinationPolicy& destinations);

  // Checks an optional idempotency key: at most 64 characters of
  // [A-Za-z0-9._:-], which admits UUIDs and ULIDs.
  bool RequestId(std::string_view field, std::string_view value);

  // Checks a candidate or trigger tag: 1 to 64 characters of [a-z0-9-_:.].
  bool Tag(std::string_view field, std::string_view value);

  // Checks a configuration or option key: 1 to 64 characters of [a-z0-9_]
  // starting with a letter.
  bool Key(std::string_view field, std::string_view value);

  // Checks an email address pragmatically (the partner or mail server is the
  // real judge): at most 254 characters, one @ with a non-empty local part
  // before it and a domain with an inner dot after it, no whitespace or
  // control characters. Empty passes unless `required`.
  bool Email(std::string_view field, std::string_view value, bool required);

  // Checks an optional phone number: at most 32 characters of digits, spaces
  // and +-()., with at least one digit.
  bool Phone(std::string_view field, std::string_view value);

  // Checks that `value` is a known value of the proto enum `Enum`, using the
  // generated `Enum_IsValid` as `is_valid`; the zero (UNSPECIFIED) value
  // passes only with `allow_unspecified`. The description lists the valid
  // names, since grpcurl users type them.
  template <typename Enum>
  bool EnumValue(std::string_view field, int value, bool (*is_valid)(int),
                 bool allow_unspecified) {
    return CheckEnum(field, value, is_valid(value), allow_unspecified,
                     google::protobuf::GetEnumDescriptor<Enum>());
  }

  // Checks a google.protobuf.Duration: normalized (seconds and nanos share a
  // sign, |nanos| below one second, seconds within the proto's range), not
  // negative, and at most `max`.
  bool Duration(std::string_view field, const google::protobuf::Duration& value,
                absl::Duration max);

  // Checks an Update request's mask: it must name at least one path, and
  // every path must be one of `allowed`.
  bool UpdateMask(std::string_view field,
                  const google::protobuf::FieldMask& mask,
                  std::initializer_list<std::string_view> allowed);

  // Checks that `value` is a resource name of the form `pattern` (see
  // ParseResourceName) and stores its ids in `*ids` (when not null). Empty
  // passes with no ids unless `required`. Write placeholders as they should
  // read in the error, "jobs/{job}"; a bare "{}" is described by its
  // collection in the singular ("apiKeys/{}" reads "apiKeys/{api_key}").
  bool Name(std::string_view field, std::string_view value,
            std::string_view pattern, std::vector<std::string>* ids,
            bool required = true);

  // Returns the violations recorded so far, in the order found.
  const std::vector<FieldViolation>& violations() const { return violations_; }

  // Returns whether no violation has been recorded.
  bool ok() const { return violations_.empty(); }

  // Returns OK, or INVALID_ARGUMENT listing every violation (see
  // InvalidArgument in errors.h).
  absl::Status status() const;

 private:
  bool CheckText(std::string_view field, std::string_view value, size_t min,
                 size_t max, bool multiline);
  bool CheckEnum(std::string_view field, int value, bool valid,
                 bool allow_unspecified,
                 const google::protobuf::EnumDescriptor* descriptor);

  std::vector<FieldViolation> violations_;
};

}  // namespace ats::server

#endif  // ATS_SERVER_COMMON_VALIDATION_H_
