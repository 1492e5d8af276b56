#include "storage/sql/secret_sealing.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ats::storage::sql {
namespace {

// Debian's Abseil has its own string_view, which std::string_view does not
// convert to implicitly.
absl::string_view View(std::string_view s) { return {s.data(), s.size()}; }

// Where one sealed column lives, in fixed SQL.
struct SealedColumn {
  const char* name;
  // Selects account, id and the stored value of every row.
  const char* select_sql;
  // Stores ?1 as the value of row ?2.
  const char* update_sql;
  // Whether the column is a BLOB (sealed text is then bound as bytes).
  bool blob;
};

constexpr SealedColumn kSealedColumns[] = {
    {kAccountWebhookSecret,
     "SELECT id, id, webhook_signing_secret FROM accounts",
     "UPDATE accounts SET webhook_signing_secret = ?1 WHERE id = ?2", false},
    {kIntegrationSigningSecret,
     "SELECT account_id, id, signing_secret FROM integrations",
     "UPDATE integrations SET signing_secret = ?1 WHERE id = ?2", false},
    {kIntegrationActivationValues,
     "SELECT account_id, id, activation_values FROM integrations",
     "UPDATE integrations SET activation_values = ?1 WHERE id = ?2", true},
};

struct StoredValue {
  std::string account_id;
  std::string id;
  std::string value;
};

absl::StatusOr<std::vector<StoredValue>> ReadColumn(Session& db,
                                                    const SealedColumn& column) {
  Statement& stmt = db.Prepare(column.select_sql);
  std::vector<StoredValue> values;
  while (true) {
    absl::StatusOr<bool> row = stmt.Step();
    if (!row.ok()) return row.status();
    if (!*row) return values;
    std::string_view value = stmt.ColumnBlob(2);
    if (value.empty()) continue;
    values.push_back({stmt.ColumnText(0), stmt.ColumnText(1),
                      std::string(value)});
  }
}

// Returns `value` (plaintext, or sealed under an old key) sealed under the
// current key; nullopt when it already is.
absl::StatusOr<std::optional<std::string>> Reseal(const Sealer& sealer,
                                                  const SealedColumn& column,
                                                  const StoredValue& stored) {
  const std::string context =
      SealContext(column.name, stored.account_id, stored.id);
  std::string plaintext = stored.value;
  if (Sealer::IsSealed(stored.value)) {
    if (Sealer::KeyIdOf(stored.value) == sealer.current_key_id()) {
      return std::nullopt;
    }
    absl::StatusOr<std::string> opened = sealer.Open(stored.value, context);
    if (!opened.ok()) {
      return absl::Status(opened.status().code(),
                          absl::StrCat(column.name, " of ", stored.id, ": ",
                                       opened.status().message()));
    }
    plaintext = *std::move(opened);
  }
  absl::StatusOr<std::string> sealed = sealer.Seal(plaintext, context);
  if (!sealed.ok()) return sealed.status();
  return *std::move(sealed);
}


// Returns the key file at `path`, or why it cannot be used.
absl::StatusOr<SealingKey> ReadOldKey(const std::string& path) {
  absl::StatusOr<SealingKey> key = ReadSealingKeyFile(path);
  if (absl::IsNotFound(key.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat("--secrets_old_key_files: ", key.status().message()));
  }
  return key;
}

}  // namespace

absl::StatusOr<std::string> SealColumn(const Sealer& sealer,
                                       std::string_view column,
                                       std::string_view account_id,
                                       std::string_view id,
                                       std::string_view plaintext) {
  if (plaintext.empty()) return std::string();
  return sealer.Seal(plaintext, SealContext(column, account_id, id));
}

absl::StatusOr<std::string> OpenColumn(const Sealer& sealer,
                                       std::string_view column,
                                       std::string_view account_id,
                                       std::string_view id,
                                       std::string_view stored) {
  if (stored.empty()) return std::string();
  absl::StatusOr<std::string> opened =
      sealer.Open(stored, SealContext(column, account_id, id));
  if (!opened.ok()) {
    return absl::DataLossError(absl::StrCat(
        View(column), " of ", View(id), ": ", opened.status().message()));
  }
  return opened;
}

absl::StatusOr<std::set<std::string>> SealedKeyIds(Session& db) {
  std::set<std::string> key_ids;
  for (const SealedColumn& column : kSealedColumns) {
    absl::StatusOr<std::vector<StoredValue>> values = ReadColumn(db, column);
    if (!values.ok()) return values.status();
    for (const StoredValue& stored : *values) {
      if (Sealer::IsSealed(stored.value)) {
        key_ids.emplace(Sealer::KeyIdOf(stored.value));
      }
    }
  }
  return key_ids;
}

absl::StatusOr<int> ResealStoredSecrets(Session& db, const Sealer& sealer) {
  int written = 0;
  for (const SealedColumn& column : kSealedColumns) {
    absl::StatusOr<std::vector<StoredValue>> values = ReadColumn(db, column);
    if (!values.ok()) return values.status();
    for (const StoredValue& stored : *values) {
      absl::StatusOr<std::optional<std::string>> resealed =
          Reseal(sealer, column, stored);
      if (!resealed.ok()) return resealed.status();
      if (!resealed->has_value()) continue;
      Statement& update = db.Prepare(column.update_sql);
      if (column.blob) {
        update.BindBlob(1, **resealed);
      } else {
        update.Bind(1, **resealed);
      }
      absl::Status status = update.Bind(2, stored.id).Run();
      if (!status.ok()) return status;
      ++written;
    }
  }
  return written;
}

absl::StatusOr<std::unique_ptr<Sealer>> LoadSealer(
    Session& db, std::string_view database, const std::string& key_path,
    const std::vector<std::string>& old_key_files) {
  std::vector<SealingKey> old_keys;
  for (const std::string& path : old_key_files) {
    absl::StatusOr<SealingKey> key = ReadOldKey(path);
    if (!key.ok()) return key.status();
    old_keys.push_back(*std::move(key));
  }
  absl::StatusOr<std::set<std::string>> sealed_under = SealedKeyIds(db);
  if (!sealed_under.ok()) return sealed_under.status();
  absl::StatusOr<SealingKey> current = ReadSealingKeyFile(key_path);
  if (absl::IsNotFound(current.status())) {
    for (const std::string& key_id : *sealed_under) {
      const bool old = std::any_of(
          old_keys.begin(), old_keys.end(),
          [&key_id](const SealingKey& key) { return key.id == key_id; });
      if (old) continue;
      return absl::FailedPreconditionError(absl::StrCat(
          View(database), " holds secrets sealed under key ", key_id,
          ", but the secrets key file ", key_path,
          " does not exist: restore it, or pass the key file they were "
          "sealed with as --secrets_key_file"));
    }
    current = CreateSealingKeyFile(key_path);
    if (current.ok()) {
      spdlog::info("storage: created secrets key file {} (key {}); keep it "
                   "and back it up apart from the database",
                   key_path, current->id);
    }
  }
  if (!current.ok()) return current.status();
  auto sealer = std::make_unique<Sealer>(*std::move(current), old_keys);
  for (const std::string& key_id : *sealed_under) {
    if (sealer->HasKey(key_id)) continue;
    return absl::FailedPreconditionError(absl::StrCat(
        View(database), " holds secrets sealed under key ", key_id,
        ", which neither the secrets key file ", key_path, " (key ",
        sealer->current_key_id(),
        ") nor --secrets_old_key_files holds: start with the key file they "
        "were sealed with"));
  }
  return sealer;
}


}  // namespace ats::storage::sql
