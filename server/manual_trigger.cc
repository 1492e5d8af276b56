// IntegrationService.TriggerIntegration, and the pieces of a manual trigger
// the bulk worker shares with it.

#include "server/manual_trigger.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/errors.h"
#include "server/event_convert.h"
#include "server/idempotency.h"
#include "server/integration_service.h"
#include "server/marketplace.h"
#include "server/pipeline_access.h"
#include "server/pipeline_convert.h"
#include "server/validation.h"

namespace ats::server {
namespace {

constexpr char kTriggerIntegration[] =
    "ats.v1.IntegrationService/TriggerIntegration";

}  // namespace

std::string WhyNotTriggerable(const storage::IntegrationRow& integration) {
  const std::string name = IntegrationName(integration.id);
  if (!integration.active) {
    return absl::StrCat("integration ", name, " is inactive");
  }
  if (!integration.endpoint_disabled_reason.empty()) {
    return absl::StrCat("the endpoint of integration ", name,
                        " is disabled (", integration.endpoint_disabled_reason,
                        ")");
  }
  return "";
}

absl::StatusOr<IntegrationTarget> CheckManualTarget(
    storage::Transaction& txn, const std::string& account_id,
    const std::string& integration_id,
    const google::protobuf::Map<std::string, std::string>& option_values) {
  auto target = CheckIntegrationTarget(txn, account_id, integration_id,
                                       option_values, "", "triggering it");
  if (!target.ok()) return target.status();
  const std::string why = WhyNotTriggerable(target->integration);
  if (!why.empty()) {
    return WithErrorInfo(
        absl::FailedPreconditionError(absl::StrCat(
            why, "; ReactivateIntegration re-enables it")),
        "ENDPOINT_DISABLED",
        {{"integration", IntegrationName(integration_id)}});
  }
  return target;
}

storage::EventRow ManualEvent(
    const EventOrigin& origin, const IntegrationTarget& target,
    const storage::CandidateRow& candidate,
    const google::protobuf::Map<std::string, std::string>& option_values,
    RandomSource& random) {
  storage::EventRow event = NewEvent(origin, candidate.id, random);
  *event.payload.mutable_option_values() = option_values;
  TargetIntegration(event, target.integration, target.partner.listing,
                    candidate);
  return event;
}

grpc::ServerUnaryReactor* IntegrationService::TriggerIntegration(
    grpc::CallbackServerContext* context,
    const ats::v1::TriggerIntegrationRequest* request,
    ats::v1::TriggerIntegrationResponse* response) {
  return ServeUnary(
      env_, context, kTriggerIntegration,
      {ats::v1::ROLE_ADMIN, ats::v1::ROLE_RECRUITER},
      [this, request, response](const Caller& caller, const Finish& finish) {
        Validator v;
        std::vector<std::string> integration_ids;
        v.Name("integration", request->integration(), kIntegrationPattern,
               &integration_ids);
        std::vector<std::string> candidate_ids;
        v.Name("candidate", request->candidate(), kCandidatePattern,
               &candidate_ids);
        std::vector<std::string> job_ids;
        v.Name("job", request->job(), kJobPattern, &job_ids,
               /*required=*/false);
        v.RequestId("request_id", request->request_id());
        if (!v.ok()) return finish(v.status());
        env_.store.Write(
            [this, request, response, caller,
             integration_id = integration_ids[0],
             candidate_id = candidate_ids[0],
             job_id = job_ids.empty() ? std::string() : job_ids[0]](
                storage::Transaction& txn) {
              const absl::Time now = env_.clock.Now();
              return RunOnce(
                  txn, caller, kTriggerIntegration, request->request_id(),
                  *request, response, now, [&]() -> absl::Status {
                    auto target =
                        CheckManualTarget(txn, caller.account_id,
                                          integration_id,
                                          request->option_values());
                    if (!target.ok()) return target.status();
                    auto candidate =
                        LoadCandidate(txn, caller.account_id, candidate_id);
                    if (!candidate.ok()) return candidate.status();
                    EventOrigin origin{caller.account_id, caller.key_id,
                                       ats::v1::EVENT_SOURCE_MANUAL,
                                       job_id,        "",
                                       "",            now};
                    if (!job_id.empty()) {
                      auto job = LoadJob(txn, caller.account_id, job_id);
                      if (!job.ok()) return job.status();
                      origin.job_title = job->title;
                      auto app = LoadApplication(txn, caller.account_id,
                                                 job_id, candidate_id);
                      if (absl::IsNotFound(app.status())) {
                        return WithErrorInfo(
                            absl::FailedPreconditionError(absl::StrCat(
                                "candidate ", CandidateName(candidate_id),
                                " is not in job ", JobName(job_id),
                                "; add them to it, or trigger without a "
                                "job")),
                            "CANDIDATE_NOT_IN_JOB",
                            {{"candidate", CandidateName(candidate_id)},
                             {"job", JobName(job_id)}});
                      }
                      if (!app.ok()) return app.status();
                    }
                    storage::EventRow event =
                        ManualEvent(origin, *target, *candidate,
                                    request->option_values(), env_.random);
                    absl::Status status =
                        InsertNewEvent(txn, event, env_.random);
                    if (!status.ok()) return status;
                    EventToProto(std::move(event), response->mutable_event());
                    return absl::OkStatus();
                  });
            },
            [this, finish](absl::Status status) {
              if (status.ok()) env_.NotifyEventsCreated();
              finish(status);
            });
      });
}

}  // namespace ats::server
