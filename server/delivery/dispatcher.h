#ifndef ATS_SERVER_DELIVERY_DISPATCHER_H_
#define ATS_SERVER_DELIVERY_DISPATCHER_H_

// The delivery half of the transactional outbox: claims due events from the
// store in batches with a lease, starts their deliveries on the Connector
// (which runs them all at once), and records the attempts and outcomes in
// batches, many per write. The limits count HTTP requests, per destination
// (see DestinationLimits): a delivery's slot is free again as soon as its
// answer arrives, while recording it waits for the store's writer. Delivery is at-least-once: an event is only final
// once its outcome is committed, and an event whose claimant died is
// claimable again when its lease expires.

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ats/v1/partner_event.pb.h"
#include "server/common/clock.h"
#include "server/common/random.h"
#include "server/delivery/connector.h"
#include "server/delivery/destination_limits.h"
#include "storage/event_repository.h"
#include "storage/store.h"

namespace ats::server {

// The Standard Webhooks-like schedule: 0, 5s, 5m, 30m, 2h, 5h, 10h, 14h,
// 20h, 24h (about three days in all).
std::vector<absl::Duration> DefaultRetrySchedule();

// Parses a comma-separated list of absl durations ("0s,5s,5m,2h") into a
// retry schedule; INVALID_ARGUMENT for an empty list or a bad or negative
// entry.
absl::StatusOr<std::vector<absl::Duration>> ParseRetrySchedule(
    std::string_view text);

struct DispatcherOptions {
  // Deliveries under way (claimed, HTTP request not yet answered) at once
  // beyond each busy destination's first, over all destinations: a
  // destination with nothing under way can always start one. A delivery
  // holds its slot from its claim, which waits for the store's commit (tens
  // of milliseconds under a heavy write load), to its answer: to deliver N
  // events/s, the limits must exceed N times that.
  int max_in_flight = 256;
  // Deliveries under way at once to one destination (concurrent requests
  // to one partner, or to one account's webhook host). A destination earns
  // them by answering: see DestinationLimits.
  int max_in_flight_per_destination = 128;
  // How long a claim lasts: an event claimed but not finished by then (the
  // process died, say) is claimable again. Keep it above the connector's
  // total timeout, or a slow delivery may be sent twice.
  absl::Duration lease = absl::Seconds(60);
  // Entry i is the wait before attempt i + 1, so its length is the number of
  // attempts: after the last one fails the event is DEAD. Entry 0 stands for
  // the first attempt, made as soon as the event is due (its value is not
  // used).
  std::vector<absl::Duration> retry_schedule = DefaultRetrySchedule();
  // Each wait is scaled by a random factor in [1 - jitter, 1 + jitter], so
  // events failing together do not retry together.
  double jitter = 0.1;
  // How often the loop looks for due events when nothing wakes it (Wake,
  // an answered or recorded delivery); also bounds how late a delayed event
  // or a retry goes out, which must stay well within the 100 ms in which an
  // idle destination's due event is attempted. A look with nothing due
  // reads one index entry per destination.
  absl::Duration poll_interval = absl::Milliseconds(50);
  // Most events claimed by one write. A claim passes over the due events of
  // integrations at their limit without reading them, and reads whole rows
  // only of the events it takes. Well below a destination's window: a
  // window refilled by several smaller claims starts sending after the
  // first of them commits, rather than leaving the destination idle while
  // one large claim runs (a backlog to one destination is delivered
  // 1.2-1.4x as fast as with 128).
  int claim_batch = 32;
  // Whether other servers claim from the same store (PostgreSQL replicas):
  // a destination's limit then counts their deliveries too, read from the
  // store's leases at every claim. For a store no other server shares
  // (SQLite's), this server's own count is the whole count, and the claim
  // reads none.
  bool store_shared = true;
  // How long Stop waits for deliveries under way to finish and be recorded.
  absl::Duration stop_grace = absl::Seconds(5);
  // An integration whose every delivery attempt has failed for this long,
  // with at least `auto_disable_min_failures` attempts, has its endpoint
  // disabled, as a 410 answer disables it; zero never disables.
  absl::Duration auto_disable_after = absl::Hours(5 * 24);
  int auto_disable_min_failures = 10;
  // Records a result a partner gave in a 2xx answer's body for the event,
  // SENT by that answer, inside the recorder's transaction at the time
  // given (the engine's RecordPartnerResult, which also runs the moving
  // rules); INVALID_ARGUMENT when the result misfits the partner's listing.
  // Unset (when delivery runs without the engine), answers are not read as
  // results.
  std::function<absl::Status(storage::Transaction&, storage::EventRow&,
                             const ats::v1::PartnerResult&, absl::Time)>
      record_result;
};

// Returns INVALID_ARGUMENT, naming the option, unless `options` has positive
// limits, lease, poll interval and claim batch, a non-empty retry schedule
// of non-negative waits, and a jitter in [0, 1).
absl::Status ValidateDispatcherOptions(const DispatcherOptions& options);

// Delivers due events. Thread-safe. The store, connector, clock and random
// source must outlive it. Several dispatchers (in this process or others
// sharing the database) may run at once: claims are atomic, so none sends an
// event another holds a live lease on.
class Dispatcher {
 public:
  // Does not start delivering; see Start. `options` must be valid (see
  // ValidateDispatcherOptions).
  Dispatcher(const DispatcherOptions& options, storage::Store& store,
             Connector& connector, const Clock& clock, RandomSource& random);

  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Stops (see Stop).
  ~Dispatcher();

