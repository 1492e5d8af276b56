#include "server/common/logging.h"

#include <cstdint>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "grpc/support/log.h"
#include "spdlog/formatter.h"
#include "spdlog/pattern_formatter.h"
#include "spdlog/spdlog.h"

namespace ats::server {
namespace {

// The logger of structured lines in JSON mode: its messages are JSON
// members already, which the formatter puts in the line as they are.
constexpr char kFieldsLoggerName[] = "ats.fields";

// Null in text mode. Set once at start, before other threads log.
std::shared_ptr<spdlog::logger>& FieldsLogger() {
  static auto* logger = new std::shared_ptr<spdlog::logger>();
  return *logger;
}

// One field of a structured line.
struct LogField {
  enum class Kind {
    kWord,    // an identifier or code: bare in text, a string in JSON
    kNumber,  // bare in both
    kText,    // free text: quoted in both
  };
  absl::string_view key;
  std::string value;
  Kind kind = Kind::kWord;
};

// A structured line: what happened (`event`), to what (`subject`, whose
// value text writes bare after the event) and the other fields, in order.
struct LogLine {
  absl::string_view event;
  LogField subject;
  std::vector<LogField> fields;
};

LogLine LineOf(const CallLog& call) {
  using Kind = LogField::Kind;
  LogLine line{"rpc", {"method", std::string(call.method)}, {}};
  line.fields.push_back(
      {"code", absl::StatusCodeToString(call.code), Kind::kWord});
  if (call.latency.has_value()) {
    line.fields.push_back(
        {"latency_ms",
         absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(*call.latency)),
         Kind::kNumber});
    line.fields.push_back({"account", std::string(call.account)});
    line.fields.push_back({"key", std::string(call.key)});
  }
  if (!call.operation.empty()) {
    line.fields.push_back({"operation", std::string(call.operation)});
  }
  if (call.bytes.has_value()) {
    line.fields.push_back(
        {"bytes", absl::StrCat(*call.bytes), LogField::Kind::kNumber});
  }
  if (call.code != absl::StatusCode::kOk) {
    line.fields.push_back({"error", std::string(call.error), Kind::kText});
  }
  return line;
}

std::string TextOf(const LogLine& line) {
  std::string text = absl::StrCat(line.event, " ", line.subject.value);
  for (const LogField& field : line.fields) {
    if (field.kind == LogField::Kind::kText) {
      absl::StrAppend(&text, " ", field.key, "=\"", field.value, "\"");
    } else {
      absl::StrAppend(&text, " ", field.key, "=", field.value);
    }
  }
  return text;
}

// The length of the UTF-8 encoded character `text` starts with, or 0 when
// it does not start with one (a stray or overlong byte, a surrogate...).
size_t Utf8CharLength(absl::string_view text) {
  const auto byte = [&](size_t i) {
    return static_cast<unsigned char>(text[i]);
  };
  size_t length;
  uint32_t smallest;
  if (byte(0) < 0x80) return 1;
  if ((byte(0) & 0xE0) == 0xC0) {
    length = 2, smallest = 0x80;
  } else if ((byte(0) & 0xF0) == 0xE0) {
    length = 3, smallest = 0x800;
  } else if ((byte(0) & 0xF8) == 0xF0) {
    length = 4, smallest = 0x10000;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  uint32_t code = byte(0) & (0x7F >> length);
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(i) & 0x3F);
  }
  const bool surrogate = code >= 0xD800 && code <= 0xDFFF;
  return code < smallest || code > 0x10FFFF || surrogate ? 0 : length;
}

// Appends `text` to `out` as a JSON string, quotes included; what is not
// UTF-8 becomes U+FFFD, so every line is valid JSON whatever a message
// holds.
void AppendJsonString(absl::string_view text, std::string* out) {
  out->push_back('"');
  while (!text.empty()) {
    const char c = text.front();
    const size_t length = Utf8CharLength(text);
    if (length == 0) {
      out->append("\\ufffd");
      text.remove_prefix(1);
      continue;
    }
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (c == '\n') {
      out->append("\\n");
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(out, "\\u%04x", static_cast<int>(c));
    } else {
      out->append(text.data(), length);
    }
    text.remove_prefix(length);
  }
  out->push_back('"');
}

// `line`'s fields as JSON object members: "msg" (the event), the subject,
// then the others.
std::string JsonMembersOf(const LogLine& line) {
  std::string json = "\"msg\":";
  AppendJsonString(line.event, &json);
  const auto append = [&json](const LogField& field) {
    json.push_back(',');
    AppendJsonString(field.key, &json);
    json.push_back(':');
    if (field.kind == LogField::Kind::kNumber) {
      json.append(field.value);
    } else {
      AppendJsonString(field.value, &json);
    }
  };
  append(line.subject);
  for (const LogField& field : line.fields) append(field);
  return json;
}

// Formats every line as one JSON object: the time (UTC, microseconds), the
// level and either the message as "msg" or, from the fields logger, the
// members it carries.
class JsonLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg,
              spdlog::memory_buf_t& dest) override {
    std::string line = absl::StrCat(
        "{\"time\":\"",
        absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromChrono(msg.time),
                         absl::UTCTimeZone()),
        "\",\"level\":");
    const auto level = spdlog::level::to_string_view(msg.level);
    AppendJsonString(absl::string_view(level.data(), level.size()), &line);
    line.push_back(',');
    const absl::string_view payload(msg.payload.data(), msg.payload.size());
    if (msg.logger_name == kFieldsLoggerName) {
      line.append(payload.data(), payload.size());
    } else {
      line.append("\"msg\":");
      AppendJsonString(payload, &line);
    }
    line.append("}\n");
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLineFormatter>();
  }
};

// gRPC's own log lines (errors by default), as lines of spdlog's.
void LogGrpcLine(gpr_log_func_args* args) {
  const spdlog::level::level_enum level =
      args->severity == GPR_LOG_SEVERITY_ERROR  ? spdlog::level::err
      : args->severity == GPR_LOG_SEVERITY_INFO ? spdlog::level::info
                                                : spdlog::level::debug;
  spdlog::log(level, "grpc {}:{}: {}", args->file, args->line, args->message);
}

}  // namespace

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("must be text or json, not \"", name, "\""));
}

void SetLogFormat(LogFormat format) {
  const std::shared_ptr<spdlog::logger> main = spdlog::default_logger();
  if (format == LogFormat::kText) {
    main->set_formatter(std::make_unique<spdlog::pattern_formatter>());
    FieldsLogger() = nullptr;
    return;
  }
  main->set_formatter(std::make_unique<JsonLineFormatter>());
  // Shares the default logger's sinks, so lines of both never interleave
  // within a line; whether a line is written is the default logger's
  // level's to say (LogCall).
  FieldsLogger() = std::make_shared<spdlog::logger>(
      kFieldsLoggerName, main->sinks().begin(), main->sinks().end());
  FieldsLogger()->set_level(spdlog::level::trace);
  gpr_set_log_function(LogGrpcLine);
}

void LogCall(const CallLog& call) {
  if (!spdlog::default_logger_raw()->should_log(spdlog::level::info)) return;
  const LogLine line = LineOf(call);
  if (FieldsLogger() == nullptr) {
    spdlog::default_logger_raw()->log(spdlog::level::info, TextOf(line));
  } else {
    FieldsLogger()->log(spdlog::level::info, JsonMembersOf(line));
  }
}

}  // namespace ats::server
