// The dispatcher's recorder: every attempt, and the event's next state
// (SENT, RETRYING after a backoff, DEAD: at once for a destination the
// connector refused), for many outcomes in one write.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "server/contract/errors.h"
#include "server/delivery/dispatch_settle.h"
#include "server/delivery/dispatcher.h"
#include "spdlog/spdlog.h"

namespace ats::server {
namespace {

// Longest Retry-After honoured: a partner cannot park an event for longer.
constexpr absl::Duration kMaxRetryAfter = absl::Hours(24);

constexpr char kGone[] = "partner answered 410 Gone: endpoint disabled";

bool IsSuccess(int http_status) {
  return http_status >= 200 && http_status < 300;
}

// What went wrong in `outcome`, for the attempt record and reasons.
std::string ErrorOf(const DeliveryOutcome& outcome) {
  if (!outcome.error.empty()) return outcome.error;
  if (outcome.http_status == 0) return "no response";
  return absl::StrCat("HTTP ", outcome.http_status);
}

}  // namespace

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
  // One write per account, all at once: each waits only for its own
  // account's writes, not for a moment when every account's are done.
  struct AccountRecord {
    std::vector<const Attempt*> attempts;
    std::vector<std::string> verdicts;
    absl::Status status;
  };
  std::map<std::string, AccountRecord> accounts;
  for (const Attempt& attempt : attempts) {
    accounts[attempt.event.account_id].attempts.push_back(&attempt);
  }
  absl::BlockingCounter pending(static_cast<int>(accounts.size()));
  for (auto& [account_id, record] : accounts) {
    store_.Write(
        storage::WriteScope::Account(account_id),
        [this, &record](storage::Transaction& txn) -> absl::Status {
          record.verdicts.assign(record.attempts.size(), "");
          for (size_t i = 0; i < record.attempts.size(); ++i) {
            absl::Status recorded =
                RecordOne(txn, *record.attempts[i], &record.verdicts[i]);
            if (!recorded.ok()) return recorded;
          }
          return absl::OkStatus();
        },
        [&record, &pending](absl::Status status) {
          record.status = std::move(status);
          pending.DecrementCount();
        });
  }
  pending.Wait();
  for (const auto& [account_id, record] : accounts) {
    if (!record.status.ok()) {
      spdlog::warn(
          "dispatcher: cannot record {} attempts (first: {}): {}; they will "
          "be sent again when their lease expires",
          record.attempts.size(), record.attempts.front()->name,
          LogText(record.status));
      continue;
    }
    if (!spdlog::should_log(spdlog::level::debug)) continue;
    for (size_t i = 0; i < record.attempts.size(); ++i) {
      const Attempt& attempt = *record.attempts[i];
      spdlog::debug("dispatcher: {} http_status={} latency_ms={:.1f} -> {}",
                    attempt.name, attempt.outcome.http_status,
                    absl::ToDoubleMilliseconds(attempt.outcome.latency),
                    record.verdicts[i]);
    }
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
  } else if (attempt.unsendable || outcome.refused_destination) {
    // Retrying would fail the same way.
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
