// The dispatcher's claim: finding due events it may send, settling those it
// must not, and leasing the rest, all in one write of the store's writer,
// the busiest thread, so it reads whole rows only of the events it takes.

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/contract/webhook_signature.h"
#include "server/delivery/dispatch_settle.h"
#include "server/delivery/dispatcher.h"
#include "server/domain/marketplace.h"
#include "server/domain/notifications.h"

namespace ats::server {
namespace {

// A claim looks at most this many times for due events when the first it
// found were passed over (its own deliveries not yet recorded, destinations
// filled up by this claim).
constexpr int kMaxScanBatches = 16;

constexpr char kLeftStage[] =
    "candidate left the stage before the delay elapsed";
constexpr char kDeactivated[] = "integration deactivated before delivery";

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
    return Once(accounts_, id, [&] { return txn_.accounts().GetAccount(id); });
  }

  // Returns integration `id` of `account_id`, or nullptr if it is gone.
  absl::StatusOr<const storage::IntegrationRow*> Integration(
      const std::string& account_id, const std::string& id) {
    return Once(integrations_, {account_id, id}, [&] {
      return txn_.integrations().GetIntegration(account_id, id);
    });
  }

  // Returns listing `id`, or nullptr if it is gone.
  absl::StatusOr<const storage::PartnerRow*> Partner(const std::string& id) {
    return Once(partners_, id,
                [&] { return txn_.integrations().GetPartner(id); });
  }

 private:
  // Returns the row `cache` holds for `key`, loading it with `load` the
  // first time; nullptr when `load` found nothing. Other errors are not
  // kept, so a later call tries again.
  template <typename Key, typename Row, typename Load>
  static absl::StatusOr<const Row*> Once(
      std::map<Key, std::optional<Row>>& cache, const Key& key, Load load) {
    auto [it, inserted] = cache.try_emplace(key);
    if (inserted) {
      absl::StatusOr<Row> row = load();
      if (row.ok()) {
        it->second = *std::move(row);
      } else if (!absl::IsNotFound(row.status())) {
        cache.erase(it);
        return row.status();
      }
    }
    return it->second.has_value() ? &*it->second : nullptr;
  }

  storage::Transaction& txn_;
  std::map<std::string, std::optional<storage::AccountRow>> accounts_;
  std::map<std::pair<std::string, std::string>,
           std::optional<storage::IntegrationRow>>
      integrations_;
  std::map<std::string, std::optional<storage::PartnerRow>> partners_;
};

// How an event settles when the row holding its signing secret does not
// open (DATA_LOSS: altered behind the server's back): that event is DEAD,
// and the claim goes on with the others.
Settlement Unreadable(const std::string& row, const absl::Status& status) {
  return Settlement{
      ats::v1::EVENT_STATE_DEAD,
      absl::StrCat("the signing secret of ", row, " cannot be read (",
                   status.message(), "); rotate it, then retry the event")};
}

// Addresses `delivery` to `url`, to be signed with `secret`. The payload is
// decoded and the body encoded later, outside the claim's write (see
// Dispatcher::Send).
std::optional<Settlement> Address(const std::string& url,
                                  const std::string& secret,
                                  Delivery* delivery) {
  delivery->url = url;
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
    if (absl::IsDataLoss(account.status())) {
      return Unreadable(absl::StrCat("accounts/", event.account_id),
                        account.status());
    }
    if (!account.ok()) return account.status();
    if (*account == nullptr || (*account)->webhook_signing_secret.empty()) {
      return Settlement{ats::v1::EVENT_STATE_SKIPPED, kNoWebhookSecret};
    }
    return Address(event.webhook_uri, (*account)->webhook_signing_secret,
                   delivery);
  }
  const std::string integration_name = IntegrationName(event.integration_id);
  auto integration =
      lookups.Integration(event.account_id, event.integration_id);
  if (absl::IsDataLoss(integration.status())) {
    return Unreadable(integration_name, integration.status());
  }
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
  return Address((*partner)->listing.webhook_uri(),
                 (*integration)->signing_secret, delivery);
}

}  // namespace

