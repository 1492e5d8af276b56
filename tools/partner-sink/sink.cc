#include "tools/partner-sink/sink.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <cmath>
#include <cstdio>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/contract/webhook_signature.h"

namespace ats::partner_sink {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

constexpr size_t kMaxRejectionsKept = 50;
constexpr size_t kMaxBodyBytes = 100 * 1024 * 1024;

// Returns the first value of header `name` (any case), or "".
std::string HeaderValue(const Headers& headers, const char* name) {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

// Returns `text` as a JSON string literal. Bytes from 0x80 up pass through
// (bodies are UTF-8 JSON).
std::string Json(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[7];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
          out += escaped;
        } else {
          out.push_back(c);
        }
    }
  }
  out += "\"";
  return out;
}

std::string JsonTime(absl::Time time) {
  return Json(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time,
                               absl::UTCTimeZone()));
}

// The JSON object of `event`; with its headers when `with_headers`.
std::string EventToJson(const ReceivedEvent& event, bool with_headers) {
  std::string json = absl::StrCat(
      "{\"id\":", Json(event.id), ",\"timestamp\":", event.timestamp,
      ",\"path\":", Json(event.path), ",\"receive_time\":",
      JsonTime(event.receive_time), ",\"deliveries\":", event.deliveries,
      ",\"body\":", Json(event.body));
  if (with_headers) {
    json += ",\"headers\":{";
    for (size_t i = 0; i < event.headers.size(); ++i) {
      absl::StrAppend(&json, i == 0 ? "" : ",", Json(event.headers[i].first),
                      ":", Json(event.headers[i].second));
    }
    json += "}";
  }
  return json + "}";
}

// Parses `json` as one JSON object.
absl::StatusOr<Struct> ParseObject(const std::string& json) {
  Struct object;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &object);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("body is not a JSON object: ", status.ToString()));
  }
  return object;
}

// Returns `value` as an integer in [min, max], or an error naming `field`.
absl::StatusOr<int64_t> IntegerField(const std::string& field,
                                     const Value& value, int64_t min,
                                     int64_t max) {
  const double number = value.number_value();
  if (value.kind_case() != Value::kNumberValue || number != std::floor(number) ||
      number < static_cast<double>(min) || number > static_cast<double>(max)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", field, "\" must be an integer from ", min, " to ", max));
  }
  return static_cast<int64_t>(number);
}

absl::StatusOr<std::string> StringField(const std::string& field,
                                        const Value& value) {
  if (value.kind_case() != Value::kStringValue) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", field, "\" must be a string"));
  }
  return value.string_value();
}

}  // namespace

Sink::Sink(std::vector<std::string> secrets, absl::Duration tolerance,
           std::string form)
    : initial_secrets_(std::move(secrets)),
      tolerance_(tolerance),
      form_(std::move(form)),
      secrets_(
          std::make_shared<const std::vector<std::string>>(initial_secrets_)) {}

std::string Sink::VerificationError(const WebhookRequest& request,
                                    absl::Time now, const Secrets& secrets,
                                    std::string& id, int64_t& timestamp) const {
  id = HeaderValue(request.headers, server::kWebhookIdHeader);
  const std::string timestamp_text =
      HeaderValue(request.headers, server::kWebhookTimestampHeader);
  const std::string signature =
      HeaderValue(request.headers, server::kWebhookSignatureHeader);
  if (id.empty()) return "missing webhook-id";
  if (!absl::SimpleAtoi(timestamp_text, &timestamp)) {
    return "missing or malformed webhook-timestamp";
  }
  if (absl::AbsDuration(absl::FromUnixSeconds(timestamp) - now) > tolerance_) {
    return absl::StrCat("webhook-timestamp ", timestamp, " is more than ",
                        absl::FormatDuration(tolerance_), " from now");
  }
  if (signature.empty()) return "missing webhook-signature";
  if (secrets->empty()) return "no signing secret configured";
  for (const std::string& secret : *secrets) {
    if (server::VerifyWebhookSignature(secret, id, timestamp, request.body,
                                       signature)) {
      return "";
    }
  }
  return "no known secret matches webhook-signature";
}

