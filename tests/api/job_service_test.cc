// JobService against the real server: jobs, their pipelines (stages and
// triggers), copying job templates, etags, validation and tenant isolation.
// Candidates and applications are in application_test.cc.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/api/fixtures.h"
#include "tests/api/test_server.h"

namespace ats::testing {
namespace {

using ats::v1::Job;
using ats::v1::Stage;
using ats::v1::Trigger;
using google::protobuf::util::MessageDifferencer;
using Code = grpc::StatusCode;

class JobServiceTest : public JobServiceFixture {
 protected:
  grpc::Status CreateStage(const std::string& job, const std::string& name,
                           std::optional<int> position, Stage* stage) {
    ats::v1::CreateStageRequest request;
    request.set_parent(job);
    request.mutable_stage()->set_display_name(name);
    if (position.has_value()) request.mutable_position()->set_value(*position);
    return Call(&Stub::CreateStage, request, stage);
  }

  grpc::Status CreateTrigger(const std::string& stage, const Trigger& trigger,
                             Trigger* created) {
    ats::v1::CreateTriggerRequest request;
    request.set_parent(stage);
    *request.mutable_trigger() = trigger;
    return Call(&Stub::CreateTrigger, request, created);
  }

  // An active integration of account A with TestListing's partner.
  ats::v1::Integration ActivateIntegration() {
    return MustActivateNewPartner(server_, server_.admin_key(), "Acme Tests");
  }

  void DeactivateIntegration(const std::string& name) {
    MustSetIntegrationActive(server_, server_.admin_key(), name,
                             /*active=*/false);
  }