  // Starts the claim loop and the recorder. Call at most once.
  void Start();

  // Makes the loop look for due events now instead of at its next poll; call
  // it after committing a write that created events. Cheap, never blocks on
  // the store, and callable from a store's done callback. Before Start it
  // changes nothing: Start claims at once anyway.
  void Wake();

  // Returns the deliveries under way (HTTP requests not yet answered), by
  // destination (see storage/delivery_destination.h).
  std::map<std::string, int> InFlightByDestination() ABSL_LOCKS_EXCLUDED(mu_);

  // Stops claiming, waits up to `stop_grace` for deliveries under way to
  // finish and be recorded, and returns once the connector has reported
  // every delivery it was given (which its timeouts bound). Outcomes
  // arriving after the grace are dropped: those events stay SENDING and are
  // delivered again once their lease expires. Idempotent.
  void Stop();

 private:
  // An event this dispatcher holds the lease on, and what to send.
  struct Claim {
    // Its payload empty until Send decodes `payload` into it.
    storage::EventRow event;
    // As stored (storage::DueEventRow).
    std::string payload;
    std::string destination;
    // Addressed by the claim; named and given its body by Send.
    Delivery delivery;
  };

  // A delivery attempt made, to be recorded.
  struct Attempt {
    // As claimed, but for its payload, kept apart (below) so that recording
    // the attempt, which copies the row, copies the payload only for an
    // answer's result, the one thing that reads it.
    storage::EventRow event;
    ats::v1::PartnerEvent payload;
    std::string destination;
    std::string name;         // The webhook-id.
    absl::Time time;          // When it started.
    DeliveryOutcome outcome;
    // Not sent: the event can never be (its payload has no JSON form).
    bool unsendable = false;
  };

  // What is under way, as the claim loop sees it. A delivery holds its
  // destination's slot while its HTTP request runs; its event stays claimed
  // (SENDING, leased) until the outcome is recorded.
  struct InFlight {
    explicit InFlight(const DestinationLimitOptions& options)
        : requests(options) {}
    // Deliveries claimed whose HTTP request is not answered yet.
    DestinationLimits requests;
    // Events claimed whose outcome is not recorded yet: should such an
    // event's lease run out meanwhile, it is still ours, not claimable.
    std::set<std::string> event_ids;
  };

  void RunLoop();
  void RunRecorder();

