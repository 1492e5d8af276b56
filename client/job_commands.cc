// jobs, with their stages and stage triggers: JobService.

#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ats/v1/job_service.grpc.pb.h"
#include "client/commands.h"
#include "client/pipeline.h"
#include "client/trigger_flags.h"

namespace ats::client {
namespace {

using ats::v1::Job;
using ats::v1::JobService;

const std::vector<Column<Job>> kJobColumns = {
    {"NAME", [](const auto& j) { return j.name(); }},
    {"TITLE", [](const auto& j) { return j.title(); }},
    {"STATE", [](const auto& j) { return Label(j.state()); }},
    {"STAGES", [](const auto& j) { return absl::StrCat(j.stages_size()); }},
    {"CREATED", [](const auto& j) { return TimeText(j.create_time()); }},
};

// The choices of a select or multi_select field, groups included.
std::string ChoicesOf(const ats::v1::TriggerFormField& field) {
  std::vector<std::string> values;
  for (const auto& option : field.options()) values.push_back(option.value());
  for (const auto& group : field.option_groups()) {
    for (const auto& option : group.options()) values.push_back(option.value());
  }
  return absl::StrJoin(values, ",");
}

const std::vector<Column<ats::v1::TriggerFormField>> kFormColumns = {
    {"KEY", [](const auto& f) { return f.key(); }},
    {"TYPE", [](const auto& f) { return f.type(); }},
    {"REQUIRED", [](const auto& f) { return f.required() ? "yes" : "no"; }},
    {"LABEL", [](const auto& f) { return f.label(); }},
    {"CHOICES", [](const auto& f) { return ChoicesOf(f); }},
};

// Says what a command that returns nothing did, unless the output is a
// document (where an empty one says it).
void ShowDone(const Output& output, const std::string& what) {
  if (output.structured()) {
    output.Print(google::protobuf::Empty());
  } else {
    std::cout << what << "\n";
  }
}

// The job's fields, its pipeline per stage and who is in which stage; or the
// job's document (JSON or YAML).
void ShowJob(Session& session, const Job& job) {
  if (session.output().structured()) return session.output().Print(job);
  Job fields = job;
  fields.clear_stages();
  PrintFields(fields);
  std::cout << "\n";
  PrintPipeline(job.stages(), /*with_candidate_counts=*/true);
  ats::v1::ListApplicationsRequest request;
  request.set_parent(job.name());
  auto applications = ListAll<JobService>(
      session, request, 1000, &JobService::Stub::ListApplications,
      &ats::v1::ListApplicationsResponse::mutable_applications);
  if (applications.applications().empty()) return;
  std::map<std::string, std::string> stage_names;
  for (const ats::v1::Stage& stage : job.stages()) {
    stage_names[stage.name()] = stage.display_name();
  }
  std::cout << "\n";
  PrintTable(
      applications.applications(),
      std::vector<Column<ats::v1::Application>>{
          {"STAGE", [&](const auto& a) { return stage_names[a.stage()]; }},
          {"CANDIDATE", [](const auto& a) { return a.candidate(); }},
          {"SINCE",
           [](const auto& a) { return TimeText(a.stage_enter_time()); }},
      });
}

void AddStageCommands(CLI::App& jobs, Session& session) {
  CLI::App* stages = AddGroup(
      jobs, "stages", "A job's stages",
      "ats-admin jobs stages add jobs/9a1f \"Take-home\" --position 2");

  struct AddArgs {
    std::string job, display_name;
    int position = -1;
  };
  auto add_args = std::make_shared<AddArgs>();
  auto* add = AddCommand(
      *stages, "add", "Add a stage (appended unless --position)",
      "ats-admin jobs stages add jobs/9a1f \"Take-home\" --position 2");
  add->add_option("job", add_args->job, "jobs/ID or ID")->required();
  add->add_option("display_name", add_args->display_name, "Stage name")
      ->required();
  add->add_option("--position", add_args->position, "Zero-based position")
      ->check(CLI::NonNegativeNumber);
  add->callback([&session, args = add_args] {
    ats::v1::CreateStageRequest request;
    request.set_parent(Qualified("jobs", args->job));
    request.mutable_stage()->set_display_name(args->display_name);
    if (args->position >= 0) {
      request.mutable_position()->set_value(args->position);
    }
    ats::v1::Stage stage;
    Check(session.Stub<JobService>()->CreateStage(session.Context().get(),
                                                  request, &stage));
    session.output().Show(stage);
  });

  struct RemoveArgs {
    std::string job, stage;
  };
  auto remove_args = std::make_shared<RemoveArgs>();
  auto* remove =
      AddCommand(*stages, "remove", "Remove a stage that holds no candidates",
                 "ats-admin jobs stages remove jobs/9a1f Take-home");
  remove->add_option("job", remove_args->job, "jobs/ID or ID")->required();
  remove
      ->add_option("stage", remove_args->stage, "Display name or resource name")
      ->required();
  remove->callback([&session, args = remove_args] {
    ats::v1::DeleteStageRequest request;
    request.set_name(ResolveJobStage(session, args->job, args->stage));
    google::protobuf::Empty empty;
    Check(session.Stub<JobService>()->DeleteStage(session.Context().get(),
                                                  request, &empty));
    ShowDone(session.output(), "removed " + request.name());
  });
}

void AddTriggerCommands(CLI::App& jobs, Session& session) {
  CLI::App* triggers =
      AddGroup(jobs, "triggers", "The triggers on a job's stages",
               "ats-admin jobs triggers add jobs/9a1f Screening --integration "
               "integrations/7b90 --option test_package=java-senior");

  struct AddArgs {
    std::string job, stage;
    TriggerFlags trigger;
  };
  auto add_args = std::make_shared<AddArgs>();
  auto* add = AddCommand(
      *triggers, "add",
      "Add a trigger to a stage: a partner event, a tag or a webhook",
      "ats-admin jobs triggers add jobs/9a1f Screening --integration "
      "integrations/7b90 --option test_package=java-senior\n"
      "  ats-admin jobs triggers add jobs/9a1f Offer --tag offer-sent");
  add->add_option("job", add_args->job, "jobs/ID or ID")->required();
  add->add_option("stage", add_args->stage, "Display name or resource name")
      ->required();
  add_args->trigger.AddTo(add);
  add->callback([&session, args = add_args] {
    ats::v1::CreateTriggerRequest request;
    *request.mutable_trigger() = args->trigger.Build();
    request.set_parent(ResolveJobStage(session, args->job, args->stage));
    ats::v1::Trigger trigger;
    Check(session.Stub<JobService>()->CreateTrigger(session.Context().get(),
                                                    request, &trigger));
    session.output().Show(trigger);
  });

  struct FormArgs {
    std::string job, stage, integration;
  };
  auto form_args = std::make_shared<FormArgs>();
  auto* form = AddCommand(
      *triggers, "form",
      "Show the options a trigger of an integration fills in on a stage: the "
      "partner's form for the stage, or its static trigger options",
      "ats-admin jobs triggers form jobs/9a1f Screening --integration "
      "integrations/7b90");
  form->add_option("job", form_args->job, "jobs/ID or ID")->required();
  form->add_option("stage", form_args->stage, "Display name or resource name")
      ->required();
  form->add_option("--integration", form_args->integration,
                   "integrations/ID or ID")
      ->required();
  form->callback([&session, args = form_args] {
    ats::v1::GetTriggerFormRequest request;
    request.set_stage(ResolveJobStage(session, args->job, args->stage));
    request.set_integration(Qualified("integrations", args->integration));
    ats::v1::TriggerForm form;
    Check(session.Stub<JobService>()->GetTriggerForm(session.Context().get(),
                                                     request, &form));
    session.output().List(form, form.fields(), kFormColumns);
  });

  auto removed = std::make_shared<std::string>();
  auto* remove = AddCommand(*triggers, "remove",
                            "Remove a trigger; the events it created are kept",
                            "ats-admin jobs triggers remove "
                            "jobs/9a1f/stages/2c4d/triggers/0e8b");
  remove->add_option("trigger", *removed, "The trigger's resource name")
      ->required();
  remove->callback([&session, removed] {
    ats::v1::DeleteTriggerRequest request;
    request.set_name(*removed);
    google::protobuf::Empty empty;
    Check(session.Stub<JobService>()->DeleteTrigger(session.Context().get(),
                                                    request, &empty));
    ShowDone(session.output(), "removed " + *removed);
  });
}

}  // namespace

void AddJobCommands(CLI::App& app, Session& session) {
  CLI::App* jobs =
      AddGroup(app, "jobs", "Jobs and their hiring pipelines",
               "ats-admin jobs create \"Backend engineer\" --state open");

  struct CreateArgs {
    std::string title, description, state, template_name, request_id;
  };
  auto create_args = std::make_shared<CreateArgs>();
  auto* create = AddCommand(
      *jobs, "create",
      "Create a job; its stages and triggers are copied from the default "
      "template or --template",
      "ats-admin jobs create \"Backend engineer\" --state open");
  create->add_option("title", create_args->title, "Job title")->required();
  create->add_option("--description", create_args->description, "Description");
  create->add_option("--state", create_args->state,
                     EnumChoices<ats::v1::JobState>() + " (default: draft)");
  create->add_option("--template", create_args->template_name,
                     "jobTemplates/ID or ID (default: the default template)");
  create->add_option("--request-id", create_args->request_id,
                     "Idempotency key");
  create->callback([&session, args = create_args] {
    ats::v1::CreateJobRequest request;
    request.mutable_job()->set_title(args->title);
    request.mutable_job()->set_description(args->description);
    if (!args->state.empty()) {
      request.mutable_job()->set_state(
          ParseEnum<ats::v1::JobState>(args->state, "--state"));
    }
    if (!args->template_name.empty()) {
      request.set_template_(Qualified("jobTemplates", args->template_name));
    }
    request.set_request_id(args->request_id);
    Job job;
    Check(session.Stub<JobService>()->CreateJob(session.Context().get(),
                                                request, &job));
    ShowJob(session, job);
  });

  struct ListArgs {
    std::string state, title;
    int limit = 100;
  };
  auto list_args = std::make_shared<ListArgs>();
  auto* list = AddCommand(*jobs, "list", "List jobs, newest first",
                          "ats-admin jobs list --state open --title engineer");
  list->add_option("--state", list_args->state,
                   EnumChoices<ats::v1::JobState>());
  list->add_option("--title", list_args->title, "Only titles containing this");
  AddLimitFlag(list, &list_args->limit);
  list->callback([&session, args = list_args] {
    ats::v1::ListJobsRequest request;
    if (!args->state.empty()) {
      request.set_state(ParseEnum<ats::v1::JobState>(args->state, "--state"));
    }
    request.set_title_contains(args->title);
    auto response = ListAll<JobService>(
        session, request, args->limit, &JobService::Stub::ListJobs,
        &ats::v1::ListJobsResponse::mutable_jobs);
    session.output().List(response, response.jobs(), kJobColumns);
  });

  auto shown = std::make_shared<std::string>();
  auto* show = AddCommand(
      *jobs, "show",
      "Show a job's pipeline: each stage with its candidates and triggers",
      "ats-admin jobs show jobs/9a1f");
  show->add_option("job", *shown, "jobs/ID or ID")->required();
  show->callback([&session, shown] {
    ats::v1::GetJobRequest request;
    request.set_name(Qualified("jobs", *shown));
    Job job;
    Check(session.Stub<JobService>()->GetJob(session.Context().get(), request,
                                             &job));
    ShowJob(session, job);
  });

  AddStageCommands(*jobs, session);
  AddTriggerCommands(*jobs, session);
}

}  // namespace ats::client