  // A trigger for `integration` with TestListing's required option.
  static Trigger TestPackageTrigger(const std::string& integration,
                                    const std::string& package) {
    return IntegrationTrigger(integration, {{"test_package", package}});
  }
};

TEST_F(JobServiceTest, CreateJobCopiesTheDefaultTemplate) {
  Job job = CreateJob("Backend engineer");
  EXPECT_TRUE(absl::StartsWith(job.name(), "jobs/"));
  EXPECT_EQ(job.title(), "Backend engineer");
  EXPECT_EQ(job.state(), ats::v1::JOB_STATE_DRAFT);
  EXPECT_EQ(StageNames(job), kStarterStages);
  for (int i = 0; i < job.stages_size(); ++i) {
    EXPECT_EQ(job.stages(i).position(), i);
    EXPECT_TRUE(absl::StartsWith(job.stages(i).name(), job.name() + "/stages/"));
    EXPECT_EQ(job.stages(i).candidate_count(), 0);
  }
  ats::v1::JobTemplate starter;
  ASSERT_TRUE(server_.templates()
                  ->GetDefaultJobTemplate(
                      TestServer::Context(server_.recruiter_key()).get(), {},
                      &starter)
                  .ok());
  EXPECT_EQ(job.template_(), starter.name());
  EXPECT_FALSE(job.etag().empty());
  EXPECT_TRUE(MessageDifferencer::Equals(GetJob(job.name()), job));
}

TEST_F(JobServiceTest, CreateJobCopiesTemplateTriggersAndIgnoresLaterEdits) {
  const ats::v1::Integration integration = ActivateIntegration();
  auto templates = server_.templates();
  ats::v1::JobTemplate starter;
  ASSERT_TRUE(templates
                  ->GetDefaultJobTemplate(
                      TestServer::Context(server_.admin_key()).get(), {},
                      &starter)
                  .ok());
  *starter.mutable_stages(1)->add_triggers() = TagTrigger("screened");
  Trigger delayed = TestPackageTrigger(integration.name(), "advanced");
  delayed.mutable_delay()->set_seconds(3600);
  *starter.mutable_stages(2)->add_triggers() = delayed;
  starter.mutable_stages(2)->add_triggers()->mutable_webhook()->set_uri(
      "https://hooks.example/interview");
  ats::v1::UpdateJobTemplateRequest update;
  *update.mutable_job_template() = starter;
  update.mutable_update_mask()->add_paths("stages");
  update.set_etag(starter.etag());
  ats::v1::JobTemplate updated;
  grpc::Status status = templates->UpdateJobTemplate(
      TestServer::Context(server_.admin_key()).get(), update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();

  const Job job = CreateJob("Data engineer");
  ASSERT_EQ(job.stages_size(), 5);
  ASSERT_EQ(job.stages(1).triggers_size(), 1);
  const Trigger& tag = job.stages(1).triggers(0);
  EXPECT_TRUE(absl::StartsWith(tag.name(),
                               job.stages(1).name() + "/triggers/"));
  EXPECT_EQ(tag.add_tag().tag(), "screened");
  EXPECT_EQ(tag.readiness(), ats::v1::TRIGGER_READINESS_READY);
  ASSERT_EQ(job.stages(2).triggers_size(), 2);
  const Trigger& event = job.stages(2).triggers(0);
  EXPECT_EQ(event.delay().seconds(), 3600);
  EXPECT_EQ(event.integration_event().integration(), integration.name());
  EXPECT_EQ(event.integration_event().option_values().at("test_package"),
            "advanced");
  EXPECT_EQ(job.stages(2).triggers(1).webhook().uri(),
            "https://hooks.example/interview");
  // Deep copies: new ids, not the template's.
  for (int i = 0; i < 5; ++i) {
    const std::string template_stage_id =
        updated.stages(i).name().substr(updated.stages(i).name().rfind('/'));
    EXPECT_FALSE(absl::EndsWith(job.stages(i).name(), template_stage_id));
  }

  // Editing the template afterwards leaves the job as it was.
  ats::v1::JobTemplate edited = updated;
  edited.mutable_stages(1)->set_display_name("Phone screen");
  edited.mutable_stages(1)->clear_triggers();
  edited.mutable_stages()->RemoveLast();
  update.Clear();
  *update.mutable_job_template() = edited;
  update.mutable_update_mask()->add_paths("stages");
  update.set_etag(updated.etag());
  status = templates->UpdateJobTemplate(
      TestServer::Context(server_.admin_key()).get(), update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(MessageDifferencer::Equals(GetJob(job.name()), job));
}

TEST_F(JobServiceTest, CreateJobFromNamedTemplate) {
  ats::v1::CreateJobTemplateRequest create_template;
  ats::v1::JobTemplate* short_pipeline = create_template.mutable_job_template();
  short_pipeline->set_display_name("Short");
  short_pipeline->add_stages()->set_display_name("Applied");
  short_pipeline->add_stages()->set_display_name("Decided");
  ats::v1::JobTemplate created;
  grpc::Status status = server_.templates()->CreateJobTemplate(
      TestServer::Context(server_.admin_key()).get(), create_template,
      &created);
  ASSERT_TRUE(status.ok()) << status.error_message();

  ats::v1::CreateJobRequest request;
  request.mutable_job()->set_title("Intern");
  request.set_template_(created.name());
  Job job;
  ASSERT_TRUE(Call(&Stub::CreateJob, request, &job).ok());
  EXPECT_EQ(job.template_(), created.name());
  EXPECT_EQ(StageNames(job), (std::vector<std::string>{"Applied", "Decided"}));

  // Another account's template is as absent as a missing one.
  EXPECT_TRUE(HasCode(
      Call(server_.other_admin_key(), &Stub::CreateJob, request, &job),
      Code::NOT_FOUND));
  request.set_template_("jobTemplates/missing");
  EXPECT_TRUE(HasCode(Call(&Stub::CreateJob, request, &job), Code::NOT_FOUND));
}

TEST_F(JobServiceTest, CreateJobWithGivenStages) {
  const ats::v1::Integration integration = ActivateIntegration();
  ats::v1::CreateJobRequest request;
  request.mutable_job()->set_title("Designer");
  request.mutable_job()->set_state(ats::v1::JOB_STATE_OPEN);
  request.set_skip_template(true);
  Stage* first = request.mutable_job()->add_stages();
  first->set_display_name("New");
  *first->add_triggers() = TestPackageTrigger(integration.name(), "basic");
  request.mutable_job()->add_stages()->set_display_name("Done");
  Job job;
  grpc::Status status = Call(&Stub::CreateJob, request, &job);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(job.template_(), "");
  EXPECT_EQ(job.state(), ats::v1::JOB_STATE_OPEN);
  EXPECT_EQ(StageNames(job), (std::vector<std::string>{"New", "Done"}));
  ASSERT_EQ(job.stages(0).triggers_size(), 1);
  EXPECT_EQ(job.stages(0).triggers(0).readiness(),
            ats::v1::TRIGGER_READINESS_READY);

  ats::v1::CreateJobRequest bad = request;
  (*bad.mutable_job()
        ->mutable_stages(0)
        ->mutable_triggers(0)
        ->mutable_integration_event()
        ->mutable_option_values())["test_package"] = "expert";
  EXPECT_TRUE(HasViolation(Call(&Stub::CreateJob, bad, &job),
                           "job.stages[0].triggers[0].integration_event."
                           "option_values[test_package]"));
  bad = request;
  bad.mutable_job()
      ->mutable_stages(0)
      ->mutable_triggers(0)
      ->mutable_integration_event()
      ->set_integration("integrations/missing");
  EXPECT_TRUE(HasCode(Call(&Stub::CreateJob, bad, &job), Code::NOT_FOUND));
  DeactivateIntegration(integration.name());
  EXPECT_TRUE(HasCode(Call(&Stub::CreateJob, request, &job),
                      Code::FAILED_PRECONDITION));
}

TEST_F(JobServiceTest, CreateJobValidatesEveryField) {
  struct Case {
    std::string field;
    std::function<void(ats::v1::CreateJobRequest&)> spoil;
  };
  const std::vector<Case> cases = {
      {"job.title", [](auto& r) { r.mutable_job()->set_title(""); }},
      {"job.title",
       [](auto& r) { r.mutable_job()->set_title(std::string(201, 'x')); }},
      {"job.description",
       [](auto& r) {
         r.mutable_job()->set_description(std::string(10001, 'x'));
       }},
      {"job.state",
       [](auto& r) { r.mutable_job()->set_state(static_cast<ats::v1::JobState>(9)); }},
      {"template", [](auto& r) { r.set_template_("templates/x"); }},
      {"request_id", [](auto& r) { r.set_request_id("no spaces"); }},
      {"job.stages",
       [](auto& r) { r.mutable_job()->add_stages()->set_display_name("A"); }},
      {"template",
       [](auto& r) {
         r.set_skip_template(true);
         r.set_template_("jobTemplates/x");
         r.mutable_job()->add_stages()->set_display_name("A");
       }},
      {"job.stages", [](auto& r) { r.set_skip_template(true); }},
      {"job.stages",
       [](auto& r) {
         r.set_skip_template(true);
         for (int i = 0; i < 31; ++i) {
           r.mutable_job()->add_stages()->set_display_name(absl::StrCat(i));
         }
       }},
      {"job.stages[1].display_name",
       [](auto& r) {
         r.set_skip_template(true);
         r.mutable_job()->add_stages()->set_display_name("Offer");
         r.mutable_job()->add_stages()->set_display_name("OFFER");
       }},
      {"job.stages[0].display_name",
       [](auto& r) {
         r.set_skip_template(true);
         r.mutable_job()->add_stages()->set_display_name(std::string(101, 'x'));
       }},
      {"job.stages[0].triggers[0].add_tag.tag",
       [](auto& r) {
         r.set_skip_template(true);
         Stage* stage = r.mutable_job()->add_stages();
         stage->set_display_name("A");
         *stage->add_triggers() = TagTrigger("Not A Tag");
       }},
      {"job.stages[0].triggers",
       [](auto& r) {
         r.set_skip_template(true);
         Stage* stage = r.mutable_job()->add_stages();
         stage->set_display_name("A");
         for (int i = 0; i < 11; ++i) *stage->add_triggers() = TagTrigger("t");
       }},
  };
  for (const Case& c : cases) {
    ats::v1::CreateJobRequest request;
    request.mutable_job()->set_title("Valid");
    c.spoil(request);
    Job job;
    EXPECT_TRUE(HasViolation(Call(&Stub::CreateJob, request, &job), c.field))
        << "case " << c.field;
  }
}

TEST_F(JobServiceTest, CreateJobRetryReturnsTheSameJob) {
  ats::v1::CreateJobRequest request;
  request.mutable_job()->set_title("Once");
  request.set_request_id("create-once");
  Job first;
  Job second;
  ASSERT_TRUE(Call(&Stub::CreateJob, request, &first).ok());
  server_.clock().Advance(absl::Minutes(1));
  ASSERT_TRUE(Call(&Stub::CreateJob, request, &second).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(first, second));
  ats::v1::ListJobsResponse list;
  ASSERT_TRUE(Call(&Stub::ListJobs, ats::v1::ListJobsRequest(), &list).ok());
  EXPECT_EQ(list.jobs_size(), 1);
  request.mutable_job()->set_title("Another");
  EXPECT_TRUE(HasCode(Call(&Stub::CreateJob, request, &second),
                      Code::INVALID_ARGUMENT));
}

TEST_F(JobServiceTest, ListJobsFiltersAndPagesNewestFirst) {
  std::vector<std::string> names;
  for (const char* title :
       {"Backend engineer", "Frontend engineer", "Recruiter", "Sales lead",
        "Engineering manager"}) {
    names.insert(names.begin(), CreateJob(title).name());
    server_.clock().Advance(absl::Seconds(1));
  }
  ats::v1::ListJobsRequest request;
  request.set_page_size(2);
  std::vector<std::string> listed;
  do {
    ats::v1::ListJobsResponse page;
    ASSERT_TRUE(Call(&Stub::ListJobs, request, &page).ok());
    EXPECT_LE(page.jobs_size(), 2);
    for (const Job& job : page.jobs()) {
      listed.push_back(job.name());
      EXPECT_EQ(job.stages_size(), 5);
      EXPECT_EQ(job.stages(0).triggers_size(), 0);
    }
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  EXPECT_EQ(listed, names);

  ats::v1::ListJobsRequest filtered;
  filtered.set_title_contains("ENGINEER");
  ats::v1::ListJobsResponse response;
  ASSERT_TRUE(Call(&Stub::ListJobs, filtered, &response).ok());
  EXPECT_EQ(response.jobs_size(), 3);
  EXPECT_EQ(response.jobs(0).title(), "Engineering manager");
  filtered.set_state(ats::v1::JOB_STATE_OPEN);
  ASSERT_TRUE(Call(&Stub::ListJobs, filtered, &response).ok());
  EXPECT_EQ(response.jobs_size(), 0);

  // A token is only good for the filters it was issued with.
  request.set_page_token("");
  ASSERT_TRUE(Call(&Stub::ListJobs, request, &response).ok());
  filtered.set_page_token(response.next_page_token());
  EXPECT_TRUE(
      HasViolation(Call(&Stub::ListJobs, filtered, &response), "page_token"));
  filtered.set_page_token("");
  filtered.set_title_contains(std::string(201, 'x'));
  EXPECT_TRUE(HasViolation(Call(&Stub::ListJobs, filtered, &response),
                           "title_contains"));
  ats::v1::ListJobsResponse other;
  ASSERT_TRUE(Call(server_.other_admin_key(), &Stub::ListJobs,
                   ats::v1::ListJobsRequest(), &other)
                  .ok());
  EXPECT_EQ(other.jobs_size(), 0);
}

TEST_F(JobServiceTest, UpdateJobChangesMaskedFieldsUnderEtag) {
  const Job job = CreateJob("Old title");
  server_.clock().Advance(absl::Minutes(5));
  ats::v1::UpdateJobRequest request;
  request.mutable_job()->set_name(job.name());
  request.mutable_job()->set_title("New title");
  request.mutable_job()->set_description("ignored");
  request.mutable_update_mask()->add_paths("title");
  request.set_etag(job.etag());
  Job updated;
  ASSERT_TRUE(Call(&Stub::UpdateJob, request, &updated).ok());
  EXPECT_EQ(updated.title(), "New title");
  EXPECT_EQ(updated.description(), "");
  EXPECT_NE(updated.etag(), job.etag());
  EXPECT_GT(updated.update_time().seconds(), job.update_time().seconds());

  // The etag read before the change is stale now.
  EXPECT_TRUE(HasCode(Call(&Stub::UpdateJob, request, &updated),
                      Code::ABORTED));
  request.clear_etag();
  request.mutable_update_mask()->set_paths(0, "state");
  request.mutable_job()->set_state(ats::v1::JOB_STATE_OPEN);
  ASSERT_TRUE(Call(&Stub::UpdateJob, request, &updated).ok());
  EXPECT_EQ(updated.state(), ats::v1::JOB_STATE_OPEN);

  request.mutable_job()->set_state(ats::v1::JOB_STATE_UNSPECIFIED);
  EXPECT_TRUE(
      HasViolation(Call(&Stub::UpdateJob, request, &updated), "job.state"));
  request.mutable_update_mask()->set_paths(0, "stages");
  EXPECT_TRUE(
      HasViolation(Call(&Stub::UpdateJob, request, &updated), "update_mask"));
  request.clear_update_mask();
  EXPECT_TRUE(
      HasViolation(Call(&Stub::UpdateJob, request, &updated), "update_mask"));
  request.mutable_update_mask()->add_paths("title");
  request.mutable_job()->set_name("jobs/missing");
  EXPECT_TRUE(HasCode(Call(&Stub::UpdateJob, request, &updated),
                      Code::NOT_FOUND));
}

TEST_F(JobServiceTest, DeleteJobNeedsForceWhileItHasCandidates) {
  const Job empty = CreateJob("Empty");
  ats::v1::DeleteJobRequest request;
  request.set_name(empty.name());
  google::protobuf::Empty none;
  ASSERT_TRUE(Call(&Stub::DeleteJob, request, &none).ok());
  ats::v1::GetJobRequest get;
  get.set_name(empty.name());
  Job job;
  EXPECT_TRUE(HasCode(Call(&Stub::GetJob, get, &job), Code::NOT_FOUND));
  EXPECT_TRUE(HasCode(Call(&Stub::DeleteJob, request, &none), Code::NOT_FOUND));

  const Job busy = CreateJob("Busy");
  MustAdd(busy, NewCandidate("Ada"), busy.stages(1).name());
  MustAdd(busy, NewCandidate("Ada"), "");
  request.set_name(busy.name());
  grpc::Status status = Call(&Stub::DeleteJob, request, &none);
  EXPECT_TRUE(HasCode(status, Code::FAILED_PRECONDITION));
  EXPECT_TRUE(absl::StrContains(status.error_message(), "2 candidates"))
      << status.error_message();
  request.set_force(true);
  ASSERT_TRUE(Call(&Stub::DeleteJob, request, &none).ok());
  get.set_name(busy.name());
  EXPECT_TRUE(HasCode(Call(&Stub::GetJob, get, &job), Code::NOT_FOUND));
}

TEST_F(JobServiceTest, CreateStageInsertsAtPositionAndBumpsEtag) {
  const Job job = CreateJob("Pipeline");
  Stage stage;
  ASSERT_TRUE(CreateStage(job.name(), "Phone screen", 1, &stage).ok());
  EXPECT_EQ(stage.position(), 1);
  ASSERT_TRUE(CreateStage(job.name(), "Archive", std::nullopt, &stage).ok());
  EXPECT_EQ(stage.position(), 6);
  ASSERT_TRUE(CreateStage(job.name(), "Far away", 99, &stage).ok());
  EXPECT_EQ(stage.position(), 7);
  ASSERT_TRUE(CreateStage(job.name(), "First", 0, &stage).ok());
  const Job after = GetJob(job.name());
  EXPECT_EQ(StageNames(after),
            (std::vector<std::string>{"First", "Inbox", "Phone screen",
                                      "Screening", "Interview", "Offer",
                                      "Hired", "Archive", "Far away"}));
  for (int i = 0; i < after.stages_size(); ++i) {
    EXPECT_EQ(after.stages(i).position(), i);
  }
  EXPECT_NE(after.etag(), job.etag());

  EXPECT_TRUE(HasCode(CreateStage(job.name(), "phone SCREEN", 0, &stage),
                      Code::ALREADY_EXISTS));
  EXPECT_TRUE(
      HasViolation(CreateStage(job.name(), "Neg", -1, &stage), "position"));
  EXPECT_TRUE(HasViolation(CreateStage(job.name(), "", 0, &stage),
                           "stage.display_name"));
  EXPECT_TRUE(HasCode(CreateStage("jobs/missing", "X", 0, &stage),
                      Code::NOT_FOUND));
  for (int i = after.stages_size(); i < 30; ++i) {
    ASSERT_TRUE(CreateStage(job.name(), absl::StrCat("S", i), std::nullopt,
                            &stage)
                    .ok());
  }
  grpc::Status status = CreateStage(job.name(), "One too many", 0, &stage);
  EXPECT_TRUE(HasCode(status, Code::RESOURCE_EXHAUSTED));
  EXPECT_TRUE(absl::StrContains(status.error_message(), "at most 30 stages"));
}

TEST_F(JobServiceTest, GetAndUpdateStage) {
  const Job job = CreateJob("Pipeline");
  ats::v1::GetStageRequest get;
  get.set_name(job.stages(2).name());
  Stage stage;
  ASSERT_TRUE(Call(&Stub::GetStage, get, &stage).ok());
  EXPECT_EQ(stage.display_name(), "Interview");

  ats::v1::UpdateStageRequest update;
  update.mutable_stage()->set_name(stage.name());
  update.mutable_stage()->set_display_name("Onsite");
  update.mutable_update_mask()->add_paths("display_name");
  Stage renamed;
  ASSERT_TRUE(Call(&Stub::UpdateStage, update, &renamed).ok());
  EXPECT_EQ(renamed.display_name(), "Onsite");
  EXPECT_EQ(renamed.position(), 2);
  EXPECT_NE(GetJob(job.name()).etag(), job.etag());
  update.mutable_stage()->set_display_name("ONSITE");
  ASSERT_TRUE(Call(&Stub::UpdateStage, update, &renamed).ok());
  update.mutable_stage()->set_display_name("offer");
  EXPECT_TRUE(HasCode(Call(&Stub::UpdateStage, update, &renamed),
                      Code::ALREADY_EXISTS));
  update.clear_update_mask();
  EXPECT_TRUE(
      HasViolation(Call(&Stub::UpdateStage, update, &renamed), "update_mask"));

  // A stage named under another job does not exist.
  const Job other = CreateJob("Other");
  get.set_name(other.name() + "/stages/" +
               job.stages(0).name().substr(job.stages(0).name().rfind('/') + 1));
  EXPECT_TRUE(HasCode(Call(&Stub::GetStage, get, &stage), Code::NOT_FOUND));
}

TEST_F(JobServiceTest, ReorderStagesNeedsEveryStageOnce) {
  const Job job = CreateJob("Pipeline");
  ats::v1::ReorderStagesRequest request;
  request.set_name(job.name());
  for (int i = job.stages_size() - 1; i >= 0; --i) {
    request.add_stages(job.stages(i).name());
  }
  request.set_etag(job.etag());
  Job reordered;
  ASSERT_TRUE(Call(&Stub::ReorderStages, request, &reordered).ok());
  EXPECT_EQ(StageNames(reordered),
            (std::vector<std::string>{"Hired", "Offer", "Interview",
                                      "Screening", "Inbox"}));
  for (int i = 0; i < reordered.stages_size(); ++i) {
    EXPECT_EQ(reordered.stages(i).position(), i);
  }
  EXPECT_NE(reordered.etag(), job.etag());
  EXPECT_TRUE(HasCode(Call(&Stub::ReorderStages, request, &reordered),
                      Code::ABORTED));

  request.clear_etag();
  request.mutable_stages()->RemoveLast();
  EXPECT_TRUE(
      HasViolation(Call(&Stub::ReorderStages, request, &reordered), "stages"));
  request.add_stages(job.stages(0).name());
  request.add_stages(job.stages(0).name());
  EXPECT_TRUE(HasViolation(Call(&Stub::ReorderStages, request, &reordered),
                           "stages[5]"));
  const Job other = CreateJob("Other");
  request.set_stages(4, other.stages(0).name());
  request.mutable_stages()->RemoveLast();
  EXPECT_TRUE(HasViolation(Call(&Stub::ReorderStages, request, &reordered),
                           "stages[4]"));
}

TEST_F(JobServiceTest, DeleteStageKeepsPositionsDenseAndRefusesBusyOrLast) {
  const Job job = CreateJob("Pipeline");
  ats::v1::DeleteStageRequest request;
  request.set_name(job.stages(1).name());
  google::protobuf::Empty none;
  ASSERT_TRUE(Call(&Stub::DeleteStage, request, &none).ok());
  Job after = GetJob(job.name());
  EXPECT_EQ(StageNames(after), (std::vector<std::string>{"Inbox", "Interview",
                                                         "Offer", "Hired"}));
  for (int i = 0; i < after.stages_size(); ++i) {
    EXPECT_EQ(after.stages(i).position(), i);
  }
  EXPECT_NE(after.etag(), job.etag());
  EXPECT_TRUE(HasCode(Call(&Stub::DeleteStage, request, &none),
                      Code::NOT_FOUND));

  MustAdd(after, NewCandidate("Ada"), after.stages(2).name());
  request.set_name(after.stages(2).name());
  grpc::Status status = Call(&Stub::DeleteStage, request, &none);
  EXPECT_TRUE(HasCode(status, Code::FAILED_PRECONDITION));
  EXPECT_TRUE(absl::StrContains(status.error_message(), "1 candidate"))
      << status.error_message();

  for (int i : {0, 1, 3}) {
    request.set_name(after.stages(i).name());
    ASSERT_TRUE(Call(&Stub::DeleteStage, request, &none).ok());
  }
  const Job empty = CreateJob("Empty");
  for (int i = 0; i < 4; ++i) {
    request.set_name(empty.stages(i).name());
    ASSERT_TRUE(Call(&Stub::DeleteStage, request, &none).ok());
  }
  request.set_name(empty.stages(4).name());
  status = Call(&Stub::DeleteStage, request, &none);
  EXPECT_TRUE(HasCode(status, Code::FAILED_PRECONDITION));
  EXPECT_TRUE(absl::StrContains(status.error_message(), "at least one stage"));
}

TEST_F(JobServiceTest, TriggersCreateListUpdateDelete) {
  const ats::v1::Integration integration = ActivateIntegration();
  const Job job = CreateJob("Pipeline");
  const std::string stage = job.stages(1).name();
  Trigger first;
  ASSERT_TRUE(CreateTrigger(stage, TagTrigger("screened"), &first).ok());
  EXPECT_TRUE(absl::StartsWith(first.name(), stage + "/triggers/"));
  EXPECT_EQ(first.readiness(), ats::v1::TRIGGER_READINESS_READY);
  Trigger second;
  grpc::Status status = CreateTrigger(
      stage, TestPackageTrigger(integration.name(), "basic"), &second);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_NE(GetJob(job.name()).etag(), job.etag());

  ats::v1::ListTriggersRequest list;
  list.set_parent(stage);
  ats::v1::ListTriggersResponse listed;
  ASSERT_TRUE(Call(&Stub::ListTriggers, list, &listed).ok());
  ASSERT_EQ(listed.triggers_size(), 2);
  EXPECT_TRUE(MessageDifferencer::Equals(listed.triggers(0), first));
  EXPECT_TRUE(MessageDifferencer::Equals(listed.triggers(1), second));

  // Delay, then replace the action by naming another kind.
  ats::v1::UpdateTriggerRequest update;
  update.mutable_trigger()->set_name(second.name());
  update.mutable_trigger()->mutable_delay()->set_seconds(600);
  update.mutable_update_mask()->add_paths("delay");
  Trigger updated;
  ASSERT_TRUE(Call(&Stub::UpdateTrigger, update, &updated).ok());
  EXPECT_EQ(updated.delay().seconds(), 600);
  EXPECT_TRUE(updated.has_integration_event());
  update.mutable_trigger()->mutable_webhook()->set_uri("https://h.example/x");
  update.mutable_update_mask()->set_paths(0, "webhook");
  ASSERT_TRUE(Call(&Stub::UpdateTrigger, update, &updated).ok());
  EXPECT_EQ(updated.webhook().uri(), "https://h.example/x");
  EXPECT_FALSE(updated.has_integration_event());
  EXPECT_EQ(updated.delay().seconds(), 600);
  ats::v1::GetTriggerRequest get;
  get.set_name(second.name());
  Trigger got;
  ASSERT_TRUE(Call(&Stub::GetTrigger, get, &got).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(got, updated));

  update.mutable_update_mask()->add_paths("add_tag");
  EXPECT_TRUE(HasViolation(Call(&Stub::UpdateTrigger, update, &updated),
                           "update_mask"));
  update.mutable_update_mask()->clear_paths();
  update.mutable_update_mask()->add_paths("add_tag");
  update.mutable_trigger()->mutable_add_tag()->set_tag("BAD TAG");
  EXPECT_TRUE(HasViolation(Call(&Stub::UpdateTrigger, update, &updated),
                           "trigger.add_tag.tag"));
  update.mutable_update_mask()->set_paths(0, "integration_event");
  *update.mutable_trigger() = TestPackageTrigger(integration.name(), "expert");
  update.mutable_trigger()->set_name(second.name());
  EXPECT_TRUE(
      HasViolation(Call(&Stub::UpdateTrigger, update, &updated),
                   "trigger.integration_event.option_values[test_package]"));

  ats::v1::DeleteTriggerRequest remove;
  remove.set_name(first.name());
  google::protobuf::Empty none;
  ASSERT_TRUE(Call(&Stub::DeleteTrigger, remove, &none).ok());
  EXPECT_TRUE(HasCode(Call(&Stub::DeleteTrigger, remove, &none),
                      Code::NOT_FOUND));
  get.set_name(first.name());
  EXPECT_TRUE(HasCode(Call(&Stub::GetTrigger, get, &got), Code::NOT_FOUND));
  ASSERT_TRUE(Call(&Stub::ListTriggers, list, &listed).ok());
  ASSERT_EQ(listed.triggers_size(), 1);
  EXPECT_EQ(listed.triggers(0).name(), second.name());
}

TEST_F(JobServiceTest, CreateTriggerChecksLimitsAndTargets) {
  const ats::v1::Integration integration = ActivateIntegration();
  const Job job = CreateJob("Pipeline");
  const std::string stage = job.stages(0).name();
  Trigger created;
  EXPECT_TRUE(
      HasViolation(CreateTrigger(stage, Trigger(), &created), "trigger"));
  EXPECT_TRUE(HasCode(
      CreateTrigger(stage, TestPackageTrigger("integrations/missing", "basic"),
                    &created),
      Code::NOT_FOUND));
  Trigger no_option = TestPackageTrigger(integration.name(), "basic");
  no_option.mutable_integration_event()->clear_option_values();
  EXPECT_TRUE(
      HasViolation(CreateTrigger(stage, no_option, &created),
                   "trigger.integration_event.option_values[test_package]"));
  EXPECT_TRUE(HasCode(CreateTrigger(job.stages(0).name() + "x",
                                    TagTrigger("a"), &created),
                      Code::NOT_FOUND));

  ASSERT_TRUE(CreateTrigger(stage,
                            TestPackageTrigger(integration.name(), "basic"),
                            &created)
                  .ok());
  for (int i = 1; i < 10; ++i) {
    ASSERT_TRUE(CreateTrigger(stage, TagTrigger("t"), &created).ok());
  }
  EXPECT_TRUE(HasCode(CreateTrigger(stage, TagTrigger("t"), &created),
                      Code::RESOURCE_EXHAUSTED));

  // Deactivated later: the trigger stays and says it will be skipped.
  DeactivateIntegration(integration.name());
  const Job after = GetJob(job.name());
  ASSERT_EQ(after.stages(0).triggers_size(), 10);
  EXPECT_EQ(after.stages(0).triggers(0).readiness(),
            ats::v1::TRIGGER_READINESS_WILL_SKIP);
  EXPECT_FALSE(after.stages(0).triggers(0).readiness_reason().empty());
  EXPECT_EQ(after.stages(0).triggers(1).readiness(),
            ats::v1::TRIGGER_READINESS_READY);
  EXPECT_TRUE(HasCode(
      CreateTrigger(job.stages(1).name(),
                    TestPackageTrigger(integration.name(), "basic"), &created),
      Code::FAILED_PRECONDITION));
}

TEST_F(JobServiceTest, RolesAndTenants) {
  const Job job = CreateJob("Private");
  ats::v1::GetJobRequest get;
  get.set_name(job.name());
  Job got;
  EXPECT_TRUE(HasCode(Call("", &Stub::GetJob, get, &got),
                      Code::UNAUTHENTICATED));
  EXPECT_TRUE(HasCode(Call(server_.operator_key(), &Stub::GetJob, get, &got),
                      Code::PERMISSION_DENIED));
  EXPECT_TRUE(Call(server_.admin_key(), &Stub::GetJob, get, &got).ok());
  const std::string other = server_.other_admin_key();
  EXPECT_TRUE(HasCode(Call(other, &Stub::GetJob, get, &got), Code::NOT_FOUND));

  ats::v1::UpdateJobRequest update;
  update.mutable_job()->set_name(job.name());
  update.mutable_job()->set_title("Mine now");
  update.mutable_update_mask()->add_paths("title");
  EXPECT_TRUE(HasCode(Call(other, &Stub::UpdateJob, update, &got),
                      Code::NOT_FOUND));
  ats::v1::DeleteJobRequest remove;
  remove.set_name(job.name());
  google::protobuf::Empty none;
  EXPECT_TRUE(HasCode(Call(other, &Stub::DeleteJob, remove, &none),
                      Code::NOT_FOUND));
  ats::v1::GetStageRequest get_stage;
  get_stage.set_name(job.stages(0).name());
  Stage stage;
  EXPECT_TRUE(HasCode(Call(other, &Stub::GetStage, get_stage, &stage),
                      Code::NOT_FOUND));
  ats::v1::CreateStageRequest create_stage;
  create_stage.set_parent(job.name());
  create_stage.mutable_stage()->set_display_name("Theirs");
  EXPECT_TRUE(HasCode(Call(other, &Stub::CreateStage, create_stage, &stage),
                      Code::NOT_FOUND));
  ats::v1::DeleteStageRequest delete_stage;
  delete_stage.set_name(job.stages(0).name());
  EXPECT_TRUE(HasCode(Call(other, &Stub::DeleteStage, delete_stage, &none),
                      Code::NOT_FOUND));
  ats::v1::CreateTriggerRequest create_trigger;
  create_trigger.set_parent(job.stages(0).name());
  *create_trigger.mutable_trigger() = TagTrigger("x");
  Trigger trigger;
  EXPECT_TRUE(HasCode(
      Call(other, &Stub::CreateTrigger, create_trigger, &trigger),
      Code::NOT_FOUND));
  // Nothing changed.
  EXPECT_TRUE(MessageDifferencer::Equals(GetJob(job.name()), job));
}

}  // namespace
}  // namespace ats::testing

namespace ats::testing {
namespace {

TEST_F(JobServiceTest, WebhookTriggerWillSkipUntilTheAccountHasASigningSecret) {
  const ats::v1::Job job = CreateJob("Webhooks");
  ats::v1::CreateTriggerRequest create;
  create.set_parent(job.stages(0).name());
  create.mutable_trigger()->mutable_webhook()->set_uri(
      "https://hooks.example/ats");
  ats::v1::Trigger trigger;
  ASSERT_TRUE(Call(&Stub::CreateTrigger, create, &trigger).ok());
  EXPECT_EQ(trigger.readiness(), ats::v1::TRIGGER_READINESS_WILL_SKIP);
  EXPECT_NE(trigger.readiness_reason().find("RotateWebhookSigningSecret"),
            std::string::npos)
      << trigger.readiness_reason();

  ats::v1::RotateWebhookSigningSecretRequest rotate;
  rotate.set_name(server_.account());
  ats::v1::RotateWebhookSigningSecretResponse rotated;
  ASSERT_TRUE(CallWithKey(*server_.accounts(), server_.admin_key(),
                          &ats::v1::AccountService::Stub::
                              RotateWebhookSigningSecret,
                          rotate, &rotated)
                  .ok());
  ats::v1::GetTriggerRequest get;
  get.set_name(trigger.name());
  ASSERT_TRUE(Call(&Stub::GetTrigger, get, &trigger).ok());
  EXPECT_EQ(trigger.readiness(), ats::v1::TRIGGER_READINESS_READY);
  EXPECT_TRUE(trigger.readiness_reason().empty());
}

}  // namespace
}  // namespace ats::testing
