#include "server/bootstrap.h"

#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "server/api/account_service.h"
#include "storage/files.h"

namespace ats::server {
namespace {

absl::Status KeyFileExists(const std::string& path) {
  return absl::FailedPreconditionError(absl::StrCat(
      "key file ", path,
      " already exists, but this database has no API key: it holds the key "
      "of another database (or of a first start that did not finish). "
      "Refusing to replace it; move it away, or pass --key_dir to keep this "
      "database's keys elsewhere"));
}

// Writes `secret` to the new key file `path` (see WritePrivateFileOnce): a
// key file is never replaced, since the key it holds would be lost.
absl::Status WriteKeyFile(const std::string& path, const std::string& secret) {
  absl::Status written = storage::WritePrivateFileOnce(path, secret + "\n");
  if (absl::IsAlreadyExists(written)) return KeyFileExists(path);
  return written;
}

}  // namespace

KeyFiles KeyFilesOf(const std::string& db_path, const std::string& key_dir) {
  return {storage::CompanionFile(db_path, key_dir, "operator.key"),
          storage::CompanionFile(db_path, key_dir, "admin.key")};
}

absl::StatusOr<bool> BootstrapIfEmpty(storage::Store& store,
                                      const Clock& clock, RandomSource& random,
                                      const KeyFiles& files) {
  bool created = false;
  // Removes the key files a run wrote whose keys were not committed.
  const auto remove_files = [&] {
    if (!created) return;
    ::unlink(files.operator_key.c_str());
    ::unlink(files.admin_key.c_str());
    created = false;
  };
  absl::Status status = store.WriteAndWait([&](storage::Transaction& txn) {
    // A run again after a conflict (another replica bootstrapping the same
    // database) starts afresh.
    remove_files();
    auto any_key = txn.accounts().AnyApiKeyExists();
    if (!any_key.ok()) return any_key.status();
    if (*any_key) return absl::OkStatus();
    // Both checked before either is written, so a refusal leaves no file.
    for (const std::string& path : {files.operator_key, files.admin_key}) {
      if (std::filesystem::exists(path)) return KeyFileExists(path);
    }
    absl::Status directory = storage::CreatePrivateDirectories(
        std::filesystem::path(files.operator_key).parent_path().string());
    if (!directory.ok()) return directory;
    directory = storage::CreatePrivateDirectories(
        std::filesystem::path(files.admin_key).parent_path().string());
    if (!directory.ok()) return directory;
    const absl::Time now = clock.Now();

    storage::ApiKeyRow operator_key;
    operator_key.role = ats::v1::ROLE_OPERATOR;
    operator_key.display_name = "bootstrap operator";
    auto operator_created = CreateApiKeyIn(txn, operator_key, now, random);
    if (!operator_created.ok()) return operator_created.status();

    auto account = CreateAccountIn(txn, "Default account", now, random);
    if (!account.ok()) return account.status();
    storage::ApiKeyRow admin_key;
    admin_key.role = ats::v1::ROLE_ADMIN;
    admin_key.account_id = account->id;
    admin_key.display_name = "bootstrap admin";
    auto admin_created = CreateApiKeyIn(txn, admin_key, now, random);
    if (!admin_created.ok()) return admin_created.status();

    absl::Status written =
        WriteKeyFile(files.operator_key, operator_created->secret);
    if (!written.ok()) return written;
    written = WriteKeyFile(files.admin_key, admin_created->secret);
    if (!written.ok()) {
      // Nothing is committed, so the operator key it holds opens nothing.
      ::unlink(files.operator_key.c_str());
      return written;
    }
    created = true;
    return absl::OkStatus();
  });
  if (!status.ok()) {
    remove_files();
    return status;
  }
  return created;
}

}  // namespace ats::server
