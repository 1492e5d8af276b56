#ifndef ATS_TESTS_SERVER_FIXTURES_H_
#define ATS_TESTS_SERVER_FIXTURES_H_

// What the in-process server tests share beyond TestServer itself: status
// assertions, common request pieces, Marketplace setup and a base fixture
// for JobService tests.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ats/v1/integration_service.pb.h"
#include "ats/v1/job_service.grpc.pb.h"
#include "ats/v1/pipeline.pb.h"
#include "grpcpp/support/status.h"
#include "gtest/gtest.h"
#include "tests/api/test_server.h"

namespace ats::testing {

// --- Statuses ---------------------------------------------------------------

// The fields named by the BadRequest detail of `status`, in order.
std::vector<std::string> ViolatedFields(const grpc::Status& status);

// Succeeds when `status` has `code`.
::testing::AssertionResult HasCode(const grpc::Status& status,
                                   grpc::StatusCode code);

// Succeeds when `status` is INVALID_ARGUMENT and its BadRequest names
// `field` among its violations.
::testing::AssertionResult HasViolation(const grpc::Status& status,
                                        const std::string& field);

// Expects INVALID_ARGUMENT whose BadRequest names exactly `fields`.
void ExpectInvalid(const grpc::Status& status,
                   const std::vector<std::string>& fields);

// --- Pipelines --------------------------------------------------------------

// The stages of the starter template every account gets, and so of a job
// created without a template.
extern const std::vector<std::string> kStarterStages;

// The display names of the stages of `pipeline` (a Job or a JobTemplate), in
// order.
template <typename Pipeline>
std::vector<std::string> StageNames(const Pipeline& pipeline) {
  std::vector<std::string> names;
  for (const ats::v1::Stage& stage : pipeline.stages()) {
    names.push_back(stage.display_name());
  }
  return names;
}

// A trigger that adds `tag` to the candidate.
ats::v1::Trigger TagTrigger(const std::string& tag);

// A trigger that sends an event to `integration` with `option_values`.
ats::v1::Trigger IntegrationTrigger(
    const std::string& integration,
    const std::vector<std::pair<std::string, std::string>>& option_values);

// --- Marketplace ------------------------------------------------------------

// A listing that activates without values: an assessment with a required
// trigger option `test_package` ("basic" or "advanced") and an optional
// free-form `language`, sent the candidate's email.
ats::v1::Partner TestListing(const std::string& display_name);

// Lists `listing` in the Marketplace with the operator key.
ats::v1::Partner MustListPartner(TestServer& server,
                                 const ats::v1::Partner& listing);

// Activates `partner` (no activation values) for the account of admin key
// `admin_key`.
ats::v1::Integration MustActivatePartner(TestServer& server,
                                         const std::string& admin_key,
                                         const ats::v1::Partner& partner);

// Lists TestListing(`display_name`) and activates it for the account of
// `admin_key`.
ats::v1::Integration MustActivateNewPartner(TestServer& server,
                                            const std::string& admin_key,
                                            const std::string& display_name);

// Deactivates, or reactivates, integration `name` with admin key
// `admin_key`.
void MustSetIntegrationActive(TestServer& server, const std::string& admin_key,
                              const std::string& name, bool active);

// --- Calls ------------------------------------------------------------------

// A unary method of `Stub`, e.g. &ats::v1::JobService::Stub::CreateJob.
template <typename Stub, typename Request, typename Response>
using UnaryMethod = grpc::Status (Stub::*)(grpc::ClientContext*, const Request&,
                                           Response*);

// Calls `method` of `stub` with `request`, authenticated with `key`.
template <typename Stub, typename Request, typename Response>
grpc::Status CallWithKey(Stub& stub, const std::string& key,
                         UnaryMethod<Stub, Request, Response> method,
                         const Request& request, Response* response) {
  return (stub.*method)(TestServer::Context(key).get(), request, response);
}

// Base of the JobService tests: a server, a JobService stub, and the jobs,
// candidates and applications most tests start from, made by account A's
// recruiter.
class JobServiceFixture : public ::testing::Test {
 protected:
  using Stub = ats::v1::JobService::Stub;

  template <typename Request, typename Response>
  grpc::Status Call(const std::string& key,
                    UnaryMethod<Stub, Request, Response> method,
                    const Request& request, Response* response) {
    return CallWithKey(*jobs_, key, method, request, response);
  }

  // Calls as the recruiter of account A.
  template <typename Request, typename Response>
  grpc::Status Call(UnaryMethod<Stub, Request, Response> method,
                    const Request& request, Response* response) {
    return Call(server_.recruiter_key(), method, request, response);
  }

  // Creates a job titled `title` (stages copied from the default template).
  ats::v1::Job CreateJob(const std::string& title);
  ats::v1::Job GetJob(const std::string& name);

  grpc::Status CreateCandidate(const ats::v1::Candidate& candidate,
                               ats::v1::Candidate* created,
                               const std::string& request_id = "");
  // Creates a candidate with just these fields.
  ats::v1::Candidate NewCandidate(const std::string& given_name,
                                  const std::string& email = "");

  // Adds `candidate` to `job` in `stage` (names; "" for the first stage).
  grpc::Status Add(const std::string& job, const std::string& candidate,
                   const std::string& stage,
                   ats::v1::AddCandidateToJobResponse* response,
                   const std::string& request_id = "");
  ats::v1::Application MustAdd(const ats::v1::Job& job,
                               const ats::v1::Candidate& candidate,
                               const std::string& stage = "");

  TestServer server_;
  std::unique_ptr<Stub> jobs_ = server_.jobs();
};

}  // namespace ats::testing

#endif  // ATS_TESTS_SERVER_FIXTURES_H_
