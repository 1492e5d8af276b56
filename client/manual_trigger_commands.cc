// trigger, bulk-trigger and bulk-ops: manual triggers and bulk operations
// (IntegrationService).

#include <fstream>
#include <iostream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ats/v1/integration_service.grpc.pb.h"
#include "client/bulk_progress.h"
#include "client/commands.h"
#include "client/event_wait.h"
#include "client/pipeline.h"
#include "client/trigger_flags.h"

namespace ats::client {
namespace {

using ats::v1::BulkOperation;
using ats::v1::IntegrationService;

const std::vector<Column<BulkOperation>> kBulkColumns = {
    {"NAME", [](const auto& b) { return b.name(); }},
    {"STATE", [](const auto& b) { return Label(b.state()); }},
    {"INTEGRATION", [](const auto& b) { return b.integration(); }},
    {"KIND", [](const auto& b) { return Label(b.kind()); }},
    {"TOTAL", [](const auto& b) { return absl::StrCat(b.total_count()); }},
    {"CREATED", [](const auto& b) { return absl::StrCat(b.created_count()); }},
    {"REQUEUED",
     [](const auto& b) { return absl::StrCat(b.requeued_count()); }},
    {"SKIPPED", [](const auto& b) { return absl::StrCat(b.skipped_count()); }},
    {"FAILED", [](const auto& b) { return absl::StrCat(b.failed_count()); }},
    {"STARTED", [](const auto& b) { return TimeText(b.create_time()); }},
};

const std::vector<Column<ats::v1::BulkOperationItem>> kItemColumns = {
    {"CANDIDATE", [](const auto& i) { return i.candidate(); }},
    {"OUTCOME", [](const auto& i) { return Label(i.outcome()); }},
    {"EVENT", [](const auto& i) { return i.event(); }},
    {"REASON", [](const auto& i) { return i.reason(); }},
};

void CancelBulk(Session& session, const std::string& name) {
  ats::v1::CancelBulkOperationRequest request;
  request.set_name(Qualified("bulkOperations", name));
  BulkOperation operation;
  Check(session.Stub<IntegrationService>()->CancelBulkOperation(
      session.Context().get(), request, &operation));
  session.output().Show(operation);
}

// Polls a bulk operation, showing its progress, until it is no longer
// RUNNING or Ctrl-C; then shows it.
void WatchBulk(Session& session, const std::string& name) {
  ats::v1::GetBulkOperationRequest request;
  request.set_name(Qualified("bulkOperations", name));
  auto stub = session.Stub<IntegrationService>();
  BulkProgress progress(session.output());
  InterruptWatcher interrupt([] {});
  BulkOperation operation;
  for (;;) {
    Check(stub->GetBulkOperation(session.Context().get(), request, &operation));
    progress.Update(operation);
    if (operation.state() != ats::v1::BULK_OPERATION_STATE_RUNNING) break;
    if (interrupt.interrupted()) {
      progress.Done();
      return PrintDetached(operation.name());
    }
    absl::SleepFor(absl::Milliseconds(300));
  }
  progress.Done();
  session.output().Show(operation);
}

// Which candidates a bulk trigger reaches, from the selection flags.
struct SelectionFlags {
  std::vector<std::string> candidates;
  std::string file, job, stage, tag;
  bool all = false;

  void AddTo(CLI::App* command) {
    command
        ->add_option("--candidates", candidates,
                     "These candidates (comma-separated, candidates/ID or ID)")
        ->delimiter(',');
    command
        ->add_option("--file", file,
                     "The candidates listed in a file, one per line")
        ->check(CLI::ExistingFile);
    CLI::Option* job_flag =
        command->add_option("--job", job, "Everyone in this job");
    command->add_option("--stage", stage, "Only those in this stage of --job")
        ->needs(job_flag);
    command->add_option("--tag", tag, "Everyone with this tag");
    command->add_flag("--all", all, "Every candidate of the account");
  }

