// IntegrationService.TriggerIntegration: one candidate, by hand.

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "server/contract/errors.h"
#include "tests/api/event_fixture.h"

namespace ats::testing {
namespace {

class ManualTriggerTest : public EventFixture {
 protected:
  ats::v1::TriggerIntegrationRequest Request(const ats::v1::Candidate& candidate,
                                             const std::string& package = "basic") {
    ats::v1::TriggerIntegrationRequest request;
    request.set_integration(integration_.name());
    request.set_candidate(candidate.name());
    (*request.mutable_option_values())["test_package"] = package;
    return request;
  }

  grpc::Status Trigger(const ats::v1::TriggerIntegrationRequest& request,
                       ats::v1::TriggerIntegrationResponse* response,
                       const std::string& key = "") {
    return integrations_->TriggerIntegration(
        As(key.empty() ? server_.recruiter_key() : key).get(), request,
        response);
  }

  static std::string ReasonOf(const grpc::Status& status) {
    auto info = server::ErrorInfoOf(server::FromGrpcStatus(status));
    return info.has_value() ? info->reason : "";
  }
};

TEST_F(ManualTriggerTest, CreatesOneManualEventDeliveredLikeAnyOther) {
  const ats::v1::Candidate ada = CreateCandidate("Ada");
  ats::v1::TriggerIntegrationResponse response;
  grpc::Status status = Trigger(Request(ada, "advanced"), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();

  const ats::v1::Event& event = response.event();
  EXPECT_EQ(event.state(), ats::v1::EVENT_STATE_PENDING);
  EXPECT_EQ(event.source(), ats::v1::EVENT_SOURCE_MANUAL);
  EXPECT_EQ(event.integration(), integration_.name());
  EXPECT_EQ(event.candidate(), ada.name());
  EXPECT_EQ(event.job(), "");
  EXPECT_EQ(event.bulk_operation(), "");
  EXPECT_TRUE(absl::StartsWith(event.triggered_by(), "apiKeys/"))
      << event.triggered_by();
  EXPECT_EQ(event.option_values().at("test_package"), "advanced");
  EXPECT_EQ(MustGetEvent(event.name()).source(), ats::v1::EVENT_SOURCE_MANUAL);

  // The partner gets the same payload as for a stage trigger: its fields of
  // the candidate only, and how to report back.
  const ats::v1::PartnerEvent payload = PayloadOf(event.name());
  EXPECT_EQ(payload.source(), ats::v1::EVENT_SOURCE_MANUAL);
  EXPECT_EQ(payload.integration(), integration_.name());
  EXPECT_EQ(payload.partner(), partner_.name());
  EXPECT_EQ(payload.triggered_by(), event.triggered_by());
  EXPECT_EQ(payload.candidate().given_name(), "Ada");
  EXPECT_EQ(payload.candidate().phone(), "");
  EXPECT_EQ(payload.result_reporting().event(), event.name());
  EXPECT_FALSE(payload.has_stage_trigger());

  // Another key of the account is recorded as the one that triggered.
  ats::v1::TriggerIntegrationResponse by_admin;
  ASSERT_TRUE(Trigger(Request(ada), &by_admin, server_.admin_key()).ok());
  EXPECT_NE(by_admin.event().triggered_by(), event.triggered_by());
}

TEST_F(ManualTriggerTest, InTheContextOfAJobTheCandidateIsIn) {
  const ats::v1::Job job = CreateJob("Backend engineer", {"Inbox", "Test"});
  const ats::v1::Candidate ada = CreateCandidate("Ada");
  MustAdd(job, ada);
  ats::v1::TriggerIntegrationRequest request = Request(ada);
  request.set_job(job.name());
  ats::v1::TriggerIntegrationResponse response;
  grpc::Status status = Trigger(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.event().job(), job.name());
  const ats::v1::PartnerEvent payload = PayloadOf(response.event().name());
  EXPECT_EQ(payload.job(), job.name());
  EXPECT_EQ(payload.job_title(), "Backend engineer");

  ats::v1::ListEventsRequest by_job;
  by_job.set_job(job.name());
  ASSERT_EQ(AllEvents(by_job).size(), 1u);
}

TEST_F(ManualTriggerTest, ARetryWithTheSameRequestIdReturnsTheSameEvent) {
  const ats::v1::Candidate ada = CreateCandidate("Ada");
  ats::v1::TriggerIntegrationRequest request = Request(ada);
  request.set_request_id("trigger-ada-1");
  ats::v1::TriggerIntegrationResponse first;
  ats::v1::TriggerIntegrationResponse retry;
  ASSERT_TRUE(Trigger(request, &first).ok());
  ASSERT_TRUE(Trigger(request, &retry).ok());
  EXPECT_EQ(retry.event().name(), first.event().name());
  EXPECT_EQ(AllEvents().size(), 1u);

  // The same request_id for another request is a client bug.
  (*request.mutable_option_values())["test_package"] = "advanced";
  EXPECT_TRUE(HasCode(Trigger(request, &retry), Code::INVALID_ARGUMENT));
}

TEST_F(ManualTriggerTest, AnInactiveIntegrationIsAFailedPrecondition) {
  const ats::v1::Candidate ada = CreateCandidate("Ada");
  Deactivate(integration_.name());
  ats::v1::TriggerIntegrationResponse response;
  grpc::Status status = Trigger(Request(ada), &response);
  EXPECT_TRUE(HasCode(status, Code::FAILED_PRECONDITION));
  EXPECT_EQ(ReasonOf(status), "INTEGRATION_INACTIVE");
  EXPECT_TRUE(AllEvents().empty());
}

TEST_F(ManualTriggerTest, UnknownOrForeignResourcesAreNotFound) {
  const ats::v1::Candidate ada = CreateCandidate("Ada");
  ats::v1::TriggerIntegrationResponse response;

  ats::v1::TriggerIntegrationRequest request = Request(ada);
  request.set_integration("integrations/nope");
  EXPECT_TRUE(HasCode(Trigger(request, &response), Code::NOT_FOUND));

  request = Request(ada);
  request.set_candidate("candidates/nope");
  EXPECT_TRUE(HasCode(Trigger(request, &response), Code::NOT_FOUND));

  request = Request(ada);
  request.set_job("jobs/nope");
  EXPECT_TRUE(HasCode(Trigger(request, &response), Code::NOT_FOUND));

  // Another account's candidate, and its job, do not exist for account A.
  const ats::v1::Candidate theirs =
      CreateCandidate("Grace", server_.other_admin_key());
  request = Request(theirs);
  EXPECT_TRUE(HasCode(Trigger(request, &response), Code::NOT_FOUND));
  const ats::v1::Job their_job =
      CreateJob("Theirs", {"Inbox"}, server_.other_admin_key());
  request = Request(ada);
  request.set_job(their_job.name());
  EXPECT_TRUE(HasCode(Trigger(request, &response), Code::NOT_FOUND));

  // And account B cannot use account A's integration.
  request = Request(theirs);
  EXPECT_TRUE(HasCode(Trigger(request, &response, server_.other_admin_key()),
                      Code::NOT_FOUND));
  EXPECT_TRUE(AllEvents().empty());
}

TEST_F(ManualTriggerTest, ACandidateNotInTheJobIsAFailedPrecondition) {
  const ats::v1::Job job = CreateJob("Backend engineer", {"Inbox"});
  const ats::v1::Candidate ada = CreateCandidate("Ada");
  ats::v1::TriggerIntegrationRequest request = Request(ada);
  request.set_job(job.name());
  ats::v1::TriggerIntegrationResponse response;
  grpc::Status status = Trigger(request, &response);
  EXPECT_TRUE(HasCode(status, Code::FAILED_PRECONDITION));
  EXPECT_EQ(ReasonOf(status), "CANDIDATE_NOT_IN_JOB");
}

TEST_F(ManualTriggerTest, OptionValuesAreValidatedAsForStageTriggers) {
  const ats::v1::Candidate ada = CreateCandidate("Ada");
  ats::v1::TriggerIntegrationResponse response;
  EXPECT_TRUE(IsInvalid(Trigger(Request(ada, "expert"), &response),
                        "option_values[test_package]"));

  ats::v1::TriggerIntegrationRequest missing = Request(ada);
  missing.clear_option_values();
  EXPECT_TRUE(
      IsInvalid(Trigger(missing, &response), "option_values[test_package]"));

  ats::v1::TriggerIntegrationRequest unknown = Request(ada);
  (*unknown.mutable_option_values())["colour"] = "blue";
  EXPECT_TRUE(IsInvalid(Trigger(unknown, &response), "option_values[colour]"));
  EXPECT_TRUE(AllEvents().empty());
}

TEST_F(ManualTriggerTest, MalformedNamesAreInvalid) {
  ats::v1::TriggerIntegrationRequest request;
  request.set_candidate("people/1");
  request.set_job("jobs");
  request.set_request_id("not a request id");
  ats::v1::TriggerIntegrationResponse response;
  grpc::Status status = Trigger(request, &response);
  EXPECT_TRUE(IsInvalid(status, "integration"));
  EXPECT_TRUE(IsInvalid(status, "candidate"));
  EXPECT_TRUE(IsInvalid(status, "job"));
  EXPECT_TRUE(IsInvalid(status, "request_id"));
}

TEST_F(ManualTriggerTest, NeedsARecruiterOrAdminKey) {
  const ats::v1::Candidate ada = CreateCandidate("Ada");
  ats::v1::TriggerIntegrationResponse response;
  EXPECT_TRUE(HasCode(integrations_->TriggerIntegration(
                          TestServer::Context("").get(), Request(ada),
                          &response),
                      Code::UNAUTHENTICATED));
  EXPECT_TRUE(HasCode(Trigger(Request(ada), &response, partner_key_),
                      Code::PERMISSION_DENIED));
  EXPECT_TRUE(HasCode(Trigger(Request(ada), &response, server_.operator_key()),
                      Code::PERMISSION_DENIED));
  EXPECT_TRUE(Trigger(Request(ada), &response, server_.admin_key()).ok());
}

}  // namespace
}  // namespace ats::testing