Behaviour Sink::NextBehaviour(const std::string& path) {
  auto it = behaviours_.find(path);
  if (it == behaviours_.end()) it = behaviours_.find("");
  if (it == behaviours_.end()) return Behaviour();
  Behaviour behaviour = it->second;
  if (it->second.times.has_value() && --*it->second.times <= 0) {
    behaviours_.erase(it);
  }
  return behaviour;
}

WebhookResponse Sink::HandleWebhook(const WebhookRequest& request,
                                    absl::Time now) {
  Secrets secrets;
  {
    absl::MutexLock lock(&mu_);
    secrets = secrets_;
  }
  std::string id;
  int64_t timestamp = 0;
  const std::string error =
      VerificationError(request, now, secrets, id, timestamp);

  absl::MutexLock lock(&mu_);
  clients_.insert(request.client);
  WebhookResponse response;
  if (!error.empty()) {
    ++rejected_;
    rejections_.emplace_back(id, error);
    if (rejections_.size() > kMaxRejectionsKept) rejections_.pop_front();
    response.status = 401;
    response.body = error;
    response.outcome = "rejected: " + error;
    return response;
  }

  const Behaviour behaviour = NextBehaviour(request.path);
  response.status = behaviour.status;
  response.delay = absl::Milliseconds(behaviour.delay_ms);
  for (const auto& header : behaviour.headers) {
    response.headers.push_back(header);
  }
  if (!behaviour.retry_after.empty()) {
    response.headers.emplace_back("Retry-After", behaviour.retry_after);
  }
  const bool success = behaviour.status >= 200 && behaviour.status <= 299;
  if (behaviour.body_bytes > 0) {
    response.body.assign(behaviour.body_bytes, 'x');
  } else if (!behaviour.body.empty()) {
    response.body = behaviour.body;
  } else if (success && request.path == kFormPath) {
    response.body = form_;
  } else {
    response.body = success ? "ok" : "programmed failure";
  }

  if (!success) {
    // The partner did not take the event: a retry is a first delivery.
    ++failed_;
    response.outcome = "failed (programmed)";
    return response;
  }
  const auto [it, inserted] = event_index_.emplace(id, events_.size());
  if (!inserted) {
    ++duplicates_;
    ++events_[it->second].deliveries;
    response.outcome = "duplicate";
    return response;
  }
  if (accepted_++ == 0) first_accept_time_ = now;
  last_accept_time_ = now;
  events_.push_back(ReceivedEvent{id, timestamp, request.path, request.body,
                                  request.headers, now, 1});
  response.outcome = "accepted";
  return response;
}

void Sink::SetBehaviour(Behaviour behaviour) {
  absl::MutexLock lock(&mu_);
  std::string path = behaviour.path;
  behaviours_[path] = std::move(behaviour);
}

absl::Status Sink::AddSecret(const std::string& secret) {
  const absl::StatusOr<std::string> key = server::WebhookSigningKey(secret);
  if (!key.ok()) return key.status();
  absl::MutexLock lock(&mu_);
  for (const std::string& known : *secrets_) {
    if (known == secret) return absl::OkStatus();
  }
  auto secrets = std::make_shared<std::vector<std::string>>(*secrets_);
  secrets->push_back(secret);
  secrets_ = std::move(secrets);
  return absl::OkStatus();
}

void Sink::Reset() {
  absl::MutexLock lock(&mu_);
  secrets_ = std::make_shared<const std::vector<std::string>>(initial_secrets_);
  behaviours_.clear();
  events_.clear();
  event_index_.clear();
  rejections_.clear();
  clients_.clear();
  accepted_ = duplicates_ = rejected_ = failed_ = 0;
  first_accept_time_ = last_accept_time_ = absl::InfinitePast();
}

std::string Sink::ReceivedJson() const {
  absl::MutexLock lock(&mu_);
  std::string json = absl::StrCat(
      "{\"accepted\":", accepted_, ",\"duplicates\":", duplicates_,
      ",\"rejected\":", rejected_, ",\"failed\":", failed_,
      ",\"connections\":", clients_.size(), ",\"events\":[");
  for (size_t i = 0; i < events_.size(); ++i) {
    absl::StrAppend(&json, i == 0 ? "" : ",", EventToJson(events_[i], false));
  }
  json += "],\"rejections\":[";
  for (size_t i = 0; i < rejections_.size(); ++i) {
    absl::StrAppend(&json, i == 0 ? "" : ",", "{\"id\":",
                    Json(rejections_[i].first),
                    ",\"reason\":", Json(rejections_[i].second), "}");
  }
  return json + "]}";
}

