#include "server/delivery/http_connector.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sys/socket.h>

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
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "server/contract/webhook_signature.h"

namespace ats::server {
namespace {

// curl_global_init's result; the first call makes it, once per process.
CURLcode GlobalInit() {
  static const CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
  return code;
}

// What the callbacks collect of one response.
struct Captured {
  size_t max_body = 0;
  // Whether a longer body aborts the transfer, and whether one did.
  bool refuse_longer = false;
  bool too_long = false;
  // Room for the usual short answer is reserved up front; longer bodies,
  // such as results, grow it.
  std::string body;
  bool truncated = false;
  std::optional<std::string> retry_after;
};

// CURLOPT_WRITEFUNCTION: keeps the first max_body bytes and consumes the
// rest, so the transfer goes on (and the connection stays reusable) without
// growing memory; or, with refuse_longer, aborts the transfer at once.
size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Captured*>(user);
  const size_t n = size * count;
  const size_t room = transfer->max_body - std::min(transfer->max_body,
                                                    transfer->body.size());
  if (transfer->refuse_longer && n > room) {
    transfer->too_long = true;
    return 0;  // Not all consumed: curl ends the transfer.
  }
  transfer->body.append(data, std::min(n, room));
  transfer->truncated = transfer->truncated || n > room;
  return n;
}

// CURLOPT_HEADERFUNCTION: called once per header line of every response
// (including an interim 1xx); remembers the final response's Retry-After.
size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Captured*>(user);
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

// What the socket callback needs and found, for one transfer.
struct Gate {
  const DestinationPolicy* destinations = nullptr;
  // One line per address refused, e.g. "destination 10.0.0.1 is not
  // allowed: private-use (10.0.0.0/8)".
  std::vector<std::string> refusals;
};

// CURLOPT_OPENSOCKETFUNCTION: the one place where curl turns an address into
// a socket, after resolving the host (each address it tries, IPv4 and IPv6,
// goes through here) and before connecting to exactly that address. So the
// address checked is the address connected to: DNS rebinding (a name that
// answers differently the next time) has no later lookup to exploit, and no
// spelling of the URL escapes the check, since curl has already turned it
// into an address. Nothing else opens connections: no proxy (CURLOPT_PROXY
// "", CURLOPT_NOPROXY "*", so http_proxy and the like are ignored), no
// redirect is followed, and a reused connection was checked when opened.
// Returning CURL_SOCKET_BAD makes curl try the host's next address, or fail
// with CURLE_COULDNT_CONNECT.
curl_socket_t OpenCheckedSocket(void* user, curlsocktype purpose,
                                curl_sockaddr* address) {
  auto* gate = static_cast<Gate*>(user);
  try {
    if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
    const std::optional<IpAddress> ip =
        IpAddress::FromSockaddr(&address->addr, address->addrlen);
    if (!ip.has_value()) {
      gate->refusals.push_back(absl::StrCat(
          "destination of address family ", address->family,
          " is not allowed: only IPv4 and IPv6 are"));
      return CURL_SOCKET_BAD;
    }
    const std::optional<std::string> refused =
        gate->destinations->WhyRefused(*ip);
    if (refused.has_value()) {
      gate->refusals.push_back(absl::StrCat(
          "destination ", ip->ToString(), " is not allowed: ", *refused));
      return CURL_SOCKET_BAD;
    }
  } catch (...) {
    return CURL_SOCKET_BAD;  // Out of memory: connect to nothing.
  }
  return socket(address->family, address->socktype, address->protocol);
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

// One attempt under way, owned by the connector's thread once started.
struct HttpConnector::Transfer {
  Delivery delivery;
  DeliveryDone done;
  // The header lines, signature included, made by Send.
  std::vector<std::string> header_lines;
  Slist headers;
  Captured response;
  Gate gate;
  char error_buffer[CURL_ERROR_SIZE] = {};
  std::chrono::steady_clock::time_point start;
};

HttpConnector::HttpConnector(const Clock& clock, HttpConnectorOptions options)
    : clock_(clock),
      options_(std::move(options)),
      multi_(GlobalInit() == CURLE_OK ? curl_multi_init() : nullptr) {
  if (multi_ != nullptr) {
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS,
                      std::max(1L, options_.max_idle_connections));
  }
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "http-connector");
    Run();
  });
}

