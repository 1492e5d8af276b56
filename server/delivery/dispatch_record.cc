// The dispatcher's recorder: every attempt, and the event's next state
// (SENT, RETRYING after a backoff, DEAD: at once for a destination the
// connector refused), for many outcomes in one write.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "google/protobuf/util/json_util.h"
#include "server/common/string_view.h"
#include "server/common/validation.h"
#include "server/contract/errors.h"
#include "server/delivery/dispatch_settle.h"
#include "server/delivery/dispatcher.h"
#include "server/domain/notifications.h"
#include "server/domain/partner_result.h"
#include "spdlog/spdlog.h"

namespace ats::server {
namespace {

// Longest Retry-After honoured: a partner cannot park an event for longer.
constexpr absl::Duration kMaxRetryAfter = absl::Hours(24);

constexpr char kGone[] = "partner answered 410 Gone: endpoint disabled";

std::string TimeText(absl::Time time) {
  return absl::FormatTime(absl::RFC3339_sec, time, absl::UTCTimeZone());
}

// Disables the endpoint of `integration` for `reason` at `now`, in `txn`:
// its events die unsent until ReactivateIntegration. Stores the row, with
// any other change made to it, and notifies the account.
absl::Status DisableEndpoint(storage::Transaction& txn, std::string reason,
                             absl::Time now, RandomSource& random,
                             storage::IntegrationRow& integration) {
  integration.endpoint_disabled_reason = std::move(reason);
  integration.update_time = now;
  ++integration.revision;
  absl::Status updated = txn.integrations().UpdateIntegration(integration);
  if (!updated.ok()) return updated;
  return NotifyIntegrationDisabled(txn, integration, now, random);
}

// Longest partner message kept, per the Event contract.
constexpr size_t kMaxPartnerMessageBytes = 1024;

bool IsSuccess(int http_status) {
  return http_status >= 200 && http_status < 300;
}

// What went wrong in `outcome`, for the attempt record and reasons.
std::string ErrorOf(const DeliveryOutcome& outcome) {
  if (!outcome.error.empty()) return outcome.error;
  if (outcome.http_status == 0) return "no response";
  return absl::StrCat("HTTP ", outcome.http_status);
}

// Returns `text` as a recruiter may read it: valid UTF-8 kept, control
// characters as spaces, bytes of no valid sequence as '?', cut at
// kMaxPartnerMessageBytes, without leading or trailing spaces.
std::string PartnerMessage(std::string_view text) {
  text = text.substr(0, kMaxPartnerMessageBytes);
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const size_t length = byte < 0x80           ? 1
                          : (byte >> 5) == 0x6  ? 2
                          : (byte >> 4) == 0xE  ? 3
                          : (byte >> 3) == 0x1E ? 4
                                                : 0;
    bool valid = length > 0 && i + length <= text.size();
    for (size_t k = 1; valid && k < length; ++k) {
      valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    }
    if (!valid) {
      out.push_back('?');
      ++i;
    } else if (length == 1) {
      out.push_back(byte < 0x20 || byte == 0x7F ? ' ' : text[i]);
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  const size_t first = out.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  return out.substr(first, out.find_last_not_of(' ') - first + 1);
}

// What an answer's body says: a result the partner gave in a 2xx answer,
// or a message (an error answer's text, or why a 2xx body offered as a
// result is not one), or nothing.
struct Answer {
  std::optional<ats::v1::PartnerResult> result;
  std::string message;
};

// Reads `outcome`'s body. A 2xx body is offered as a result when it is a
// JSON object; one that is not the PartnerResult's JSON form, or breaks its
// rules, becomes the message instead.
Answer ReadAnswer(const DeliveryOutcome& outcome) {
  Answer answer;
  if (!IsSuccess(outcome.http_status)) {
    if (outcome.http_status >= 400) {
      answer.message = PartnerMessage(outcome.response_body);
    }
    return answer;
  }
  const std::string_view body = outcome.response_body;
  const size_t start = body.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos || body[start] != '{') return answer;
  auto refuse = [&answer, &body](const std::string& why) {
    answer.message = PartnerMessage(absl::StrCat(
        "the answer's body is not a result (", why, "): ", AbslView(body)));
    return answer;
  };
  if (outcome.response_body_truncated) {
    return refuse(absl::StrCat("over ", body.size(), " bytes"));
  }
  ats::v1::PartnerResult result;
  const auto parsed =
      google::protobuf::util::JsonStringToMessage(std::string(body), &result);
  if (!parsed.ok()) return refuse(std::string(parsed.message()));
  Validator v;
  ValidateResult(v, "result", result);
  if (!v.ok()) return refuse(std::string(v.status().message()));
  answer.result = std::move(result);
  return answer;
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
          return NoteFailingEndpoints(txn, record.attempts);
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
  const bool success = IsSuccess(outcome.http_status);
  Answer answer = ReadAnswer(outcome);

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
  if (!answer.message.empty()) next.partner_message = answer.message;
  absl::StatusOr<bool> held = txn.events().SettleClaim(claimed, next);
  if (!held.ok()) return held.status();
  if (*held && answer.result.has_value() && options_.record_result) {
    next.payload = attempt.payload;
    absl::Status recorded =
        options_.record_result(txn, next, *answer.result, now);
    if (absl::IsInvalidArgument(recorded)) {
      answer.message = PartnerMessage(absl::StrCat(
          "the answer's result was refused: ", recorded.message()));
      next.partner_message = answer.message;
      recorded = txn.events().UpdateEvent(next);
    }
    if (!recorded.ok()) return recorded;
  }

  storage::AttemptRow row;
  row.account_id = claimed.account_id;
  row.event_id = claimed.id;
  // InsertAttempt numbers it after the event's last stored attempt.
  row.attempt_time = attempt.time;
  row.http_status = outcome.http_status;
  row.latency = outcome.latency;
  row.error = success ? "" : Truncate(ErrorOf(outcome));
  row.partner_message = answer.message;
  absl::Status inserted = txn.events().InsertAttempt(row);
  if (absl::IsNotFound(inserted)) {
    *verdict = "event deleted meanwhile";
    return absl::OkStatus();
  }
  if (!inserted.ok()) return inserted;
  if (!*held) {
    // Another dispatcher re-claimed it after the lease expired, or it was
    // settled meanwhile: the attempt is on record, the state is theirs.
    *verdict = "claim lost";
    return absl::OkStatus();
  }
  *verdict = ats::v1::EventState_Name(next.state);
  if (next.state == ats::v1::EVENT_STATE_DEAD) {
    absl::Status notified = NotifyEventDead(txn, next, now, random_);
    if (!notified.ok()) return notified;
  }
  if (!gone) return absl::OkStatus();
  auto integration =
      txn.integrations().GetIntegration(next.account_id, next.integration_id);
  if (absl::IsNotFound(integration.status())) return absl::OkStatus();
  if (!integration.ok()) return integration.status();
  if (!integration->endpoint_disabled_reason.empty()) return absl::OkStatus();
  return DisableEndpoint(txn,
                         absl::StrCat("partner answered 410 Gone to ",
                                      attempt.name, " at ", TimeText(now)),
                         now, random_, *integration);
}

absl::Status Dispatcher::NoteFailingEndpoints(
    storage::Transaction& txn, const std::vector<const Attempt*>& attempts) {
  // Per integration, in the order attempted: whether one succeeded, and the
  // failures since the last success (or since the batch began).
  struct Run {
    bool succeeded = false;
    int64_t failures = 0;
    absl::Time first_failure;
  };
  std::map<std::string, Run> runs;
  for (const Attempt* attempt : attempts) {
    // Only answers, or their absence, say how an endpoint is doing: no
    // request went out for these.
    if (attempt->event.integration_id.empty() || attempt->unsendable ||
        attempt->outcome.refused_destination) {
      continue;
    }
    Run& run = runs[attempt->event.integration_id];
    if (IsSuccess(attempt->outcome.http_status)) {
      run = Run{true, 0, absl::Time()};
    } else if (run.failures++ == 0) {
      run.first_failure = attempt->time;
    }
  }
  const std::string& account_id = attempts.front()->event.account_id;
  const absl::Time now = clock_.Now();
  for (const auto& [integration_id, run] : runs) {
    auto integration =
        txn.integrations().GetIntegration(account_id, integration_id);
    if (absl::IsNotFound(integration.status())) continue;
    if (!integration.ok()) return integration.status();
    storage::IntegrationRow& row = *integration;
    if (run.failures == 0) {
      if (!row.failing_since.has_value() && row.failed_attempts == 0) continue;
      row.failing_since.reset();
      row.failed_attempts = 0;
    } else {
      if (run.succeeded || !row.failing_since.has_value()) {
        row.failing_since = run.first_failure;
        row.failed_attempts = 0;
      }
      row.failed_attempts += run.failures;
      const absl::Duration failing = now - *row.failing_since;
      if (options_.auto_disable_after > absl::ZeroDuration() &&
          row.endpoint_disabled_reason.empty() &&
          failing >= options_.auto_disable_after &&
          row.failed_attempts >= options_.auto_disable_min_failures) {
        absl::Status disabled =
            DisableEndpoint(txn,
                            absl::StrCat("every delivery failed since ",
                                         TimeText(*row.failing_since), " (",
                                         row.failed_attempts, " attempts)"),
                            now, random_, row);
        if (!disabled.ok()) return disabled;
        continue;
      }
    }
    absl::Status updated = txn.integrations().UpdateIntegration(row);
    if (!updated.ok()) return updated;
  }
  return absl::OkStatus();
}

}  // namespace ats::server
