// IntegrationService: bulk operations. BulkTriggerIntegration and
// RecoverEvents create an operation and stream its progress; the bulk
// worker (bulk_operations.h) does the work, so nothing here waits for it.

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/api/idempotency.h"
#include "server/api/integration_service.h"
#include "server/api/list_page.h"
#include "server/common/logging.h"
#include "server/common/validation.h"
#include "server/contract/errors.h"
#include "server/contract/timestamps.h"
#include "server/domain/event_convert.h"
#include "server/domain/marketplace.h"
#include "server/domain/notifications.h"
#include "server/domain/pipeline_convert.h"
#include "server/engine/bulk_operations.h"
#include "server/engine/manual_trigger.h"
#include "server/engine/pipeline_access.h"

namespace ats::server {
namespace {

using google::protobuf::util::TimeUtil;

// Bad names of an explicit list reported in one error: enough to see the
// pattern without an error the size of the request.
constexpr int kMaxReportedBadNames = 10;

// Whether `time` is a timestamp protobuf can represent (years 1 to 9999).
bool IsValidTime(const google::protobuf::Timestamp& time) {
  return time.seconds() >= TimeUtil::kTimestampMinSeconds &&
         time.seconds() <= TimeUtil::kTimestampMaxSeconds &&
         time.nanos() >= 0 && time.nanos() < 1000000000;
}

// Returns operation `id` of the account, or NOT_FOUND naming it.
absl::StatusOr<storage::BulkOperationRow> LoadOperation(
    storage::Transaction& txn, const std::string& account_id,
    const std::string& id) {
  auto row = txn.bulk_operations().GetOperation(account_id, id);
  if (absl::IsNotFound(row.status())) {
    return absl::NotFoundError(
        absl::StrCat("bulk operation ", BulkOperationName(id), " not found"));
  }
  return row;
}

// What a valid BulkTriggerIntegrationRequest names, by id.
struct BulkTarget {
  std::string integration_id;
  std::string job_id;
  std::string stage_id;
  // The explicit list, sorted and without duplicates.
  std::vector<std::string> candidate_ids;
};

// Checks `request`'s fields, recording violations in `v`, and returns the
// ids it names.
BulkTarget ValidateBulkRequest(
    const ats::v1::BulkTriggerIntegrationRequest& request, Validator& v) {
  BulkTarget target;
  std::vector<std::string> ids;
  if (v.Name("integration", request.integration(), kIntegrationPattern, &ids)) {
    target.integration_id = ids[0];
  }
  const ats::v1::CandidateSelection& selection = request.selection();
  switch (selection.kind_case()) {
    case ats::v1::CandidateSelection::kCandidates: {
      const auto& names = selection.candidates().candidates();
      if (!v.Require(!names.empty() && names.size() <= kMaxBulkCandidates,
                     "selection.candidates.candidates",
                     absl::StrCat("must name 1 to 10,000 candidates (got ",
                                  names.size(),
                                  "); split a longer list into several "
                                  "calls, or use a selection"))) {
        break;
      }
      int bad = 0;
      for (int i = 0; i < names.size() && bad < kMaxReportedBadNames; ++i) {
        if (v.Name(absl::StrCat("selection.candidates.candidates[", i, "]"),
                   names[i], kCandidatePattern, &ids)) {
          target.candidate_ids.push_back(ids[0]);
        } else {
          ++bad;
        }
      }
      std::sort(target.candidate_ids.begin(), target.candidate_ids.end());
      target.candidate_ids.erase(
          std::unique(target.candidate_ids.begin(), target.candidate_ids.end()),
          target.candidate_ids.end());
      break;
    }
    case ats::v1::CandidateSelection::kJob:
      if (v.Name("selection.job.job", selection.job().job(), kJobPattern,
                 &ids)) {
        target.job_id = ids[0];
      }
      if (v.Name("selection.job.stage", selection.job().stage(), kStagePattern,
                 &ids, /*required=*/false) &&
          !ids.empty()) {
        v.Require(target.job_id.empty() || ids[0] == target.job_id,
                  "selection.job.stage",
                  "must be a stage of selection.job.job");
        target.stage_id = ids[1];
      }
      break;
    case ats::v1::CandidateSelection::kTag:
      v.Tag("selection.tag", selection.tag());
      break;
    case ats::v1::CandidateSelection::kAllCandidates:
      v.Require(selection.all_candidates(), "selection.all_candidates",
                "must be true when chosen");
      break;
    case ats::v1::CandidateSelection::KIND_NOT_SET:
      v.Require(false, "selection",
                "needs exactly one kind: candidates, job, tag or "
                "all_candidates");
      break;
  }
  v.RequestId("request_id", request.request_id());
  return target;
}

// One BulkTriggerIntegration stream: the operation's progress, at most one
// message per published state (a newer one replaces one not yet written),
// until a message with a final state has been written.
class BulkStream final
    : public grpc::ServerWriteReactor<ats::v1::BulkOperation> {
 public:
  // `method` names the RPC in the call's log line.
  BulkStream(BulkRunner& runner, std::string method)
      : runner_(runner), method_(std::move(method)) {}

  void set_caller(const Caller& caller) { caller_ = caller; }

  // Where the created (or, for a retry, the logged) operation goes.
  ats::v1::BulkOperation* created() { return &created_; }

  // Learns the outcome of the write creating the operation (which uses the
  // request and created(): the call must not end before it): fails the call,
  // or streams the operation's progress.
  void Created(const absl::Status& status) {
    {
      absl::MutexLock lock(&mu_);
      creating_ = false;
      if (!status.ok()) return FinishLocked(status);
      if (cancelled_) {
        return FinishLocked(absl::CancelledError("cancelled by the client"));
      }
    }
    Watch();
  }

  // Marks the operation's creation under way (see Created).
  void set_creating() {
    absl::MutexLock lock(&mu_);
    creating_ = true;
  }

 private:
  // Streams the progress of the operation in created() until it ends.
  void Watch() {
    const std::string id =
        created_.name().substr(created_.name().find('/') + 1);
    const int64_t handle = runner_.Watch(
        id,
        [this](const ats::v1::BulkOperation& operation) { Offer(operation); },
        [this] {
          Fail(absl::UnavailableError(absl::StrCat(
              "the server is stopping; bulk operation ", created_.name(),
              " goes on when it starts again (poll it with "
              "GetBulkOperation)")));
        });
    if (handle == 0) {
      return Fail(absl::UnavailableError(
          "the server is stopping; retry the call with the same request_id"));
    }
    {
      absl::MutexLock lock(&mu_);
      handle_ = handle;
    }
    // The worker publishes the operation's state after its next batch, or
    // at once if it has ended.
    runner_.Enqueue(caller_.account_id, id);
  }

 public:
  // Ends the call with `status`.
  void Fail(const absl::Status& status) {
    absl::MutexLock lock(&mu_);
    FinishLocked(status);
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) return FinishLocked(absl::CancelledError("the client went away"));
    if (has_pending_) return WriteLocked();
    if (final_written_) FinishLocked(absl::OkStatus());
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    // The write under way still uses this call; Created finishes it.
    if (creating_) {
      cancelled_ = true;
      return;
    }
    FinishLocked(absl::CancelledError("cancelled by the client"));
  }

