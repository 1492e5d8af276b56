#include "tests/api/fixtures.h"

#include <algorithm>

#include "absl/strings/str_join.h"
#include "server/contract/errors.h"

namespace ats::testing {

std::vector<std::string> ViolatedFields(const grpc::Status& status) {
  std::vector<std::string> fields;
  for (const server::FieldViolation& violation :
       server::FieldViolationsOf(server::FromGrpcStatus(status))) {
    fields.push_back(violation.field);
  }
  return fields;
}

::testing::AssertionResult HasCode(const grpc::Status& status,
                                   grpc::StatusCode code) {
  if (status.error_code() == code) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected code " << code << ", got " << status.error_code() << " \""
         << status.error_message() << "\"";
}

::testing::AssertionResult HasViolation(const grpc::Status& status,
                                        const std::string& field) {
  const std::vector<std::string> fields = ViolatedFields(status);
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT &&
      std::find(fields.begin(), fields.end(), field) != fields.end()) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "expected INVALID_ARGUMENT on " << field << ", got code "
         << status.error_code() << " \"" << status.error_message()
         << "\" with violations [" << absl::StrJoin(fields, ", ") << "]";
}

void ExpectInvalid(const grpc::Status& status,
                   const std::vector<std::string>& fields) {
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_EQ(ViolatedFields(status), fields) << status.error_message();
}

const std::vector<std::string> kStarterStages = {"Inbox", "Screening",
                                                 "Interview", "Offer", "Hired"};

ats::v1::Trigger TagTrigger(const std::string& tag) {
  ats::v1::Trigger trigger;
  trigger.mutable_add_tag()->set_tag(tag);
  return trigger;
}

ats::v1::Trigger IntegrationTrigger(
    const std::string& integration,
    const std::vector<std::pair<std::string, std::string>>& option_values) {
  ats::v1::Trigger trigger;
  trigger.mutable_integration_event()->set_integration(integration);
  for (const auto& [key, value] : option_values) {
    (*trigger.mutable_integration_event()->mutable_option_values())[key] =
        value;
  }
  return trigger;
}

ats::v1::Partner TestListing(const std::string& display_name) {
  ats::v1::Partner partner;
  partner.set_display_name(display_name);
  partner.set_category(ats::v1::PARTNER_CATEGORY_ASSESSMENT);
  partner.set_webhook_uri("https://partner.example/webhook");
  ats::v1::TriggerOption* package = partner.add_trigger_options();
  package->set_key("test_package");
  package->set_display_name("Test package");
  package->set_required(true);
  package->add_allowed_values("basic");
  package->add_allowed_values("advanced");
  ats::v1::TriggerOption* language = partner.add_trigger_options();
  language->set_key("language");
  language->set_display_name("Language");
  partner.add_candidate_fields(ats::v1::CANDIDATE_FIELD_EMAIL);
  return partner;
}

ats::v1::Partner MustListPartner(TestServer& server,
                                 const ats::v1::Partner& listing) {
  ats::v1::CreatePartnerRequest request;
  *request.mutable_partner() = listing;
  ats::v1::Partner created;
  grpc::Status status = server.integrations()->CreatePartner(
      TestServer::Context(server.operator_key()).get(), request, &created);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return created;
}

ats::v1::Integration MustActivatePartner(TestServer& server,
                                         const std::string& admin_key,
                                         const ats::v1::Partner& partner) {
  ats::v1::ActivateIntegrationRequest request;
  request.set_partner(partner.name());
  ats::v1::ActivateIntegrationResponse response;
  grpc::Status status = server.integrations()->ActivateIntegration(
      TestServer::Context(admin_key).get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.integration();
}

ats::v1::Integration MustActivateNewPartner(TestServer& server,
                                            const std::string& admin_key,
                                            const std::string& display_name) {
  return MustActivatePartner(
      server, admin_key, MustListPartner(server, TestListing(display_name)));
}

void MustSetIntegrationActive(TestServer& server, const std::string& admin_key,
                              const std::string& name, bool active) {
  auto stub = server.integrations();
  auto context = TestServer::Context(admin_key);
  ats::v1::Integration response;
  grpc::Status status;
  if (active) {
    ats::v1::ReactivateIntegrationRequest request;
    request.set_name(name);
    status = stub->ReactivateIntegration(context.get(), request, &response);
  } else {
    ats::v1::DeactivateIntegrationRequest request;
    request.set_name(name);
    status = stub->DeactivateIntegration(context.get(), request, &response);
  }
  EXPECT_TRUE(status.ok()) << status.error_message();
}

ats::v1::Job JobServiceFixture::CreateJob(const std::string& title) {
  ats::v1::CreateJobRequest request;
  request.mutable_job()->set_title(title);
  ats::v1::Job job;
  grpc::Status status = Call(&Stub::CreateJob, request, &job);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return job;
}

ats::v1::Job JobServiceFixture::GetJob(const std::string& name) {
  ats::v1::GetJobRequest request;
  request.set_name(name);
  ats::v1::Job job;
  grpc::Status status = Call(&Stub::GetJob, request, &job);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return job;
}

grpc::Status JobServiceFixture::CreateCandidate(
    const ats::v1::Candidate& candidate, ats::v1::Candidate* created,
    const std::string& request_id) {
  ats::v1::CreateCandidateRequest request;
  *request.mutable_candidate() = candidate;
  request.set_request_id(request_id);
  return Call(&Stub::CreateCandidate, request, created);
}

ats::v1::Candidate JobServiceFixture::NewCandidate(
    const std::string& given_name, const std::string& email) {
  ats::v1::Candidate candidate;
  candidate.set_given_name(given_name);
  candidate.set_email(email);
  ats::v1::Candidate created;
  grpc::Status status = CreateCandidate(candidate, &created);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return created;
}

grpc::Status JobServiceFixture::Add(
    const std::string& job, const std::string& candidate,
    const std::string& stage, ats::v1::AddCandidateToJobResponse* response,
    const std::string& request_id) {
  ats::v1::AddCandidateToJobRequest request;
  request.set_job(job);
  request.set_candidate(candidate);
  request.set_stage(stage);
  request.set_request_id(request_id);
  return Call(&Stub::AddCandidateToJob, request, response);
}

ats::v1::Application JobServiceFixture::MustAdd(
    const ats::v1::Job& job, const ats::v1::Candidate& candidate,
    const std::string& stage) {
  ats::v1::AddCandidateToJobResponse response;
  grpc::Status status = Add(job.name(), candidate.name(), stage, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.application();
}

}  // namespace ats::testing
