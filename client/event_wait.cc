#include "client/event_wait.h"

#include <algorithm>
#include <iostream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "ats/v1/integration_service.grpc.pb.h"
#include "client/args.h"
#include "client/errors.h"

namespace ats::client {
namespace {

using ats::v1::Event;
using ats::v1::EventState;

// Whether the partner has the event: it accepted it (SENT), and may have
// reported on it already (COMPLETED, FAILED).
bool Delivered(EventState state) {
  return state == ats::v1::EVENT_STATE_SENT ||
         state == ats::v1::EVENT_STATE_COMPLETED ||
         state == ats::v1::EVENT_STATE_FAILED;
}

}  // namespace

bool Settled(EventState state) {
  return state != ats::v1::EVENT_STATE_SCHEDULED &&
         state != ats::v1::EVENT_STATE_PENDING &&
         state != ats::v1::EVENT_STATE_SENDING &&
         state != ats::v1::EVENT_STATE_RETRYING &&
         state != ats::v1::EVENT_STATE_UNSPECIFIED;
}

bool Final(EventState state) {
  return Settled(state) && state != ats::v1::EVENT_STATE_SENT;
}

void PrintChange(std::ostream& out, const Event& event) {
  out << absl::FormatTime("%H:%M:%S", absl::Now(), absl::UTCTimeZone()) << "  "
      << event.name() << "  " << Label(event.state());
  if (event.attempt_count() > 0) out << "  attempts " << event.attempt_count();
  if (!event.state_reason().empty()) out << "  " << event.state_reason();
  if (!event.attempts().empty()) {
    const ats::v1::DeliveryAttempt& last = *event.attempts().rbegin();
    // The reason often quotes it already.
    if (!absl::StrContains(event.state_reason(), last.error())) {
      out << "  last error: " << last.error();
    }
  }
  out << std::endl;
}

void WaitForEvents(Session& session, const std::vector<Event*>& events,
                   const EventWait& wait) {
  auto stub = session.Stub<ats::v1::IntegrationService>();
  const auto done = [&wait](const Event* event) {
    return wait.until_final ? Final(event->state()) : Settled(event->state());
  };
  absl::Duration interval = wait.first_interval;
  for (;;) {
    bool changed = false;
    for (Event* event : events) {
      if (done(event)) continue;
      ats::v1::GetEventRequest request;
      request.set_name(event->name());
      Event now;
      Check(stub->GetEvent(session.Context().get(), request, &now));
      if (now.state() != event->state() ||
          now.attempt_count() != event->attempt_count()) {
        if (wait.changes != nullptr) PrintChange(*wait.changes, now);
        changed = true;
      }
      *event = std::move(now);
    }
    if (std::all_of(events.begin(), events.end(), done)) return;
    const absl::Time now = absl::Now();
    if (now >= wait.deadline) return;
    interval = changed ? wait.first_interval
                       : std::min(interval * 2, wait.longest_interval);
    absl::SleepFor(std::min(interval, wait.deadline - now));
  }
}

void AddWaitFlag(CLI::App* command, bool* wait) {
  command->add_flag(
      "--wait", *wait,
      "Follow the events created until each is delivered (SENT), printing "
      "each state change; exit 7 if one is DEAD, CANCELED or SKIPPED, 8 if "
      "--timeout passes first");
}

void ShowAndWait(Session& session, bool wait,
                 const google::protobuf::Message& shown,
                 const std::vector<Event*>& events) {
  const Output& output = session.output();
  if (!wait) return output.Show(shown);
  if (!output.structured()) {
    output.Show(shown);
    std::cout << std::endl;
  }
  EventWait following;
  following.deadline = absl::Now() + absl::Seconds(session.timeout_seconds());
  following.changes = output.structured() ? &std::cerr : &std::cout;
  WaitForEvents(session, events, following);
  if (output.structured()) output.Show(shown);

  std::vector<std::string> undelivered, underway;
  for (const Event* event : events) {
    const std::string line = absl::StrCat(
        event->name(), " is ", Label(event->state()),
        event->state_reason().empty() ? "" : ": ", event->state_reason());
    if (!Settled(event->state())) {
      underway.push_back(line);
    } else if (!Delivered(event->state())) {
      undelivered.push_back(line);
    }
  }
  if (!undelivered.empty()) {
    throw CommandError(
        kExitNotDelivered,
        absl::StrCat("not delivered: ", absl::StrJoin(undelivered, "; ")));
  }
  if (!underway.empty()) {
    throw CommandError(
        kExitWaitTimedOut,
        absl::StrCat("gave up waiting after ", session.timeout_seconds(),
                     "s (--timeout): ", absl::StrJoin(underway, "; ")));
  }
}

}  // namespace ats::client
