#include "server/api/method_policy.h"

#include <memory>
#include <string>
#include <vector>

#include "ats/v1/access.pb.h"
#include "ats/v1/account_service.pb.h"
#include "ats/v1/integration_service.pb.h"
#include "ats/v1/job_service.pb.h"
#include "ats/v1/operations_service.pb.h"
#include "ats/v1/template_service.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace ats::server {
namespace {

using google::protobuf::DescriptorPool;
using google::protobuf::FileDescriptor;
using google::protobuf::FileDescriptorProto;
using google::protobuf::ServiceDescriptor;
using testing::HasSubstr;

// Every ats.v1 service, found through a message of its file, which also
// links that file's generated code into this test.
std::vector<const ServiceDescriptor*> AtsServices() {
  return {
      ats::v1::GetAccountRequest::descriptor()->file()->FindServiceByName(
          "AccountService"),
      ats::v1::GetEventRequest::descriptor()->file()->FindServiceByName(
          "IntegrationService"),
      ats::v1::GetJobRequest::descriptor()->file()->FindServiceByName(
          "JobService"),
      ats::v1::GetJobTemplateRequest::descriptor()->file()->FindServiceByName(
          "TemplateService"),
      ats::v1::BackupDatabaseRequest::descriptor()->file()->FindServiceByName(
          "OperationsService"),
  };
}

RoleSet Roles(std::initializer_list<ats::v1::Role> roles) {
  RoleSet set;
  for (ats::v1::Role role : roles) set.Add(role);
  return set;
}

class GeneratedPoliciesTest : public testing::Test {
 protected:
  void SetUp() override {
    for (const ServiceDescriptor* service : AtsServices()) {
      ASSERT_NE(service, nullptr);
    }
    absl::StatusOr<MethodPolicies> built = MethodPolicies::FromGeneratedPool();
    ASSERT_TRUE(built.ok()) << built.status();
    policies_ = std::make_unique<MethodPolicies>(*std::move(built));
  }

  const MethodPolicy& Policy(const google::protobuf::Descriptor* request) {
    const MethodPolicy* policy = policies_->ForRequest(*request);
    EXPECT_NE(policy, nullptr) << request->full_name();
    static const MethodPolicy kNone;
    return policy == nullptr ? kNone : *policy;
  }

