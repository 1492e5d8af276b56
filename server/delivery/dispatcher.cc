// The dispatcher's options and threads: the claim loop, which hands claims
// to the connector, and the recorder. Claiming is in dispatch_claim.cc,
// recording in dispatch_record.cc.

#include "server/delivery/dispatcher.h"

#include <pthread.h>

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/contract/errors.h"
#include "server/contract/proto_json.h"
#include "server/domain/event_convert.h"
#include "spdlog/spdlog.h"

namespace ats::server {
namespace {

// Claim writes outstanding at once: one may run while the previous one waits
// for its commit, so slots freed meanwhile are filled a commit sooner.
constexpr int kMaxPendingClaims = 2;

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
  if (options.max_in_flight_per_destination < 1) {
    return absl::InvalidArgumentError(
        "max_in_flight_per_destination must be at least 1");
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
  if (options.auto_disable_after < absl::ZeroDuration() ||
      options.auto_disable_after == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        "auto_disable_after must be finite and non-negative (0 never "
        "disables)");
  }
  if (options.auto_disable_min_failures < 1) {
    return absl::InvalidArgumentError(
        "auto_disable_min_failures must be at least 1");
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
      random_(random),
      in_flight_(DestinationLimitOptions{
          options.max_in_flight, options.max_in_flight_per_destination}) {}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Start() {
  absl::MutexLock lock(&mu_);
  if (started_ || stopped_) return;
  started_ = true;
  woken_ = true;  // Claims at once.
  loop_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "dispatch-loop");
    RunLoop();
  });
  recorder_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "dispatch-record");
    RunRecorder();
  });
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
    if (!in_flight_.event_ids.empty()) {
      spdlog::warn("dispatcher: {} deliveries not finished and recorded after "
                   "{}; they will be sent again when their lease expires",
                   in_flight_.event_ids.size(),
                   absl::FormatDuration(options_.stop_grace));
    }
    abandon_ = true;
    // The connector's callbacks use this object: wait for the last one.
    mu_.Await(absl::Condition(this, &Dispatcher::NothingSending));
    exit_recorder_ = true;
  }
  recorder_.join();
}

bool Dispatcher::LoopShouldRun() const {
  return stopping_ || !claimed_.empty() ||
         (woken_ && MayClaim());
}

bool Dispatcher::MayClaim() const {
  // Deliveries answered whose outcome is not recorded yet: a server that
  // dies sends them again, so while as many wait as may be under way,
  // claims wait for the recorder rather than outrun it.
  const int64_t awaiting_record =
      static_cast<int64_t>(in_flight_.event_ids.size()) -
      in_flight_.requests.total();
  return claims_pending_ < kMaxPendingClaims &&
         awaiting_record < options_.max_in_flight;
}

bool Dispatcher::NoClaimPending() const { return claims_pending_ == 0; }

void Dispatcher::RunLoop() {
  for (bool stop = false; !stop;) {
    std::vector<Claim> ready;
    bool claim = false;
    {
      absl::MutexLock lock(&mu_);
      const bool signalled = mu_.AwaitWithTimeout(
          absl::Condition(this, &Dispatcher::LoopShouldRun),
          options_.poll_interval);
      if (stopping_) {
        // Pending claims' callbacks use this object, and what they claimed
        // is sent like the rest: Stop's grace covers it.
        mu_.Await(absl::Condition(this, &Dispatcher::NoClaimPending));
        stop = true;
      } else if ((woken_ || !signalled) && MayClaim()) {
        woken_ = false;
        ++claims_pending_;
        claim = true;
      }
      ready.swap(claimed_);
    }
    for (Claim& claim : ready) Send(std::move(claim));
    if (claim) SubmitClaim();
  }
}

void Dispatcher::SubmitClaim() {
  auto batch = std::make_shared<ClaimBatch>();
  store_.Claim(
      [this, batch](storage::Transaction& txn) {
        // A run that met a conflict is forgotten: this one starts afresh.
        ForgetUnderWay(*batch);
        *batch = ClaimBatch{};
        absl::Status status = ClaimDue(txn, *batch);
        if (!status.ok()) return status;
        // Counted now, inside the write, so that a claim running next (even
        // in this transaction) leaves room for these.
        absl::MutexLock lock(&mu_);
        CountUnderWay(batch->claims);
        batch->counted = true;
        return absl::OkStatus();
      },
      // On the store's reporting thread: quick.
      [this, batch](absl::Status status) {
        if (!status.ok()) {
          spdlog::warn("dispatcher: cannot claim due events: {}",
                       LogText(status));
        }
        // Rolled back (the write may have failed after counting them): the
        // events are not ours.
        if (!status.ok()) ForgetUnderWay(*batch);
        absl::MutexLock lock(&mu_);
        --claims_pending_;
        if (!status.ok()) return;
        if (batch->more) woken_ = true;
        for (Claim& claim : batch->claims) {
          claimed_.push_back(std::move(claim));
        }
      });
}