  void OnDone() override {
    int64_t handle = 0;
    {
      absl::MutexLock lock(&mu_);
      handle = handle_;
    }
    if (handle != 0) runner_.Unwatch(handle);
    delete this;
  }

 private:
  static bool IsFinal(const ats::v1::BulkOperation& operation) {
    return operation.state() != ats::v1::BULK_OPERATION_STATE_RUNNING;
  }
  // Grows with every batch: resolving adds to the total, handling to the
  // other counters.
  static int64_t Progress(const ats::v1::BulkOperation& operation) {
    return operation.created_count() + operation.requeued_count() +
           operation.skipped_count() + operation.failed_count() +
           operation.total_count();
  }

  // Queues `operation` unless it is older than what was offered last.
  void Offer(const ats::v1::BulkOperation& operation) {
    absl::MutexLock lock(&mu_);
    if (finished_ || final_offered_) return;
    if (offered_any_ && !IsFinal(operation) &&
        Progress(operation) < Progress(last_offered_)) {
      return;
    }
    offered_any_ = true;
    final_offered_ = IsFinal(operation);
    last_offered_ = operation;
    has_pending_ = true;
    if (!writing_) WriteLocked();
  }

  void WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    response_ = last_offered_;
    has_pending_ = false;
    writing_ = true;
    final_written_ = IsFinal(response_);
    StartWrite(&response_);
  }

