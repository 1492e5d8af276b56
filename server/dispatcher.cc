#include "server/dispatcher.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "server/marketplace.h"
#include "spdlog/spdlog.h"

namespace ats::server {
namespace {

// Longest attempt error and state reason kept, per the Event contract.
constexpr size_t kMaxErrorLength = 1000;
// Longest Retry-After honoured: a partner cannot park an event for longer.
constexpr absl::Duration kMaxRetryAfter = absl::Hours(24);
// A claim looks at most this many batches of due events when integrations
// at their limit hold the first ones.
constexpr int kMaxScanBatches = 16;

constexpr char kLeftStage[] =
    "candidate left the stage before the delay elapsed";
constexpr char kDeactivated[] = "integration deactivated before delivery";
constexpr char kNoWebhookSecret[] =
    "the account has no webhook signing secret; create one with "
    "AccountService.RotateWebhookSigningSecret";
constexpr char kGone[] = "partner answered 410 Gone: endpoint disabled";

// Returns `text` cut to at most `max` bytes, never inside a UTF-8 sequence.
std::string Truncate(std::string text, size_t max = kMaxErrorLength) {
  if (text.size() <= max) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  text.resize(end);
  return text;
}

bool IsSuccess(int http_status) {
  return http_status >= 200 && http_status < 300;
}

// What went wrong in `outcome`, for the attempt record and reasons.
std::string ErrorOf(const DeliveryOutcome& outcome) {
  if (!outcome.error.empty()) return outcome.error;
  if (outcome.http_status == 0) return "no response";
  return absl::StrCat("HTTP ", outcome.http_status);
}

// Settles `event` in the final (or waiting) `state` for `reason` at `now`.
void Settle(storage::EventRow& event, ats::v1::EventState state,
            std::string reason, absl::Time now) {
  event.state = state;
  event.state_reason = Truncate(std::move(reason));
  event.update_time = now;
  event.lease_expire_time.reset();
}

// Whether `current` (as stored now) is still the claim `claimed` took: no
// other dispatcher re-claimed it after the lease expired, and nobody
// settled it meanwhile.
bool StillHeld(const storage::EventRow& current,
               const storage::EventRow& claimed) {
  // Storage keeps microseconds: compare what was stored, not what was meant.
  auto micros = [](const std::optional<absl::Time>& time) {
    return time.has_value() ? absl::ToUnixMicros(*time) : int64_t{-1};
  };
  return current.state == ats::v1::EVENT_STATE_SENDING &&
         current.attempt_count == claimed.attempt_count &&
         micros(current.lease_expire_time) == micros(claimed.lease_expire_time);
}

// Whether the stage entry a delayed event fired for is still the candidate's
// current one.
absl::StatusOr<bool> StillInStage(storage::Transaction& txn,
                                  const storage::EventRow& event) {
  if (event.source != ats::v1::EVENT_SOURCE_STAGE_TRIGGER ||
      event.stage_id.empty()) {
    return true;
  }
  auto app = txn.applications().GetApplication(
      event.account_id, event.job_id, event.candidate_id);
  if (absl::IsNotFound(app.status())) return false;
  if (!app.ok()) return app.status();
  return app->stage_id == event.stage_id &&
         app->entry_count == event.stage_entry;
}

// Why an event must not be sent, and the state it ends in.
struct Settlement {
  ats::v1::EventState state;
  std::string reason;
};

// The accounts, integrations and partner listings one claim looks up, each
// read once.
class Lookups {
 public:
  explicit Lookups(storage::Transaction& txn) : txn_(txn) {}

  // Returns account `id`, or nullptr if it is gone.
  absl::StatusOr<const storage::AccountRow*> Account(const std::string& id) {
    auto [it, inserted] = accounts_.try_emplace(id);
    if (inserted) {
      auto row = txn_.accounts().GetAccount(id);
      if (row.ok()) {
        it->second = *std::move(row);
      } else if (!absl::IsNotFound(row.status())) {
        accounts_.erase(it);
        return row.status();
      }
    }
    return it->second.has_value() ? &*it->second : nullptr;
  }

  // Returns integration `id` of `account_id`, or nullptr if it is gone.
  absl::StatusOr<const storage::IntegrationRow*> Integration(
      const std::string& account_id, const std::string& id) {
    auto [it, inserted] = integrations_.try_emplace({account_id, id});
    if (inserted) {
      auto row = txn_.integrations().GetIntegration(account_id, id);
      if (row.ok()) {
        it->second = *std::move(row);
      } else if (!absl::IsNotFound(row.status())) {
        integrations_.erase(it);
        return row.status();
      }
    }
    return it->second.has_value() ? &*it->second : nullptr;
  }

