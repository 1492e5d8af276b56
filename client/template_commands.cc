// templates: TemplateService.

#include <memory>

#include "ats/v1/template_service.grpc.pb.h"
#include "client/commands.h"
#include "client/pipeline.h"
#include "client/trigger_flags.h"

namespace ats::client {
namespace {

using ats::v1::JobTemplate;
using ats::v1::TemplateService;

const std::vector<Column<JobTemplate>> kTemplateColumns = {
    {"NAME", [](const auto& t) { return t.name(); }},
    {"DISPLAY NAME", [](const auto& t) { return t.display_name(); }},
    {"DEFAULT", [](const auto& t) { return t.default_() ? "yes" : ""; }},
    {"STAGES", [](const auto& t) { return std::to_string(t.stages_size()); }},
    {"UPDATED", [](const auto& t) { return TimeText(t.update_time()); }},
};

// A template's fields, then its pipeline as a table; or its document.
void ShowTemplate(const Output& output, const JobTemplate& job_template) {
  if (output.structured()) return output.Print(job_template);
  JobTemplate fields = job_template;
  fields.clear_stages();
  PrintFields(fields);
  std::cout << "\n";
  PrintPipeline(job_template.stages(), /*with_candidate_counts=*/false);
}

// The named template, or the account's default when `name` is empty.
JobTemplate ReadTemplate(Session& session, const std::string& name) {
  auto stub = session.Stub<TemplateService>();
  JobTemplate job_template;
  if (name.empty()) {
    Check(stub->GetDefaultJobTemplate(session.Context().get(),
                                      ats::v1::GetDefaultJobTemplateRequest(),
                                      &job_template));
  } else {
    ats::v1::GetJobTemplateRequest request;
    request.set_name(Qualified("jobTemplates", name));
    Check(
        stub->GetJobTemplate(session.Context().get(), request, &job_template));
  }
  return job_template;
}

// What `templates edit` may change, from flags.
struct EditArgs {
  std::string name, file, display_name, description, stage, add_stage,
      remove_stage, remove_trigger;
  TriggerFlags trigger;
};

// Applies the flags of `args` to `job_template`, adding each field changed
// to `mask`.
void ApplyEdits(const EditArgs& args, JobTemplate* job_template,
                google::protobuf::FieldMask* mask) {
  auto change = [mask](const std::string& path) {
    for (const std::string& existing : mask->paths()) {
      if (existing == path) return;
    }
    mask->add_paths(path);
  };
  if (!args.file.empty()) {
    JobTemplate edited;
    ReadJsonFile(args.file, &edited);
    if (!edited.display_name().empty()) {
      job_template->set_display_name(edited.display_name());
      change("display_name");
    }
    if (!edited.description().empty()) {
      job_template->set_description(edited.description());
      change("description");
    }
    if (!edited.stages().empty()) {
      *job_template->mutable_stages() = edited.stages();
      change("stages");
    }
  }
  if (!args.display_name.empty()) {
    job_template->set_display_name(args.display_name);
    change("display_name");
  }
  if (!args.description.empty()) {
    job_template->set_description(args.description);
    change("description");
  }
  Stages* stages = job_template->mutable_stages();
  if (!args.add_stage.empty()) {
    stages->Add()->set_display_name(args.add_stage);
    change("stages");
  }
  if (!args.remove_stage.empty()) {
    stages->erase(stages->begin() + FindStage(*stages, args.remove_stage));
    change("stages");
  }
  if (args.trigger.HasAction()) {
    *stages->Mutable(FindStage(*stages, args.stage))->add_triggers() =
        args.trigger.Build();
    change("stages");
  }
  if (!args.remove_trigger.empty()) {
    bool removed = false;
    for (ats::v1::Stage& stage : *stages) {
      auto* triggers = stage.mutable_triggers();
      for (auto it = triggers->begin(); it != triggers->end(); ++it) {
        if (it->name() == args.remove_trigger) {
          triggers->erase(it);
          removed = true;
          break;
        }
      }
    }
    if (!removed) {
      throw RpcError(grpc::Status(
          grpc::StatusCode::NOT_FOUND,
          "no trigger " + args.remove_trigger + " in the template"));
    }
    change("stages");
  }
  if (mask->paths().empty()) {
    throw UsageError("nothing to change: see ats-admin templates edit --help");
  }
}

void AddEdit(CLI::App& templates, Session& session) {
  auto args = std::make_shared<EditArgs>();
  auto* edit = AddCommand(
      templates, "edit",
      "Edit a template (the default unless named) as one update guarded by "
      "its etag: from a JSON file of ats.v1.JobTemplate (its display_name, "
      "description and stages replace the template's) or with flags",
      "ats-admin templates edit --stage Screening --integration "
      "integrations/7b90 --option test_package=java-senior\n"
      "  ats-admin templates edit jobTemplates/3e7c --file template.json");
  edit->add_option("name", args->name,
                   "jobTemplates/ID or ID (default: the default)");
  edit->add_option("--file", args->file, "ats.v1.JobTemplate as JSON")
      ->check(CLI::ExistingFile);
  edit->add_option("--display-name", args->display_name, "New name");
  edit->add_option("--description", args->description, "New description");
  edit->add_option("--add-stage", args->add_stage,
                   "Append a stage of this name");
  edit->add_option("--remove-stage", args->remove_stage,
                   "Remove this stage (display name or resource name)");
  edit->add_option("--remove-trigger", args->remove_trigger,
                   "Remove this trigger (its resource name)");
  CLI::Option* stage = edit->add_option(
      "--stage", args->stage, "The stage the trigger flags add a trigger to");
  args->trigger.AddTo(edit);
  edit->callback([&session, args, stage] {
    if (args->trigger.HasAction() && stage->count() == 0) {
      throw UsageError("a trigger needs --stage: the stage to put it on");
    }
    JobTemplate job_template = ReadTemplate(session, args->name);
    ats::v1::UpdateJobTemplateRequest request;
    request.set_etag(job_template.etag());
    ApplyEdits(*args, &job_template, request.mutable_update_mask());
    *request.mutable_job_template() = job_template;
    JobTemplate updated;
    Check(session.Stub<TemplateService>()->UpdateJobTemplate(
        session.Context().get(), request, &updated));
    ShowTemplate(session.output(), updated);
  });
}

}  // namespace

void AddTemplateCommands(CLI::App& app, Session& session) {
  CLI::App* templates =
      AddGroup(app, "templates",
               "Job templates: the stages and triggers new jobs start with",
               "ats-admin templates show");

  auto limit = std::make_shared<int>(100);
  auto* list = AddCommand(*templates, "list", "List the account's templates",
                          "ats-admin templates list");
  AddLimitFlag(list, limit.get());
  list->callback([&session, limit] {
    auto response = ListAll<TemplateService>(
        session, ats::v1::ListJobTemplatesRequest(), *limit,
        &TemplateService::Stub::ListJobTemplates,
        &ats::v1::ListJobTemplatesResponse::mutable_job_templates);
    session.output().List(response, response.job_templates(), kTemplateColumns);
  });

  auto shown = std::make_shared<std::string>();
  auto* show =
      AddCommand(*templates, "show",
                 "Show a template's pipeline (the default unless named)",
                 "ats-admin templates show\n"
                 "  ats-admin templates show jobTemplates/3e7c -o json");
  show->add_option("name", *shown, "jobTemplates/ID or ID");
  show->callback([&session, shown] {
    ShowTemplate(session.output(), ReadTemplate(session, *shown));
  });

  struct CreateArgs {
    std::string display_name, file, request_id;
  };
  auto create_args = std::make_shared<CreateArgs>();
  auto* create = AddCommand(
      *templates, "create",
      "Create a template: from a JSON file of ats.v1.JobTemplate, or a copy "
      "of the default's stages",
      "ats-admin templates create \"Engineering\"\n"
      "  ats-admin templates create \"Sales\" --file sales.json");
  create->add_option("display_name", create_args->display_name, "Name")
      ->required();
  create->add_option("--file", create_args->file, "ats.v1.JobTemplate as JSON")
      ->check(CLI::ExistingFile);
  create->add_option("--request-id", create_args->request_id,
                     "Idempotency key");
  create->callback([&session, args = create_args] {
    ats::v1::CreateJobTemplateRequest request;
    JobTemplate* job_template = request.mutable_job_template();
    if (args->file.empty()) {
      *job_template->mutable_stages() = ReadTemplate(session, "").stages();
      // The copy gets stage and trigger names of its own.
      for (ats::v1::Stage& stage : *job_template->mutable_stages()) {
        stage.clear_name();
        for (ats::v1::Trigger& trigger : *stage.mutable_triggers()) {
          trigger.clear_name();
        }
      }
    } else {
      ReadJsonFile(args->file, job_template);
    }
    job_template->set_display_name(args->display_name);
    request.set_request_id(args->request_id);
    JobTemplate created;
    Check(session.Stub<TemplateService>()->CreateJobTemplate(
        session.Context().get(), request, &created));
    ShowTemplate(session.output(), created);
  });

  AddEdit(*templates, session);

  AddNameCommand<TemplateService>(
      *templates, session, "set-default",
      "Make a template the account's default for new jobs",
      "ats-admin templates set-default jobTemplates/3e7c", "jobTemplates",
      &TemplateService::Stub::SetDefaultJobTemplate);
}

}  // namespace ats::client
