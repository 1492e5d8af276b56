// IntegrationService.TriggerIntegration: a manual trigger for one candidate,
// built with the pieces it shares with the bulk worker (manual_trigger.h).

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/api/integration_service.h"
#include "server/common/validation.h"
#include "server/contract/errors.h"
#include "server/domain/event_convert.h"
#include "server/domain/marketplace.h"
#include "server/domain/pipeline_convert.h"
#include "server/engine/manual_trigger.h"
#include "server/engine/pipeline_access.h"

namespace ats::server {
namespace {

// Creates the event of `request`, by `caller` at `now`, for candidate
// `candidate_id` through integration `integration_id`, within job `job_id`
// when it is not empty; fills `response` with it.
absl::Status TriggerIn(storage::Transaction& txn, const Caller& caller,
                       const std::string& integration_id,
                       const std::string& candidate_id,
                       const std::string& job_id,
                       const ats::v1::TriggerIntegrationRequest& request,
                       absl::Time now, RandomSource& random,
                       ats::v1::TriggerIntegrationResponse* response) {
  auto target = CheckManualTarget(txn, caller.account_id, integration_id,
                                  request.option_values());
  if (!target.ok()) return target.status();
  auto candidate = LoadCandidate(txn, caller.account_id, candidate_id);
  if (!candidate.ok()) return candidate.status();
  EventOrigin origin{caller.account_id,
                     caller.key_id,
                     ats::v1::EVENT_SOURCE_MANUAL,
                     job_id,
                     "",
                     "",
                     now};
  if (!job_id.empty()) {
    auto job = LoadJob(txn, caller.account_id, job_id);
    if (!job.ok()) return job.status();
    origin.job_title = job->title;
    auto app = LoadApplication(txn, caller.account_id, job_id, candidate_id);
    if (absl::IsNotFound(app.status())) {
      return WithErrorInfo(
          absl::FailedPreconditionError(absl::StrCat(
              "candidate ", CandidateName(candidate_id), " is not in job ",
              JobName(job_id), "; add them to it, or trigger without a job")),
          "CANDIDATE_NOT_IN_JOB",
          {{"candidate", CandidateName(candidate_id)},
           {"job", JobName(job_id)}});
    }
    if (!app.ok()) return app.status();
  }
  storage::EventRow event =
      ManualEvent(origin, *target, *candidate, request.option_values(), random);
  absl::Status status = InsertNewEvent(txn, event, random);
  if (!status.ok()) return status;
  EventToProto(std::move(event), response->mutable_event());
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* IntegrationService::TriggerIntegration(
    grpc::CallbackServerContext* context,
    const ats::v1::TriggerIntegrationRequest* request,
    ats::v1::TriggerIntegrationResponse* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> integration_ids;
  v.Name("integration", request->integration(), kIntegrationPattern,
         &integration_ids);
  std::vector<std::string> candidate_ids;
  v.Name("candidate", request->candidate(), kCandidatePattern, &candidate_ids);
  std::vector<std::string> job_ids;
  v.Name("job", request->job(), kJobPattern, &job_ids, /*required=*/false);
  v.RequestId("request_id", request->request_id());
  if (!v.ok()) return call.Finish(v.status());
  return call.Write(
      [this, request, response, caller = call.caller(),
       integration_id = integration_ids[0], candidate_id = candidate_ids[0],
       job_id = job_ids.empty() ? std::string() : job_ids[0]](
          storage::Transaction& txn, absl::Time now) {
        return TriggerIn(txn, caller, integration_id, candidate_id, job_id,
                         *request, now, env_.random, response);
      },
      env_.events_created);
}

}  // namespace ats::server
