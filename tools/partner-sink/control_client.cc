#include "tools/partner-sink/control_client.h"

#include <httplib.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace ats::partner_sink {
namespace {

using google::protobuf::Struct;

int64_t Integer(const Struct& object, const char* field) {
  auto it = object.fields().find(field);
  return it == object.fields().end()
             ? 0
             : static_cast<int64_t>(it->second.number_value());
}

// The list `field` of `object`; empty when it has none.
const google::protobuf::RepeatedPtrField<google::protobuf::Value>& List(
    const Struct& object, const char* field) {
  static const google::protobuf::ListValue kEmpty;
  auto it = object.fields().find(field);
  return (it == object.fields().end() ? kEmpty : it->second.list_value())
      .values();
}

std::string Text(const Struct& object, const char* field) {
  auto it = object.fields().find(field);
  return it == object.fields().end() ? "" : it->second.string_value();
}

// `body`, the answer to GET `path`, as a JSON object, with its counts read
// into `counts`.
absl::StatusOr<Struct> ParseCounted(const std::string& path,
                                    const absl::StatusOr<std::string>& body,
                                    SinkCounts* counts) {
  if (!body.ok()) return body.status();
  Struct object;
  if (!google::protobuf::util::JsonStringToMessage(*body, &object).ok()) {
    return absl::DataLossError(absl::StrCat(
        "the partner sink's ", path, " is no JSON object: ", *body));
  }
  counts->accepted = Integer(object, "accepted");
  counts->duplicates = Integer(object, "duplicates");
  counts->rejected = Integer(object, "rejected");
  counts->failed = Integer(object, "failed");
  return object;
}

}  // namespace

double SinkStats::accept_rate() const {
  const int64_t span_ms = last_accept_unix_ms - first_accept_unix_ms;
  if (accepted < 2 || span_ms <= 0) return 0;
  return (accepted - 1) * 1000.0 / span_ms;
}

absl::StatusOr<std::string> SinkControl::Call(const std::string& method,
                                              const std::string& path,
                                              const std::string& body) const {
  std::pair<std::string, std::string> host_port =
      absl::StrSplit(address_, absl::MaxSplits(':', 1));
  httplib::Client client(host_port.first, std::stoi(host_port.second));
  client.set_connection_timeout(5);
  // /received of a large run is big; a programmed delay never applies here.
  client.set_read_timeout(30);
  httplib::Result result = method == "GET"
                               ? client.Get(path)
                               : client.Post(path, body, "application/json");
  if (!result) {
    return absl::UnavailableError(absl::StrCat(
        method, " ", path, " to the partner sink at ", address_, " failed: ",
        httplib::to_string(result.error())));
  }
  if (result->status != 200) {
    return absl::FailedPreconditionError(
        absl::StrCat(method, " ", path, " to the partner sink answered ",
                     result->status, ": ", result->body));
  }
  return result->body;
}

absl::Status SinkControl::AddSecret(const std::string& secret) const {
  Struct body;
  (*body.mutable_fields())["secret"].set_string_value(secret);
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(body, &json).ok()) {
    return absl::InternalError("cannot encode the secret as JSON");
  }
  return Call("POST", "/secrets", json).status();
}

absl::Status SinkControl::SetBehaviour(const std::string& json) const {
  return Call("POST", "/behaviour", json).status();
}

absl::Status SinkControl::Reset() const {
  return Call("POST", "/reset", "{}").status();
}

absl::StatusOr<SinkStats> SinkControl::Stats() const {
  SinkStats stats;
  auto json = ParseCounted("/stats", Call("GET", "/stats", ""), &stats);
  if (!json.ok()) return json.status();
  stats.first_accept_unix_ms = Integer(*json, "first_accept_unix_ms");
  stats.last_accept_unix_ms = Integer(*json, "last_accept_unix_ms");
  return stats;
}

absl::StatusOr<SinkReceived> SinkControl::Received() const {
  SinkReceived received;
  auto json =
      ParseCounted("/received", Call("GET", "/received", ""), &received);
  if (!json.ok()) return json.status();
  for (const auto& value : List(*json, "events")) {
    const Struct& event = value.struct_value();
    received.deliveries[Text(event, "id")] = Integer(event, "deliveries");
    received.bodies[Text(event, "id")] = Text(event, "body");
  }
  for (const auto& value : List(*json, "rejections")) {
    received.rejections.push_back(
        absl::StrCat(Text(value.struct_value(), "id"), ": ",
                     Text(value.struct_value(), "reason")));
  }
  return received;
}

}  // namespace ats::partner_sink