  // Returns listing `id`, or nullptr if it is gone.
  absl::StatusOr<const storage::PartnerRow*> Partner(const std::string& id) {
    auto [it, inserted] = partners_.try_emplace(id);
    if (inserted) {
      auto row = txn_.integrations().GetPartner(id);
      if (row.ok()) {
        it->second = *std::move(row);
      } else if (!absl::IsNotFound(row.status())) {
        partners_.erase(it);
        return row.status();
      }
    }
    return it->second.has_value() ? &*it->second : nullptr;
  }

 private:
  storage::Transaction& txn_;
  std::map<std::string, std::optional<storage::AccountRow>> accounts_;
  std::map<std::pair<std::string, std::string>,
           std::optional<storage::IntegrationRow>>
      integrations_;
  std::map<std::string, std::optional<storage::PartnerRow>> partners_;
};

// Fills `delivery` of `event` to `url`, signed with `secret`; returns how
// the event settles instead if its payload cannot be encoded.
std::optional<Settlement> Sign(const storage::EventRow& event,
                               const std::string& url,
                               const std::string& secret, Delivery* delivery) {
  delivery->url = url;
  delivery->webhook_id = event.payload.event_id().empty()
                             ? absl::StrCat("events/", event.id)
                             : event.payload.event_id();
  delivery->signing_secret = secret;
  auto json =
      google::protobuf::util::MessageToJsonString(event.payload, &delivery->body);
  if (!json.ok()) {
    return Settlement{ats::v1::EVENT_STATE_DEAD,
                      absl::StrCat("cannot encode the payload as JSON: ",
                                   std::string(json.message()))};
  }
  return std::nullopt;
}

// Decides whether due `event` is to be sent: fills `delivery` and returns
// nothing if so, else how it settles instead (the candidate left the stage,
// the integration is inactive or its endpoint disabled, the account has no
// webhook signing secret, ...).
absl::StatusOr<std::optional<Settlement>> Prepare(storage::Transaction& txn,
                                                  Lookups& lookups,
                                                  const storage::EventRow& event,
                                                  Delivery* delivery) {
  if (event.state == ats::v1::EVENT_STATE_SCHEDULED) {
    absl::StatusOr<bool> in_stage = StillInStage(txn, event);
    if (!in_stage.ok()) return in_stage.status();
    if (!*in_stage) return Settlement{ats::v1::EVENT_STATE_CANCELED, kLeftStage};
  }
  if (event.integration_id.empty()) {
    // A webhook trigger's event: to the URL of the trigger, signed with the
    // account's secret.
    auto account = lookups.Account(event.account_id);
    if (!account.ok()) return account.status();
    if (*account == nullptr || (*account)->webhook_signing_secret.empty()) {
      return Settlement{ats::v1::EVENT_STATE_SKIPPED, kNoWebhookSecret};
    }
    return Sign(event, event.webhook_uri, (*account)->webhook_signing_secret,
                delivery);
  }
  const std::string integration_name = IntegrationName(event.integration_id);
  auto integration =
      lookups.Integration(event.account_id, event.integration_id);
  if (!integration.ok()) return integration.status();
  if (*integration == nullptr) {
    return Settlement{
        ats::v1::EVENT_STATE_SKIPPED,
        absl::StrCat("integration ", integration_name, " no longer exists")};
  }
  if (!(*integration)->active) {
    return Settlement{ats::v1::EVENT_STATE_SKIPPED, kDeactivated};
  }
  if (!(*integration)->endpoint_disabled_reason.empty()) {
    return Settlement{
        ats::v1::EVENT_STATE_DEAD,
        absl::StrCat("the endpoint of integration ", integration_name,
                     " is disabled (", (*integration)->endpoint_disabled_reason,
                     "); reactivate the integration, then retry the event")};
  }
  auto partner = lookups.Partner((*integration)->partner_id);
  if (!partner.ok()) return partner.status();
  if (*partner == nullptr) {
    return Settlement{
        ats::v1::EVENT_STATE_DEAD,
        absl::StrCat("partner ", PartnerName((*integration)->partner_id),
                     " of integration ", integration_name,
                     " no longer exists")};
  }
  return Sign(event, (*partner)->listing.webhook_uri(),
              (*integration)->signing_secret, delivery);
}

}  // namespace

std::vector<absl::Duration> DefaultRetrySchedule() {
  return {absl::ZeroDuration(), absl::Seconds(5),  absl::Minutes(5),
          absl::Minutes(30),    absl::Hours(2),    absl::Hours(5),
          absl::Hours(10),      absl::Hours(14),   absl::Hours(20),
          absl::Hours(24)};
}

absl::StatusOr<std::vector<absl::Duration>> ParseRetrySchedule(
    std::string_view text) {
  std::vector<absl::Duration> schedule;
  for (absl::string_view part :
       absl::StrSplit(absl::string_view(text.data(), text.size()), ',')) {
    part = absl::StripAsciiWhitespace(part);
    absl::Duration wait;
    if (!absl::ParseDuration(part, &wait) || wait < absl::ZeroDuration() ||
        wait == absl::InfiniteDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "retry schedule entry \"", part,
          "\" is not a non-negative duration such as 0s, 500ms, 5m or 2h"));
    }
    schedule.push_back(wait);
  }
  if (schedule.empty() || text.empty()) {
    return absl::InvalidArgumentError(
        "the retry schedule needs at least one entry (the first attempt)");
  }
  return schedule;
}

