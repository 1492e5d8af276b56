#include "server/engine/bulk_operations.h"

#include <pthread.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "server/contract/errors.h"
#include "server/contract/timestamps.h"
#include "server/domain/event_convert.h"
#include "server/domain/event_requeue.h"
#include "server/domain/marketplace.h"
#include "server/domain/notifications.h"
#include "server/domain/pipeline_convert.h"
#include "server/engine/manual_trigger.h"
#include "server/engine/pipeline_access.h"
#include "spdlog/spdlog.h"
#include "storage/failure.h"

namespace ats::server {
namespace {

// Tries of one write before the worker stops waiting for its failure to
// pass: a batch is then handled one candidate per write, and a lone
// candidate fails.
constexpr int kMaxTries = 6;
// The wait after the first failed try; it doubles with each further one, up
// to kMaxRetryDelay.
constexpr absl::Duration kFirstRetryDelay = absl::Milliseconds(100);
constexpr absl::Duration kMaxRetryDelay = absl::Seconds(10);

// Whether the same write may succeed later as it is: lock contention, a
// group commit rolled back for another write's sake, a full disk.
bool MayPass(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsAborted(status) ||
         absl::IsResourceExhausted(status);
}

// The wait before trying again after `tries` failed tries.
absl::Duration RetryDelay(int tries) {
  absl::Duration delay = kFirstRetryDelay;
  for (int i = 1; i < tries && delay < kMaxRetryDelay; ++i) delay *= 2;
  return std::min(delay, kMaxRetryDelay);
}

// The candidates the selection of `spec` means, as storage takes them.
storage::CandidateSelector SelectorOf(
    const ats::v1::BulkTriggerIntegrationRequest& spec) {
  storage::CandidateSelector selector;
  const ats::v1::CandidateSelection& selection = spec.selection();
  if (selection.has_job()) {
    std::vector<std::string> ids;
    ParseResourceName(selection.job().job(), kJobPattern, &ids);
    if (!ids.empty()) selector.job_id = ids[0];
    if (ParseResourceName(selection.job().stage(), kStagePattern, &ids)) {
      selector.stage_id = ids[1];
    }
  } else if (selection.kind_case() == ats::v1::CandidateSelection::kTag) {
    selector.tag = selection.tag();
  }
  return selector;
}

// Ends `operation` at `now` in `state` for `reason`.
void End(storage::BulkOperationRow& operation,
         ats::v1::BulkOperationState state, std::string reason,
         absl::Time now) {
  operation.state = state;
  operation.state_reason = std::move(reason);
  operation.end_time = now;
}

// The next `batch_size` PENDING items of `operation`, in `txn`: the
// candidates of a trigger's selection, or the events of a recover's window.
absl::StatusOr<std::vector<storage::BulkItemRow>> NextItemsToResolve(
    storage::Transaction& txn, const storage::BulkOperationRow& operation,
    int batch_size) {
  if (operation.kind == ats::v1::BULK_OPERATION_KIND_RECOVER) {
    const storage::DeadEventWindow window{
        operation.integration_id, FromProtoTime(operation.recover.since()),
        FromProtoTime(operation.recover.until())};
    return txn.bulk_operations().ListDeadEventItems(
        operation.account_id, window, operation.resolve_cursor, batch_size);
  }
  auto ids = txn.bulk_operations().ListSelectedCandidates(
      operation.account_id, SelectorOf(operation.spec),
      operation.resolve_cursor, batch_size);
  if (!ids.ok()) return ids.status();
  std::vector<storage::BulkItemRow> items(ids->size());
  for (size_t i = 0; i < ids->size(); ++i) {
    items[i].key = (*ids)[i];
    items[i].candidate_id = std::move((*ids)[i]);
  }
  return items;
}

// Resolves the next `batch_size` candidates (or events) of `operation` into
// PENDING items, in `txn`.
absl::Status ResolveBatch(storage::Transaction& txn,
                          storage::BulkOperationRow& operation,
                          int batch_size) {
  auto items = NextItemsToResolve(txn, operation, batch_size);
  if (!items.ok()) return items.status();
  auto added = txn.bulk_operations().AddItems(operation.account_id,
                                              operation.id, *items);
  if (!added.ok()) return added.status();
  operation.total_count += *added;
  if (static_cast<int>(items->size()) < batch_size) {
    operation.resolved = true;
  } else {
    operation.resolve_cursor = items->back().key;
  }
  return absl::OkStatus();
}

// Returns the integration of `operation`, or nullopt after ending the
// operation at `now` as INTERRUPTED because the integration can no longer
// take events (inactive, or its endpoint disabled).
absl::StatusOr<std::optional<storage::IntegrationRow>> SendableIntegration(
    storage::Transaction& txn, storage::BulkOperationRow& operation,
    absl::Time now) {
  auto integration = txn.integrations().GetIntegration(
      operation.account_id, operation.integration_id);
  if (!integration.ok()) return integration.status();
  const std::string why = WhyNotTriggerable(*integration);
  if (!why.empty()) {
    End(operation, ats::v1::BULK_OPERATION_STATE_INTERRUPTED, why, now);
    return std::nullopt;
  }
  return *std::move(integration);
}

// Returns whether the events of `partner`'s integrations carry their
// candidates' tags.
bool WantsTags(const storage::PartnerRow& partner) {
  const auto& fields = partner.listing.candidate_fields();
  return std::find(fields.begin(), fields.end(),
                   ats::v1::CANDIDATE_FIELD_TAGS) != fields.end();
}

// Returns whether the items of trigger `operation` are read with their
// candidates' tags, as `txn` has its integration's partner now.
absl::StatusOr<bool> ItemsWithTags(storage::Transaction& txn,
                                   const storage::BulkOperationRow& operation) {
  if (operation.kind != ats::v1::BULK_OPERATION_KIND_TRIGGER) return false;
  auto integration = txn.integrations().GetIntegration(
      operation.account_id, operation.integration_id);
  if (!integration.ok()) return integration.status();
  auto partner = txn.integrations().GetPartner(integration->partner_id);
  if (!partner.ok()) return partner.status();
  return WantsTags(*partner);
}

// Fills the outcome of one PENDING item (its key already set) of a batch,
// counting it in the operation's counters.
using HandleItemFn = std::function<absl::Status(
    const storage::PendingBulkItem& item, storage::BulkItemRow& outcome)>;

// The outcome of an item handled as operations of `kind` mean to: storage
// reports it for an item passed by the process cursor without a recorded
// outcome (see BulkOperationRepository::ListItems).
ats::v1::BulkItemOutcome HandledOutcome(ats::v1::BulkOperationKind kind) {
  return kind == ats::v1::BULK_OPERATION_KIND_RECOVER
             ? ats::v1::BULK_ITEM_OUTCOME_REQUEUED
             : ats::v1::BULK_ITEM_OUTCOME_CREATED;
}

// Returns whether `read_ahead` (may be null) holds the next `batch_size`
// PENDING items of `operation` as they are now, in `txn`, with their
// candidates' tags if `with_tags`.
absl::StatusOr<bool> ReadAheadHolds(storage::Transaction& txn,
                                    const storage::BulkOperationRow& operation,
                                    int batch_size, bool with_tags,
                                    const BulkItemsReadAhead* read_ahead) {
  if (read_ahead == nullptr || read_ahead->limit != batch_size ||
      read_ahead->after_key != operation.process_cursor ||
      (with_tags && !read_ahead->with_tags)) {
    return false;
  }
  auto changes = txn.candidates().ChangeCount(operation.account_id);
  if (!changes.ok()) return changes.status();
  return *changes == read_ahead->candidate_changes;
}

// Handles the next `batch_size` PENDING items of `operation` (with their
// candidates' tags when `with_tags`) at `now`, in `txn`, with `handle`:
// those of `read_ahead` (may be null) if it still holds them, else read
// here. Records the outcomes other than HandledOutcome and moves the cursor
// past them all: the operation SUCCEEDS when they were the last.
absl::Status HandleNextItems(storage::Transaction& txn,
                             storage::BulkOperationRow& operation,
                             absl::Time now, int batch_size, bool with_tags,
                             const BulkItemsReadAhead* read_ahead,
                             const HandleItemFn& handle) {
  auto holds =
      ReadAheadHolds(txn, operation, batch_size, with_tags, read_ahead);
  if (!holds.ok()) return holds.status();
  absl::StatusOr<std::vector<storage::PendingBulkItem>> read;
  if (!*holds) {
    read = txn.bulk_operations().ListPendingItems(
        operation.account_id, operation.id, operation.process_cursor,
        batch_size, with_tags);
    if (!read.ok()) return read.status();
  }
  // Not moved from: a store may run the write again.
  const std::vector<storage::PendingBulkItem>& items =
      *holds ? read_ahead->items : *read;
  const ats::v1::BulkItemOutcome handled = HandledOutcome(operation.kind);
  std::vector<storage::BulkItemRow> others;
  for (const storage::PendingBulkItem& item : items) {
    storage::BulkItemRow outcome;
    outcome.key = item.key;
    absl::Status status = handle(item, outcome);
    if (!status.ok()) return status;
    if (outcome.outcome != handled) others.push_back(std::move(outcome));
  }
  absl::Status status = txn.bulk_operations().UpdateItems(operation.account_id,
                                                          operation.id, others);
  if (!status.ok()) return status;
  if (!items.empty()) operation.process_cursor = items.back().key;
  if (static_cast<int>(items.size()) < batch_size) {
    End(operation, ats::v1::BULK_OPERATION_STATE_SUCCEEDED, "", now);
  }
  return absl::OkStatus();
}

// Returns why a recover whose window ends at `until` leaves event `id`, as
// read (NOT_FOUND when gone), as it is; "" when it re-queues it.
std::string WhyNotRequeued(const absl::StatusOr<storage::EventRow>& event,
                           const std::string& id, absl::Time until) {
  const std::string name = EventName(id);
  if (!event.ok()) return absl::StrCat("event ", name, " not found");
  if (event->state != ats::v1::EVENT_STATE_DEAD) {
    return absl::StrCat("event ", name, " is no longer DEAD (it is ",
                        ats::v1::EventState_Name(event->state), ")");
  }
  if (event->update_time >= until) {
    // Retried by someone else since the operation found it, and dead again.
    return absl::StrCat("event ", name,
                        " was retried and died again after the window");
  }
  return "";
}

// Handles the next `batch_size` PENDING items of recover `operation` at
// `now`, in `txn`: re-queues each event still DEAD from its death in the
// window, skips the others (taking the items of `read_ahead` while they
// hold, see HandleNextItems). Sets *requeued to the number re-queued.
absl::Status RequeueBatch(storage::Transaction& txn,
                          storage::BulkOperationRow& operation, absl::Time now,
                          int batch_size, const BulkItemsReadAhead* read_ahead,
                          int64_t* requeued) {
  auto integration = SendableIntegration(txn, operation, now);
  if (!integration.ok()) return integration.status();
  if (!integration->has_value()) return absl::OkStatus();
  const absl::Time until = FromProtoTime(operation.recover.until());
  return HandleNextItems(
      txn, operation, now, batch_size, /*with_tags=*/false, read_ahead,
      [&](const storage::PendingBulkItem& item, storage::BulkItemRow& outcome) {
        outcome.event_id = item.event_id;
        auto event = txn.events().GetEventToChange(
            operation.account_id, item.event_id, storage::PayloadParts::kShown);
        if (!event.ok() && !absl::IsNotFound(event.status())) {
          return event.status();
        }
        outcome.reason = WhyNotRequeued(event, item.event_id, until);
        if (!outcome.reason.empty()) {
          outcome.outcome = ats::v1::BULK_ITEM_OUTCOME_SKIPPED;
          ++operation.skipped_count;
          return absl::OkStatus();
        }
        Requeue(now, *event);
        absl::Status status = txn.events().UpdateEvent(*event);
        if (!status.ok()) return status;
        outcome.outcome = ats::v1::BULK_ITEM_OUTCOME_REQUEUED;
        ++operation.created_count;
        ++*requeued;
        return absl::OkStatus();
      });
}

// Handles the next `batch_size` PENDING items of `operation` at `now`, in
// `txn`: an event for each candidate that still exists, a skip for each
// that does not (taking the items of `read_ahead` while they hold, see
// HandleNextItems). Sets *created to the number of events created.
absl::Status ProcessBatch(storage::Transaction& txn,
                          storage::BulkOperationRow& operation, absl::Time now,
                          int batch_size, const BulkItemsReadAhead* read_ahead,
                          RandomSource& random, int64_t* created) {
  const std::string& account_id = operation.account_id;
  auto integration = SendableIntegration(txn, operation, now);
  if (!integration.ok()) return integration.status();
  if (!integration->has_value()) return absl::OkStatus();
  auto partner = txn.integrations().GetPartner((*integration)->partner_id);
  if (!partner.ok()) return partner.status();
  const IntegrationTarget target{**std::move(integration), *std::move(partner)};

  EventOrigin origin{account_id,
                     operation.created_by,
                     ats::v1::EVENT_SOURCE_BULK,
                     SelectorOf(operation.spec).job_id,
                     "",
                     operation.id,
                     now};
  if (!origin.job_id.empty()) {
    auto job = txn.jobs().GetJob(account_id, origin.job_id);
    if (absl::IsNotFound(job.status())) {
      End(operation, ats::v1::BULK_OPERATION_STATE_INTERRUPTED,
          absl::StrCat("job ", JobName(origin.job_id), " was deleted"), now);
      return absl::OkStatus();
    }
    if (!job.ok()) return job.status();
    origin.job_title = job->title;
  }

  return HandleNextItems(
      txn, operation, now, batch_size, WantsTags(target.partner), read_ahead,
      [&](const storage::PendingBulkItem& item, storage::BulkItemRow& outcome) {
        if (!item.candidate.has_value()) {
          outcome.outcome = ats::v1::BULK_ITEM_OUTCOME_SKIPPED;
          outcome.reason = absl::StrCat(
              "candidate ", CandidateName(item.candidate_id), " not found");
          ++operation.skipped_count;
          return absl::OkStatus();
        }
        storage::EventRow event =
            ManualEvent(origin, target, *item.candidate,
                        operation.spec.option_values(), random);
        absl::Status status = InsertNewEvent(txn, event, random);
        if (!status.ok()) return status;
        outcome.outcome = ats::v1::BULK_ITEM_OUTCOME_CREATED;
        outcome.event_id = std::move(event.id);
        ++operation.created_count;
        ++*created;
        return absl::OkStatus();
      });
}

// Records, in `txn`, that the next PENDING item of `operation` cannot be
// handled (its event created or re-queued), for `why`.
absl::Status FailNextItem(storage::Transaction& txn,
                          storage::BulkOperationRow& operation,
                          const std::string& why) {
  auto items = txn.bulk_operations().ListPendingItems(
      operation.account_id, operation.id, operation.process_cursor, 1,
      /*with_tags=*/false);
  if (!items.ok()) return items.status();
  if (items->empty()) return absl::OkStatus();
  storage::BulkItemRow item;
  item.key = items->front().key;
  item.event_id = items->front().event_id;
  item.outcome = ats::v1::BULK_ITEM_OUTCOME_FAILED;
  item.reason = why;
  absl::Status status = txn.bulk_operations().UpdateItems(
      operation.account_id, operation.id, {item});
  if (!status.ok()) return status;
  ++operation.failed_count;
  operation.process_cursor = item.key;
  return absl::OkStatus();
}

}  // namespace

void BulkOperationToProto(const storage::BulkOperationRow& row,
                          ats::v1::BulkOperation* operation) {
  operation->set_name(BulkOperationName(row.id));
  operation->set_integration(IntegrationName(row.integration_id));
  operation->set_kind(row.kind);
  if (row.kind == ats::v1::BULK_OPERATION_KIND_RECOVER) {
    *operation->mutable_recover_since() = row.recover.since();
    *operation->mutable_recover_until() = row.recover.until();
    operation->set_requeued_count(row.created_count);
  } else {
    *operation->mutable_selection() = row.spec.selection();
    *operation->mutable_option_values() = row.spec.option_values();
    operation->set_created_count(row.created_count);
  }
  operation->set_state(row.state);
  operation->set_total_count(row.total_count);
  operation->set_skipped_count(row.skipped_count);
  operation->set_failed_count(row.failed_count);
  operation->set_created_by(ApiKeyName(row.created_by));
  *operation->mutable_create_time() = ToProtoTime(row.create_time);
  if (row.end_time.has_value()) {
    *operation->mutable_end_time() = ToProtoTime(*row.end_time);
  }
  operation->set_state_reason(row.state_reason);
  if (row.spec.selection().has_job()) {
    operation->set_job(row.spec.selection().job().job());
  }
}

void BulkItemToProto(const storage::BulkItemRow& row,
                     ats::v1::BulkOperationItem* item) {
  item->set_candidate(CandidateName(row.candidate_id));
  item->set_outcome(row.outcome);
  if (!row.event_id.empty()) item->set_event(EventName(row.event_id));
  item->set_reason(row.reason);
}

BulkRunner::BulkRunner(const BulkRunnerOptions& options, storage::Store& store,
                       const Clock& clock, RandomSource& random,
                       std::function<void()> events_created)
    : options_(options),
      store_(store),
      clock_(clock),
      random_(random),
      events_created_(std::move(events_created)) {}

BulkRunner::~BulkRunner() { Stop(); }

void BulkRunner::Start() {
  worker_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "bulk-worker");
    Run();
  });
}

