// backup: OperationsService.

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "ats/v1/operations_service.grpc.pb.h"
#include "client/bulk_progress.h"
#include "client/commands.h"
#include "google/protobuf/struct.pb.h"

namespace ats::client {
namespace {

using ats::v1::OperationsService;

// A new file (mode 0600) beside `path` that the backup is written to, and
// removed unless Keep moves it to `path` first: an interrupted or failed
// backup leaves nothing that could pass for one.
class PartialFile {
 public:
  explicit PartialFile(const std::string& path)
      : path_(path), temp_(path + ".partial-XXXXXX") {
    fd_ = ::mkstemp(temp_.data());
    if (fd_ < 0) throw FileError(Describe("cannot create", temp_));
  }
  ~PartialFile() {
    if (fd_ >= 0) ::close(fd_);
    ::unlink(temp_.c_str());
  }
  PartialFile(const PartialFile&) = delete;
  PartialFile& operator=(const PartialFile&) = delete;

  // Appends `bytes`.
  void Write(const std::string& bytes) {
    size_t written = 0;
    while (written < bytes.size()) {
      const ssize_t n =
          ::write(fd_, bytes.data() + written, bytes.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw FileError(Describe("cannot write", temp_));
      written += static_cast<size_t>(n);
    }
  }

  // Makes what was written durable and names it `path`, which must still
  // not exist.
  void Keep() {
    if (::fsync(fd_) != 0) throw FileError(Describe("cannot sync", temp_));
    // link(), unlike rename(), never replaces a file that appeared meanwhile.
    if (::link(temp_.c_str(), path_.c_str()) != 0) {
      throw FileError(Describe("cannot create", path_));
    }
  }

 private:
  static std::string Describe(const std::string& what,
                              const std::string& path) {
    return absl::StrCat(what, " ", path, ": ", std::strerror(errno));
  }

  const std::string path_;
  std::string temp_;
  int fd_ = -1;
};

// Takes a backup of the server's database into the new file `path`.
void Backup(Session& session, const std::string& path) {
  struct stat existing;
  if (::stat(path.c_str(), &existing) == 0) {
    throw UsageError(path +
                     " exists; a backup never replaces a file: remove it "
                     "or choose another name");
  }
  PartialFile file(path);
  auto stub = session.Stub<OperationsService>(KeyFile::kOperator);
  auto context = session.connection(KeyFile::kOperator).NewStreamContext();
  InterruptWatcher interrupt([&context] { context->TryCancel(); });
  auto reader =
      stub->BackupDatabase(context.get(), ats::v1::BackupDatabaseRequest());
  int64_t received = 0;
  int64_t total = -1;
  for (ats::v1::BackupDatabaseResponse piece; reader->Read(&piece);) {
    file.Write(piece.data());
    received += static_cast<int64_t>(piece.data().size());
    total = piece.total_bytes();
  }
  Check(reader->Finish());
  if (received != total) {
    throw FileError(absl::StrCat("the server sent ", received, " bytes of ",
                                 total, "; no backup written"));
  }
  file.Keep();
  if (session.output().structured()) {
    google::protobuf::Struct result;
    (*result.mutable_fields())["file"].set_string_value(path);
    (*result.mutable_fields())["bytes"].set_number_value(
        static_cast<double>(received));
    session.output().Print(result);
  } else {
    std::cout << "file: " << path << "\nbytes: " << received << "\n";
  }
}

}  // namespace

void AddOperationsCommands(CLI::App& app, Session& session) {
  auto to = std::make_shared<std::string>();
  auto* backup = AddCommand(
      app, "backup",
      "Take a consistent backup of the server's whole database while it "
      "serves, into a new local file (operator key). Restore by starting "
      "ats-server on the file with the same secrets key file",
      "ats-admin backup --to backups/ats-2026-12-06.db");
  backup->add_option("--to", *to, "The new file to write the backup to")
      ->required();
  backup->callback([&session, to] { Backup(session, *to); });
}

}  // namespace ats::client
