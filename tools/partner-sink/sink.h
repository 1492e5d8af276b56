// The partner sink's state, without HTTP: which secrets it verifies with,
// which events it has received, and how it is told to answer. main.cc maps
// HTTP requests onto it.
#ifndef ATS_TOOLS_PARTNER_SINK_SINK_H_
#define ATS_TOOLS_PARTNER_SINK_SINK_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ats::partner_sink {

using Headers = std::vector<std::pair<std::string, std::string>>;

// A webhook POST as it arrived.
struct WebhookRequest {
  std::string path;
  Headers headers;  // Names as sent; looked up case-insensitively.
  std::string body;
  std::string client;  // "address:port" of the TCP connection.
};

// How to answer the next webhooks (POST /behaviour). Applies after the
// signature check: bad signatures always get 401.
struct Behaviour {
  int status = 200;
  std::string retry_after;  // Sent as Retry-After when non-empty.
  std::map<std::string, std::string> headers;  // More response headers.
  int64_t delay_ms = 0;                        // Wait before answering.
  std::string body;       // Response body; a short default when empty...
  size_t body_bytes = 0;  // ...unless this many 'x' are asked for.
  // How many webhooks get this answer; nullopt: all until replaced or reset.
  std::optional<int64_t> times;
  // Only webhooks to exactly this path; empty: any path under /webhooks.
  std::string path;
};

// What to answer a webhook with.
struct WebhookResponse {
  int status = 200;
  Headers headers;
  std::string body;
  absl::Duration delay;
  // "accepted", "duplicate", "failed (programmed)" or "rejected: <why>".
  std::string outcome;
};

// One event the sink accepted.
struct ReceivedEvent {
  std::string id;
  int64_t timestamp = 0;
  std::string path;
  std::string body;
  Headers headers;
  absl::Time receive_time;
  int deliveries = 1;  // 1 + the duplicates received since.
};

// The config endpoint: a signed POST there is verified and counted like a
// webhook (one event per request, each with its own webhook-id), and its
// 2xx answer is the sink's trigger form.
inline constexpr char kFormPath[] = "/form";

// Thread-safe.
class Sink {
 public:
  // Verifies with `secrets` (each a valid "whsec_..." secret: see
  // server::WebhookSigningKey) and accepts timestamps within `tolerance` of
  // the time a webhook arrives.
  // `form` is the body of a 2xx answer to POST /form (the config endpoint
  // of trigger forms, see kFormPath) that no behaviour gives a body.
  explicit Sink(std::vector<std::string> secrets,
                absl::Duration tolerance = absl::Minutes(5),
                std::string form = "");

  // Verifies, deduplicates and stores a webhook that arrived at `now`, and
  // returns the answer: 401 for a missing or bad signature or a stale
  // timestamp, else the programmed behaviour (200 by default).
  WebhookResponse HandleWebhook(const WebhookRequest& request, absl::Time now);

  // Sets the answer for webhooks to `behaviour.path` (replacing the previous
  // one for that path).
  void SetBehaviour(Behaviour behaviour);

  // Adds a secret to verify with (rotation: old and new both verify);
  // INVALID_ARGUMENT when it is no "whsec_" secret.
  absl::Status AddSecret(const std::string& secret);

  // Forgets received events, counts and behaviours, and goes back to the
  // secrets given at construction.
  void Reset();

  // GET /received: counts, events (ids, bodies, ...) and recent rejections.
  std::string ReceivedJson() const;
  // GET /stats: the counts only, and when the first and last events were
  // accepted (Unix milliseconds, 0 before any), so a benchmark can compute a
  // delivery rate without fetching every body.
  std::string StatsJson() const;
  // GET /received/{id}: one event with its headers; nullopt if not received.
  std::optional<std::string> EventJson(const std::string& id) const;

 private:
  // The secrets to verify with; shared so that verifying (the costly part
  // of a webhook) runs without the lock.
  using Secrets = std::shared_ptr<const std::vector<std::string>>;

  // Returns why the request does not verify with `secrets`, or an empty
  // string if it does.
  std::string VerificationError(const WebhookRequest& request, absl::Time now,
                                const Secrets& secrets, std::string& id,
                                int64_t& timestamp) const;
  // Returns the behaviour for a webhook to `path` and uses up one of its
  // `times`.
  Behaviour NextBehaviour(const std::string& path)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::vector<std::string> initial_secrets_;
  const absl::Duration tolerance_;
  const std::string form_;

  mutable absl::Mutex mu_;
  Secrets secrets_ ABSL_GUARDED_BY(mu_);  // Replaced, never changed.
  std::map<std::string, Behaviour> behaviours_ ABSL_GUARDED_BY(mu_);  // By path.
  std::vector<ReceivedEvent> events_ ABSL_GUARDED_BY(mu_);  // Arrival order.
  std::map<std::string, size_t> event_index_ ABSL_GUARDED_BY(mu_);  // By id.
  std::deque<std::pair<std::string, std::string>> rejections_
      ABSL_GUARDED_BY(mu_);  // Recent (id, reason), oldest first.
  std::set<std::string> clients_ ABSL_GUARDED_BY(mu_);  // TCP connections.
  int64_t accepted_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t duplicates_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t rejected_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t failed_ ABSL_GUARDED_BY(mu_) = 0;
  // When the first and the last unique events were accepted.
  absl::Time first_accept_time_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time last_accept_time_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

// Parses a POST /behaviour body, e.g. {"status": 503, "retry_after": "2",
// "delay_ms": 100, "times": 3}; INVALID_ARGUMENT naming what is wrong.
absl::StatusOr<Behaviour> ParseBehaviour(const std::string& json);

// Parses a POST /secrets body, {"secret": "whsec_..."}, into the secret.
absl::StatusOr<std::string> ParseSecret(const std::string& json);

}  // namespace ats::partner_sink

#endif  // ATS_TOOLS_PARTNER_SINK_SINK_H_
