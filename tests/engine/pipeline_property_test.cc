// Property test of a job's pipeline: random sequences of stage creates,
// deletes, reorders and renames and candidate moves, run against the real
// server and a model of the pipeline. After every step the server must agree
// with the model and keep its invariants: positions dense, at least one
// stage, candidate counts summing to the applications, every application in
// a stage of the job, and each history ending in the current stage.

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "tests/api/fixtures.h"
#include "tests/api/test_server.h"
#include "tests/support/property.h"

namespace ats::testing {
namespace {

using ats::v1::Job;
using Stub = ats::v1::JobService::Stub;
using Code = grpc::StatusCode;

// Cases per run unless RC_PARAMS says otherwise: each case is a few dozen
// RPCs, and the binary should finish in seconds.
constexpr int kCases = 30;
constexpr int kMaxSteps = 20;
constexpr int kCandidates = 3;
const std::vector<std::string> kNames = {"Inbox", "inbox", "Screen", "Phone",
                                         "Onsite", "Offer", "OFFER", "Hired"};

// What the pipeline should be: stages in order and where each candidate is.
struct Model {
  struct StageEntry {
    std::string name;  // resource name
    std::string display_name;
  };
  std::vector<StageEntry> stages;
  // Application name -> stage resource name.
  std::map<std::string, std::string> placement;

  int IndexOf(const std::string& display_name, int except) const {
    const std::string key = absl::AsciiStrToLower(display_name);
    for (int i = 0; i < static_cast<int>(stages.size()); ++i) {
      if (i != except && absl::AsciiStrToLower(stages[i].display_name) == key) {
        return i;
      }
    }
    return -1;
  }

  bool Occupied(const std::string& stage) const {
    for (const auto& [application, at] : placement) {
      if (at == stage) return true;
    }
    return false;
  }
};

const std::string& PickName() { return kNames[Pick(0, static_cast<int>(kNames.size()))]; }

class Pipeline {
 public:
  explicit Pipeline(TestServer& server)
      : server_(server), stub_(server.jobs()) {}

  // Creates a job with `stage_count` stages and adds kCandidates candidates
  // to its first stage.
  void Start(int stage_count) {
    ats::v1::CreateJobRequest create;
    create.mutable_job()->set_title("Property");
    create.set_skip_template(true);
    for (int i = 0; i < stage_count; ++i) {
      create.mutable_job()->add_stages()->set_display_name(
          absl::StrCat("Start ", i));
    }
    Job job;
    RC_ASSERT(Call(&Stub::CreateJob, create, &job).ok());
    job_ = job.name();
    for (const auto& stage : job.stages()) {
      model_.stages.push_back({stage.name(), stage.display_name()});
    }
    for (int i = 0; i < kCandidates; ++i) {
      ats::v1::CreateCandidateRequest candidate_request;
      candidate_request.mutable_candidate()->set_given_name("C");
      ats::v1::Candidate candidate;
      RC_ASSERT(Call(&Stub::CreateCandidate, candidate_request, &candidate).ok());
      ats::v1::AddCandidateToJobRequest add;
      add.set_job(job_);
      add.set_candidate(candidate.name());
      ats::v1::AddCandidateToJobResponse added;
      RC_ASSERT(Call(&Stub::AddCandidateToJob, add, &added).ok());
      model_.placement[added.application().name()] = model_.stages[0].name;
    }
  }

  void CreateStage(const std::string& display_name, int position) {
    ats::v1::CreateStageRequest request;
    request.set_parent(job_);
    request.mutable_stage()->set_display_name(display_name);
    request.mutable_position()->set_value(position);
    ats::v1::Stage stage;
    const grpc::Status status = Call(&Stub::CreateStage, request, &stage);
    if (model_.stages.size() >= 30) {
      RC_ASSERT(status.error_code() == Code::RESOURCE_EXHAUSTED);
    } else if (model_.IndexOf(display_name, -1) >= 0) {
      RC_ASSERT(status.error_code() == Code::ALREADY_EXISTS);
    } else {
      RC_ASSERT(status.ok());
      const int at = std::min<int>(position, model_.stages.size());
      RC_ASSERT(stage.position() == at);
      model_.stages.insert(model_.stages.begin() + at,
                           {stage.name(), display_name});
    }
  }

  void DeleteStage(int index) {
    const std::string stage = model_.stages[index].name;
    ats::v1::DeleteStageRequest request;
    request.set_name(stage);
    google::protobuf::Empty none;
    const grpc::Status status = Call(&Stub::DeleteStage, request, &none);
    if (model_.Occupied(stage) || model_.stages.size() == 1) {
      RC_ASSERT(status.error_code() == Code::FAILED_PRECONDITION);
    } else {
      RC_ASSERT(status.ok());
      model_.stages.erase(model_.stages.begin() + index);
    }
  }

