#include "server/dispatcher.h"

#include <algorithm>
#include <cstring>
#include <memory>
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

// Addresses `delivery` of `event` to `url`, to be signed with `secret`. The
// body is encoded later, outside the claim's write (see Dispatcher::Send).
std::optional<Settlement> Address(const storage::EventRow& event,
                                  const std::string& url,
                                  const std::string& secret,
                                  Delivery* delivery) {
  delivery->url = url;
  delivery->webhook_id = event.payload.event_id().empty()
                             ? absl::StrCat("events/", event.id)
                             : event.payload.event_id();
  delivery->signing_secret = secret;
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
    return Address(event, event.webhook_uri, (*account)->webhook_signing_secret,
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
  return Address(event, (*partner)->listing.webhook_uri(),
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
  recorder_ = std::thread([this] { RunRecorder(); });
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
    // The connector's callbacks use this object: wait for the last one.
    mu_.Await(absl::Condition(this, &Dispatcher::NothingSending));
    exit_recorder_ = true;
  }
  recorder_.join();
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
      capacity = options_.max_in_flight - in_flight_.total;
      if (capacity > 0) snapshot = in_flight_;
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
        {
          absl::MutexLock lock(&mu_);
          for (const Claim& claim : *claims) {
            ++in_flight_.total;
            ++in_flight_.by_integration[claim.event.integration_id];
            in_flight_.event_ids.insert(claim.event.id);
          }
          sending_ += static_cast<int>(claims->size());
        }
        for (Claim& claim : *claims) Send(std::move(claim));
      }
    }
    if (more) continue;
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(this, &Dispatcher::LoopShouldRun),
                         options_.poll_interval);
  }
}

void Dispatcher::Send(Claim claim) {
  Attempt attempt;
  attempt.name = claim.delivery.webhook_id;
  attempt.time = clock_.Now();
  // Encoded here, on the claim loop's thread, rather than inside the claim's
  // write: the store's one writer is the busiest thread.
  auto json = google::protobuf::util::MessageToJsonString(
      claim.event.payload, &claim.delivery.body);
  attempt.event = std::move(claim.event);
  // Shared so that the callback stays copyable (std::function).
  auto pending = std::make_shared<Attempt>(std::move(attempt));
  DeliveryDone done = [this, pending](DeliveryOutcome outcome) {
    absl::MutexLock lock(&mu_);
    --sending_;
    if (abandon_) return;  // Stop's grace ran out.
    pending->outcome = std::move(outcome);
    finished_.push_back(std::move(*pending));
  };
  if (!json.ok()) {
    // Never sendable: recorded as a failed attempt that ends the event.
    pending->unsendable = true;
    DeliveryOutcome outcome;
    outcome.error = absl::StrCat("cannot encode the payload as JSON: ",
                                 std::string(json.message()));
    done(std::move(outcome));
    return;
  }
  connector_.Send(std::move(claim.delivery), std::move(done));
}

bool Dispatcher::Drained() const { return in_flight_.total == 0; }

bool Dispatcher::NothingSending() const { return sending_ == 0; }

bool Dispatcher::RecorderShouldRun() const {
  return !finished_.empty() || exit_recorder_;
}

void Dispatcher::RunRecorder() {
  std::vector<Attempt> batch;
  for (;;) {
    bool record = false;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &Dispatcher::RecorderShouldRun));
      if (finished_.empty()) return;  // exit_recorder_.
      batch.swap(finished_);
      record = !abandon_;
    }
    // Everything finished meanwhile goes into one write.
    if (record) Record(batch);
    absl::MutexLock lock(&mu_);
    for (const Attempt& attempt : batch) {
      --in_flight_.total;
      auto it = in_flight_.by_integration.find(attempt.event.integration_id);
      if (it != in_flight_.by_integration.end() && --it->second <= 0) {
        in_flight_.by_integration.erase(it);
      }
      in_flight_.event_ids.erase(attempt.event.id);
    }
    woken_ = true;
    batch.clear();
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