void BulkRunner::Enqueue(const std::string& account_id, const std::string& id) {
  absl::MutexLock lock(&mu_);
  OperationKey key{account_id, id};
  if (!queued_.insert(key).second) return;
  queue_.push_back(std::move(key));
  work_ready_.Signal();
}

int64_t BulkRunner::Watch(const std::string& id, Listener listener,
                          std::function<void()> on_stop) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return 0;
  const int64_t handle = next_handle_++;
  watchers_[handle] = Watcher{id, std::move(listener), std::move(on_stop)};
  return handle;
}

void BulkRunner::Unwatch(int64_t handle) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(handle);
}

void BulkRunner::Publish(const ats::v1::BulkOperation& operation) {
  const std::string id = operation.name().substr(operation.name().find('/') + 1);
  absl::MutexLock lock(&mu_);
  for (auto& [handle, watcher] : watchers_) {
    if (watcher.operation_id == id) watcher.listener(operation);
  }
}

void BulkRunner::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && !worker_.joinable()) return;
    stopping_ = true;
    work_ready_.Signal();
  }
  if (worker_.joinable()) worker_.join();
  absl::MutexLock lock(&mu_);
  for (auto& [handle, watcher] : watchers_) watcher.on_stop();
  watchers_.clear();
}

void BulkRunner::QueueRunningOperations(bool orphans_only) {
  const absl::Time now = clock_.Now();
  absl::Status resumed = store_.Read([&](storage::Transaction& txn) {
    auto running = txn.bulk_operations().ListRunningOperations();
    if (!running.ok()) return running.status();
    for (const storage::BulkOperationRow& row : *running) {
      if (orphans_only && now - row.update_time < options_.orphan_after) {
        continue;
      }
      {
        absl::MutexLock lock(&mu_);
        if (queued_.count({row.account_id, row.id}) > 0) continue;
      }
      spdlog::info("resuming bulk operation {} ({} of {} handled)",
                   BulkOperationName(row.id),
                   row.created_count + row.skipped_count + row.failed_count,
                   row.total_count);
      Enqueue(row.account_id, row.id);
    }
    return absl::OkStatus();
  });
  if (!resumed.ok()) {
    spdlog::error("cannot resume bulk operations: {}", LogText(resumed));
  }
}

