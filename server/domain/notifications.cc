#include "server/domain/notifications.h"

#include <string>
#include <utility>

#include "server/contract/timestamps.h"
#include "server/domain/event_convert.h"
#include "server/domain/marketplace.h"
#include "server/domain/new_event.h"
#include "server/domain/pipeline_convert.h"

namespace ats::server {
namespace {

// Queues `notification` for account `account_id` at `now`, in `txn`: a
// PENDING event due at once to the account's notification endpoint;
// nothing when the account has none.
absl::Status Notify(storage::Transaction& txn, const std::string& account_id,
                    ats::v1::Notification notification, absl::Time now,
                    RandomSource& random) {
  auto account = txn.accounts().GetAccount(account_id);
  // An account whose sealed secret no longer opens (DATA_LOSS) could not
  // sign a notification anyway; failing here would fail the write of what
  // is being told, a claim or a record of every account's events with it.
  if (absl::IsDataLoss(account.status())) return absl::OkStatus();
  if (!account.ok()) return account.status();
  if (account->notification_uri.empty()) return absl::OkStatus();

  EventOrigin origin;
  origin.account_id = account_id;
  origin.source = ats::v1::EVENT_SOURCE_NOTIFICATION;
  origin.now = now;
  storage::EventRow event = NewEvent(origin, /*candidate_id=*/"", random);
  event.webhook_uri = account->notification_uri;
  *event.payload.mutable_notification() = std::move(notification);
  return InsertNewEvent(txn, event, random);
}

}  // namespace

absl::Status NotifyEventDead(storage::Transaction& txn,
                             const storage::EventRow& event, absl::Time now,
                             RandomSource& random) {
  if (event.source == ats::v1::EVENT_SOURCE_NOTIFICATION) {
    return absl::OkStatus();
  }
  ats::v1::Notification notification;
  notification.set_type(kEventDead);
  ats::v1::EventDeadNotification& dead = *notification.mutable_event_dead();
  dead.set_event(EventName(event.id));
  if (!event.integration_id.empty()) {
    dead.set_integration(IntegrationName(event.integration_id));
  }
  dead.set_webhook_uri(event.webhook_uri);
  dead.set_candidate(CandidateName(event.candidate_id));
  if (!event.job_id.empty()) dead.set_job(JobName(event.job_id));
  dead.set_reason(event.state_reason);
  dead.set_attempt_count(event.attempt_count);
  dead.set_partner_message(event.partner_message);
  return Notify(txn, event.account_id, std::move(notification), now, random);
}

absl::Status NotifyIntegrationDisabled(
    storage::Transaction& txn, const storage::IntegrationRow& integration,
    absl::Time now, RandomSource& random) {
  ats::v1::Notification notification;
  notification.set_type(kIntegrationDisabled);
  ats::v1::IntegrationDisabledNotification& disabled =
      *notification.mutable_integration_disabled();
  disabled.set_integration(IntegrationName(integration.id));
  disabled.set_partner(PartnerName(integration.partner_id));
  disabled.set_reason(integration.endpoint_disabled_reason);
  if (integration.failing_since.has_value()) {
    *disabled.mutable_failing_since() = ToProtoTime(*integration.failing_since);
    disabled.set_failed_attempts(integration.failed_attempts);
  }
  return Notify(txn, integration.account_id, std::move(notification), now,
                random);
}

absl::Status NotifyBulkOperationFinished(
    storage::Transaction& txn, const storage::BulkOperationRow& operation,
    absl::Time now, RandomSource& random) {
  ats::v1::Notification notification;
  notification.set_type(kBulkOperationFinished);
  ats::v1::BulkOperationFinishedNotification& finished =
      *notification.mutable_bulk_operation_finished();
  finished.set_bulk_operation(BulkOperationName(operation.id));
  finished.set_integration(IntegrationName(operation.integration_id));
  finished.set_kind(ats::v1::BulkOperationKind_Name(operation.kind));
  finished.set_state(ats::v1::BulkOperationState_Name(operation.state));
  finished.set_state_reason(operation.state_reason);
  finished.set_total_count(operation.total_count);
  // The row counts a recover's re-queued events as created.
  if (operation.kind == ats::v1::BULK_OPERATION_KIND_RECOVER) {
    finished.set_requeued_count(operation.created_count);
  } else {
    finished.set_created_count(operation.created_count);
  }
  finished.set_skipped_count(operation.skipped_count);
  finished.set_failed_count(operation.failed_count);
  *finished.mutable_create_time() = ToProtoTime(operation.create_time);
  return Notify(txn, operation.account_id, std::move(notification), now,
                random);
}

}  // namespace ats::server
