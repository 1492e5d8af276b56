#include "server/http_connector.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/webhook_signature.h"

namespace ats::server {
namespace {

// curl_global_init's result; the first call makes it, once per process.
CURLcode GlobalInit() {
  static const CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
  return code;
}

// What the callbacks collect during one transfer.
struct Transfer {
  size_t max_body = 0;
  std::string body;  // Capacity reserved up front: appending never allocates.
  std::optional<std::string> retry_after;
};

// CURLOPT_WRITEFUNCTION: keeps the first max_body bytes and consumes the
// rest, so the transfer goes on (and the connection stays reusable) without
// growing memory.
size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t n = size * count;
  const size_t room = transfer->max_body - std::min(transfer->max_body,
                                                    transfer->body.size());
  transfer->body.append(data, std::min(n, room));
  return n;
}

// CURLOPT_HEADERFUNCTION: called once per header line of every response
// (including an interim 1xx); remembers the final response's Retry-After.
size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t n = size * count;
  try {
    const std::string_view line(data, n);
    if (line.substr(0, 5) == "HTTP/") {
      transfer->retry_after.reset();  // A new response starts.
      return n;
    }
    constexpr std::string_view kName = "retry-after:";
    if (line.size() >= kName.size() &&
        absl::EqualsIgnoreCase(absl::string_view(line.data(), kName.size()),
                               absl::string_view(kName.data(), kName.size()))) {
      const absl::string_view value = absl::StripAsciiWhitespace(
          absl::string_view(line.data() + kName.size(), n - kName.size()));
      transfer->retry_after = std::string(value);
    }
  } catch (...) {
    return 0;  // Out of memory: make curl abort the transfer.
  }
  return n;
}

// Parses a Retry-After value: delta-seconds, or an HTTP-date taken relative
// to `now` (a date in the past means "now"). nullopt when it is neither.
std::optional<absl::Duration> ParseRetryAfter(const std::string& value,
                                              absl::Time now) {
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return c >= '0' && c <= '9'; })) {
    int64_t seconds = 0;
    if (!absl::SimpleAtoi(value, &seconds)) return std::nullopt;  // Overflow.
    return absl::Seconds(seconds);
  }
  const time_t date = curl_getdate(value.c_str(), nullptr);
  if (date == -1) return std::nullopt;
  return std::max(absl::FromTimeT(date) - now, absl::ZeroDuration());
}

// Returns `text` with every byte outside printable ASCII replaced (white
// space by ' ', the rest by '?') and trailing spaces removed.
std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(c);
    } else if (c == '\n' || c == '\r' || c == '\t') {
      out.push_back(' ');
    } else {
      out.push_back('?');
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Whether `value` can go into a header line as is: no CR, LF or other
// control characters that would end or forge a header.
bool IsSafeHeaderValue(std::string_view value) {
  return std::all_of(value.begin(), value.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
  });
}

// curl's timeouts in milliseconds, where 0 would mean "none": at least 1.
long TimeoutMillis(absl::Duration timeout) {
  return static_cast<long>(
      std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout)));
}

struct SlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistFree>;

// Appends `line` to `list`; false when curl is out of memory.
bool AppendHeader(Slist& list, const std::string& line) {
  curl_slist* const appended = curl_slist_append(list.get(), line.c_str());
  if (appended == nullptr) return false;
  (void)list.release();
  list.reset(appended);
  return true;
}

DeliveryOutcome Failed(std::string error) {
  DeliveryOutcome outcome;
  outcome.error = std::move(error);
  return outcome;
}

}  // namespace

HttpConnector::HttpConnector(const Clock& clock, HttpConnectorOptions options)
    : clock_(clock), options_(std::move(options)) {
  GlobalInit();
}

HttpConnector::~HttpConnector() {
  absl::MutexLock lock(&mu_);
  for (void* handle : idle_handles_) curl_easy_cleanup(handle);
  idle_handles_.clear();
}

void* HttpConnector::AcquireHandle() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_handles_.empty()) {
      void* handle = idle_handles_.back();
      idle_handles_.pop_back();
      return handle;
    }
  }
  if (GlobalInit() != CURLE_OK) return nullptr;
  return curl_easy_init();
}

