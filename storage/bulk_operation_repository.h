#ifndef ATS_STORAGE_BULK_OPERATION_REPOSITORY_H_
#define ATS_STORAGE_BULK_OPERATION_REPOSITORY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ats/v1/integration_service.pb.h"
#include "storage/candidate_repository.h"
#include "storage/page.h"

namespace ats::storage {

// A bulk operation (a bulk manual trigger or a recover of dead events) and
// its progress.
struct BulkOperationRow {
  std::string account_id;
  std::string id;
  std::string integration_id;
  ats::v1::BulkOperationKind kind = ats::v1::BULK_OPERATION_KIND_TRIGGER;
  // For a trigger: the request as accepted, without request_id and without
  // an explicit list's names (those are the items).
  ats::v1::BulkTriggerIntegrationRequest spec;
  // For a recover: the request as accepted, without request_id, with
  // `until` set.
  ats::v1::RecoverEventsRequest recover;
  ats::v1::BulkOperationState state = ats::v1::BULK_OPERATION_STATE_RUNNING;
  std::string state_reason;
  int64_t total_count = 0;
  // Events created (a trigger) or re-queued (a recover).
  int64_t created_count = 0;
  int64_t skipped_count = 0;
  int64_t failed_count = 0;
  // Id of the API key that started it.
  std::string created_by;
  // Whether every selected candidate (or event to recover) has its item.
  bool resolved = false;
  // The key of the last item resolved ("" before the first).
  std::string resolve_cursor;
  // The key of the last item handled ("" before the first).
  std::string process_cursor;
  absl::Time create_time;
  absl::Time update_time;
  std::optional<absl::Time> end_time;
};

// What a bulk operation did (or is yet to do) for one candidate (a trigger)
// or one event (a recover).
struct BulkItemRow {
  std::string account_id;
  std::string operation_id;
  // The item's place in its operation's order, unique in it: the candidate
  // id for a trigger; for a recover, the event's death time and seq.
  std::string key;
  std::string candidate_id;
  ats::v1::BulkItemOutcome outcome = ats::v1::BULK_ITEM_OUTCOME_PENDING;
  // The event created, for a trigger's CREATED; the event to re-queue, for
  // every item of a recover.
  std::string event_id;
  // Why, for SKIPPED and FAILED.
  std::string reason;
};

// A PENDING item with what its event needs to know about the candidate.
struct PendingBulkItem {
  std::string key;
  std::string candidate_id;
  // A recover's event; empty for a trigger.
  std::string event_id;
  // Unset when the account has no candidate with that id (any more). Tags
  // are read only when asked for.
  std::optional<CandidateRow> candidate;
};

// Which candidates a selection means: those in job `job_id` (in stage
// `stage_id` only, unless empty); otherwise those with `tag`; otherwise
// (all empty) every candidate of the account.
struct CandidateSelector {
  std::string job_id;
  std::string stage_id;
  std::string tag;
};

// The DEAD events of an integration that died in [since, until).
struct DeadEventWindow {
  std::string integration_id;
  absl::Time since;
  absl::Time until;
};

// Bulk operations and their items, scoped by account like every repository
// except ListRunningOperations, which the worker uses to resume operations
// of every account after a restart.
class BulkOperationRepository {
 public:
  virtual ~BulkOperationRepository() = default;

  // Stores a new operation; ALREADY_EXISTS if its id is taken.
  virtual absl::Status InsertOperation(const BulkOperationRow& operation) = 0;
  // Replaces what changes as it runs: state, state_reason, the counters,
  // resolved, the cursors, update_time and end_time; NOT_FOUND if absent.
  virtual absl::Status UpdateOperation(const BulkOperationRow& operation) = 0;
  // Returns operation `id`, or NOT_FOUND.
  virtual absl::StatusOr<BulkOperationRow> GetOperation(
      std::string_view account_id, std::string_view id) = 0;
  // Returns the account's operations newest first (create_time, then id,
  // descending).
  virtual absl::StatusOr<Page<BulkOperationRow>> ListOperations(
      std::string_view account_id, const PageRequest& page) = 0;
  // Returns the RUNNING operations of every account, oldest first.
  virtual absl::StatusOr<std::vector<BulkOperationRow>>
  ListRunningOperations() = 0;
  // Returns how many operations of every account are RUNNING.
  virtual absl::StatusOr<int64_t> CountRunningOperations() = 0;

  // Returns up to `limit` ids of the candidates `selector` means, in id
  // order, after `after_candidate_id` ("" for the first).
  virtual absl::StatusOr<std::vector<std::string>> ListSelectedCandidates(
      std::string_view account_id, const CandidateSelector& selector,
      std::string_view after_candidate_id, int limit) = 0;

  // Returns up to `limit` PENDING items (key, candidate_id and event_id
  // set) for the DEAD events of `window`, oldest death first (then in
  // insertion order), after the item of key `after_key` ("" for the first).
  virtual absl::StatusOr<std::vector<BulkItemRow>> ListDeadEventItems(
      std::string_view account_id, const DeadEventWindow& window,
      std::string_view after_key, int limit) = 0;

  // Adds `items` (key, candidate_id, outcome, event_id and reason) to
  // operation `operation_id`, but for those whose key it has already;
  // returns how many were added.
  virtual absl::StatusOr<int64_t> AddItems(
      std::string_view account_id, std::string_view operation_id,
      const std::vector<BulkItemRow>& items) = 0;
  // Adds a PENDING item to trigger operation `operation_id` for each of
  // `candidate_ids` that has none yet; returns how many were added.
  absl::StatusOr<int64_t> AddPendingItems(
      std::string_view account_id, std::string_view operation_id,
      const std::vector<std::string>& candidate_ids) {
    std::vector<BulkItemRow> items(candidate_ids.size());
    for (size_t i = 0; i < candidate_ids.size(); ++i) {
      items[i].key = candidate_ids[i];
      items[i].candidate_id = candidate_ids[i];
    }
    return AddItems(account_id, operation_id, items);
  }
  // Returns up to `limit` PENDING items of the operation in key order,
  // after `after_key`, each with its candidate (and the candidate's tags
  // when `with_tags`).
  virtual absl::StatusOr<std::vector<PendingBulkItem>> ListPendingItems(
      std::string_view account_id, std::string_view operation_id,
      std::string_view after_key, int limit, bool with_tags) = 0;
  // Records the outcome, event and reason of each of `items`, found by key
  // (items of operation `operation_id` of `account_id`; their own account,
  // operation and candidate ids are not read); NOT_FOUND if the operation
  // lacks one. Items handled the operation's way need no record (see
  // ListItems).
  virtual absl::Status UpdateItems(std::string_view account_id,
                                   std::string_view operation_id,
                                   const std::vector<BulkItemRow>& items) = 0;
  // Returns the operation's items in key order, only those with `outcome`
  // unless it is unspecified. An item at or before the operation's
  // process_cursor that is still PENDING was handled the operation's way, and
  // is returned so: REQUEUED with its event for a recover; CREATED for a
  // trigger, with the event of the operation whose candidate is the item's
  // (one per candidate). So a batch's writer records only the other
  // outcomes, and the common one costs no write per item.
  virtual absl::StatusOr<Page<BulkItemRow>> ListItems(
      std::string_view account_id, std::string_view operation_id,
      ats::v1::BulkItemOutcome outcome, const PageRequest& page) = 0;
};

}  // namespace ats::storage

#endif  // ATS_STORAGE_BULK_OPERATION_REPOSITORY_H_
