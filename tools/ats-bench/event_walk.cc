#include "tools/ats-bench/event_walk.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ats/v1/integration_service.grpc.pb.h"
#include "tools/ats-bench/api.h"

namespace ats::bench {

absl::Status ForEachEvent(
    const Target& target, const std::string& key,
    const std::function<void(const ats::v1::Event&)>& visit) {
  auto integrations = ats::v1::IntegrationService::NewStub(target.channel());
  ats::v1::ListEventsRequest request;
  request.set_page_size(1000);
  do {
    ats::v1::ListEventsResponse page;
    grpc::Status status =
        integrations->ListEvents(Context(key).get(), request, &page);
    if (!status.ok()) return ToStatus(status, "ListEvents");
    for (const ats::v1::Event& event : page.events()) visit(event);
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  return absl::OkStatus();
}

absl::Status WaitForDelivery(const Target& target, const std::string& key,
                             absl::Duration timeout) {
  auto integrations = ats::v1::IntegrationService::NewStub(target.channel());
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    bool waiting = false;
    for (ats::v1::EventState state :
         {ats::v1::EVENT_STATE_SCHEDULED, ats::v1::EVENT_STATE_PENDING,
          ats::v1::EVENT_STATE_SENDING, ats::v1::EVENT_STATE_RETRYING}) {
      ats::v1::ListEventsRequest request;
      request.set_state(state);
      request.set_page_size(1);
      ats::v1::ListEventsResponse page;
      grpc::Status status =
          integrations->ListEvents(Context(key).get(), request, &page);
      if (!status.ok()) return ToStatus(status, "ListEvents");
      waiting = waiting || page.events_size() > 0;
    }
    if (!waiting) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "events still wait for delivery after ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
}

}  // namespace ats::bench
