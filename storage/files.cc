#include "storage/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace ats::storage {

std::string CompanionFile(const std::string& db_path, const std::string& dir,
                          std::string_view suffix) {
  const std::filesystem::path db(db_path);
  const std::filesystem::path parent =
      dir.empty() ? db.parent_path() : std::filesystem::path(dir);
  return (parent / (db.stem().string() + "." + std::string(suffix))).string();
}

absl::Status CreatePrivateDirectories(const std::string& dir) {
  std::filesystem::path partial;
  for (const std::filesystem::path& part : std::filesystem::path(dir)) {
    partial /= part;
    if (::mkdir(partial.c_str(), 0700) == 0 || errno == EEXIST) continue;
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create directory ", partial.string(), ": ",
        std::strerror(errno)));
  }
  struct stat info;
  if (!dir.empty() && (::stat(dir.c_str(), &info) != 0 ||
                       !S_ISDIR(info.st_mode))) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create directory ", dir,
                     ": a file of that name is in the way"));
  }
  return absl::OkStatus();
}

absl::Status CreatePrivateFileIfMissing(const std::string& path) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  // The process umask may have taken owner bits; 0600 whatever it is.
  const bool private_mode = ::fchmod(fd, 0600) == 0;
  ::close(fd);
  if (!private_mode) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot make ", path, " private: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status WritePrivateFileOnce(const std::string& path,
                                  std::string_view contents) {
  const std::string temp = path + ".tmp";
  const int fd =
      ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", temp, ": ", std::strerror(errno)));
  }
  // The process umask may have taken owner bits; 0600 whatever it is.
  const bool written = ::fchmod(fd, 0600) == 0 &&
                       ::write(fd, contents.data(), contents.size()) ==
                           static_cast<ssize_t>(contents.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  // link(), unlike rename(), fails when `path` exists.
  const bool linked = written && ::link(temp.c_str(), path.c_str()) == 0;
  const int link_errno = errno;
  ::unlink(temp.c_str());
  if (!linked && link_errno == EEXIST) {
    return absl::AlreadyExistsError(absl::StrCat(path, " already exists"));
  }
  if (!linked) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write ", path, ": ", std::strerror(link_errno)));
  }
  return absl::OkStatus();
}

std::vector<std::string> DatabaseFiles(const std::string& db_path) {
  return {db_path, db_path + "-wal", db_path + "-shm"};
}

}  // namespace ats::storage