absl::Status Dispatcher::ClaimDue(storage::Transaction& txn,
                                  ClaimBatch& batch) {
  std::vector<Claim>& claims = batch.claims;
  const absl::Time now = clock_.Now();
  // Read now, not when the claim was asked for: the requests that ended
  // while it waited for the writer have freed their slots. Counted on as
  // this claim takes events, so that it keeps to the limits itself.
  DestinationLimits requests = RequestsUnderWay();
  // Deliveries under way to each destination from every server sharing the
  // database, this one's included: with several servers, a destination's
  // limit holds for all of them together. Counted on as this claim takes
  // events.
  std::map<std::string, int64_t> leased;
  if (options_.store_shared) {
    auto counted = txn.events().CountLeased(now);
    if (!counted.ok()) return counted.status();
    leased = *std::move(counted);
  }
  const auto at_limit = [&](const std::string& destination) {
    auto it = leased.find(destination);
    return it != leased.end() &&
           it->second >= options_.max_in_flight_per_destination;
  };
  const int target = options_.claim_batch;
  // Claims are large (the event row and its delivery): growing the vector
  // would move them all again.
  claims.reserve(static_cast<size_t>(target));
  Lookups lookups(txn);
  std::set<int64_t> seen;
  // Due rows passed over because another server's claim holds them, or
  // because they are our own deliveries whose lease ran out before the
  // outcome was recorded: they stay due, so each later look asks for that
  // many more.
  int deferred = 0;
  for (int scan = 0; scan < kMaxScanBatches; ++scan) {
    const int limit = deferred + target - static_cast<int>(claims.size());
    std::vector<std::string> skip = requests.Saturated();
    for (const auto& [destination, count] : leased) {
      if (at_limit(destination)) skip.push_back(destination);
    }
    auto due = txn.events().ListDue(now, limit, skip);
    if (!due.ok()) return due.status();
    for (const storage::DueEvent& key : *due) {
      if (static_cast<int>(claims.size()) >= target) break;
      if (!seen.insert(key.row_key).second) continue;
      // Filled up by this claim: the next look leaves it out.
      if (!requests.MayStart(key.destination) || at_limit(key.destination)) {
        continue;
      }
      auto due_event = txn.events().ReadDueEvent(key, now);
      if (!due_event.ok()) return due_event.status();
      // Held by another server's claim (or no longer due), or one of our
      // own deliveries whose lease ran out before its outcome was recorded.
      if (!due_event->has_value() || Unrecorded((*due_event)->event.id)) {
        ++deferred;
        continue;
      }
      storage::EventRow& event = (*due_event)->event;
      Delivery delivery;
      auto settlement = Prepare(txn, lookups, event, &delivery);
      if (!settlement.ok()) return settlement.status();
      if (settlement->has_value()) {
        Settle(event, (*settlement)->state, std::move((*settlement)->reason),
               now);
        absl::Status updated = txn.events().UpdateEvent(event);
        if (!updated.ok()) return updated;
        if (event.state == ats::v1::EVENT_STATE_DEAD) {
          updated = NotifyEventDead(txn, event, now, random_);
          if (!updated.ok()) return updated;
        }
        continue;
      }
      requests.Started(key.destination);
      if (options_.store_shared) ++leased[key.destination];
      // due_time stays: ListDue needs it at or before the lease's expiry.
      event.state = ats::v1::EVENT_STATE_SENDING;
      event.state_reason.clear();
      event.lease_expire_time = now + options_.lease;
      ++event.attempt_count;
      event.update_time = now;
      absl::Status lease = txn.events().LeaseDueEvent(key, event);
      if (!lease.ok()) return lease;
      claims.push_back(Claim{std::move(event), std::move((*due_event)->payload),
                             key.destination, std::move(delivery)});
    }
    // Fewer rows than asked for: nothing else is due.
    if (static_cast<int>(due->size()) < limit) return absl::OkStatus();
    if (static_cast<int>(claims.size()) >= target) {
      // A full batch with room left in the pool: claim again at once, after
      // these are handed out, rather than at the next poll. Without room,
      // the answers that free slots wake the loop.
      batch.more = requests.pooled() < options_.max_in_flight;
      return absl::OkStatus();
    }
    // Otherwise rows were settled or passed over: look further.
  }
  return absl::OkStatus();
}

}  // namespace ats::server