void BulkRunner::Run() {
  // Those a stop of this server left RUNNING (or another server's, which
  // are safe to share).
  QueueRunningOperations(/*orphans_only=*/false);
  for (;;) {
    OperationKey key;
    bool idle = false;
    {
      absl::MutexLock lock(&mu_);
      while (queue_.empty() && !stopping_ && !idle) {
        idle = work_ready_.WaitWithTimeout(&mu_,
                                           options_.orphan_scan_interval);
      }
      if (stopping_) return;
    }
    if (idle) {
      // Nothing runs here, so a RUNNING operation is another server's, and
      // one whose server died stays so until someone takes it over.
      QueueRunningOperations(/*orphans_only=*/true);
      continue;
    }
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      key = std::move(queue_.front());
      queue_.pop_front();
      queued_.erase(key);
    }
    // Operations take turns: one still running goes to the back.
    if (RunBatch(key)) Enqueue(key.first, key.second);
  }
}

bool BulkRunner::RunBatch(const OperationKey& key) {
  auto recovery = recoveries_.find(key);
  const int batch_size =
      recovery != recoveries_.end() && recovery->second.one_by_one > 0
          ? 1
          : options_.batch_size;
  std::optional<BulkItemsReadAhead> read_ahead;
  if (auto found = read_ahead_.find(key); found != read_ahead_.end()) {
    read_ahead = std::move(found->second);
    read_ahead_.erase(found);
  }
  const BulkItemsReadAhead* items_read =
      read_ahead.has_value() ? &*read_ahead : nullptr;
  bool resolving = false;
  storage::BulkOperationRow operation;
  absl::Status status = RunStep(
      key,
      [&](storage::Transaction& txn, storage::BulkOperationRow& row,
          absl::Time now, int64_t* created) {
        resolving = !row.resolved;
        if (resolving) return ResolveBatch(txn, row, batch_size);
        if (row.kind == ats::v1::BULK_OPERATION_KIND_RECOVER) {
          return RequeueBatch(txn, row, now, batch_size, items_read, created);
        }
        return ProcessBatch(txn, row, now, batch_size, items_read, random_,
                            created);
      },
      &operation,
      [&] {
        // The write moves the cursor past these items if they still hold,
        // so the next batch's are those after them.
        if (items_read != nullptr &&
            static_cast<int>(items_read->items.size()) == batch_size) {
          ReadAhead(key, items_read->items.back().key, batch_size);
        }
      });
  if (!status.ok() && !absl::IsNotFound(status)) {
    read_ahead_.erase(key);
    return Recover(key, resolving, status);
  }
  const bool running =
      status.ok() && operation.state == ats::v1::BULK_OPERATION_STATE_RUNNING;
  if (!running) {
    read_ahead_.erase(key);
  } else if (operation.resolved) {
    // Read while the write ran, from where it was expected to leave the
    // cursor; read again, once, where it did leave it.
    auto next = read_ahead_.find(key);
    if (next == read_ahead_.end() ||
        next->second.after_key != operation.process_cursor) {
      ReadAhead(key, operation.process_cursor, batch_size);
    }
  }
  recovery = recoveries_.find(key);
  if (recovery != recoveries_.end()) {
    recovery->second.tries = 0;
    if (recovery->second.one_by_one > 0) --recovery->second.one_by_one;
    if (!running || recovery->second.one_by_one == 0) {
      recoveries_.erase(recovery);
    }
  }
  return running;
}

