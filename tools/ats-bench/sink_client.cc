#include "tools/ats-bench/sink_client.h"

#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace ats::bench {
namespace {

absl::StatusOr<std::string> Send(const std::string& address,
                                 const std::string& method,
                                 const std::string& path,
                                 const std::string& body) {
  std::pair<std::string, std::string> host_port =
      absl::StrSplit(address, absl::MaxSplits(':', 1));
  httplib::Client client(host_port.first, std::stoi(host_port.second));
  httplib::Result result = method == "GET"
                               ? client.Get(path)
                               : client.Post(path, body, "application/json");
  if (!result) {
    return absl::UnavailableError(absl::StrCat(
        method, " ", path, " to the partner sink at ", address, " failed: ",
        httplib::to_string(result.error())));
  }
  if (result->status != 200) {
    return absl::FailedPreconditionError(
        absl::StrCat(method, " ", path, " to the partner sink answered ",
                     result->status, ": ", result->body));
  }
  return result->body;
}

}  // namespace

double SinkStats::accept_rate() const {
  const int64_t span_ms = last_accept_unix_ms - first_accept_unix_ms;
  if (accepted < 2 || span_ms <= 0) return 0;
  return (accepted - 1) * 1000.0 / span_ms;
}

absl::Status SinkClient::AddSecret(const std::string& secret) const {
  google::protobuf::Struct body;
  (*body.mutable_fields())["secret"].set_string_value(secret);
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(body, &json).ok()) {
    return absl::InternalError("cannot encode the secret as JSON");
  }
  return Send(address_, "POST", "/secrets", json).status();
}

absl::Status SinkClient::Reset() const {
  return Send(address_, "POST", "/reset", "{}").status();
}

absl::StatusOr<SinkStats> SinkClient::Stats() const {
  auto body = Send(address_, "GET", "/stats", "");
  if (!body.ok()) return body.status();
  google::protobuf::Struct json;
  if (!google::protobuf::util::JsonStringToMessage(*body, &json).ok()) {
    return absl::DataLossError(
        absl::StrCat("the partner sink's /stats is no JSON object: ", *body));
  }
  auto number = [&json](const char* field) {
    auto it = json.fields().find(field);
    return it == json.fields().end()
               ? int64_t{0}
               : static_cast<int64_t>(it->second.number_value());
  };
  SinkStats stats;
  stats.accepted = number("accepted");
  stats.duplicates = number("duplicates");
  stats.rejected = number("rejected");
  stats.failed = number("failed");
  stats.first_accept_unix_ms = number("first_accept_unix_ms");
  stats.last_accept_unix_ms = number("last_accept_unix_ms");
  return stats;
}

}  // namespace ats::bench
