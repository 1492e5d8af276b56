// What the trigger engine and events tests share: a TestServer with a
// partner in the Marketplace, account A's active integration with it and a
// partner key of that integration, and helpers for jobs with triggers,
// candidates, moves and events. Everything is a member of EventFixture, so
// nothing clashes with the helpers of tests/api/fixtures.h.
#ifndef ATS_TESTS_SERVER_EVENT_FIXTURE_H_
#define ATS_TESTS_SERVER_EVENT_FIXTURE_H_

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/common/validation.h"
#include "server/contract/errors.h"
#include "storage/store.h"
#include "tests/api/test_server.h"

namespace ats::testing {

class EventFixture : public ::testing::Test {
 protected:
  using JobStub = ats::v1::JobService::Stub;
  using IntegrationStub = ats::v1::IntegrationService::Stub;
  using Code = grpc::StatusCode;

  static ::testing::AssertionResult HasCode(const grpc::Status& status,
                                            Code code) {
    if (status.error_code() == code) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "expected code " << code << ", got " << status.error_code()
           << " \"" << status.error_message() << "\"";
  }

  // INVALID_ARGUMENT whose BadRequest names `field` among its violations.
  static ::testing::AssertionResult IsInvalid(const grpc::Status& status,
                                              const std::string& field) {
    std::vector<std::string> fields;
    for (const auto& violation :
         server::FieldViolationsOf(server::FromGrpcStatus(status))) {
      fields.push_back(violation.field);
    }
    if (status.error_code() == Code::INVALID_ARGUMENT &&
        std::find(fields.begin(), fields.end(), field) != fields.end()) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "expected INVALID_ARGUMENT on " << field << ", got code "
           << status.error_code() << " \"" << status.error_message()
           << "\" with violations [" << absl::StrJoin(fields, ", ") << "]";
  }

  // Returns the last id of a resource name ("jobs/j/stages/s" gives "s").
  static std::string IdOf(const std::string& name) {
    return name.substr(name.rfind('/') + 1);
  }

  void SetUp() override {
    partner_ = CreatePartner("Assessly");
    integration_ = Activate(partner_.name());
    partner_key_ = server_.CreateKey(ats::v1::ROLE_PARTNER, server_.account(),
                                     integration_.name());
  }

  static std::unique_ptr<grpc::ClientContext> As(const std::string& key) {
    return TestServer::Context(key);
  }

  // A listing that asks for the candidate's given name and email only, with
  // a required `test_package` option.
  ats::v1::Partner CreatePartner(const std::string& display_name) {
    ats::v1::CreatePartnerRequest request;
    ats::v1::Partner* listing = request.mutable_partner();
    listing->set_display_name(display_name);
    listing->set_category(ats::v1::PARTNER_CATEGORY_ASSESSMENT);
    listing->set_webhook_uri("https://partner.example/webhook");
    ats::v1::TriggerOption* option = listing->add_trigger_options();
    option->set_key("test_package");
    option->set_display_name("Test package");
    option->set_required(true);
    option->add_allowed_values("basic");
    option->add_allowed_values("advanced");
    listing->add_candidate_fields(ats::v1::CANDIDATE_FIELD_GIVEN_NAME);
    listing->add_candidate_fields(ats::v1::CANDIDATE_FIELD_EMAIL);
    ats::v1::Partner partner;
    grpc::Status status = integrations_->CreatePartner(
        As(server_.operator_key()).get(), request, &partner);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return partner;
  }

