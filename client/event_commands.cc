// events: what happened to each firing of a trigger (IntegrationService).

#include <iostream>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ats/v1/integration_service.grpc.pb.h"
#include "client/bulk_progress.h"
#include "client/commands.h"
#include "client/event_wait.h"
#include "google/protobuf/util/time_util.h"

namespace ats::client {
namespace {

using ats::v1::Event;
using ats::v1::EventState;
using ats::v1::IntegrationService;

const std::vector<Column<Event>> kEventColumns = {
    {"NAME", [](const auto& e) { return e.name(); }},
    {"STATE", [](const auto& e) { return Label(e.state()); }},
    {"TO",
     [](const auto& e) {
       return e.integration().empty() ? e.webhook_uri() : e.integration();
     }},
    {"CANDIDATE", [](const auto& e) { return e.candidate(); }},
    {"JOB", [](const auto& e) { return e.job(); }},
    {"SOURCE", [](const auto& e) { return Label(e.source()); }},
    {"ATTEMPTS", [](const auto& e) { return absl::StrCat(e.attempt_count()); }},
    {"UPDATED", [](const auto& e) { return TimeText(e.update_time()); }},
    {"REASON", [](const auto& e) { return e.state_reason(); }},
};

// The event's fields, then its attempts as a table; or its document.
void ShowEvent(const Output& output, const Event& event) {
  if (output.structured()) return output.Print(event);
  Event fields = event;
  fields.clear_attempts();
  PrintFields(fields);
  if (event.attempts().empty()) return;
  std::cout << "\n";
  PrintTable(
      event.attempts(),
      std::vector<Column<ats::v1::DeliveryAttempt>>{
          {"ATTEMPT", [](const auto& a) { return absl::StrCat(a.number()); }},
          {"TIME", [](const auto& a) { return TimeText(a.attempt_time()); }},
          {"HTTP", [](const auto& a) { return absl::StrCat(a.http_status()); }},
          {"LATENCY",
           [](const auto& a) {
             return absl::StrCat(
                 google::protobuf::util::TimeUtil::DurationToMilliseconds(
                     a.latency()),
                 "ms");
           }},
          {"ERROR", [](const auto& a) { return a.error(); }},
      });
}

struct ListArgs {
  std::string candidate, job, integration, state;
  int limit = 100;

  void AddFlags(CLI::App* command) {
    command->add_option("--candidate", candidate, "Only this candidate's");
    command->add_option("--job", job, "Only this job's");
    command->add_option("--integration", integration,
                        "Only this integration's");
    command->add_option("--state", state, EnumChoices<EventState>());
  }

