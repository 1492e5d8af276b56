#include "server/domain/event_convert.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "ats/v1/integration_service.pb.h"
#include "google/protobuf/descriptor.h"
#include "server/common/validation.h"
#include "server/contract/timestamps.h"
#include "server/domain/marketplace.h"
#include "server/domain/pipeline_convert.h"

namespace ats::server {

const std::string& ReportPartnerResultMethod() {
  // Found by its request type, so the name partners are told follows the
  // proto rather than a copy of it.
  static const std::string* const method = [] {
    const google::protobuf::Descriptor* request =
        ats::v1::ReportPartnerResultRequest::descriptor();
    const google::protobuf::FileDescriptor* file = request->file();
    for (int s = 0; s < file->service_count(); ++s) {
      const google::protobuf::ServiceDescriptor* service = file->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        if (service->method(m)->input_type() == request) {
          return new std::string(absl::StrCat(service->full_name(), "/",
                                              service->method(m)->name()));
        }
      }
    }
    return new std::string();
  }();
  return *method;
}

std::string EventName(std::string_view event_id) {
  return FormatName(kEventPattern, {event_id});
}

std::string ApiKeyName(std::string_view key_id) {
  return absl::StrCat("apiKeys/", std::string(key_id));
}

std::string BulkOperationName(std::string_view bulk_operation_id) {
  return absl::StrCat("bulkOperations/", std::string(bulk_operation_id));
}

void EventToProto(storage::EventRow row, ats::v1::Event* event) {
  event->set_name(EventName(row.id));
  event->set_state(row.state);
  event->set_state_reason(std::move(row.state_reason));
  if (!row.integration_id.empty()) {
    event->set_integration(IntegrationName(row.integration_id));
  }
  event->set_webhook_uri(std::move(row.webhook_uri));
  if (!row.candidate_id.empty()) {
    event->set_candidate(CandidateName(row.candidate_id));
  }
  if (!row.job_id.empty()) event->set_job(JobName(row.job_id));
  event->set_source(row.source);
  if (row.payload.has_stage_trigger()) {
    event->mutable_stage_trigger()->Swap(row.payload.mutable_stage_trigger());
  }
  if (!row.bulk_operation_id.empty()) {
    event->set_bulk_operation(BulkOperationName(row.bulk_operation_id));
  }
  if (!row.triggered_by.empty()) {
    event->set_triggered_by(ApiKeyName(row.triggered_by));
  }
  event->mutable_option_values()->swap(*row.payload.mutable_option_values());
  if (row.payload.has_notification()) {
    event->mutable_notification()->Swap(row.payload.mutable_notification());
  }
  *event->mutable_create_time() = ToProtoTime(row.create_time);
  *event->mutable_due_time() = ToProtoTime(row.due_time);
  *event->mutable_update_time() = ToProtoTime(row.update_time);
  event->set_attempt_count(row.attempt_count);
  if (row.result.has_value()) event->mutable_result()->Swap(&*row.result);
  if (row.automatic_move.has_value()) {
    event->mutable_automatic_move()->Swap(&*row.automatic_move);
  }
  event->set_partner_message(std::move(row.partner_message));
}

void AttemptToProto(const storage::AttemptRow& row,
                    ats::v1::DeliveryAttempt* attempt) {
  attempt->set_number(row.number);
  *attempt->mutable_attempt_time() = ToProtoTime(row.attempt_time);
  attempt->set_http_status(row.http_status);
  *attempt->mutable_latency() = ToProtoDuration(row.latency);
  attempt->set_error(row.error);
  attempt->set_partner_message(row.partner_message);
}

}  // namespace ats::server