absl::Status ValidateDispatcherOptions(const DispatcherOptions& options) {
  if (options.max_in_flight < 1) {
    return absl::InvalidArgumentError("max_in_flight must be at least 1");
  }
  if (options.max_in_flight_per_integration < 1) {
    return absl::InvalidArgumentError(
        "max_in_flight_per_integration must be at least 1");
  }
  if (options.lease <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the lease must be positive");
  }
  if (options.poll_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the poll interval must be positive");
  }
  if (options.claim_batch < 1) {
    return absl::InvalidArgumentError("claim_batch must be at least 1");
  }
  if (options.retry_schedule.empty()) {
    return absl::InvalidArgumentError(
        "the retry schedule needs at least one entry (the first attempt)");
  }
  for (absl::Duration wait : options.retry_schedule) {
    if (wait < absl::ZeroDuration() || wait == absl::InfiniteDuration()) {
      return absl::InvalidArgumentError(
          "retry schedule entries must be finite and non-negative");
    }
  }
  if (!(options.jitter >= 0 && options.jitter < 1)) {
    return absl::InvalidArgumentError("jitter must be in [0, 1)");
  }
  return absl::OkStatus();
}

Dispatcher::Dispatcher(const DispatcherOptions& options, storage::Store& store,
                       Connector& connector, const Clock& clock,
                       RandomSource& random)
    : options_(options),
      store_(store),
      connector_(connector),
      clock_(clock),
      random_(random) {}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Start() {
  absl::MutexLock lock(&mu_);
  if (started_ || stopped_) return;
  started_ = true;
  loop_ = std::thread([this] { RunLoop(); });
  for (int i = 0; i < options_.max_in_flight; ++i) {
    workers_.emplace_back([this] { RunWorker(); });
  }
}

void Dispatcher::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

void Dispatcher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    if (!started_) return;
    stopping_ = true;
  }
  loop_.join();
  {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(this, &Dispatcher::Drained),
                         options_.stop_grace);
    if (in_flight_.total > 0) {
      spdlog::warn("dispatcher: {} deliveries still under way after {}; "
                   "they will be sent again when their lease expires",
                   in_flight_.total, absl::FormatDuration(options_.stop_grace));
    }
    abandon_ = true;
    exit_workers_ = true;
  }
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
}

bool Dispatcher::LoopShouldRun() const {
  return woken_ || stopping_;
}

void Dispatcher::RunLoop() {
  for (;;) {
    InFlight snapshot;
    int capacity = 0;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      woken_ = false;
      snapshot = in_flight_;
      capacity = options_.max_in_flight - in_flight_.total;
    }
    bool more = false;
    if (capacity > 0) {
      absl::StatusOr<std::vector<Claim>> claims =
          ClaimDue(capacity, snapshot, &more);
      if (!claims.ok()) {
        spdlog::warn("dispatcher: cannot claim due events: {}",
                     claims.status().ToString());
        more = false;
      } else if (!claims->empty()) {
        absl::MutexLock lock(&mu_);
        for (Claim& claim : *claims) {
          ++in_flight_.total;
          ++in_flight_.by_integration[claim.event.integration_id];
          in_flight_.event_ids.insert(claim.event.id);
          queue_.push_back(std::move(claim));
        }
      }
    }
    if (more) continue;
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(this, &Dispatcher::LoopShouldRun),
                         options_.poll_interval);
  }
}

