#include "tests/dispatch/sink_process.h"

#include <httplib.h>

#include <regex>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace ats::testing {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(20);

int64_t Integer(const google::protobuf::Struct& object, const char* field) {
  auto it = object.fields().find(field);
  return it == object.fields().end()
             ? 0
             : static_cast<int64_t>(it->second.number_value());
}

std::string Text(const google::protobuf::Struct& object, const char* field) {
  auto it = object.fields().find(field);
  return it == object.fields().end() ? "" : it->second.string_value();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SinkProcess>> SinkProcess::Start(
    const std::string& binary) {
  auto process = ChildProcess::Start({binary, "--listen", "127.0.0.1:0"});
  if (!process.ok()) return process.status();
  static const std::regex kListening(
      R"(partner-sink listening on 127\.0\.0\.1:(\d+))");
  const absl::Time deadline = absl::Now() + kStartTimeout;
  for (;;) {
    const std::string log = process->Log();
    std::smatch match;
    int port = 0;
    if (std::regex_search(log, match, kListening) &&
        absl::SimpleAtoi(match[1].str(), &port)) {
      return std::unique_ptr<SinkProcess>(
          new SinkProcess(*std::move(process), port));
    }
    if (!process->Running() || absl::Now() > deadline) {
      return absl::UnavailableError(
          absl::StrCat("partner-sink did not start; its log:\n", log));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

std::string SinkProcess::webhook_url() const {
  return absl::StrCat("http://127.0.0.1:", port_, "/webhooks");
}

absl::StatusOr<std::string> SinkProcess::Post(const std::string& path,
                                              const std::string& json) {
  httplib::Client client("127.0.0.1", port_);
  client.set_connection_timeout(5);
  client.set_read_timeout(10);
  auto result = client.Post(path, json, "application/json");
  if (!result) {
    return absl::UnavailableError(
        absl::StrCat("POST ", path, " failed: ", httplib::to_string(result.error())));
  }
  if (result->status != 200) {
    return absl::InternalError(absl::StrCat("POST ", path, " answered ",
                                            result->status, ": ",
                                            result->body));
  }
  return result->body;
}

absl::Status SinkProcess::AddSecret(const std::string& secret) {
  return Post("/secrets", absl::StrCat(R"({"secret": ")", secret, R"("})"))
      .status();
}

absl::Status SinkProcess::SetBehaviour(const std::string& json) {
  return Post("/behaviour", json).status();
}

absl::StatusOr<SinkReceived> SinkProcess::Received() {
  httplib::Client client("127.0.0.1", port_);
  client.set_connection_timeout(5);
  client.set_read_timeout(10);
  auto result = client.Get("/received");
  if (!result || result->status != 200) {
    return absl::UnavailableError("GET /received failed");
  }
  google::protobuf::Struct object;
  auto parsed =
      google::protobuf::util::JsonStringToMessage(result->body, &object);
  if (!parsed.ok()) {
    return absl::InternalError(
        absl::StrCat("GET /received is no JSON object: ", result->body));
  }
  SinkReceived received;
  received.accepted = Integer(object, "accepted");
  received.duplicates = Integer(object, "duplicates");
  received.rejected = Integer(object, "rejected");
  received.failed = Integer(object, "failed");
  for (const auto& value : object.fields().at("events").list_value().values()) {
    const google::protobuf::Struct& event = value.struct_value();
    received.deliveries[Text(event, "id")] = Integer(event, "deliveries");
    received.bodies[Text(event, "id")] = Text(event, "body");
  }
  for (const auto& value :
       object.fields().at("rejections").list_value().values()) {
    received.rejections.push_back(
        absl::StrCat(Text(value.struct_value(), "id"), ": ",
                     Text(value.struct_value(), "reason")));
  }
  return received;
}

}  // namespace ats::testing