  std::unique_ptr<MethodPolicies> policies_;
};

TEST_F(GeneratedPoliciesTest, EveryAtsMethodHasAPolicy) {
  size_t methods = 0;
  for (const ServiceDescriptor* service : AtsServices()) {
    for (int i = 0; i < service->method_count(); ++i, ++methods) {
      const std::string name =
          service->full_name() + "/" + service->method(i)->name();
      const MethodPolicy* policy = policies_->ForName(name);
      ASSERT_NE(policy, nullptr) << name;
      EXPECT_EQ(policy->name, name);
      EXPECT_EQ(policy->method, service->method(i));
      EXPECT_EQ(policy->request, service->method(i)->input_type());
      EXPECT_FALSE(policy->roles.empty()) << name;
    }
  }
  // No ats.v1 service beyond those above: a new one belongs in AtsServices.
  EXPECT_EQ(policies_->all().size(), methods);
}

TEST_F(GeneratedPoliciesTest, LookupByRequestDescriptorFindsEveryMethod) {
  for (const MethodPolicy& policy : policies_->all()) {
    EXPECT_EQ(policies_->ForRequest(*policy.request), &policy) << policy.name;
    EXPECT_EQ(policies_->ForRequest(*policy.method->input_type()), &policy);
  }
  // Resources and responses are no RPC's request.
  EXPECT_EQ(policies_->ForRequest(*ats::v1::Job::descriptor()), nullptr);
}

TEST_F(GeneratedPoliciesTest, LookupByNameAcceptsTheGrpcPath) {
  const MethodPolicy* policy =
      policies_->ForName("/ats.v1.JobService/MoveCandidate");
  ASSERT_NE(policy, nullptr);
  EXPECT_EQ(policy, policies_->ForName("ats.v1.JobService/MoveCandidate"));
  EXPECT_EQ(policy->request, ats::v1::MoveCandidateRequest::descriptor());
  EXPECT_EQ(policies_->ForName("ats.v1.JobService/NoSuchMethod"), nullptr);
}

TEST_F(GeneratedPoliciesTest, MoveCandidateAdmitsAdminAndRecruiterOnly) {
  const RoleSet roles =
      Policy(ats::v1::MoveCandidateRequest::descriptor()).roles;
  EXPECT_TRUE(roles.Admits(ats::v1::ROLE_ADMIN));
  EXPECT_TRUE(roles.Admits(ats::v1::ROLE_RECRUITER));
  EXPECT_FALSE(roles.Admits(ats::v1::ROLE_PARTNER));
  EXPECT_FALSE(roles.Admits(ats::v1::ROLE_OPERATOR));
  EXPECT_FALSE(roles.Admits(ats::v1::ROLE_UNSPECIFIED));
  EXPECT_EQ(roles.ToString(), "ROLE_ADMIN, ROLE_RECRUITER");
}

TEST_F(GeneratedPoliciesTest, CreateAccountAdmitsOnlyOperator) {
  EXPECT_EQ(Policy(ats::v1::CreateAccountRequest::descriptor()).roles,
            Roles({ats::v1::ROLE_OPERATOR}));
}

TEST_F(GeneratedPoliciesTest, ReportPartnerResultAdmitsOnlyPartner) {
  const MethodPolicy& policy =
      Policy(ats::v1::ReportPartnerResultRequest::descriptor());
  EXPECT_EQ(policy.name, "ats.v1.IntegrationService/ReportPartnerResult");
  EXPECT_EQ(policy.roles, Roles({ats::v1::ROLE_PARTNER}));
}

TEST_F(GeneratedPoliciesTest, BackupDatabaseOnlyReadsAndAdmitsOnlyOperator) {
  const MethodPolicy& policy =
      Policy(ats::v1::BackupDatabaseRequest::descriptor());
  EXPECT_EQ(policy.name, "ats.v1.OperationsService/BackupDatabase");
  EXPECT_EQ(policy.roles, Roles({ats::v1::ROLE_OPERATOR}));
  EXPECT_TRUE(policy.read_only);
}

TEST_F(GeneratedPoliciesTest, GetJobOnlyReads) {
  const MethodPolicy& policy = Policy(ats::v1::GetJobRequest::descriptor());
  EXPECT_TRUE(policy.read_only);
  EXPECT_FALSE(policy.idempotent_by_request_id);
}

TEST_F(GeneratedPoliciesTest, MoveCandidateIsIdempotentByRequestId) {
  const MethodPolicy& policy =
      Policy(ats::v1::MoveCandidateRequest::descriptor());
  EXPECT_TRUE(policy.idempotent_by_request_id);
  EXPECT_FALSE(policy.read_only);
}

// The server replays every request that carries a request_id, so each such
// RPC is declared IDEMPOTENT, and only those.
TEST_F(GeneratedPoliciesTest, IdempotentExactlyWhenTheRequestHasARequestId) {
  for (const MethodPolicy& policy : policies_->all()) {
    const bool has_request_id =
        policy.request->FindFieldByName("request_id") != nullptr;
    EXPECT_EQ(policy.idempotent_by_request_id, has_request_id) << policy.name;
    EXPECT_FALSE(policy.read_only && policy.idempotent_by_request_id)
        << policy.name;
  }
}

// FromFiles on hand-written files in a pool of their own, to see each rule
// it enforces fail.
class PolicyRulesTest : public testing::Test {
 protected:
  void SetUp() override {
    for (const FileDescriptor* file :
         {google::protobuf::MethodOptions::descriptor()->file(),
          ats::v1::Access::descriptor()->file()}) {
      FileDescriptorProto proto;
      file->CopyTo(&proto);
      ASSERT_NE(pool_.BuildFile(proto), nullptr) << file->name();
    }
  }

  // Builds a file of package `package` importing access.proto, with
  // messages ARequest (with a string request_id), BRequest (without) and
  // Reply, and the `service` given in text format (type names relative to
  // the package); returns FromFiles of it.
  absl::StatusOr<MethodPolicies> PoliciesOf(const std::string& service,
                                            const std::string& package =
                                                "ats.v1") {
    FileDescriptorProto proto;
    const std::string text = R"pb(
      name: "ats/v1/rules_test.proto"
      syntax: "proto3"
      dependency: "ats/v1/access.proto"
      message_type {
        name: "ARequest"
        field { name: "request_id" number: 1 type: TYPE_STRING label: LABEL_OPTIONAL }
      }
      message_type { name: "BRequest" }
      message_type { name: "Reply" }
    )pb";
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
        text + "package: '" + package + "' service {" + service + "}", &proto));
    const FileDescriptor* file = pool_.BuildFile(proto);
    EXPECT_NE(file, nullptr);
    if (file == nullptr) return absl::InternalError("file does not build");
    return MethodPolicies::FromFiles({file});
  }

  DescriptorPool pool_;
};