bool BulkRunner::Recover(const OperationKey& key, bool resolving,
                         const absl::Status& status) {
  const std::string name = BulkOperationName(key.second);
  Recovery& recovery = recoveries_[key];
  ++recovery.tries;
  if (MayPass(status) && recovery.tries < kMaxTries) {
    spdlog::warn("bulk operation {}: a batch failed (try {}), trying again: {}",
                 name, recovery.tries, LogText(status));
    return !WaitUnlessStopping(RetryDelay(recovery.tries));
  }
  if (!resolving && recovery.one_by_one == 0 && options_.batch_size > 1) {
    spdlog::warn(
        "bulk operation {}: a batch failed ({}); handling its candidates one "
        "per write",
        name, LogText(status));
    recovery = Recovery{0, options_.batch_size};
    return true;
  }
  // Given up on the write: the operation cannot select its candidates, or
  // the lone candidate of the write cannot have its event. Clients read the
  // reason; the log above and below has the detail.
  const std::string why(storage::WithoutStorageDetail(status).message());
  storage::BulkOperationRow operation;
  absl::Status recorded = RunStep(
      key,
      [&](storage::Transaction& txn, storage::BulkOperationRow& row,
          absl::Time now, int64_t*) {
        if (!resolving) {
          return FailNextItem(
              txn, row,
              absl::StrCat(row.kind == ats::v1::BULK_OPERATION_KIND_RECOVER
                               ? "its event could not be re-queued: "
                               : "its event could not be written: ",
                           why));
        }
        End(row, ats::v1::BULK_OPERATION_STATE_INTERRUPTED,
            absl::StrCat("selecting its candidates failed: ", why), now);
        return absl::OkStatus();
      },
      &operation);
  if (!recorded.ok() && !absl::IsNotFound(recorded)) {
    spdlog::error("bulk operation {}: cannot record its failure ({}): {}", name,
                  LogText(status), LogText(recorded));
    return !WaitUnlessStopping(RetryDelay(recovery.tries));
  }
  if (recorded.ok() && !resolving) {
    spdlog::warn("bulk operation {}: a candidate failed: {}", name,
                 LogText(status));
  }
  const bool running =
      recorded.ok() && operation.state == ats::v1::BULK_OPERATION_STATE_RUNNING;
  recovery.tries = 0;
  if (recovery.one_by_one > 0) --recovery.one_by_one;
  if (!running || recovery.one_by_one == 0) recoveries_.erase(key);
  return running;
}

