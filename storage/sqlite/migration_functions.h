#ifndef ATS_STORAGE_SQLITE_MIGRATION_FUNCTIONS_H_
#define ATS_STORAGE_SQLITE_MIGRATION_FUNCTIONS_H_

// SQL functions the migrations call where they change what stored,
// serialized protos hold (which SQL alone cannot read). A migration's SQL
// must keep working for every database it may meet, so a function, once
// used by a migration, stays.

#include "absl/status/status.h"
#include "storage/sqlite/connection.h"

namespace ats::storage::sqlite {

// Defines on `connection`:
//   - webhook_trigger_all_fields(spec): the serialized ats.v1.Trigger `spec`
//     with, if it is a webhook trigger listing no candidate fields, every
//     field a webhook received before webhooks declared their fields (given
//     name, family name, email, phone, tags); any other trigger unchanged;
//   - template_webhooks_all_fields(stages): the same for each trigger of
//     the serialized ats.v1.JobTemplate `stages` (a template's stages).
// A value that does not parse fails the statement with DATA_LOSS.
absl::Status DefineMigrationFunctions(Connection& connection);

}  // namespace ats::storage::sqlite

#endif  // ATS_STORAGE_SQLITE_MIGRATION_FUNCTIONS_H_