  ats::v1::CandidateSelection Build(Session& session) const {
    const int kinds =
        !candidates.empty() + !file.empty() + !job.empty() + !tag.empty() + all;
    if (kinds != 1) {
      throw UsageError(
          "choose the candidates with exactly one of --candidates, --file, "
          "--job, --tag, --all");
    }
    ats::v1::CandidateSelection selection;
    if (!candidates.empty() || !file.empty()) {
      auto* list = selection.mutable_candidates();
      for (const std::string& candidate : candidates) {
        list->add_candidates(Qualified("candidates", candidate));
      }
      std::ifstream in(file);
      for (std::string line; !file.empty() && std::getline(in, line);) {
        const std::string candidate(absl::StripAsciiWhitespace(line));
        if (!candidate.empty())
          list->add_candidates(Qualified("candidates", candidate));
      }
    } else if (!job.empty()) {
      selection.mutable_job()->set_job(Qualified("jobs", job));
      if (!stage.empty()) {
        selection.mutable_job()->set_stage(
            ResolveJobStage(session, job, stage));
      }
    } else if (!tag.empty()) {
      selection.set_tag(tag);
    } else {
      selection.set_all_candidates(true);
    }
    return selection;
  }
};

struct BulkArgs {
  std::string integration, cancel, request_id;
  std::vector<std::string> options;
  SelectionFlags selection;
};

// Starts a bulk trigger and shows its progress from the stream until it
// ends, or until Ctrl-C, which stops watching but not the operation.
void StartBulk(Session& session, const BulkArgs& args) {
  if (args.integration.empty()) {
    throw UsageError("name the integration to trigger (or --cancel ID)");
  }
  ats::v1::BulkTriggerIntegrationRequest request;
  request.set_integration(Qualified("integrations", args.integration));
  *request.mutable_selection() = args.selection.Build(session);
  PutKeyValues(args.options, "--option", request.mutable_option_values());
  request.set_request_id(args.request_id);
  auto stub = session.Stub<IntegrationService>();
  FollowBulkStream(session, [&](grpc::ClientContext* context) {
    return stub->BulkTriggerIntegration(context, request);
  });
}

void AddBulkOps(CLI::App& app, Session& session) {
  CLI::App* bulk_ops =
      AddGroup(app, "bulk-ops",
               "Bulk operations (bulk triggers, event recovers) and their "
               "progress",
               "ats-admin bulk-ops list");

  auto limit = std::make_shared<int>(100);
  auto* list =
      AddCommand(*bulk_ops, "list", "List bulk operations, newest first",
                 "ats-admin bulk-ops list");
  AddLimitFlag(list, limit.get());
  list->callback([&session, limit] {
    auto response = ListAll<IntegrationService>(
        session, ats::v1::ListBulkOperationsRequest(), *limit,
        &IntegrationService::Stub::ListBulkOperations,
        &ats::v1::ListBulkOperationsResponse::mutable_bulk_operations);
    session.output().List(response, response.bulk_operations(), kBulkColumns);
  });

  AddNameCommand<IntegrationService>(
      *bulk_ops, session, "show", "Show a bulk operation and its counters",
      "ats-admin bulk-ops show bulkOperations/6d0e", "bulkOperations",
      &IntegrationService::Stub::GetBulkOperation);

  struct ItemArgs {
    std::string name, outcome;
    int limit = 1000;
  };
  auto item_args = std::make_shared<ItemArgs>();
  auto* items = AddCommand(
      *bulk_ops, "items",
      "What the operation did for each candidate (or event, for a recover)",
      "ats-admin bulk-ops items bulkOperations/6d0e --outcome skipped");
  items->add_option("name", item_args->name, "bulkOperations/ID or ID")
      ->required();
  items->add_option("--outcome", item_args->outcome,
                    EnumChoices<ats::v1::BulkItemOutcome>());
  AddLimitFlag(items, &item_args->limit);
  items->callback([&session, args = item_args] {
    ats::v1::ListBulkOperationItemsRequest request;
    request.set_parent(Qualified("bulkOperations", args->name));
    if (!args->outcome.empty()) {
      request.set_outcome(
          ParseEnum<ats::v1::BulkItemOutcome>(args->outcome, "--outcome"));
    }
    auto response = ListAll<IntegrationService>(
        session, request, args->limit,
        &IntegrationService::Stub::ListBulkOperationItems,
        &ats::v1::ListBulkOperationItemsResponse::mutable_items);
    session.output().List(response, response.items(), kItemColumns);
  });

  auto watched = std::make_shared<std::string>();
  auto* watch = AddCommand(
      *bulk_ops, "watch",
      "Show a bulk operation's progress until it ends (Ctrl-C stops watching)",
      "ats-admin bulk-ops watch bulkOperations/6d0e");
  watch->add_option("name", *watched, "bulkOperations/ID or ID")->required();
  watch->callback([&session, watched] { WatchBulk(session, *watched); });

  auto cancelled = std::make_shared<std::string>();
  auto* cancel = AddCommand(
      *bulk_ops, "cancel",
      "Cancel a running bulk operation; events already created are kept",
      "ats-admin bulk-ops cancel bulkOperations/6d0e");
  cancel->add_option("name", *cancelled, "bulkOperations/ID or ID")->required();
  cancel->callback([&session, cancelled] { CancelBulk(session, *cancelled); });
}

}  // namespace

void AddManualTriggerCommands(CLI::App& app, Session& session) {
  struct TriggerArgs {
    std::string integration, candidate, job, request_id;
    std::vector<std::string> options;
    bool wait = false;
  };
  auto trigger_args = std::make_shared<TriggerArgs>();
  auto* trigger = AddCommand(
      app, "trigger",
      "Send an integration event for one candidate by hand, optionally in "
      "the context of a job they are in",
      "ats-admin trigger integrations/7b90 candidates/51aa --option "
      "test_package=sql-basics --wait");
  trigger
      ->add_option("integration", trigger_args->integration,
                   "integrations/ID or ID")
      ->required();
  trigger
      ->add_option("candidate", trigger_args->candidate, "candidates/ID or ID")
      ->required();
  trigger->add_option("--job", trigger_args->job,
                      "Job context (jobs/ID or ID)");
  AddOptionValuesFlag(trigger, &trigger_args->options);
  trigger->add_option("--request-id", trigger_args->request_id,
                      "Idempotency key: a retry returns the same event");
  AddWaitFlag(trigger, &trigger_args->wait);
  trigger->callback([&session, args = trigger_args] {
    ats::v1::TriggerIntegrationRequest request;
    request.set_integration(Qualified("integrations", args->integration));
    request.set_candidate(Qualified("candidates", args->candidate));
    if (!args->job.empty()) request.set_job(Qualified("jobs", args->job));
    PutKeyValues(args->options, "--option", request.mutable_option_values());
    request.set_request_id(args->request_id);
    ats::v1::TriggerIntegrationResponse response;
    Check(session.Stub<IntegrationService>()->TriggerIntegration(
        session.Context().get(), request, &response));
    ats::v1::Event* event = response.mutable_event();
    ShowAndWait(session, args->wait, *event, {event});
  });

  auto bulk_args = std::make_shared<BulkArgs>();
  auto* bulk = AddCommand(
      app, "bulk-trigger",
      "Send an integration event to many candidates as one operation, "
      "showing its progress. Ctrl-C stops watching, not the operation; "
      "--cancel ID cancels one",
      "ats-admin bulk-trigger integrations/7b90 --job jobs/9a1f --stage "
      "Screening --option test_package=java-senior\n"
      "  ats-admin bulk-trigger --cancel bulkOperations/6d0e");
  bulk->add_option("integration", bulk_args->integration,
                   "integrations/ID or ID");
  bulk_args->selection.AddTo(bulk);
  AddOptionValuesFlag(bulk, &bulk_args->options);
  bulk->add_option("--request-id", bulk_args->request_id,
                   "Idempotency key: a retry watches the same operation");
  bulk->add_option(
      "--cancel", bulk_args->cancel,
      "Cancel this bulk operation instead (bulkOperations/ID or ID)");
  bulk->callback([&session, args = bulk_args] {
    args->cancel.empty() ? StartBulk(session, *args)
                         : CancelBulk(session, args->cancel);
  });

  AddBulkOps(app, session);
}

}  // namespace ats::client