  void Reorder(unsigned seed) {
    std::shuffle(model_.stages.begin(), model_.stages.end(),
                 std::mt19937(seed));
    ats::v1::ReorderStagesRequest request;
    request.set_name(job_);
    for (const auto& stage : model_.stages) request.add_stages(stage.name);
    Job job;
    RC_ASSERT(Call(&Stub::ReorderStages, request, &job).ok());
  }

  void Rename(int index, const std::string& display_name) {
    ats::v1::UpdateStageRequest request;
    request.mutable_stage()->set_name(model_.stages[index].name);
    request.mutable_stage()->set_display_name(display_name);
    request.mutable_update_mask()->add_paths("display_name");
    ats::v1::Stage stage;
    const grpc::Status status = Call(&Stub::UpdateStage, request, &stage);
    if (model_.IndexOf(display_name, index) >= 0) {
      RC_ASSERT(status.error_code() == Code::ALREADY_EXISTS);
    } else {
      RC_ASSERT(status.ok());
      model_.stages[index].display_name = display_name;
    }
  }

  void Move(int candidate, int index) {
    auto it = std::next(model_.placement.begin(), candidate);
    const std::string& stage = model_.stages[index].name;
    ats::v1::MoveCandidateRequest request;
    request.set_name(it->first);
    request.set_stage(stage);
    ats::v1::MoveCandidateResponse response;
    RC_ASSERT(Call(&Stub::MoveCandidate, request, &response).ok());
    RC_ASSERT(response.moved() == (it->second != stage));
    it->second = stage;
  }

  // Checks the server against the model and the pipeline invariants.
  void Check() {
    ats::v1::GetJobRequest get;
    get.set_name(job_);
    Job job;
    RC_ASSERT(Call(&Stub::GetJob, get, &job).ok());
    RC_ASSERT(job.stages_size() >= 1);
    RC_ASSERT(job.stages_size() == static_cast<int>(model_.stages.size()));
    int64_t counted = 0;
    std::map<std::string, int> counts;
    for (int i = 0; i < job.stages_size(); ++i) {
      RC_ASSERT(job.stages(i).position() == i);
      RC_ASSERT(job.stages(i).name() == model_.stages[i].name);
      RC_ASSERT(job.stages(i).display_name() == model_.stages[i].display_name);
      counted += job.stages(i).candidate_count();
      counts[job.stages(i).name()] = job.stages(i).candidate_count();
    }

    ats::v1::ListApplicationsRequest list;
    list.set_parent(job_);
    ats::v1::ListApplicationsResponse applications;
    RC_ASSERT(Call(&Stub::ListApplications, list, &applications).ok());
    RC_ASSERT(counted == applications.applications_size());
    RC_ASSERT(applications.applications_size() == kCandidates);
    for (const auto& application : applications.applications()) {
      RC_ASSERT(counts.count(application.stage()) == 1u);
      RC_ASSERT(model_.placement.at(application.name()) == application.stage());
      ats::v1::GetApplicationRequest get_application;
      get_application.set_name(application.name());
      ats::v1::Application full;
      RC_ASSERT(Call(&Stub::GetApplication, get_application, &full).ok());
      RC_ASSERT(full.history_size() >= 1);
      RC_ASSERT(full.history(full.history_size() - 1).to_stage() ==
                application.stage());
    }
  }

  int stage_count() const { return static_cast<int>(model_.stages.size()); }

 private:
  // Calls as the recruiter of account A.
  template <typename Request, typename Response>
  grpc::Status Call(UnaryMethod<Stub, Request, Response> method,
                    const Request& request, Response* response) {
    return CallWithKey(*stub_, server_.recruiter_key(), method, request,
                       response);
  }

  TestServer& server_;
  std::unique_ptr<Stub> stub_;
  std::string job_;
  Model model_;
};

TEST(PipelinePropertyTest, RandomEditsAndMovesKeepThePipelineConsistent) {
  TestServer server;
  const auto property = [&server] {
    Pipeline pipeline(server);
    pipeline.Start(Pick(1, 4));
    pipeline.Check();
    const int steps = Pick(1, kMaxSteps + 1);
    for (int step = 0; step < steps; ++step) {
      const int stages = pipeline.stage_count();
      switch (Pick(0, 6)) {
        case 0:
          pipeline.CreateStage(PickName(), Pick(0, stages + 3));
          break;
        case 1:
          pipeline.DeleteStage(Pick(0, stages));
          break;
        case 2:
          pipeline.Reorder(static_cast<unsigned>(Pick(0, 1 << 30)));
          break;
        case 3:
          pipeline.Rename(Pick(0, stages), PickName());
          break;
        default:  // Moves are the point of a pipeline: twice as likely.
          pipeline.Move(Pick(0, kCandidates), Pick(0, stages));
          break;
      }
      pipeline.Check();
    }
  };

  CheckProperty("PipelinePropertyTest/RandomEditsAndMoves", kCases, property);
}

}  // namespace
}  // namespace ats::testing
