// IntegrationService: events (what operators look at, retry and cancel) and
// the partner results reported for them.

#include <cmath>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "server/api/integration_service.h"
#include "server/api/list_page.h"
#include "server/common/page_token.h"
#include "server/common/validation.h"
#include "server/contract/errors.h"
#include "server/contract/timestamps.h"
#include "server/domain/event_convert.h"
#include "server/domain/marketplace.h"
#include "server/domain/pipeline_convert.h"

namespace ats::server {
namespace {

// Limits of a partner result, documented in partner_event.proto.
constexpr size_t kMaxSummaryLength = 2000;
constexpr int kMaxAttachments = 20;
constexpr size_t kMaxAttachmentNameLength = 200;
constexpr size_t kMaxContentTypeLength = 100;
constexpr size_t kMaxDetailsJsonBytes = 64 * 1024;

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

// FAILED_PRECONDITION for an event whose state does not allow what was
// asked: "event events/x is <STATE>; <why>".
absl::Status StateMismatch(const storage::EventRow& event,
                           const std::string& why) {
  const std::string state = ats::v1::EventState_Name(event.state);
  return WithErrorInfo(
      absl::FailedPreconditionError(absl::StrCat("event ", EventName(event.id),
                                                 " is ", state, "; ", why)),
      "EVENT_STATE_MISMATCH",
      {{"event", EventName(event.id)}, {"state", state}});
}

// FAILED_PRECONDITION for an event whose state does not allow `what`;
// `allowed` lists the states that do, for the message.
absl::Status WrongState(const storage::EventRow& event, const std::string& what,
                        const std::string& allowed) {
  return StateMismatch(event, absl::StrCat(what, " only in state ", allowed));
}

// Records in `v` what is wrong with the partner's `result`.
void ValidateResult(Validator& v, const ats::v1::PartnerResult& result) {
  v.EnumValue<ats::v1::PartnerResultStatus>(
      "result.status", result.status(), ats::v1::PartnerResultStatus_IsValid,
      /*allow_unspecified=*/false);
  if (result.has_score()) {
    v.Require(std::isfinite(result.score().value()), "result.score",
              "must be a finite number");
  }
  v.MultilineLength("result.summary", result.summary(), 0, kMaxSummaryLength);
  v.Uri("result.link", result.link(), /*required=*/false);
  if (v.Require(
          result.attachments_size() <= kMaxAttachments, "result.attachments",
          absl::StrCat("must have at most ", kMaxAttachments, " entries (got ",
                       result.attachments_size(), ")"))) {
    for (int i = 0; i < result.attachments_size(); ++i) {
      const ats::v1::Attachment& attachment = result.attachments(i);
      const std::string field = absl::StrCat("result.attachments[", i, "]");
      v.Length(field + ".display_name", attachment.display_name(), 1,
               kMaxAttachmentNameLength);
      v.Uri(field + ".uri", attachment.uri(), /*required=*/true);
      v.Length(field + ".content_type", attachment.content_type(), 0,
               kMaxContentTypeLength);
    }
  }
  if (result.has_details()) {
    std::string json;
    const bool encoded =
        google::protobuf::util::MessageToJsonString(result.details(), &json)
            .ok();
    v.Require(encoded, "result.details", "must be encodable as JSON");
    if (encoded) {
      v.Require(json.size() <= kMaxDetailsJsonBytes, "result.details",
                absl::StrCat("must be at most 64 KiB in JSON form (got ",
                             json.size(), " bytes)"));
    }
  }
}

// The event state a result with `status` puts its event in. The event's
// state and its result's status never disagree: SENT and PENDING (the
// partner has the event and is at work) go with SENT, COMPLETED and FAILED
// with themselves.
ats::v1::EventState StateOfResult(ats::v1::PartnerResultStatus status) {
  switch (status) {
    case ats::v1::PARTNER_RESULT_STATUS_COMPLETED:
      return ats::v1::EVENT_STATE_COMPLETED;
    case ats::v1::PARTNER_RESULT_STATUS_FAILED:
      return ats::v1::EVENT_STATE_FAILED;
    default:
      return ats::v1::EVENT_STATE_SENT;
  }
}

// Records `result` for `event`, reported at `now`, if the event's state
// allows it (see ReportPartnerResult in integration_service.proto):
// FAILED_PRECONDITION naming the state otherwise.
absl::Status ApplyResult(const ats::v1::PartnerResult& result, absl::Time now,
                         storage::EventRow& event) {
  switch (event.state) {
    case ats::v1::EVENT_STATE_SENDING:
    case ats::v1::EVENT_STATE_SENT:
    case ats::v1::EVENT_STATE_RETRYING:
      break;
    case ats::v1::EVENT_STATE_COMPLETED:
    case ats::v1::EVENT_STATE_FAILED:
      // A final result may be amended, never overturned.
      if (StateOfResult(result.status()) != event.state) {
        return StateMismatch(
            event,
            absl::StrCat("its result is final and may only be amended with "
                         "the same status, not ",
                         ats::v1::PartnerResultStatus_Name(result.status())));
      }
      break;
    default:
      return WrongState(event, "results are accepted",
                        "SENDING, SENT, RETRYING, COMPLETED or FAILED");
  }
  const ats::v1::EventState state = StateOfResult(result.status());
  event.result = result;
  *event.result->mutable_report_time() = ToProtoTime(now);
  if (state == ats::v1::EVENT_STATE_FAILED) {
    event.state_reason = result.summary().empty()
                             ? "the partner reported a failure"
                             : result.summary();
  } else {
    event.state_reason.clear();
  }
  if (state != event.state) {
    event.state = state;
    event.update_time = now;
    // The partner has the event: a delivery still under way must not settle
    // it again, nor a scheduled retry send it again.
    event.lease_expire_time.reset();
  }
  return absl::OkStatus();
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
                          ats::v1::Event* response) {
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
  absl::Status status = ApplyResult(result, now, *event);
  if (!status.ok()) return status;
  return SaveEvent(txn, *std::move(event), response);
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
  ValidateResult(v, request->result());
  v.RequestId("request_id", request->request_id());
  if (!v.ok()) return call.Finish(v.status());
  return call.Write([request, response, caller = call.caller(), id = ids[0]](
                        storage::Transaction& txn, absl::Time now) {
    return RecordResult(txn, caller, id, request->result(), now, response);
  });
}

}  // namespace ats::server
