// candidates (the candidate database, CSV import) and move: JobService.

#include <fstream>
#include <iostream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ats/v1/job_service.grpc.pb.h"
#include "client/commands.h"
#include "client/csv.h"
#include "client/event_wait.h"
#include "client/pipeline.h"

namespace ats::client {
namespace {

using ats::v1::Candidate;
using ats::v1::JobService;

const std::vector<Column<Candidate>> kCandidateColumns = {
    {"NAME", [](const auto& c) { return c.name(); }},
    {"GIVEN NAME", [](const auto& c) { return c.given_name(); }},
    {"FAMILY NAME", [](const auto& c) { return c.family_name(); }},
    {"EMAIL", [](const auto& c) { return c.email(); }},
    {"TAGS", [](const auto& c) { return absl::StrJoin(c.tags(), " "); }},
};

// Where new candidates go: a job (and a stage of it), or nowhere.
struct Placement {
  std::string job, stage;

  void AddFlags(CLI::App* command) {
    CLI::Option* job_flag = command->add_option(
        "--job", job, "Also add to this job (jobs/ID or ID)");
    command
        ->add_option("--stage", stage,
                     "Start in this stage (default: the first)")
        ->needs(job_flag);
  }
};

// Puts `candidate` in the placement's job, firing the stage's triggers.
ats::v1::AddCandidateToJobResponse AddToJob(Session& session,
                                            const Placement& placement,
                                            const std::string& candidate) {
  ats::v1::AddCandidateToJobRequest request;
  request.set_job(Qualified("jobs", placement.job));
  request.set_candidate(Qualified("candidates", candidate));
  if (!placement.stage.empty()) {
    request.set_stage(ResolveJobStage(session, placement.job, placement.stage));
  }
  ats::v1::AddCandidateToJobResponse response;
  auto stub = session.Stub<JobService>();
  Check(WaitingOutRateLimits([&] {
    return stub->AddCandidateToJob(session.Context().get(), request, &response);
  }));
  return response;
}

void AddAdd(CLI::App& candidates, Session& session) {
  struct AddArgs {
    Candidate candidate;
    std::vector<std::string> tags;
    std::string request_id;
    Placement placement;
  };
  auto args = std::make_shared<AddArgs>();
  auto* add = AddCommand(
      candidates, "add", "Add a candidate, and optionally put them in a job",
      "ats-admin candidates add --given-name Ada --family-name Lovelace "
      "--email ada@example.com --job jobs/9a1f");
  Candidate* c = &args->candidate;
  add->add_option_function<std::string>(
         "--given-name", [c](const std::string& v) { c->set_given_name(v); },
         "Given (first) name")
      ->required();
  add->add_option_function<std::string>(
      "--family-name", [c](const std::string& v) { c->set_family_name(v); },
      "Family (last) name");
  add->add_option_function<std::string>(
      "--email", [c](const std::string& v) { c->set_email(v); }, "Email");
  add->add_option_function<std::string>(
      "--phone", [c](const std::string& v) { c->set_phone(v); }, "Phone");
  add->add_option("--tag", args->tags, "A tag (repeatable)");
  add->add_option("--request-id", args->request_id, "Idempotency key");
  args->placement.AddFlags(add);
  add->callback([&session, args] {
    ats::v1::CreateCandidateRequest request;
    *request.mutable_candidate() = args->candidate;
    for (const std::string& tag : args->tags) {
      request.mutable_candidate()->add_tags(tag);
    }
    request.set_request_id(args->request_id);
    Candidate created;
    Check(session.Stub<JobService>()->CreateCandidate(session.Context().get(),
                                                      request, &created));
    if (args->placement.job.empty()) return session.output().Show(created);
    const auto added = AddToJob(session, args->placement, created.name());
    session.output().Show(created);
    if (!session.output().structured()) {
      std::cout << "\nin " << added.application().stage() << " as "
                << added.application().name() << ", " << added.events_size()
                << " event(s)\n";
    }
  });

  auto apply_args = std::make_shared<std::pair<std::string, Placement>>();
  auto* apply = AddCommand(
      candidates, "add-to-job",
      "Put a candidate in a job (fires the triggers of the stage entered)",
      "ats-admin candidates add-to-job candidates/51aa --job jobs/9a1f --stage "
      "Screening");
  apply->add_option("candidate", apply_args->first, "candidates/ID or ID")
      ->required();
  apply_args->second.AddFlags(apply);
  apply->callback([&session, apply_args] {
    if (apply_args->second.job.empty()) throw UsageError("--job is required");
    session.output().Show(
        AddToJob(session, apply_args->second, apply_args->first));
  });
}

// `candidates import`: one candidate per CSV row.
void AddImport(CLI::App& candidates, Session& session) {
  struct ImportArgs {
    std::string file;
    Placement placement;
  };
  auto args = std::make_shared<ImportArgs>();
  auto* import = AddCommand(
      candidates, "import",
      "Add candidates from a CSV file with a header row naming columns among "
      "given_name, family_name, email, phone, tags (space-separated); each "
      "row's outcome is listed, and a failed row fails the command after "
      "the others are done",
      "ats-admin candidates import people.csv --job jobs/9a1f");
  import->add_option("file", args->file, "CSV file")
      ->required()
      ->check(CLI::ExistingFile);
  args->placement.AddFlags(import);
  import->callback([&session, args] {
    std::ifstream in(args->file);
  const std::vector<CsvRow> rows = ReadCsvWithHeader(in);
  auto stub = session.Stub<JobService>();
  ats::v1::ListCandidatesResponse created;
  std::vector<std::vector<std::string>> outcomes;
  grpc::Status first_failure;
  for (const CsvRow& row : rows) {
    ats::v1::CreateCandidateRequest request;
    Candidate* candidate = request.mutable_candidate();
    candidate->set_given_name(row.Get("given_name"));
    candidate->set_family_name(row.Get("family_name"));
    candidate->set_email(row.Get("email"));
    candidate->set_phone(row.Get("phone"));
    for (absl::string_view tag :
         absl::StrSplit(row.Get("tags"), ' ', absl::SkipEmpty())) {
      candidate->add_tags(std::string(tag));
    }
    Candidate added;
    // An import may go faster than the key's rate limit: it then slows to
    // the pace the server asks for rather than fail rows.
    grpc::Status status = WaitingOutRateLimits([&] {
      return stub->CreateCandidate(session.Context().get(), request, &added);
    });
    try {
      Check(status);
      if (!args->placement.job.empty()) {
        AddToJob(session, args->placement, added.name());
      }
    } catch (const RpcError& error) {
      status = error.status();
    }
    if (status.ok()) *created.add_candidates() = added;
    if (!status.ok() && first_failure.ok()) first_failure = status;
    outcomes.push_back({absl::StrCat(row.line), candidate->email(),
                        status.ok() ? added.name() : "",
                        status.ok() ? "added" : status.error_message()});
  }
  if (session.output().structured()) {
    session.output().Print(created);
  } else {
    PrintTable({"LINE", "EMAIL", "NAME", "RESULT"}, outcomes);
  }
  if (!first_failure.ok()) throw RpcError(first_failure);
});
}  // namespace

}  // namespace ats::client

void AddCandidateCommands(CLI::App& app, Session& session) {
  CLI::App* candidates =
      AddGroup(app, "candidates", "The account's candidate database",
               "ats-admin candidates list --tag backend");
  AddAdd(*candidates, session);

  struct ListArgs {
    std::string tag, email, name;
    int limit = 100;
  };
  auto list_args = std::make_shared<ListArgs>();
  auto* list = AddCommand(*candidates, "list", "List candidates, newest first",
                          "ats-admin candidates list --tag backend --name ada");
  list->add_option("--tag", list_args->tag, "Only candidates with this tag");
  list->add_option("--email", list_args->email, "Only the one with this email");
  list->add_option("--name", list_args->name, "Only names containing this");
  AddLimitFlag(list, &list_args->limit);
  list->callback([&session, args = list_args] {
    ats::v1::ListCandidatesRequest request;
    request.set_tag(args->tag);
    request.set_email(args->email);
    request.set_name_contains(args->name);
    auto response = ListAll<JobService>(
        session, request, args->limit, &JobService::Stub::ListCandidates,
        &ats::v1::ListCandidatesResponse::mutable_candidates);
    session.output().List(response, response.candidates(), kCandidateColumns);
  });

  AddNameCommand<JobService>(*candidates, session, "show", "Show a candidate",
                             "ats-admin candidates show candidates/51aa",
                             "candidates", &JobService::Stub::GetCandidate);
  AddImport(*candidates, session);

  struct MoveArgs {
    std::string job, candidate, stage, request_id;
    bool wait = false;
  };
  auto move_args = std::make_shared<MoveArgs>();
  auto* move =
      AddCommand(app, "move",
                 "Move a candidate to another stage of a job, firing "
                 "that stage's triggers",
                 "ats-admin move jobs/9a1f candidates/51aa Screening\n"
                 "  ats-admin move jobs/9a1f candidates/51aa Screening "
                 "--wait --timeout 120");
  move->add_option("job", move_args->job, "jobs/ID or ID")->required();
  move->add_option("candidate", move_args->candidate, "candidates/ID or ID")
      ->required();
  move->add_option("stage", move_args->stage, "Display name or resource name")
      ->required();
  move->add_option("--request-id", move_args->request_id,
                   "Idempotency key: a retry fires nothing twice");
  AddWaitFlag(move, &move_args->wait);
  move->callback([&session, args = move_args] {
    const std::string job = Qualified("jobs", args->job);
    const std::string candidate = Qualified("candidates", args->candidate);
    ats::v1::MoveCandidateRequest request;
    request.set_name(job + "/applications/" +
                     candidate.substr(candidate.find('/') + 1));
    request.set_stage(ResolveJobStage(session, job, args->stage));
    request.set_request_id(args->request_id);
    ats::v1::MoveCandidateResponse response;
    Check(session.Stub<JobService>()->MoveCandidate(session.Context().get(),
                                                    request, &response));
    std::vector<ats::v1::Event*> events;
    for (ats::v1::Event& event : *response.mutable_events()) {
      events.push_back(&event);
    }
    ShowAndWait(session, args->wait, response, events);
  });
}

}  // namespace ats::client