void HttpConnector::ReleaseHandle(void* handle) {
  // Drops the options, which point into the finished call's stack frame; the
  // live connections stay with the handle.
  curl_easy_reset(handle);
  {
    absl::MutexLock lock(&mu_);
    if (idle_handles_.size() < options_.max_idle_handles) {
      idle_handles_.push_back(handle);
      return;
    }
  }
  curl_easy_cleanup(handle);
}

DeliveryOutcome HttpConnector::Deliver(const Delivery& delivery) {
  try {
    const int64_t timestamp = absl::ToUnixSeconds(clock_.Now());
    absl::StatusOr<std::string> signature = WebhookSignature(
        delivery.signing_secret, delivery.webhook_id, timestamp, delivery.body);
    if (!signature.ok()) {
      return Failed(
          absl::StrCat("not sent: ", signature.status().message()));
    }
    if (delivery.webhook_id.empty() ||
        !IsSafeHeaderValue(delivery.webhook_id)) {
      return Failed(
          "not sent: webhook id must be non-empty and free of control "
          "characters");
    }

    Slist headers;
    if (!AppendHeader(headers, "Content-Type: application/json") ||
        !AppendHeader(headers, absl::StrCat(kWebhookIdHeader, ": ",
                                            delivery.webhook_id)) ||
        !AppendHeader(headers, absl::StrCat(kWebhookTimestampHeader, ": ",
                                            timestamp)) ||
        !AppendHeader(headers, absl::StrCat(kWebhookSignatureHeader, ": ",
                                            *signature)) ||
        // No "Expect: 100-continue" round trip before large bodies.
        !AppendHeader(headers, "Expect:")) {
      return Failed("not sent: out of memory building headers");
    }

    auto release = [this](void* handle) { ReleaseHandle(handle); };
    std::unique_ptr<void, decltype(release)> handle(AcquireHandle(), release);
    if (handle == nullptr) {
      return Failed("not sent: libcurl could not create a handle");
    }
    CURL* const curl = handle.get();  // Options reset by ReleaseHandle.

    Transfer transfer;
    transfer.max_body = options_.max_response_body_bytes;
    transfer.body.reserve(transfer.max_body);
    char error_buffer[CURL_ERROR_SIZE] = {};

    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(curl, CURLOPT_URL, delivery.url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROXY, options_.proxy.c_str());
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     TimeoutMillis(options_.connect_timeout));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                     TimeoutMillis(options_.total_timeout));
    curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, delivery.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(delivery.body.size()));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);

    const auto start = std::chrono::steady_clock::now();
    const CURLcode result = curl_easy_perform(curl);
    DeliveryOutcome outcome;
    outcome.latency =
        absl::FromChrono(std::chrono::steady_clock::now() - start);

    if (result != CURLE_OK) {
      // Even when a status line came before the failure, the answer is
      // incomplete: no response, as far as the caller is concerned.
      outcome.error = absl::StrCat("curl error ", static_cast<int>(result),
                                   " (", curl_easy_strerror(result), ")");
      if (error_buffer[0] != '\0') {
        absl::StrAppend(&outcome.error, ": ", Printable(error_buffer));
      }
      return outcome;
    }

    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    outcome.http_status = static_cast<int>(status);
    outcome.response_body = std::move(transfer.body);
    if (transfer.retry_after.has_value()) {
      outcome.retry_after = ParseRetryAfter(*transfer.retry_after, clock_.Now());
    }
    if (status < 200 || status > 299) {
      outcome.error = absl::StrCat("HTTP ", status);
      if (status >= 300 && status <= 399) {
        char* location = nullptr;
        curl_easy_getinfo(curl, CURLINFO_REDIRECT_URL, &location);
        if (location != nullptr) {
          const std::string_view target(location);
          absl::StrAppend(
              &outcome.error, " (redirect to ",
              Printable(target.substr(0, options_.max_error_body_bytes)),
              " not followed)");
        }
      }
      const std::string quoted = Printable(std::string_view(
          outcome.response_body.data(),
          std::min(outcome.response_body.size(),
                   options_.max_error_body_bytes)));
      if (!quoted.empty()) absl::StrAppend(&outcome.error, ": ", quoted);
    }
    return outcome;
  } catch (const std::exception& e) {
    return Failed(absl::StrCat("delivery failed: ", e.what()));
  } catch (...) {
    return Failed("delivery failed: unknown exception");
  }
}

}  // namespace ats::server
