#ifndef ATS_STORAGE_SQLITE_MIGRATION_FUNCTIONS_H_
#define ATS_STORAGE_SQLITE_MIGRATION_FUNCTIONS_H_

// SQL functions the migrations call where SQL alone cannot do the work:
// changing what stored, serialized protos hold, or filling a column with
// what the code computes. A migration's SQL must keep working for every
// database it may meet, so a function, once used by a migration, stays.

#include "absl/status/status.h"
#include "storage/sqlite/connection.h"

namespace ats::storage::sqlite {

// Defines on `connection`:
//   - webhook_trigger_all_fields(spec): the serialized ats.v1.Trigger `spec`
//     with, if it is a webhook trigger listing no candidate fields, every
//     field a webhook received before webhooks declared their fields (given
//     name, family name, email, phone, tags); any other trigger unchanged;
//   - template_webhooks_all_fields(stages): the same for each trigger of
//     the serialized ats.v1.JobTemplate `stages` (a template's stages);
//   - delivery_destination(account_id, integration_id, webhook_uri): the
//     event's DeliveryDestination (storage/delivery_destination.h).
// A value that does not parse fails the statement with DATA_LOSS.
absl::Status DefineMigrationFunctions(Connection& connection);

}  // namespace ats::storage::sqlite

#endif  // ATS_STORAGE_SQLITE_MIGRATION_FUNCTIONS_H_