  void FinishLocked(const absl::Status& outcome)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    const absl::Status status = ForClient(outcome, method_);
    finished_ = true;
    CallLog log = CallLogOf(method_, status, start_, caller_);
    log.operation = created_.name();
    LogCall(log);
    Finish(ToGrpcStatus(status));
  }

  BulkRunner& runner_;
  const std::string method_;
  const absl::Time start_ = absl::Now();
  Caller caller_;
  ats::v1::BulkOperation created_;

  absl::Mutex mu_;
  int64_t handle_ ABSL_GUARDED_BY(mu_) = 0;
  ats::v1::BulkOperation last_offered_ ABSL_GUARDED_BY(mu_);
  ats::v1::BulkOperation response_ ABSL_GUARDED_BY(mu_);
  bool offered_any_ ABSL_GUARDED_BY(mu_) = false;
  bool final_offered_ ABSL_GUARDED_BY(mu_) = false;
  bool has_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool final_written_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool creating_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

// Creates the operation `request` asks for, by `caller` at `now`, whose
// targets `target` names, and fills `created` with it. An explicit list is
// stored as its items, already resolved; a selection is resolved by the
// worker.
absl::Status CreateOperation(
    storage::Transaction& txn, const Caller& caller, const BulkTarget& target,
    const ats::v1::BulkTriggerIntegrationRequest& request, absl::Time now,
    RandomSource& random, ats::v1::BulkOperation* created) {
  auto integration = CheckManualTarget(
      txn, caller.account_id, target.integration_id, request.option_values());
  if (!integration.ok()) return integration.status();
  if (!target.job_id.empty()) {
    auto job = LoadJob(txn, caller.account_id, target.job_id);
    if (!job.ok()) return job.status();
  }
  if (!target.stage_id.empty()) {
    auto stage =
        LoadStage(txn, caller.account_id, target.job_id, target.stage_id);
    if (!stage.ok()) return stage.status();
  }
  storage::BulkOperationRow row;
  row.account_id = caller.account_id;
  row.id = NewResourceId(random);
  row.integration_id = target.integration_id;
  row.spec = request;
  row.spec.clear_request_id();
  row.created_by = caller.key_id;
  row.create_time = now;
  row.update_time = now;
  const bool listed = request.selection().has_candidates();
  if (listed) {
    row.spec.mutable_selection()->mutable_candidates()->clear_candidates();
    row.resolved = true;
    row.total_count = static_cast<int64_t>(target.candidate_ids.size());
  }
  absl::Status status = txn.bulk_operations().InsertOperation(row);
  if (!status.ok()) return status;
  if (listed) {
    auto added = txn.bulk_operations().AddPendingItems(row.account_id, row.id,
                                                       target.candidate_ids);
    if (!added.ok()) return added.status();
  }
  BulkOperationToProto(row, created);
  return absl::OkStatus();
}

// Checks `request`'s fields, recording violations in `v`, and returns the
// id of the integration it names.
std::string ValidateRecoverRequest(const ats::v1::RecoverEventsRequest& request,
                                   Validator& v) {
  std::string integration_id;
  std::vector<std::string> ids;
  if (v.Name("integration", request.integration(), kIntegrationPattern, &ids)) {
    integration_id = ids[0];
  }
  const bool since_ok =
      v.Require(request.has_since(), "since",
                "is required: the start of the window of deaths to recover") &&
      v.Require(IsValidTime(request.since()), "since",
                "must be a valid timestamp");
  if (request.has_until() &&
      v.Require(IsValidTime(request.until()), "until",
                "must be a valid timestamp") &&
      since_ok) {
    v.Require(FromProtoTime(request.since()) < FromProtoTime(request.until()),
              "until", "must be after since");
  }
  v.RequestId("request_id", request.request_id());
  return integration_id;
}

// Creates the recover `request` asks for, of integration `integration_id`,
// by `caller` at `now`, and fills `created` with it. Its window ends at
// `until` or `now`, whichever comes first: an event the operation re-queues
// dies again after `now`, outside the window.
absl::Status CreateRecoverOperation(
    storage::Transaction& txn, const Caller& caller,
    const std::string& integration_id,
    const ats::v1::RecoverEventsRequest& request, absl::Time now,
    RandomSource& random, ats::v1::BulkOperation* created) {
  auto target = CheckSendableIntegration(txn, caller.account_id, integration_id,
                                         "recovering its events");
  if (!target.ok()) return target.status();
  const absl::Time since = FromProtoTime(request.since());
  const absl::Time until =
      request.has_until() ? std::min(FromProtoTime(request.until()), now) : now;
  if (since >= until) {
    return InvalidArgument(
        {{"since", "must be before until and before the call's time"}});
  }
  storage::BulkOperationRow row;
  row.account_id = caller.account_id;
  row.id = NewResourceId(random);
  row.integration_id = integration_id;
  row.kind = ats::v1::BULK_OPERATION_KIND_RECOVER;
  row.recover.set_integration(request.integration());
  *row.recover.mutable_since() = ToProtoTime(since);
  *row.recover.mutable_until() = ToProtoTime(until);
  row.created_by = caller.key_id;
  row.create_time = now;
  row.update_time = now;
  absl::Status status = txn.bulk_operations().InsertOperation(row);
  if (!status.ok()) return status;
  BulkOperationToProto(row, created);
  return absl::OkStatus();
}