void Dispatcher::Record(const std::vector<Attempt>& attempts) {
  std::vector<std::string> verdicts;
  absl::Status status = store_.WriteAndWait([&](storage::Transaction& txn)
                                                -> absl::Status {
    verdicts.assign(attempts.size(), "");
    for (size_t i = 0; i < attempts.size(); ++i) {
      absl::Status recorded = RecordOne(txn, attempts[i], &verdicts[i]);
      if (!recorded.ok()) return recorded;
    }
    return absl::OkStatus();
  });
  if (!status.ok()) {
    spdlog::warn("dispatcher: cannot record {} attempts (first: {}): {}; they "
                 "will be sent again when their lease expires",
                 attempts.size(), attempts.front().name, status.ToString());
    return;
  }
  if (!spdlog::should_log(spdlog::level::debug)) return;
  for (size_t i = 0; i < attempts.size(); ++i) {
    spdlog::debug("dispatcher: {} http_status={} latency_ms={:.1f} -> {}",
                  attempts[i].name, attempts[i].outcome.http_status,
                  absl::ToDoubleMilliseconds(attempts[i].outcome.latency),
                  verdicts[i]);
  }
}

absl::Status Dispatcher::RecordOne(storage::Transaction& txn,
                                   const Attempt& attempt,
                                   std::string* verdict) {
  const storage::EventRow& claimed = attempt.event;
  const DeliveryOutcome& outcome = attempt.outcome;
  storage::AttemptRow row;
  row.account_id = claimed.account_id;
  row.event_id = claimed.id;
  // InsertAttempt numbers it after the event's last stored attempt.
  row.attempt_time = attempt.time;
  row.http_status = outcome.http_status;
  row.latency = outcome.latency;
  const bool success = IsSuccess(outcome.http_status);
  row.error = success ? "" : Truncate(ErrorOf(outcome));
  absl::Status inserted = txn.events().InsertAttempt(row);
  if (absl::IsNotFound(inserted)) {
    *verdict = "event deleted meanwhile";
    return absl::OkStatus();
  }
  if (!inserted.ok()) return inserted;

  const absl::Time now = clock_.Now();
  storage::EventRow next = claimed;
  const int attempts_made = next.attempt_count;
  const int schedule_size = static_cast<int>(options_.retry_schedule.size());
  const bool gone = outcome.http_status == 410;
  if (success) {
    Settle(next, ats::v1::EVENT_STATE_SENT, "", now);
  } else if (attempt.unsendable) {
    Settle(next, ats::v1::EVENT_STATE_DEAD, outcome.error, now);
  } else if (gone) {
    Settle(next, ats::v1::EVENT_STATE_DEAD, kGone, now);
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
           absl::StrCat("attempt failed: ", ErrorOf(outcome)), now);
  }
  absl::StatusOr<bool> held = txn.events().SettleClaim(claimed, next);
  if (!held.ok()) return held.status();
  if (!*held) {
    // Another dispatcher re-claimed it after the lease expired, or it was
    // settled meanwhile: the attempt is on record, the state is theirs.
    *verdict = "claim lost";
    return absl::OkStatus();
  }
  *verdict = ats::v1::EventState_Name(next.state);
  if (!gone) return absl::OkStatus();
  auto integration =
      txn.integrations().GetIntegration(next.account_id, next.integration_id);
  if (absl::IsNotFound(integration.status())) return absl::OkStatus();
  if (!integration.ok()) return integration.status();
  if (!integration->endpoint_disabled_reason.empty()) return absl::OkStatus();
  integration->endpoint_disabled_reason = absl::StrCat(
      "partner answered 410 Gone to ", attempt.name, " at ",
      absl::FormatTime(absl::RFC3339_sec, now, absl::UTCTimeZone()));
  integration->update_time = now;
  ++integration->revision;
  return txn.integrations().UpdateIntegration(*integration);
}

}  // namespace ats::server