std::string Sink::StatsJson() const {
  // Unix milliseconds, or 0 before the first event.
  auto millis = [](absl::Time time) {
    return time == absl::InfinitePast() ? int64_t{0} : absl::ToUnixMillis(time);
  };
  absl::MutexLock lock(&mu_);
  return absl::StrCat(
      "{\"accepted\":", accepted_, ",\"duplicates\":", duplicates_,
      ",\"rejected\":", rejected_, ",\"failed\":", failed_,
      ",\"first_accept_unix_ms\":", millis(first_accept_time_),
      ",\"last_accept_unix_ms\":", millis(last_accept_time_), "}");
}

std::optional<std::string> Sink::EventJson(const std::string& id) const {
  absl::MutexLock lock(&mu_);
  const auto it = event_index_.find(id);
  if (it == event_index_.end()) return std::nullopt;
  return EventToJson(events_[it->second], true);
}

absl::StatusOr<Behaviour> ParseBehaviour(const std::string& json) {
  absl::StatusOr<Struct> object = ParseObject(json);
  if (!object.ok()) return object.status();
  Behaviour behaviour;
  for (const auto& [field, value] : object->fields()) {
    if (field == "status") {
      absl::StatusOr<int64_t> status = IntegerField(field, value, 200, 599);
      if (!status.ok()) return status.status();
      behaviour.status = static_cast<int>(*status);
    } else if (field == "retry_after") {
      if (value.kind_case() == Value::kNumberValue) {
        absl::StatusOr<int64_t> seconds =
            IntegerField(field, value, 0, int64_t{1} << 40);
        if (!seconds.ok()) return seconds.status();
        behaviour.retry_after = absl::StrCat(*seconds);
      } else {
        absl::StatusOr<std::string> text = StringField(field, value);
        if (!text.ok()) return text.status();
        behaviour.retry_after = *text;
      }
    } else if (field == "headers") {
      if (value.kind_case() != Value::kStructValue) {
        return absl::InvalidArgumentError("\"headers\" must be an object");
      }
      for (const auto& [name, header] : value.struct_value().fields()) {
        absl::StatusOr<std::string> text = StringField("headers." + name, header);
        if (!text.ok()) return text.status();
        behaviour.headers[name] = *text;
      }
    } else if (field == "delay_ms") {
      absl::StatusOr<int64_t> delay = IntegerField(field, value, 0, 600000);
      if (!delay.ok()) return delay.status();
      behaviour.delay_ms = *delay;
    } else if (field == "body") {
      absl::StatusOr<std::string> body = StringField(field, value);
      if (!body.ok()) return body.status();
      behaviour.body = *body;
    } else if (field == "body_bytes") {
      absl::StatusOr<int64_t> bytes = IntegerField(field, value, 0, kMaxBodyBytes);
      if (!bytes.ok()) return bytes.status();
      behaviour.body_bytes = static_cast<size_t>(*bytes);
    } else if (field == "times") {
      absl::StatusOr<int64_t> times =
          IntegerField(field, value, 1, int64_t{1} << 40);
      if (!times.ok()) return times.status();
      behaviour.times = *times;
    } else if (field == "path") {
      absl::StatusOr<std::string> path = StringField(field, value);
      if (!path.ok()) return path.status();
      if (*path != "/webhooks" && !absl::StartsWith(*path, "/webhooks/") &&
          *path != kFormPath) {
        return absl::InvalidArgumentError(
            "\"path\" must be /webhooks, a path under it, or /form");
      }
      behaviour.path = *path;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown field \"", field,
          "\"; known: status, retry_after, headers, delay_ms, body, "
          "body_bytes, times, path"));
    }
  }
  return behaviour;
}

absl::StatusOr<std::string> ParseSecret(const std::string& json) {
  absl::StatusOr<Struct> object = ParseObject(json);
  if (!object.ok()) return object.status();
  const auto it = object->fields().find("secret");
  if (object->fields().size() != 1 || it == object->fields().end()) {
    return absl::InvalidArgumentError(
        "expected {\"secret\": \"whsec_...\"} and nothing else");
  }
  return StringField("secret", it->second);
}

}  // namespace ats::partner_sink