// Creates, inside its write, the operation of a call admitted for `caller`
// at `now`, and fills `created` with it.
using CreateFn = std::function<absl::Status(
    storage::Transaction& txn, const Caller& caller, absl::Time now,
    ats::v1::BulkOperation* created)>;

// Serves a call that starts a bulk operation: admits its caller, checks
// `request` with `check` (which records violations in the validator it is
// given and returns how to create the operation), creates the operation in
// one write, once per `request_id` (a retry watches the one logged), and
// streams its progress.
grpc::ServerWriteReactor<ats::v1::BulkOperation>* StartBulkOperation(
    const ServiceEnv& env, BulkRunner& bulk,
    grpc::CallbackServerContext* context,
    const google::protobuf::Message& request, const std::string& request_id,
    const std::function<CreateFn(Validator& v)>& check) {
  // Admit refuses a request that no RPC takes, so past it the policy exists;
  // before, the request type names the call in its log line.
  const MethodPolicy* policy = env.methods.ForRequest(*request.GetDescriptor());
  auto* stream = new BulkStream(bulk, MethodName(policy, request));
  absl::StatusOr<Caller> caller = Admit(env, *context, request, policy);
  if (!caller.ok()) {
    stream->Fail(caller.status());
    return stream;
  }
  stream->set_caller(*caller);
  Validator v;
  CreateFn create = check(v);
  if (!v.ok()) {
    stream->Fail(v.status());
    return stream;
  }
  stream->set_creating();
  env.store.Write(
      WriteScopeOf(*caller),
      [&env, &request, request_id, stream, method = policy->name,
       caller = *caller,
       create = std::move(create)](storage::Transaction& txn) {
        // A run again after a conflict answers afresh.
        stream->created()->Clear();
        const absl::Time now = env.clock.Now();
        return RunOnce(
            txn, caller, method, request_id, request, stream->created(), now,
            [&] { return create(txn, caller, now, stream->created()); });
      },
      [stream](absl::Status status) { stream->Created(status); });
  return stream;
}

// Ends the RUNNING operation `id` as cancelled by `caller` at `now`,
// notifying the account (ids from `random`), and fills `response` with it;
// an operation that ended already is FAILED_PRECONDITION.
absl::Status CancelOperation(storage::Transaction& txn, const Caller& caller,
                             const std::string& id, absl::Time now,
                             RandomSource& random,
                             ats::v1::BulkOperation* response) {
  auto row = LoadOperation(txn, caller.account_id, id);
  if (!row.ok()) return row.status();
  if (row->state != ats::v1::BULK_OPERATION_STATE_RUNNING) {
    const std::string state = ats::v1::BulkOperationState_Name(row->state);
    return WithErrorInfo(
        absl::FailedPreconditionError(absl::StrCat(
            "bulk operation ", BulkOperationName(id), " has ended (", state,
            "); only a RUNNING one can be cancelled")),
        "BULK_OPERATION_ENDED",
        {{"bulk_operation", BulkOperationName(id)}, {"state", state}});
  }
  row->state = ats::v1::BULK_OPERATION_STATE_CANCELED;
  row->state_reason = absl::StrCat("cancelled by ", caller.key_name());
  row->end_time = now;
  row->update_time = now;
  absl::Status status = txn.bulk_operations().UpdateOperation(*row);
  if (!status.ok()) return status;
  status = NotifyBulkOperationFinished(txn, *row, now, random);
  if (!status.ok()) return status;
  BulkOperationToProto(*row, response);
  return absl::OkStatus();
}

}  // namespace

grpc::ServerWriteReactor<ats::v1::BulkOperation>*
IntegrationService::BulkTriggerIntegration(
    grpc::CallbackServerContext* context,
    const ats::v1::BulkTriggerIntegrationRequest* request) {
  return StartBulkOperation(
      env_, bulk_, context, *request, request->request_id(),
      [this, request](Validator& v) -> CreateFn {
        return [this, request, target = ValidateBulkRequest(*request, v)](
                   storage::Transaction& txn, const Caller& caller,
                   absl::Time now, ats::v1::BulkOperation* created) {
          return CreateOperation(txn, caller, target, *request, now,
                                 env_.random, created);
        };
      });
}

