#ifndef ATS_SERVER_CONTRACT_PROTO_JSON_H_
#define ATS_SERVER_CONTRACT_PROTO_JSON_H_

// Protobuf messages as proto3 JSON, fast enough to encode every webhook
// body on every attempt. Protobuf 3.21's printer resolves each message type
// into a google.protobuf.Type on every call; that was two thirds of the
// dispatcher thread's time. This walks the message's reflection once.

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace ats::server {

// Sets `*json` to `message` in proto3 JSON with the mapping's default
// options (lowerCamel field names, fields at their default left out, enums
// by name, 64-bit integers as strings): the same value as
// google::protobuf::util::MessageToJsonString gives, though not always the
// same bytes (non-ASCII characters are written as themselves, not escaped).
// Messages holding what this does not write itself (floating point, bytes,
// well-known types other than Timestamp, invalid UTF-8, deep nesting) are
// written by MessageToJsonString; if that fails, its error is returned and
// `*json` is left empty.
absl::Status MessageToJson(const google::protobuf::Message& message,
                           std::string* json);

}  // namespace ats::server

#endif  // ATS_SERVER_CONTRACT_PROTO_JSON_H_
