#ifndef ATS_STORAGE_SQL_SECRET_SEALING_H_
#define ATS_STORAGE_SQL_SECRET_SEALING_H_

// The columns of the schema that hold secrets, and bringing what a
// database holds in them under the current key.

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/sealer.h"
#include "storage/sql/session.h"

namespace ats::storage::sql {

// The columns whose values are sealed; their names are part of each value's
// SealContext, so a value moved to another column does not open.
inline constexpr char kAccountWebhookSecret[] =
    "accounts.webhook_signing_secret";
inline constexpr char kIntegrationSigningSecret[] =
    "integrations.signing_secret";
// Every activation value, not only those the listing marks secret: a listing
// may mark a field secret after values were stored.
inline constexpr char kIntegrationActivationValues[] =
    "integrations.activation_values";

// Returns what to store for `plaintext` in `column` of row `id` of account
// `account_id`: empty when it is empty (so "none" needs no key), else sealed.
absl::StatusOr<std::string> SealColumn(const Sealer& sealer,
                                       std::string_view column,
                                       std::string_view account_id,
                                       std::string_view id,
                                       std::string_view plaintext);

// Returns the plaintext of `stored`, read from `column` of row `id` of
// account `account_id` (empty stays empty). DATA_LOSS naming the row when it
// is not sealed or does not open there.
absl::StatusOr<std::string> OpenColumn(const Sealer& sealer,
                                       std::string_view column,
                                       std::string_view account_id,
                                       std::string_view id,
                                       std::string_view stored);

// Returns the ids of the keys that values stored in `db` are sealed under.
absl::StatusOr<std::set<std::string>> SealedKeyIds(Session& db);

// Returns the sealer for the database on `db` (named `database` in errors):
// the current key from `key_path` (created when missing, if nothing stored
// needs another key) and the old keys in `old_key_files`. Fails with
// FAILED_PRECONDITION when a value stored in `db` is sealed under a key it
// does not hold: starting without it would leave integrations unable to
// sign their deliveries.
absl::StatusOr<std::unique_ptr<Sealer>> LoadSealer(
    Session& db, std::string_view database, const std::string& key_path,
    const std::vector<std::string>& old_key_files);

// Seals every plaintext secret in `db` (written by a server that did not
// seal) and re-seals every value sealed under one of `sealer`'s old keys,
// inside the transaction open on `db`. Returns how many values it wrote.
// FAILED_PRECONDITION when a value is sealed under a key `sealer` does not
// hold.
absl::StatusOr<int> ResealStoredSecrets(Session& db, const Sealer& sealer);

}  // namespace ats::storage::sql

#endif  // ATS_STORAGE_SQL_SECRET_SEALING_H_