constexpr char kAdmin[] = "[ats.v1.access] { roles: ROLE_ADMIN }";

std::string Method(const std::string& name, const std::string& request,
                   const std::string& options) {
  return "method { name: '" + name + "' input_type: '" + request +
         "' output_type: 'Reply' options { " + options + " } }";
}

TEST_F(PolicyRulesTest, AcceptsAWellDeclaredService) {
  absl::StatusOr<MethodPolicies> policies = PoliciesOf(
      "name: 'S' " +
      Method("A", "ARequest",
             std::string(kAdmin) + " idempotency_level: IDEMPOTENT") +
      Method("B", "BRequest",
             "[ats.v1.access] { roles: [ROLE_ADMIN, ROLE_PARTNER] } "
             "idempotency_level: NO_SIDE_EFFECTS"));
  ASSERT_TRUE(policies.ok()) << policies.status();
  ASSERT_EQ(policies->all().size(), 2u);
  EXPECT_EQ(policies->all()[0].name, "ats.v1.S/A");
  EXPECT_TRUE(policies->all()[0].idempotent_by_request_id);
  EXPECT_EQ(policies->all()[1].roles,
            Roles({ats::v1::ROLE_ADMIN, ats::v1::ROLE_PARTNER}));
  EXPECT_TRUE(policies->all()[1].read_only);
}

TEST_F(PolicyRulesTest, RejectsAMethodWithoutAccessOption) {
  absl::StatusOr<MethodPolicies> policies =
      PoliciesOf("name: 'S' " + Method("A", "ARequest", ""));
  EXPECT_THAT(policies.status().message(),
              HasSubstr("ats.v1.S/A declares no (ats.v1.access) option"));
}

TEST_F(PolicyRulesTest, RejectsAnEmptyRoleList) {
  absl::StatusOr<MethodPolicies> policies = PoliciesOf(
      "name: 'S' " + Method("A", "ARequest", "[ats.v1.access] {}"));
  EXPECT_THAT(policies.status().message(), HasSubstr("admitting no role"));
}

TEST_F(PolicyRulesTest, RejectsRoleUnspecified) {
  absl::StatusOr<MethodPolicies> policies = PoliciesOf(
      "name: 'S' " +
      Method("A", "ARequest",
             "[ats.v1.access] { roles: [ROLE_ADMIN, ROLE_UNSPECIFIED] }"));
  EXPECT_THAT(policies.status().message(), HasSubstr("admits role 0"));
}

TEST_F(PolicyRulesTest, RejectsASharedRequestType) {
  absl::StatusOr<MethodPolicies> policies =
      PoliciesOf("name: 'S' " + Method("A", "ARequest", kAdmin) +
                 Method("B", "ARequest", kAdmin));
  EXPECT_THAT(policies.status().message(),
              HasSubstr("ats.v1.S/B takes request type ats.v1.ARequest which "
                        "ats.v1.S/A takes too"));
}

TEST_F(PolicyRulesTest, RejectsIdempotentWithoutRequestId) {
  absl::StatusOr<MethodPolicies> policies = PoliciesOf(
      "name: 'S' " +
      Method("B", "BRequest",
             std::string(kAdmin) + " idempotency_level: IDEMPOTENT"));
  EXPECT_THAT(policies.status().message(),
              HasSubstr("ats.v1.S/B is declared IDEMPOTENT but its request "
                        "ats.v1.BRequest has no string request_id field"));
}

TEST_F(PolicyRulesTest, IgnoresServicesOfOtherPackages) {
  absl::StatusOr<MethodPolicies> policies = PoliciesOf(
      "name: 'S' " + Method("A", "ARequest", ""), "other");
  ASSERT_TRUE(policies.ok()) << policies.status();
  EXPECT_TRUE(policies->all().empty());
}

}  // namespace
}  // namespace ats::server
