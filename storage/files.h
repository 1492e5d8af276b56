#ifndef ATS_STORAGE_FILES_H_
#define ATS_STORAGE_FILES_H_

// The files a database keeps beside it, and keeping them private: only the
// service's user may read the database, its WAL and its key files (the
// check of existing files' modes, shared with ats-admin, is in
// server/contract/private_files.h).

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace ats::storage {

// Returns the path of the database's companion file `suffix` in `dir` (the
// database's own directory when `dir` is empty), named after the database:
// "var/ats.db" and "secrets.key" give "var/ats.secrets.key". Two databases
// in one directory so never share a key file.
std::string CompanionFile(const std::string& db_path, const std::string& dir,
                          std::string_view suffix);

// Creates `dir` and its missing parents with mode 0700; directories that
// already exist keep their mode. FAILED_PRECONDITION when one cannot be
// created.
absl::Status CreatePrivateDirectories(const std::string& dir);

// Creates the empty file `path` with mode 0600 unless it exists. SQLite
// gives a database's -wal and -shm files the database file's mode, so they
// are private too.
absl::Status CreatePrivateFileIfMissing(const std::string& path);

// Writes `contents` to the new file `path` with mode 0600, durably, and
// never replaces an existing file: the file appears whole or not at all.
// ALREADY_EXISTS when `path` exists; FAILED_PRECONDITION when it cannot be
// written.
absl::Status WritePrivateFileOnce(const std::string& path,
                                  std::string_view contents);

// Returns the database's own files: the file itself, its -wal and -shm.
std::vector<std::string> DatabaseFiles(const std::string& db_path);

}  // namespace ats::storage

#endif  // ATS_STORAGE_FILES_H_
