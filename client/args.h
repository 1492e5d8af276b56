// Turning command-line words into request fields: resource names, enum
// values, key=value options, durations, times, JSON files.
#ifndef ATS_CLIENT_ARGS_H_
#define ATS_CLIENT_ARGS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "client/errors.h"
#include "client/output.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/generated_enum_reflection.h"
#include "google/protobuf/map.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"

namespace ats::client {

// `id` as a resource name in `collection`: "jobs/abc" stays as it is, "abc"
// becomes "jobs/abc".
std::string Qualified(const std::string& collection, const std::string& id);

// Puts "key=value" words (of flag `flag`, for the error message) into `map`.
void PutKeyValues(const std::vector<std::string>& words,
                  const std::string& flag,
                  google::protobuf::Map<std::string, std::string>* map);

// Reads file `path` of proto3 JSON into `message`; throws UsageError when it
// cannot be read or parsed.
void ReadJsonFile(const std::string& path, google::protobuf::Message* message);

// Parses a duration such as "90s", "2h" or "1h30m".
google::protobuf::Duration ParseDuration(const std::string& text);

// Parses an RFC 3339 time such as "2026-12-01T00:00:00Z" (of flag `flag`,
// for the error message).
google::protobuf::Timestamp ParseTime(const std::string& text,
                                      const std::string& flag);

// The labels of E's values except UNSPECIFIED, lower case: "open, closed".
template <typename E>
std::string EnumChoices() {
  const auto* type = google::protobuf::GetEnumDescriptor<E>();
  std::vector<std::string> labels;
  for (int i = 0; i < type->value_count(); ++i) {
    if (type->value(i)->number() == 0) continue;
    labels.push_back(absl::AsciiStrToLower(EnumLabel(type->value(i))));
  }
  return absl::StrJoin(labels, ", ");
}

// Parses a value of E by its label or full name, in any case ("open",
// "JOB_STATE_OPEN"); throws UsageError naming the choices otherwise.
template <typename E>
E ParseEnum(const std::string& text, const std::string& flag) {
  const auto* type = google::protobuf::GetEnumDescriptor<E>();
  const std::string upper = absl::AsciiStrToUpper(text);
  for (int i = 0; i < type->value_count(); ++i) {
    const auto* value = type->value(i);
    if (value->number() != 0 &&
        (EnumLabel(value) == upper || value->name() == upper)) {
      return static_cast<E>(value->number());
    }
  }
  throw UsageError(flag + ": \"" + text + "\" is not one of " +
                   EnumChoices<E>());
}

}  // namespace ats::client

#endif  // ATS_CLIENT_ARGS_H_