void Dispatcher::CountUnderWay(const std::vector<Claim>& claims) {
  for (const Claim& claim : claims) {
    in_flight_.requests.Started(claim.destination);
    in_flight_.event_ids.insert(claim.event.id);
  }
}

void Dispatcher::ForgetUnderWay(ClaimBatch& batch) {
  if (!batch.counted) return;
  absl::MutexLock lock(&mu_);
  for (const Claim& claim : batch.claims) {
    in_flight_.requests.Abandoned(claim.destination);
    in_flight_.event_ids.erase(claim.event.id);
  }
  batch.counted = false;
}

DestinationLimits Dispatcher::RequestsUnderWay() {
  absl::MutexLock lock(&mu_);
  return in_flight_.requests;
}

std::map<std::string, int> Dispatcher::InFlightByDestination() {
  absl::MutexLock lock(&mu_);
  return in_flight_.requests.InFlightByDestination();
}

bool Dispatcher::Unrecorded(const std::string& id) {
  absl::MutexLock lock(&mu_);
  return in_flight_.event_ids.count(id) > 0;
}

absl::Status Dispatcher::EncodeBody(Claim& claim) {
  storage::EventRow& event = claim.event;
  if (!event.payload.ParseFromString(claim.payload)) {
    claim.delivery.webhook_id = EventName(event.id);
    return absl::DataLossError(
        "the stored payload does not decode: the row was changed behind the "
        "server's back");
  }
  claim.delivery.webhook_id = event.payload.event_id().empty()
                                  ? EventName(event.id)
                                  : event.payload.event_id();
  absl::Status json = MessageToJson(event.payload, &claim.delivery.body);
  if (!json.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot encode the payload as JSON: ", std::string(json.message())));
  }
  return absl::OkStatus();
}

void Dispatcher::Send(Claim claim) {
  // Decoded and encoded here, on the claim loop's thread, rather than inside
  // the claim's write: the store's one writer is the busiest thread.
  const absl::Status body = EncodeBody(claim);
  Attempt attempt;
  attempt.name = claim.delivery.webhook_id;
  attempt.destination = std::move(claim.destination);
  attempt.time = clock_.Now();
  attempt.payload.Swap(&claim.event.payload);
  attempt.event = std::move(claim.event);
  // Shared so that the callback stays copyable (std::function).
  auto pending = std::make_shared<Attempt>(std::move(attempt));
  DeliveryDone done = [this, pending](DeliveryOutcome outcome) {
    absl::MutexLock lock(&mu_);
    // The answer frees the slot now; the event stays ours until recorded.
    // Any HTTP status is an answer: only silence shrinks the window, and an
    // attempt never made says nothing of the destination.
    if (pending->unsendable) {
      in_flight_.requests.Abandoned(pending->destination);
    } else {
      in_flight_.requests.Finished(pending->destination,
                                   outcome.http_status != 0);
    }
    woken_ = true;
    if (abandon_) return;  // Stop's grace ran out.
    pending->outcome = std::move(outcome);
    finished_.push_back(std::move(*pending));
  };
  if (!body.ok()) {
    // Never sendable: recorded as a failed attempt that ends the event.
    pending->unsendable = true;
    DeliveryOutcome outcome;
    outcome.error = std::string(body.message());
    done(std::move(outcome));
    return;
  }
  connector_.Send(std::move(claim.delivery), std::move(done));
}

bool Dispatcher::Drained() const { return in_flight_.event_ids.empty(); }

bool Dispatcher::NothingSending() const {
  return in_flight_.requests.total() == 0;
}

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
      in_flight_.event_ids.erase(attempt.event.id);
    }
    // A retry may be due at once.
    woken_ = true;
    batch.clear();
  }
}

}  // namespace ats::server
