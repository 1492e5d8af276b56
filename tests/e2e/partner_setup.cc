#include "tests/e2e/partner_setup.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace ats::testing {
namespace {

absl::Status Failed(const std::string& call, const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(call, ": ", status.error_message()));
}

}  // namespace

std::unique_ptr<grpc::ClientContext> KeyContext(const std::string& key,
                                                int seconds) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", "Bearer " + key);
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(seconds));
  return context;
}

absl::StatusOr<std::string> ConnectSinkPartner(
    ats::v1::IntegrationService::Stub& integrations,
    const std::string& operator_key, const std::string& admin_key,
    SinkProcess& sink, const std::string& webhook_url) {
  constexpr int kCallSeconds = 30;
  ats::v1::CreatePartnerRequest create;
  ats::v1::Partner* listing = create.mutable_partner();
  listing->set_display_name("Assessly");
  listing->set_category(ats::v1::PARTNER_CATEGORY_ASSESSMENT);
  listing->set_webhook_uri(webhook_url.empty() ? sink.webhook_url()
                                              : webhook_url);
  listing->add_candidate_fields(ats::v1::CANDIDATE_FIELD_GIVEN_NAME);
  ats::v1::Partner partner;
  grpc::Status status = integrations.CreatePartner(
      KeyContext(operator_key, kCallSeconds).get(), create, &partner);
  if (!status.ok()) return Failed("CreatePartner", status);

  ats::v1::ActivateIntegrationRequest activate;
  activate.set_partner(partner.name());
  ats::v1::ActivateIntegrationResponse activated;
  status = integrations.ActivateIntegration(
      KeyContext(admin_key, kCallSeconds).get(), activate, &activated);
  if (!status.ok()) return Failed("ActivateIntegration", status);
  absl::Status added = sink.AddSecret(activated.signing_secret());
  if (!added.ok()) return added;
  return activated.integration().name();
}

absl::StatusOr<ats::v1::Job> CreateJobNotifying(
    ats::v1::JobService::Stub& jobs, const std::string& key,
    const std::string& integration) {
  constexpr int kCallSeconds = 30;
  ats::v1::CreateJobRequest create_job;
  create_job.set_skip_template(true);
  create_job.mutable_job()->set_title("Backend engineer");
  create_job.mutable_job()->set_state(ats::v1::JOB_STATE_OPEN);
  create_job.mutable_job()->add_stages()->set_display_name("Inbox");
  create_job.mutable_job()->add_stages()->set_display_name("Assessment");
  ats::v1::Job job;
  grpc::Status status =
      jobs.CreateJob(KeyContext(key, kCallSeconds).get(), create_job, &job);
  if (!status.ok()) return Failed("CreateJob", status);
  if (job.stages_size() != 2) {
    return absl::InternalError(
        absl::StrCat("CreateJob made ", job.stages_size(), " stages, not 2"));
  }
  ats::v1::CreateTriggerRequest create_trigger;
  create_trigger.set_parent(job.stages(1).name());
  create_trigger.mutable_trigger()
      ->mutable_integration_event()
      ->set_integration(integration);
  ats::v1::Trigger trigger;
  status = jobs.CreateTrigger(KeyContext(key, kCallSeconds).get(),
                              create_trigger, &trigger);
  if (!status.ok()) return Failed("CreateTrigger", status);
  return job;
}

absl::StatusOr<ats::v1::Event> AwaitEventState(
    ats::v1::IntegrationService::Stub& integrations, const std::string& key,
    const std::string& name, const std::vector<ats::v1::EventState>& states,
    absl::Duration timeout) {
  constexpr int kCallSeconds = 30;
  ats::v1::GetEventRequest get;
  get.set_name(name);
  ats::v1::Event event;
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    const grpc::Status status =
        integrations.GetEvent(KeyContext(key, kCallSeconds).get(), get, &event);
    if (!status.ok()) return Failed("GetEvent", status);
    if (std::find(states.begin(), states.end(), event.state()) !=
            states.end() ||
        absl::Now() >= deadline) {
      return event;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

}  // namespace ats::testing