bool BulkRunner::WaitUnlessStopping(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopping_), delay);
  return stopping_;
}

void BulkRunner::ReadAhead(const OperationKey& key,
                           const std::string& after_key, int limit) {
  if (!store_counts_candidate_changes_) return;
  const auto& [account_id, id] = key;
  BulkItemsReadAhead read;
  read.after_key = after_key;
  read.limit = limit;
  bool counted = false;
  absl::Status status = store_.Read([&](storage::Transaction& txn) {
    auto changes = txn.candidates().ChangeCount(account_id);
    if (!changes.ok()) return changes.status();
    counted = changes->has_value();
    if (!counted) return absl::OkStatus();
    read.candidate_changes = **changes;
    auto operation = txn.bulk_operations().GetOperation(account_id, id);
    if (!operation.ok()) return operation.status();
    auto with_tags = ItemsWithTags(txn, *operation);
    if (!with_tags.ok()) return with_tags.status();
    read.with_tags = *with_tags;
    auto items = txn.bulk_operations().ListPendingItems(
        account_id, id, after_key, limit, read.with_tags);
    if (!items.ok()) return items.status();
    read.items = *std::move(items);
    return absl::OkStatus();
  });
  if (!status.ok()) {
    // The write reads its items itself.
    spdlog::debug("bulk operation {}: cannot read its next items ahead: {}",
                  BulkOperationName(id), LogText(status));
    return;
  }
  if (!counted) {
    store_counts_candidate_changes_ = false;
    return;
  }
  read_ahead_[key] = std::move(read);
}