  ats::v1::Integration Activate(const std::string& partner,
                                const std::string& admin_key = "") {
    ats::v1::ActivateIntegrationRequest request;
    request.set_partner(partner);
    ats::v1::ActivateIntegrationResponse response;
    grpc::Status status = integrations_->ActivateIntegration(
        As(admin_key.empty() ? server_.admin_key() : admin_key).get(), request,
        &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.integration();
  }

  // Gives account A a webhook signing secret, without which its webhook
  // triggers' events are SKIPPED.
  void RotateWebhookSecret() {
    ats::v1::RotateWebhookSigningSecretRequest request;
    request.set_name(server_.account());
    ats::v1::RotateWebhookSigningSecretResponse response;
    grpc::Status status = server_.accounts()->RotateWebhookSigningSecret(
        As(server_.admin_key()).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }

  void Deactivate(const std::string& integration) {
    ats::v1::DeactivateIntegrationRequest request;
    request.set_name(integration);
    ats::v1::Integration response;
    grpc::Status status = integrations_->DeactivateIntegration(
        As(server_.admin_key()).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }

  // A job of account A (or of `key`'s account) with stages named `stages`
  // and no triggers.
  ats::v1::Job CreateJob(const std::string& title,
                         const std::vector<std::string>& stages,
                         const std::string& key = "") {
    ats::v1::CreateJobRequest request;
    request.mutable_job()->set_title(title);
    request.set_skip_template(true);
    for (const std::string& stage : stages) {
      request.mutable_job()->add_stages()->set_display_name(stage);
    }
    ats::v1::Job job;
    grpc::Status status = jobs_->CreateJob(
        As(key.empty() ? server_.recruiter_key() : key).get(), request, &job);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return job;
  }

  ats::v1::Trigger AddTrigger(const std::string& stage,
                              const ats::v1::Trigger& trigger) {
    ats::v1::CreateTriggerRequest request;
    request.set_parent(stage);
    *request.mutable_trigger() = trigger;
    ats::v1::Trigger created;
    grpc::Status status =
        jobs_->CreateTrigger(As(server_.admin_key()).get(), request, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created;
  }

  static ats::v1::Trigger IntegrationTrigger(
      const std::string& integration, const std::string& package,
      absl::Duration delay = absl::ZeroDuration()) {
    ats::v1::Trigger trigger;
    trigger.mutable_integration_event()->set_integration(integration);
    (*trigger.mutable_integration_event()
          ->mutable_option_values())["test_package"] = package;
    if (delay > absl::ZeroDuration()) {
      trigger.mutable_delay()->set_seconds(absl::ToInt64Seconds(delay));
    }
    return trigger;
  }

  static ats::v1::Trigger TagTrigger(const std::string& tag) {
    ats::v1::Trigger trigger;
    trigger.mutable_add_tag()->set_tag(tag);
    return trigger;
  }

  static ats::v1::Trigger WebhookTrigger(
      const std::string& uri, absl::Duration delay = absl::ZeroDuration()) {
    ats::v1::Trigger trigger;
    trigger.mutable_webhook()->set_uri(uri);
    if (delay > absl::ZeroDuration()) {
      trigger.mutable_delay()->set_seconds(absl::ToInt64Seconds(delay));
    }
    return trigger;
  }

  ats::v1::Candidate CreateCandidate(const std::string& given,
                                     const std::string& key = "") {
    ats::v1::CreateCandidateRequest request;
    ats::v1::Candidate* candidate = request.mutable_candidate();
    candidate->set_given_name(given);
    candidate->set_family_name("Lovelace");
    candidate->set_email(
        absl::StrCat(given, "-", ++candidates_, "@example.com"));
    candidate->set_phone("+44 20 7946 0000");
    candidate->add_tags("imported");
    ats::v1::Candidate created;
    grpc::Status status = jobs_->CreateCandidate(
        As(key.empty() ? server_.recruiter_key() : key).get(), request,
        &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created;
  }

  grpc::Status AddToJob(const std::string& job, const std::string& candidate,
                        ats::v1::AddCandidateToJobResponse* response,
                        const std::string& stage = "",
                        const std::string& request_id = "") {
    ats::v1::AddCandidateToJobRequest request;
    request.set_job(job);
    request.set_candidate(candidate);
    request.set_stage(stage);
    request.set_request_id(request_id);
    return jobs_->AddCandidateToJob(As(server_.recruiter_key()).get(), request,
                                    response);
  }

  // Adds `candidate` to `job` at its first stage; the events fired.
  ats::v1::AddCandidateToJobResponse MustAdd(const ats::v1::Job& job,
                                             const ats::v1::Candidate& c) {
    ats::v1::AddCandidateToJobResponse response;
    grpc::Status status = AddToJob(job.name(), c.name(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  static std::string ApplicationOf(const ats::v1::Job& job,
                                   const ats::v1::Candidate& candidate) {
    return absl::StrCat(job.name(), "/applications/", IdOf(candidate.name()));
  }

  grpc::Status Move(const std::string& application, const std::string& stage,
                    ats::v1::MoveCandidateResponse* response,
                    const std::string& request_id = "") {
    ats::v1::MoveCandidateRequest request;
    request.set_name(application);
    request.set_stage(stage);
    request.set_request_id(request_id);
    return jobs_->MoveCandidate(As(server_.recruiter_key()).get(), request,
                                response);
  }

  ats::v1::MoveCandidateResponse MustMove(const std::string& application,
                                          const std::string& stage) {
    ats::v1::MoveCandidateResponse response;
    grpc::Status status = Move(application, stage, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  grpc::Status ListEvents(const ats::v1::ListEventsRequest& request,
                          ats::v1::ListEventsResponse* response,
                          const std::string& key = "") {
    return integrations_->ListEvents(
        As(key.empty() ? server_.recruiter_key() : key).get(), request,
        response);
  }

  // Every event of account A matching `request`'s filters, newest first,
  // following pages of `page_size`.
  std::vector<ats::v1::Event> AllEvents(ats::v1::ListEventsRequest request = {},
                                        int page_size = 0) {
    std::vector<ats::v1::Event> events;
    request.set_page_size(page_size);
    for (int pages = 0; pages < 100; ++pages) {
      ats::v1::ListEventsResponse response;
      grpc::Status status = ListEvents(request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      for (const ats::v1::Event& event : response.events()) {
        events.push_back(event);
      }
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return events;
  }

  grpc::Status GetEvent(const std::string& name, ats::v1::Event* event,
                        const std::string& key = "") {
    ats::v1::GetEventRequest request;
    request.set_name(name);
    return integrations_->GetEvent(
        As(key.empty() ? server_.recruiter_key() : key).get(), request, event);
  }

  ats::v1::Event MustGetEvent(const std::string& name) {
    ats::v1::Event event;
    grpc::Status status = GetEvent(name, &event);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return event;
  }

  // Changes event `name` of account A behind the API's back, as the
  // dispatcher would (this server runs none).
  void ChangeStoredEvent(
      const std::string& name,
      const std::function<void(storage::EventRow&)>& change) {
    const std::string account_id = IdOf(server_.account());
    absl::Status status =
        server_.store().WriteAndWait([&](storage::Transaction& txn) {
          auto event = txn.events().GetEvent(account_id, IdOf(name),
                                             storage::PayloadParts::kAll);
          if (!event.ok()) return event.status();
          change(*event);
          return txn.events().UpdateEvent(*event);
        });
    ASSERT_TRUE(status.ok()) << status;
  }

  void SetState(const std::string& name, ats::v1::EventState state) {
    ChangeStoredEvent(
        name, [state](storage::EventRow& event) { event.state = state; });
  }

  // The payload stored for event `name` of account A.
  ats::v1::PartnerEvent PayloadOf(const std::string& name) {
    ats::v1::PartnerEvent payload;
    const std::string account_id = IdOf(server_.account());
    absl::Status status = server_.store().Read([&](storage::Transaction& txn) {
      auto event = txn.events().GetEvent(account_id, IdOf(name),
                                         storage::PayloadParts::kAll);
      if (!event.ok()) return event.status();
      payload = event->payload;
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status;
    return payload;
  }

  TestServer server_;
  std::unique_ptr<JobStub> jobs_ = server_.jobs();
  std::unique_ptr<IntegrationStub> integrations_ = server_.integrations();
  ats::v1::Partner partner_;
  ats::v1::Integration integration_;
  std::string partner_key_;
  int candidates_ = 0;
};

}  // namespace ats::testing

#endif  // ATS_TESTS_SERVER_EVENT_FIXTURE_H_