bool Dispatcher::Drained() const { return in_flight_.total == 0; }

bool Dispatcher::WorkerShouldRun() const {
  return !queue_.empty() || exit_workers_;
}

void Dispatcher::RunWorker() {
  for (;;) {
    Claim claim;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &Dispatcher::WorkerShouldRun));
      // Claims left in the queue at exit keep their lease: another
      // dispatcher (or this one after a restart) sends them once it expires.
      if (exit_workers_) return;
      claim = std::move(queue_.front());
      queue_.pop_front();
    }
    const absl::Time attempt_time = clock_.Now();
    const DeliveryOutcome outcome = connector_.Deliver(claim.delivery);
    bool record = false;
    {
      absl::MutexLock lock(&mu_);
      record = !abandon_;
    }
    if (record) Record(claim, attempt_time, outcome);
    absl::MutexLock lock(&mu_);
    --in_flight_.total;
    auto it = in_flight_.by_integration.find(claim.event.integration_id);
    if (it != in_flight_.by_integration.end() && --it->second <= 0) {
      in_flight_.by_integration.erase(it);
    }
    in_flight_.event_ids.erase(claim.event.id);
    woken_ = true;
  }
}

absl::StatusOr<std::vector<Dispatcher::Claim>> Dispatcher::ClaimDue(
    int capacity, const InFlight& in_flight, bool* more) {
  std::vector<Claim> claims;
  absl::Status status = store_.WriteAndWait([&](storage::Transaction& txn)
                                                -> absl::Status {
    claims.clear();
    *more = false;
    const absl::Time now = clock_.Now();
    std::map<std::string, int> busy = in_flight.by_integration;
    Lookups lookups(txn);
    std::set<std::string> seen;
    const int target = std::min(capacity, options_.claim_batch);
    // Due rows passed over (held by us, or at their integration's limit):
    // they stay due, so each later look asks for that many more.
    int deferred = 0;
    for (int scan = 0; scan < kMaxScanBatches; ++scan) {
      // Only as many rows as could be claimed (each costs a decode).
      const int limit = deferred + target - static_cast<int>(claims.size());
      auto due = txn.events().ListDue(now, limit);
      if (!due.ok()) return due.status();
      for (storage::EventRow& event : *due) {
        if (static_cast<int>(claims.size()) >= target) break;
        if (!seen.insert(event.id).second) continue;
        // Our own delivery, whose lease ran out while it was under way.
        if (in_flight.event_ids.count(event.id) > 0) {
          ++deferred;
          continue;
        }
        Delivery delivery;
        auto settlement = Prepare(txn, lookups, event, &delivery);
        if (!settlement.ok()) return settlement.status();
        if (settlement->has_value()) {
          Settle(event, (*settlement)->state, std::move((*settlement)->reason),
                 now);
          absl::Status updated = txn.events().UpdateEvent(event);
          if (!updated.ok()) return updated;
          continue;
        }
        int& integration_busy = busy[event.integration_id];
        if (integration_busy >= options_.max_in_flight_per_integration) {
          ++deferred;
          continue;
        }
        ++integration_busy;
        // due_time stays: ListDue needs it at or before the lease's expiry.
        event.state = ats::v1::EVENT_STATE_SENDING;
        event.state_reason.clear();
        event.lease_expire_time = now + options_.lease;
        ++event.attempt_count;
        event.update_time = now;
        absl::Status updated = txn.events().UpdateEvent(event);
        if (!updated.ok()) return updated;
        claims.push_back(Claim{std::move(event), std::move(delivery)});
      }
      // Fewer rows than asked for: nothing else is due.
      if (static_cast<int>(due->size()) < limit) return absl::OkStatus();
      if (static_cast<int>(claims.size()) >= target) {
        // A full batch with capacity left: claim again at once, after
        // these are handed out, rather than at the next poll.
        *more = target < capacity;
        return absl::OkStatus();
      }
      // Otherwise rows were settled or passed over: look further.
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return claims;
}

absl::Duration Dispatcher::Jittered(absl::Duration wait) {
  if (options_.jitter <= 0 || wait <= absl::ZeroDuration()) return wait;
  uint8_t bytes[8];
  random_.Fill(bytes, sizeof(bytes));
  uint64_t bits = 0;
  std::memcpy(&bits, bytes, sizeof(bits));
  // Uniform in [0, 1), then in [-1, 1).
  const double unit = static_cast<double>(bits >> 11) * 0x1.0p-53;
  return wait * (1.0 + options_.jitter * (2.0 * unit - 1.0));
}

void Dispatcher::Record(const Claim& claim, absl::Time attempt_time,
                        const DeliveryOutcome& outcome) {
  const storage::EventRow& claimed = claim.event;
  const std::string event_name = claim.delivery.webhook_id;
  std::string verdict;
  absl::Status status = store_.WriteAndWait([&](storage::Transaction& txn)
                                                -> absl::Status {
    verdict.clear();
    auto current = txn.events().GetEvent(claimed.account_id, claimed.id);
    if (absl::IsNotFound(current.status())) {
      verdict = "event deleted meanwhile";
      return absl::OkStatus();
    }
    if (!current.ok()) return current.status();
    storage::AttemptRow attempt;
    attempt.account_id = claimed.account_id;
    attempt.event_id = claimed.id;
    // InsertAttempt numbers it after the event's last stored attempt.
    attempt.attempt_time = attempt_time;
    attempt.http_status = outcome.http_status;
    attempt.latency = outcome.latency;
    const bool success = IsSuccess(outcome.http_status);
    attempt.error = success ? "" : Truncate(ErrorOf(outcome));
    absl::Status inserted = txn.events().InsertAttempt(attempt);
    if (!inserted.ok()) return inserted;

    if (!StillHeld(*current, claimed)) {
      verdict = absl::StrCat("claim lost (now ",
                             ats::v1::EventState_Name(current->state), ")");
      return absl::OkStatus();
    }
    const absl::Time now = clock_.Now();
    storage::EventRow next = *std::move(current);
    const int attempts_made = next.attempt_count;
    const int schedule_size = static_cast<int>(options_.retry_schedule.size());
    if (success) {
      Settle(next, ats::v1::EVENT_STATE_SENT, "", now);
    } else if (outcome.http_status == 410) {
      Settle(next, ats::v1::EVENT_STATE_DEAD, kGone, now);
      auto integration = txn.integrations().GetIntegration(
          next.account_id, next.integration_id);
      if (integration.ok() && integration->endpoint_disabled_reason.empty()) {
        integration->endpoint_disabled_reason =
            absl::StrCat("partner answered 410 Gone to ", event_name, " at ",
                         absl::FormatTime(absl::RFC3339_sec, now,
                                          absl::UTCTimeZone()));
        integration->update_time = now;
        ++integration->revision;
        absl::Status updated =
            txn.integrations().UpdateIntegration(*integration);
        if (!updated.ok()) return updated;
      } else if (!integration.ok() &&
                 !absl::IsNotFound(integration.status())) {
        return integration.status();
      }
    } else if (attempts_made >= schedule_size) {
      Settle(next, ats::v1::EVENT_STATE_DEAD,
             absl::StrCat("gave up after ", attempts_made,
                          " attempts: ", ErrorOf(outcome)),
             now);
    } else {
      absl::Duration wait = Jittered(options_.retry_schedule[attempts_made]);
      if ((outcome.http_status == 429 || outcome.http_status == 503) &&
          outcome.retry_after.has_value()) {
        wait = std::max(wait, std::clamp(*outcome.retry_after,
                                         absl::ZeroDuration(), kMaxRetryAfter));
      }
      next.due_time = now + wait;
      Settle(next, ats::v1::EVENT_STATE_RETRYING,
             absl::StrCat("attempt failed: ", ErrorOf(outcome)),
             now);
    }
    verdict = ats::v1::EventState_Name(next.state);
    return txn.events().UpdateEvent(next);
  });
  if (!status.ok()) {
    spdlog::warn("dispatcher: cannot record the attempt on {}: {}; it will be "
                 "sent again when its lease expires",
                 event_name, status.ToString());
    return;
  }
  spdlog::debug("dispatcher: {} http_status={} latency_ms={:.1f} -> {}",
                event_name, outcome.http_status,
                absl::ToDoubleMilliseconds(outcome.latency), verdict);
}

}  // namespace ats::server