  ats::v1::ListEventsRequest Request() const {
    ats::v1::ListEventsRequest request;
    if (!candidate.empty())
      request.set_candidate(Qualified("candidates", candidate));
    if (!job.empty()) request.set_job(Qualified("jobs", job));
    if (!integration.empty()) {
      request.set_integration(Qualified("integrations", integration));
    }
    if (!state.empty())
      request.set_state(ParseEnum<EventState>(state, "--state"));
    return request;
  }
};

ats::v1::ListEventsResponse ListEvents(Session& session, const ListArgs& args) {
  return ListAll<IntegrationService>(
      session, args.Request(), args.limit,
      &IntegrationService::Stub::ListEvents,
      &ats::v1::ListEventsResponse::mutable_events);
}

struct WatchArgs {
  std::string event;
  ListArgs filters;
  bool until_final = false;
  double interval_seconds = 0.5;
  double max_wait_seconds = 0;  // 0: no limit.
};

// Polls one event, printing each state change, until it settles.
void WatchEvent(Session& session, const WatchArgs& args) {
  Event event;
  event.set_name(Qualified("events", args.event));
  EventWait wait;
  wait.until_final = args.until_final;
  wait.first_interval = wait.longest_interval =
      absl::Seconds(args.interval_seconds);
  if (args.max_wait_seconds > 0) {
    wait.deadline = absl::Now() + absl::Seconds(args.max_wait_seconds);
  }
  if (!session.output().structured()) wait.changes = &std::cout;
  WaitForEvents(session, {&event}, wait);
  if (!(args.until_final ? Final(event.state()) : Settled(event.state()))) {
    throw RpcError(grpc::Status(
        grpc::StatusCode::DEADLINE_EXCEEDED,
        absl::StrCat(event.name(), " is still ", Label(event.state()),
                     " after ", args.max_wait_seconds, "s")));
  }
  if (session.output().structured()) session.output().Print(event);
}

// Polls the filtered list, printing events that are new or changed, until
// --max-wait passes (or forever).
void FollowEvents(Session& session, const WatchArgs& args) {
  const absl::Time deadline =
      args.max_wait_seconds > 0
          ? absl::Now() + absl::Seconds(args.max_wait_seconds)
          : absl::InfiniteFuture();
  std::map<std::string, EventState> shown;
  ListArgs newest = args.filters;
  newest.limit = 100;
  for (;;) {
    ats::v1::ListEventsResponse page = ListEvents(session, newest);
    // Oldest first, so lines come in the order things happened.
    for (auto it = page.events().rbegin(); it != page.events().rend(); ++it) {
      auto [entry, added] = shown.emplace(it->name(), it->state());
      if (!added && entry->second == it->state()) continue;
      entry->second = it->state();
      if (session.output().structured()) {
        session.output().PrintInStream(*it);
      } else {
        PrintChange(std::cout, *it);
      }
    }
    if (absl::Now() >= deadline) return;
    absl::SleepFor(absl::Seconds(args.interval_seconds));
  }
}

void AddWatch(CLI::App& events, Session& session) {
  auto args = std::make_shared<WatchArgs>();
  auto* watch = AddCommand(
      events, "watch",
      "Watch one event until it is SENT or final (--until-final: until "
      "COMPLETED, FAILED, DEAD, CANCELED or SKIPPED), printing each state "
      "change; without an event, follow the events matching the filters as "
      "they come and change (JSON: one event per line; YAML: one document "
      "each)",
      "ats-admin events watch events/0c2b --max-wait 60\n"
      "  ats-admin events watch --job jobs/9a1f");
  watch->add_option("event", args->event, "events/ID or ID");
  args->filters.AddFlags(watch);
  watch->add_flag("--until-final", args->until_final,
                  "Wait for the partner's result, not just delivery");
  watch
      ->add_option("--interval", args->interval_seconds,
                   "Seconds between polls")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  watch
      ->add_option("--max-wait", args->max_wait_seconds,
                   "Give up after this many seconds (exit code 6 for one "
                   "event; following just stops)")
      ->check(CLI::NonNegativeNumber);
  watch->callback([&session, args] {
    args->event.empty() ? FollowEvents(session, *args)
                        : WatchEvent(session, *args);
  });
}

struct RecoverArgs {
  std::string integration, since, until, request_id;
};

void AddRecover(CLI::App& events, Session& session) {
  auto args = std::make_shared<RecoverArgs>();
  auto* recover = AddCommand(
      events, "recover",
      "Deliver again the DEAD events of an integration that died in a time "
      "window (since, until or now), as one bulk operation, oldest first, "
      "showing its progress. Ctrl-C stops watching, not the operation",
      "ats-admin events recover --integration integrations/7b90 --since "
      "2026-12-01T00:00:00Z");
  recover
      ->add_option("--integration", args->integration,
                   "The integration (integrations/ID or ID)")
      ->required();
  recover
      ->add_option("--since", args->since,
                   "Events that died at or after this RFC 3339 time")
      ->required();
  recover->add_option("--until", args->until,
                      "Only events that died before this RFC 3339 time "
                      "(default: now)");
  recover->add_option("--request-id", args->request_id,
                      "Idempotency key: a retry watches the same operation");
  recover->callback([&session, args] {
    ats::v1::RecoverEventsRequest request;
    request.set_integration(Qualified("integrations", args->integration));
    *request.mutable_since() = ParseTime(args->since, "--since");
    if (!args->until.empty()) {
      *request.mutable_until() = ParseTime(args->until, "--until");
    }
    request.set_request_id(args->request_id);
    auto stub = session.Stub<IntegrationService>();
    FollowBulkStream(session, [&](grpc::ClientContext* context) {
      return stub->RecoverEvents(context, request);
    });
  });
}

}  // namespace

void AddEventCommands(CLI::App& app, Session& session) {
  CLI::App* events =
      AddGroup(app, "events",
               "Events: each firing of a trigger for a candidate, its delivery "
               "attempts and the partner's result",
               "ats-admin events list --state dead");

  auto list_args = std::make_shared<ListArgs>();
  auto* list = AddCommand(*events, "list", "List events, newest first",
                          "ats-admin events list --job jobs/9a1f --state dead");
  list_args->AddFlags(list);
  AddLimitFlag(list, &list_args->limit);
  list->callback([&session, list_args] {
    const auto response = ListEvents(session, *list_args);
    session.output().List(response, response.events(), kEventColumns);
  });

  auto shown = std::make_shared<std::string>();
  auto* show = AddCommand(*events, "show",
                          "Show an event with its delivery attempts and result",
                          "ats-admin events show events/0c2b");
  show->add_option("event", *shown, "events/ID or ID")->required();
  show->callback([&session, shown] {
    ats::v1::GetEventRequest request;
    request.set_name(Qualified("events", *shown));
    Event event;
    Check(session.Stub<IntegrationService>()->GetEvent(session.Context().get(),
                                                       request, &event));
    ShowEvent(session.output(), event);
  });

  AddNameCommand<IntegrationService>(
      *events, session, "retry",
      "Deliver a DEAD or FAILED event again, from a fresh retry schedule",
      "ats-admin events retry events/0c2b", "events",
      &IntegrationService::Stub::RetryEvent);
  AddNameCommand<IntegrationService>(
      *events, session, "cancel",
      "Cancel a SCHEDULED, PENDING or RETRYING event",
      "ats-admin events cancel events/0c2b", "events",
      &IntegrationService::Stub::CancelEvent);
  AddWatch(*events, session);
  AddRecover(*events, session);
}

}  // namespace ats::client