HttpConnector::~HttpConnector() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (multi_ != nullptr) curl_multi_wakeup(multi_);
  thread_.join();
  for (void* handle : idle_handles_) curl_easy_cleanup(handle);
  if (multi_ != nullptr) curl_multi_cleanup(multi_);
}

void HttpConnector::Send(Delivery delivery, DeliveryDone done) {
  if (multi_ == nullptr) {
    done(Failed("not sent: libcurl could not be initialised"));
    return;
  }
  try {
    const int64_t timestamp = absl::ToUnixSeconds(clock_.Now());
    absl::StatusOr<std::string> signature = WebhookSignature(
        delivery.signing_secret, delivery.webhook_id, timestamp, delivery.body);
    if (!signature.ok()) {
      done(Failed(absl::StrCat("not sent: ", signature.status().message())));
      return;
    }
    if (delivery.webhook_id.empty() ||
        !IsSafeHeaderValue(delivery.webhook_id)) {
      done(Failed(
          "not sent: webhook id must be non-empty and free of control "
          "characters"));
      return;
    }
    auto transfer = std::make_unique<Transfer>();
    transfer->header_lines = {
        "Content-Type: application/json",
        absl::StrCat(kWebhookIdHeader, ": ", delivery.webhook_id),
        absl::StrCat(kWebhookTimestampHeader, ": ", timestamp),
        absl::StrCat(kWebhookSignatureHeader, ": ", *signature),
        // No "Expect: 100-continue" round trip before large bodies.
        "Expect:"};
    transfer->delivery = std::move(delivery);
    transfer->done = std::move(done);
    bool first = false;
    {
      absl::MutexLock lock(&mu_);
      first = incoming_.empty();
      incoming_.push_back(std::move(transfer));
    }
    // One wake-up per batch: the thread takes everything incoming at once.
    if (first) curl_multi_wakeup(multi_);
  } catch (const std::exception& e) {
    done(Failed(absl::StrCat("delivery failed: ", e.what())));
  } catch (...) {
    done(Failed("delivery failed: unknown exception"));
  }
}

void HttpConnector::Run() {
  if (multi_ == nullptr) return;
  std::vector<std::unique_ptr<Transfer>> incoming;
  for (;;) {
    bool stopping = false;
    {
      absl::MutexLock lock(&mu_);
      incoming.swap(incoming_);
      stopping = stopping_;
    }
    for (std::unique_ptr<Transfer>& transfer : incoming) {
      if (stopping) {
        transfer->done(Failed("not sent: the connector is shutting down"));
      } else {
        Start(std::move(transfer));
      }
    }
    incoming.clear();
    if (stopping) break;
    int still_running = 0;
    curl_multi_perform(multi_, &still_running);
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &queued)) {
      if (message->msg == CURLMSG_DONE) {
        Finish(message->easy_handle, message->data.result);
      }
    }
    // Returns on socket activity, curl_multi_wakeup or curl's next timer.
    curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
  }
  for (auto& [curl, transfer] : running_) {
    curl_multi_remove_handle(multi_, curl);
    curl_easy_cleanup(curl);
    transfer->done(Failed("delivery abandoned: the connector is shutting down"));
  }
  running_.clear();
}

