#ifndef ATS_SERVER_DOMAIN_NOTIFICATIONS_H_
#define ATS_SERVER_DOMAIN_NOTIFICATIONS_H_

// Notifications to an account's own endpoint (Account.notification_uri):
// an event died, an integration's endpoint was disabled, a bulk operation
// ended. Each is an event without a candidate, written in the transaction
// of what it tells, so that it exists exactly when that happened; the
// dispatcher delivers it like a generic webhook trigger's event: signed with
// the account's webhook signing secret, retried, through the destination
// guard, limited per destination like any other.

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/common/random.h"
#include "storage/store.h"

namespace ats::server {

// Notification types, as ats.v1.Notification.type names them.
inline constexpr char kEventDead[] = "event.dead";
inline constexpr char kIntegrationDisabled[] = "integration.disabled";
inline constexpr char kBulkOperationFinished[] = "bulk_operation.finished";

// Each Notify... below queues nothing when the account has no notification
// endpoint, or its row cannot be read (DATA_LOSS: its sealed webhook secret
// no longer opens, so nothing could be signed).

// Queues `event.dead` for `event`, which has just died (state DEAD), in
// `txn` at `now`; nothing when `event` is itself a notification, whose
// death would otherwise notify the endpoint that failed it, without end.
absl::Status NotifyEventDead(storage::Transaction& txn,
                             const storage::EventRow& event, absl::Time now,
                             RandomSource& random);

// Queues `integration.disabled` for `integration`, whose endpoint has just
// been disabled, in `txn` at `now`.
absl::Status NotifyIntegrationDisabled(
    storage::Transaction& txn, const storage::IntegrationRow& integration,
    absl::Time now, RandomSource& random);

// Queues `bulk_operation.finished` for `operation`, which has just ended,
// in `txn` at `now`.
absl::Status NotifyBulkOperationFinished(
    storage::Transaction& txn, const storage::BulkOperationRow& operation,
    absl::Time now, RandomSource& random);

}  // namespace ats::server

#endif  // ATS_SERVER_DOMAIN_NOTIFICATIONS_H_
