#ifndef ATS_SERVER_COMMON_LOGGING_H_
#define ATS_SERVER_COMMON_LOGGING_H_

// The server's log lines, written through spdlog's default logger: as text
// (spdlog's pattern) or, with --log_format=json, as one JSON object per line
// that a machine can read. The line each call writes is made of named
// fields, produced once and written in either form.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace ats::server {

enum class LogFormat { kText, kJson };

// Parses a --log_format value, "text" or "json"; INVALID_ARGUMENT naming the
// choices otherwise.
absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name);

// Writes every later line of the default logger in `format`: text in
// spdlog's default pattern; JSON as {"time", "level", "msg"} (a structured
// line's fields beside them), with gRPC's own log lines routed through
// spdlog from then on so that they are JSON too. Call at start, before
// other threads log.
void SetLogFormat(LogFormat format);

// What the log says about one call.
struct CallLog {
  // The RPC, as its policy names it.
  absl::string_view method;
  absl::StatusCode code = absl::StatusCode::kOk;
  // The status message, logged when `code` is not OK. Ours, never a secret.
  absl::string_view error;
  // Set for calls that ran: how long they took and who made them. A
  // malformed request is answered before, with none of them.
  std::optional<absl::Duration> latency;
  absl::string_view account;
  absl::string_view key;
  // The bulk operation a streaming call started, if any.
  absl::string_view operation;
  // Bytes a streaming call sent, such as a backup's.
  std::optional<int64_t> bytes;
};

// Writes `call`'s line at info level: "rpc METHOD code=... latency_ms=...
// account=... key=... [operation=...] [bytes=...] [error="..."]" as text, the same
// fields ("msg": "rpc", "method", "code", ...) as JSON.
void LogCall(const CallLog& call);

}  // namespace ats::server

#endif  // ATS_SERVER_COMMON_LOGGING_H_