absl::Status BulkRunner::RunStep(const OperationKey& key, const StepFn& step,
                                 storage::BulkOperationRow* operation,
                                 const std::function<void()>& meanwhile) {
  const auto& [account_id, id] = key;
  int64_t created = 0;
  bool ran = false;
  const absl::Time start = absl::Now();
  absl::Notification written;
  absl::Status status;
  store_.Write(
      storage::WriteScope::Account(account_id),
      [&](storage::Transaction& txn) {
        created = 0;
        auto row = txn.bulk_operations().GetOperation(account_id, id);
        if (!row.ok()) return row.status();
        *operation = *std::move(row);
        ran = operation->state == ats::v1::BULK_OPERATION_STATE_RUNNING;
        if (!ran) return absl::OkStatus();
        const absl::Time now = clock_.Now();
        absl::Status done = step(txn, *operation, now, &created);
        if (!done.ok()) return done;
        operation->update_time = now;
        done = txn.bulk_operations().UpdateOperation(*operation);
        if (!done.ok() ||
            operation->state == ats::v1::BULK_OPERATION_STATE_RUNNING) {
          return done;
        }
        return NotifyBulkOperationFinished(txn, *operation, now, random_);
      },
      [&](absl::Status outcome) {
        status = std::move(outcome);
        written.Notify();
      });
  if (meanwhile) meanwhile();
  written.WaitForNotification();
  if (!status.ok()) return status;
  const bool ended =
      ran && operation->state != ats::v1::BULK_OPERATION_STATE_RUNNING;
  // An end made an event too: the account's notification of it.
  if ((created > 0 || ended) && events_created_) events_created_();
  spdlog::debug("bulk operation {}: {} events created in {}",
                BulkOperationName(id), created,
                absl::FormatDuration(absl::Now() - start));
  if (ended) {
    spdlog::info(
        "bulk operation {} {}: {} total, {} created, {} skipped, {} failed, "
        "{} since it started",
        BulkOperationName(id),
        ats::v1::BulkOperationState_Name(operation->state),
        operation->total_count, operation->created_count,
        operation->skipped_count, operation->failed_count,
        absl::FormatDuration(operation->update_time - operation->create_time));
  }
  ats::v1::BulkOperation proto;
  BulkOperationToProto(*operation, &proto);
  Publish(proto);
  return absl::OkStatus();
}

}  // namespace ats::server