void HttpConnector::Start(std::unique_ptr<Transfer> transfer) {
  try {
    CURL* curl = nullptr;
    if (!idle_handles_.empty()) {
      curl = idle_handles_.back();
      idle_handles_.pop_back();
    } else {
      curl = curl_easy_init();
    }
    if (curl == nullptr) {
      transfer->done(Failed("not sent: libcurl could not create a handle"));
      return;
    }
    for (const std::string& line : transfer->header_lines) {
      if (!AppendHeader(transfer->headers, line)) {
        idle_handles_.push_back(curl);
        transfer->done(Failed("not sent: out of memory building headers"));
        return;
      }
    }
    Transfer& t = *transfer;
    t.response.max_body = options_.max_response_body_bytes;
    t.response.refuse_longer = options_.refuse_longer_bodies;
    t.response.body.reserve(std::min<size_t>(t.response.max_body, 4096));
    t.gate.destinations = &options_.destinations;
    curl_easy_setopt(curl, CURLOPT_PRIVATE, transfer.get());
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, t.error_buffer);
    curl_easy_setopt(curl, CURLOPT_URL, t.delivery.url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    // A redirect or a proxy would take the request to an address other than
    // the one OpenCheckedSocket allowed.
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PROXY, "");
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, &OpenCheckedSocket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &t.gate);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     TimeoutMillis(options_.connect_timeout));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                     TimeoutMillis(options_.total_timeout));
    curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, t.headers.get());
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, t.delivery.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(t.delivery.body.size()));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t.response);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t.response);
    if (options_.max_idle_connections <= 0) {
      curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
    }
    t.start = std::chrono::steady_clock::now();
    const CURLMcode added = curl_multi_add_handle(multi_, curl);
    if (added != CURLM_OK) {
      curl_easy_reset(curl);
      idle_handles_.push_back(curl);
      transfer->done(Failed(absl::StrCat("not sent: libcurl: ",
                                         curl_multi_strerror(added))));
      return;
    }
    running_.emplace(curl, std::move(transfer));
  } catch (const std::exception& e) {
    transfer->done(Failed(absl::StrCat("delivery failed: ", e.what())));
  }
}

void HttpConnector::Finish(void* handle, int code) {
  CURL* const curl = handle;
  const CURLcode result = static_cast<CURLcode>(code);
  auto it = running_.find(curl);
  std::unique_ptr<Transfer> transfer = std::move(it->second);
  running_.erase(it);
  curl_multi_remove_handle(multi_, curl);

  DeliveryOutcome outcome;
  outcome.latency =
      absl::FromChrono(std::chrono::steady_clock::now() - transfer->start);
  try {
    if (result != CURLE_OK && transfer->response.too_long) {
      outcome.body_too_long = true;
      outcome.error = absl::StrCat("the response body is over ",
                                   options_.max_response_body_bytes,
                                   " bytes; the rest was not read");
    } else if (result != CURLE_OK && !transfer->gate.refusals.empty()) {
      // Whatever else failed, the host leads where webhooks may not go.
      outcome.refused_destination = true;
      outcome.error = absl::StrJoin(transfer->gate.refusals, "; ");
    } else if (result != CURLE_OK) {
      // Even when a status line came before the failure, the answer is
      // incomplete: no response, as far as the caller is concerned.
      outcome.error = absl::StrCat("curl error ", static_cast<int>(result),
                                   " (", curl_easy_strerror(result), ")");
      if (transfer->error_buffer[0] != '\0') {
        absl::StrAppend(&outcome.error, ": ", Printable(transfer->error_buffer));
      }
    } else {
      long status = 0;
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
      outcome.http_status = static_cast<int>(status);
      outcome.response_body = std::move(transfer->response.body);
      outcome.response_body_truncated = transfer->response.truncated;
      if (transfer->response.retry_after.has_value()) {
        outcome.retry_after =
            ParseRetryAfter(*transfer->response.retry_after, clock_.Now());
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
    }
  } catch (const std::exception& e) {
    outcome = Failed(absl::StrCat("delivery failed: ", e.what()));
  }
  // Drops the options, which point into the transfer; the connection stays
  // in the multi handle's pool.
  curl_easy_reset(curl);
  idle_handles_.push_back(curl);
  transfer->done(std::move(outcome));
}

}  // namespace ats::server
