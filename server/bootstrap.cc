#include "server/bootstrap.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "server/account_service.h"

namespace ats::server {
namespace {

// Writes `secret` to `path` readable by the owner only, atomically.
absl::Status WriteKeyFile(const std::string& path, const std::string& secret) {
  const std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", temp, ": ", std::strerror(errno)));
  }
  const std::string contents = secret + "\n";
  const bool written =
      ::fchmod(fd, 0600) == 0 &&
      ::write(fd, contents.data(), contents.size()) ==
          static_cast<ssize_t>(contents.size()) &&
      ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(temp.c_str(), path.c_str()) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<BootstrapResult> BootstrapIfEmpty(storage::Store& store,
                                                 const Clock& clock,
                                                 RandomSource& random,
                                                 const std::string& key_dir) {
  BootstrapResult result;
  std::error_code error;
  std::filesystem::create_directories(key_dir, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", key_dir, ": ", error.message()));
  }
  result.operator_key_path = (std::filesystem::path(key_dir) / "operator.key");
  result.admin_key_path = (std::filesystem::path(key_dir) / "admin.key");
  absl::Status status = store.WriteAndWait([&](storage::Transaction& txn) {
    auto any_key = txn.accounts().AnyApiKeyExists();
    if (!any_key.ok()) return any_key.status();
    if (*any_key) return absl::OkStatus();
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
        WriteKeyFile(result.operator_key_path, operator_created->secret);
    if (!written.ok()) return written;
    written = WriteKeyFile(result.admin_key_path, admin_created->secret);
    if (!written.ok()) return written;
    result.created = true;
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

}  // namespace ats::server
