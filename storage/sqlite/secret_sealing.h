#ifndef ATS_STORAGE_SQLITE_SECRET_SEALING_H_
#define ATS_STORAGE_SQLITE_SECRET_SEALING_H_

#include "absl/status/statusor.h"
#include "storage/sealer.h"
#include "storage/sqlite/connection.h"

namespace ats::storage::sqlite {

// Seals every plaintext secret in `db` (written by a server that did not
// seal) and re-seals every value sealed under one of `sealer`'s old keys,
// in one transaction (see sql::ResealStoredSecrets). When anything changed
// it then rebuilds the file (VACUUM) and empties the WAL, so no page keeps
// the old bytes. Returns how many values it wrote. `db` must be writable and
// not in a transaction.
absl::StatusOr<int> SealStoredSecrets(Connection& db, const Sealer& sealer);

}  // namespace ats::storage::sqlite

#endif  // ATS_STORAGE_SQLITE_SECRET_SEALING_H_
