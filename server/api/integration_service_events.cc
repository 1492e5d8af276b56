// IntegrationService: events (what operators look at, retry and cancel) and
// the partner results reported for them.

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/api/integration_service.h"
#include "server/api/list_page.h"
#include "server/common/page_token.h"
#include "server/common/validation.h"
#include "server/contract/errors.h"
#include "server/contract/timestamps.h"
#include "server/domain/event_convert.h"
#include "server/domain/marketplace.h"
#include "server/domain/partner_result.h"
#include "server/domain/pipeline_convert.h"
#include "server/engine/result_report.h"

namespace ats::server {
namespace {

absl::Status EventNotFound(const std::string& id) {
  return absl::NotFoundError(
      absl::StrCat("event ", EventName(id), " not found"));
}

// Returns event `id` of the caller's account, with the shown parts of its
// payload: callers show the event and change only its mutable columns. A
// partner key sees the events of its own integration only: any other is as
// absent to it as another account's event is to everyone. A write that
// changes the event loads it `to_change` (EventRepository::GetEventToChange).
absl::StatusOr<storage::EventRow> LoadEvent(storage::Transaction& txn,
                                            const Caller& caller,
                                            const std::string& id,
                                            bool to_change) {
  auto row = to_change ? txn.events().GetEventToChange(
                             caller.account_id, id, storage::PayloadParts::kShown)
                       : txn.events().GetEvent(caller.account_id, id,
                                               storage::PayloadParts::kShown);
  if (absl::IsNotFound(row.status())) return EventNotFound(id);
  if (!row.ok()) return row.status();
  if (caller.role == ats::v1::ROLE_PARTNER &&
      row->integration_id != caller.integration_id) {
    return EventNotFound(id);
  }
  return row;
}

// Stores the changed `event` and fills `response` with it.
absl::Status SaveEvent(storage::Transaction& txn, storage::EventRow event,
                       ats::v1::Event* response) {
  absl::Status status = txn.events().UpdateEvent(event);
  if (!status.ok()) return status;
  EventToProto(std::move(event), response);
  return absl::OkStatus();
}

// Changes `event` on behalf of `caller` at `now`, or returns the error (e.g.
// a state that does not allow the change) that rolls the write back.
using EventChange = std::function<absl::Status(
    const Caller& caller, absl::Time now, storage::EventRow& event)>;

// Applies `change` to event `id` as `caller` sees it and fills `response`
// with the event as stored.
absl::Status ChangeEvent(storage::Transaction& txn, const Caller& caller,
                         const std::string& id, absl::Time now,
                         const EventChange& change, ats::v1::Event* response) {
  auto event = LoadEvent(txn, caller, id, /*to_change=*/true);
  if (!event.ok()) return event.status();
  absl::Status status = change(caller, now, *event);
  if (!status.ok()) return status;
  return SaveEvent(txn, *std::move(event), response);
}

// Makes a DEAD or FAILED `event` due again at `now`.
absl::Status Retry(const Caller&, absl::Time now, storage::EventRow& event) {
  if (event.state != ats::v1::EVENT_STATE_DEAD &&
      event.state != ats::v1::EVENT_STATE_FAILED) {
    return WrongState(event, "events can be retried", "DEAD or FAILED");
  }
  // A fresh retry schedule: attempt_count restarts, while the attempts so
  // far stay in the history and numbering continues after them.
  event.state = ats::v1::EVENT_STATE_PENDING;
  event.state_reason.clear();
  event.due_time = now;
  event.attempt_count = 0;
  event.lease_expire_time.reset();
  event.update_time = now;
  // A FAILED event's result was about the delivery being replaced; kept, it
  // would contradict the new state. The partner reports afresh.
  event.result.reset();
  return absl::OkStatus();
}

// Cancels an `event` not yet delivered, naming `caller`'s key as the reason.
absl::Status Cancel(const Caller& caller, absl::Time now,
                    storage::EventRow& event) {
  if (event.state != ats::v1::EVENT_STATE_SCHEDULED &&
      event.state != ats::v1::EVENT_STATE_PENDING &&
      event.state != ats::v1::EVENT_STATE_RETRYING) {
    return WrongState(event, "events can be cancelled",
                      "SCHEDULED, PENDING or RETRYING");
  }
  event.state = ats::v1::EVENT_STATE_CANCELED;
  event.state_reason = absl::StrCat("cancelled by ", caller.key_name());
  event.lease_expire_time.reset();
  event.update_time = now;
  return absl::OkStatus();
}

// Records the partner `caller`'s `result` for event `id`, reported at `now`,
// and fills `response` with the event as stored. A partner key reports for
// its own integration's events only: another's is PERMISSION_DENIED.
absl::Status RecordResult(storage::Transaction& txn, const Caller& caller,
                          const std::string& id,
                          const ats::v1::PartnerResult& result, absl::Time now,
                          RandomSource& random, ats::v1::Event* response) {
  auto event = txn.events().GetEventToChange(caller.account_id, id,
                                             storage::PayloadParts::kShown);
  if (absl::IsNotFound(event.status())) return EventNotFound(id);
  if (!event.ok()) return event.status();
  if (event->integration_id != caller.integration_id) {
    return absl::PermissionDeniedError(absl::StrCat(
        "event ", EventName(id), " was not sent to integration ",
        IntegrationName(caller.integration_id),
        "; a partner key reports results for its own integration's events "
        "only"));
  }
  absl::Status status =
      RecordPartnerResult(txn, *event, result, "result", now, random);
  if (!status.ok()) return status;
  EventToProto(*std::move(event), response);
  return absl::OkStatus();
}

// Serves `call`, whose request names an event in `name`: applies `change` to
// it in one write, answers the event as stored, and calls `after_commit`
// (when set) once the write has committed.
grpc::ServerUnaryReactor* ChangeNamedEvent(
    const UnaryCall& call, const std::string& name, EventChange change,
    ats::v1::Event* response, UnaryCall::AfterCommitFn after_commit) {
  Validator v;
  std::vector<std::string> ids;
  v.Name("name", name, kEventPattern, &ids);
  if (!v.ok()) return call.Finish(v.status());
  return call.Write(
      [response, caller = call.caller(), id = ids[0],
       change = std::move(change)](storage::Transaction& txn, absl::Time now) {
        return ChangeEvent(txn, caller, id, now, change, response);
      },
      after_commit);
}

}  // namespace

grpc::ServerUnaryReactor* IntegrationService::GetEvent(
    grpc::CallbackServerContext* context,
    const ats::v1::GetEventRequest* request, ats::v1::Event* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("name", request->name(), kEventPattern, &ids);
  if (!v.ok()) return call.Finish(v.status());
  return call.Read([&](storage::Transaction& txn) {
    auto row = LoadEvent(txn, call.caller(), ids[0], /*to_change=*/false);
    if (!row.ok()) return row.status();
    auto attempts =
        txn.events().ListAttempts(call.caller().account_id, row->id);
    if (!attempts.ok()) return attempts.status();
    EventToProto(*std::move(row), response);
    for (const storage::AttemptRow& attempt : *attempts) {
      AttemptToProto(attempt, response->add_attempts());
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* IntegrationService::ListEvents(
    grpc::CallbackServerContext* context,
    const ats::v1::ListEventsRequest* request,
    ats::v1::ListEventsResponse* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> candidate_ids;
  v.Name("candidate", request->candidate(), kCandidatePattern, &candidate_ids,
         /*required=*/false);
  std::vector<std::string> job_ids;
  v.Name("job", request->job(), kJobPattern, &job_ids, /*required=*/false);
  std::vector<std::string> integration_ids;
  v.Name("integration", request->integration(), kIntegrationPattern,
         &integration_ids, /*required=*/false);
  v.EnumValue<ats::v1::EventState>("state", request->state(),
                                   ats::v1::EventState_IsValid,
                                   /*allow_unspecified=*/true);
  v.PageSize("page_size", request->page_size());
  if (!v.ok()) return call.Finish(v.status());
  // Filters name resources that may be gone (a deleted candidate's events
  // stay), so they are not looked up: they only filter.
  storage::EventFilter filter;
  if (!candidate_ids.empty()) filter.candidate_id = candidate_ids[0];
  if (!job_ids.empty()) filter.job_id = job_ids[0];
  if (!integration_ids.empty()) filter.integration_id = integration_ids[0];
  filter.state = request->state();
  const std::string& account_id = call.caller().account_id;
  const std::string state = absl::StrCat(request->state());
  auto paging = ListPage::Start(
      request->page_token(), request->page_size(),
      QueryFingerprint({call.method(), account_id, filter.candidate_id,
                        filter.job_id, filter.integration_id, state}));
  if (!paging.ok()) return call.Finish(paging.status());
  return call.Read([&](storage::Transaction& txn) {
    return paging->Fill(
        txn.events().ListEvents(account_id, filter, paging->request()),
        response, [&](storage::EventRow& row) {
          EventToProto(std::move(row), response->add_events());
        });
  });
}

grpc::ServerUnaryReactor* IntegrationService::RetryEvent(
    grpc::CallbackServerContext* context,
    const ats::v1::RetryEventRequest* request, ats::v1::Event* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  // A retried event is due now: no need to wait for a poll.
  return ChangeNamedEvent(call, request->name(), Retry, response,
                          env_.events_created);
}

grpc::ServerUnaryReactor* IntegrationService::CancelEvent(
    grpc::CallbackServerContext* context,
    const ats::v1::CancelEventRequest* request, ats::v1::Event* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  return ChangeNamedEvent(call, request->name(), Cancel, response, nullptr);
}

grpc::ServerUnaryReactor* IntegrationService::ReportPartnerResult(
    grpc::CallbackServerContext* context,
    const ats::v1::ReportPartnerResultRequest* request,
    ats::v1::Event* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("event", request->event(), kEventPattern, &ids);
  ValidateResult(v, "result", request->result());
  v.RequestId("request_id", request->request_id());
  if (!v.ok()) return call.Finish(v.status());
  return call.Write([this, request, response, caller = call.caller(),
                     id = ids[0]](storage::Transaction& txn, absl::Time now) {
    return RecordResult(txn, caller, id, request->result(), now, env_.random,
                        response);
  });
}

}  // namespace ats::server
