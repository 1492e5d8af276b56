#ifndef ATS_SERVER_BOOTSTRAP_H_
#define ATS_SERVER_BOOTSTRAP_H_

#include <string>

#include "absl/status/statusor.h"
#include "server/common/clock.h"
#include "server/common/random.h"
#include "storage/store.h"

namespace ats::server {

// The files a database's first start writes its API keys to.
struct KeyFiles {
  std::string operator_key;
  std::string admin_key;
};

// Returns the key files of the database at `db_path`, in `key_dir` (the
// database's directory when empty) and named after it: var/ats.operator.key
// and var/ats.admin.key for var/ats.db, so databases sharing a directory
// never share key files.
KeyFiles KeyFilesOf(const std::string& db_path, const std::string& key_dir);

// On a database without any API key: creates an operator key, a default
// account with an admin key, and writes both secrets to `files` (mode 0600,
// their directory created 0700) before the keys are committed, so a crash in
// between leaves no key that nobody holds. Never replaces a file: when one of
// `files` exists (another database's key) it fails with FAILED_PRECONDITION
// and commits nothing. Returns whether it created the keys.
absl::StatusOr<bool> BootstrapIfEmpty(storage::Store& store,
                                      const Clock& clock, RandomSource& random,
                                      const KeyFiles& files);

}  // namespace ats::server

#endif  // ATS_SERVER_BOOTSTRAP_H_
