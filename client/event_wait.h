// Following events as they are delivered: the polling behind `events watch`
// and behind the --wait of `move` and `trigger`.
#ifndef ATS_CLIENT_EVENT_WAIT_H_
#define ATS_CLIENT_EVENT_WAIT_H_

#include <ostream>
#include <vector>

#include "absl/time/time.h"
#include "ats/v1/event.pb.h"
#include "client/session.h"

namespace ats::client {

// Whether nothing more happens to an event in `state` without the partner
// or a person: SENT, or final.
bool Settled(ats::v1::EventState state);

// Whether an event in `state` stays so by itself: COMPLETED, FAILED, DEAD,
// CANCELED or SKIPPED (SENT still waits for the partner's result).
bool Final(ats::v1::EventState state);

// How to poll.
struct EventWait {
  // Wait for final states, not just settled ones.
  bool until_final = false;
  // The first wait between polls, doubled while nothing changes up to
  // `longest_interval`, and back to the first after a change.
  absl::Duration first_interval = absl::Milliseconds(100);
  absl::Duration longest_interval = absl::Seconds(2);
  absl::Time deadline = absl::InfiniteFuture();
  // Where to print a line for each change of an event's state or attempt
  // count; none when null.
  std::ostream* changes = nullptr;
};

// Polls each of `events` (by name, with GetEvent) until it is settled (or
// final) or `wait.deadline` passes, replacing each with what the server
// last said; changes from the event as given are printed. Throws RpcError
// when a poll fails.
void WaitForEvents(Session& session, const std::vector<ats::v1::Event*>& events,
                   const EventWait& wait);

// Adds --wait to `command` (a command that creates events).
void AddWaitFlag(CLI::App* command, bool* wait);

// What `move` and `trigger` print: `shown` (the response, or the event),
// and with `wait`, the `events` within it followed until each is delivered
// or cannot be: state changes go to stdout after the table (stderr with
// JSON or YAML, where `shown` comes last, with the events as they ended).
// Throws CommandError kExitNotDelivered when an event ends DEAD, CANCELED
// or SKIPPED, and kExitWaitTimedOut when --timeout passes first.
void ShowAndWait(Session& session, bool wait,
                 const google::protobuf::Message& shown,
                 const std::vector<ats::v1::Event*>& events);

// One line for a change of `event`: the time, its name, state, attempts,
// reason and its last attempt's error.
void PrintChange(std::ostream& out, const ats::v1::Event& event);

}  // namespace ats::client

#endif  // ATS_CLIENT_EVENT_WAIT_H_