  // Conditions the loop, the recorder and Stop wait for.
  bool LoopShouldRun() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool RecorderShouldRun() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Drained() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool NothingSending() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool NoClaimPending() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether a claim may start: fewer than kMaxPendingClaims are pending, and
  // fewer answered deliveries than max_in_flight await their record.
  bool MayClaim() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // What one claim write took.
  struct ClaimBatch {
    std::vector<Claim> claims;
    // Whether `claims` were counted as under way (undone if the write
    // rolls back).
    bool counted = false;
    // More due events may be claimable at once: a full batch was claimed
    // with room left.
    bool more = false;
  };

  // Undoes CountUnderWay for `batch`, if it counted its claims.
  void ForgetUnderWay(ClaimBatch& batch) ABSL_LOCKS_EXCLUDED(mu_);
  // Submits a claim write (see ClaimDue) without waiting for it; once it
  // commits, its claims wait in `claimed_` for the loop to send them.
  void SubmitClaim();
  // Claims due events inside `txn` into `batch`, as many as the limits
  // leave room for when it runs (not when it was asked: deliveries end
  // meanwhile), and settles those that must not be sent (cancelled,
  // skipped, dead). Defined in dispatch_claim.cc.
  absl::Status ClaimDue(storage::Transaction& txn, ClaimBatch& batch)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Counts `claims` as under way: each holds a slot of its destination and
  // its event is ours until recorded.
  void CountUnderWay(const std::vector<Claim>& claims)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A copy of the deliveries under way and the destinations' windows.
  DestinationLimits RequestsUnderWay() ABSL_LOCKS_EXCLUDED(mu_);
  // Whether event `id` is claimed by us and its outcome not yet recorded.
  bool Unrecorded(const std::string& id) ABSL_LOCKS_EXCLUDED(mu_);

  // Hands `claim` to the connector; its outcome goes to the recorder.
  void Send(Claim claim);
  // Decodes `claim`'s stored payload, names its delivery (the webhook-id)
  // and encodes its body; an error, with the reason to record, when the
  // event can never be sent.
  static absl::Status EncodeBody(Claim& claim);

  // Records `attempts` and, for each claim that still holds, the event's
  // next state, in one write per account. Defined, with RecordOne and
  // Jittered, in dispatch_record.cc.
  void Record(const std::vector<Attempt>& attempts);
  // Records `attempt` inside `txn`; sets `verdict` to what became of it.
  absl::Status RecordOne(storage::Transaction& txn, const Attempt& attempt,
                         std::string* verdict);
  // Keeps, inside `txn`, each integration's run of failed deliveries from
  // the `attempts` of one account just recorded, and disables the endpoint
  // of one whose every attempt has failed for auto_disable_after.
  absl::Status NoteFailingEndpoints(
      storage::Transaction& txn, const std::vector<const Attempt*>& attempts);

  // Returns `wait` scaled by a random factor in [1 - jitter, 1 + jitter].
  absl::Duration Jittered(absl::Duration wait);

  const DispatcherOptions options_;
  storage::Store& store_;
  Connector& connector_;
  const Clock& clock_;
  RandomSource& random_;

  absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  // Set by Start, Wake, answered and recorded deliveries and claims that
  // left more; cleared by the loop when it submits a claim.
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  // Set when Stop's grace ran out: outcomes are dropped instead of recorded.
  bool abandon_ ABSL_GUARDED_BY(mu_) = false;
  // Set by Stop once nothing is left to record: the recorder returns.
  bool exit_recorder_ ABSL_GUARDED_BY(mu_) = false;
  InFlight in_flight_ ABSL_GUARDED_BY(mu_);
  // Claim writes submitted, not yet committed or rolled back.
  int claims_pending_ ABSL_GUARDED_BY(mu_) = 0;
  // Committed claims the loop has not handed to the connector yet.
  std::vector<Claim> claimed_ ABSL_GUARDED_BY(mu_);
  // Reported back, not yet taken by the recorder.
  std::vector<Attempt> finished_ ABSL_GUARDED_BY(mu_);

  std::thread loop_;
  std::thread recorder_;
};

}  // namespace ats::server

#endif  // ATS_SERVER_DELIVERY_DISPATCHER_H_