grpc::ServerUnaryReactor* IntegrationService::GetBulkOperation(
    grpc::CallbackServerContext* context,
    const ats::v1::GetBulkOperationRequest* request,
    ats::v1::BulkOperation* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("name", request->name(), kBulkOperationPattern, &ids);
  if (!v.ok()) return call.Finish(v.status());
  return call.Read([&](storage::Transaction& txn) {
    auto row = LoadOperation(txn, call.caller().account_id, ids[0]);
    if (!row.ok()) return row.status();
    BulkOperationToProto(*row, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IntegrationService::ListBulkOperations(
    grpc::CallbackServerContext* context,
    const ats::v1::ListBulkOperationsRequest* request,
    ats::v1::ListBulkOperationsResponse* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  v.PageSize("page_size", request->page_size());
  if (!v.ok()) return call.Finish(v.status());
  const std::string& account_id = call.caller().account_id;
  auto paging = ListPage::Start(request->page_token(), request->page_size(),
                                QueryFingerprint({call.method(), account_id}));
  if (!paging.ok()) return call.Finish(paging.status());
  return call.Read([&](storage::Transaction& txn) {
    return paging->Fill(
        txn.bulk_operations().ListOperations(account_id, paging->request()),
        response, [&](const storage::BulkOperationRow& row) {
          BulkOperationToProto(row, response->add_bulk_operations());
        });
  });
}

grpc::ServerUnaryReactor* IntegrationService::ListBulkOperationItems(
    grpc::CallbackServerContext* context,
    const ats::v1::ListBulkOperationItemsRequest* request,
    ats::v1::ListBulkOperationItemsResponse* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("parent", request->parent(), kBulkOperationPattern, &ids);
  v.EnumValue<ats::v1::BulkItemOutcome>("outcome", request->outcome(),
                                        ats::v1::BulkItemOutcome_IsValid,
                                        /*allow_unspecified=*/true);
  v.PageSize("page_size", request->page_size());
  if (!v.ok()) return call.Finish(v.status());
  const std::string& account_id = call.caller().account_id;
  const std::string outcome = absl::StrCat(request->outcome());
  auto paging = ListPage::Start(
      request->page_token(), request->page_size(),
      QueryFingerprint({call.method(), account_id, ids[0], outcome}));
  if (!paging.ok()) return call.Finish(paging.status());
  return call.Read([&](storage::Transaction& txn) {
    auto operation = LoadOperation(txn, account_id, ids[0]);
    if (!operation.ok()) return operation.status();
    return paging->Fill(
        txn.bulk_operations().ListItems(account_id, ids[0], request->outcome(),
                                        paging->request()),
        response, [&](const storage::BulkItemRow& row) {
          BulkItemToProto(row, response->add_items());
        });
  });
}

grpc::ServerUnaryReactor* IntegrationService::CancelBulkOperation(
    grpc::CallbackServerContext* context,
    const ats::v1::CancelBulkOperationRequest* request,
    ats::v1::BulkOperation* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("name", request->name(), kBulkOperationPattern, &ids);
  if (!v.ok()) return call.Finish(v.status());
  // The operation's watchers learn of the cancel as soon as it is
  // committed, not at the worker's next turn with it.
  return call.Write(
      [this, response, caller = call.caller(), id = ids[0]](
          storage::Transaction& txn, absl::Time now) {
        return CancelOperation(txn, caller, id, now, env_.random, response);
      },
      [this, response] {
        bulk_.Publish(*response);
        // The account's notification of the end, if it has an endpoint.
        env_.NotifyEventsCreated();
      });
}

grpc::ServerWriteReactor<ats::v1::BulkOperation>*
IntegrationService::RecoverEvents(
    grpc::CallbackServerContext* context,
    const ats::v1::RecoverEventsRequest* request) {
  return StartBulkOperation(
      env_, bulk_, context, *request, request->request_id(),
      [this, request](Validator& v) -> CreateFn {
        return [this, request,
                integration_id = ValidateRecoverRequest(*request, v)](
                   storage::Transaction& txn, const Caller& caller,
                   absl::Time now, ats::v1::BulkOperation* created) {
          return CreateRecoverOperation(txn, caller, integration_id, *request,
                                        now, env_.random, created);
        };
      });
}

}  // namespace ats::server
