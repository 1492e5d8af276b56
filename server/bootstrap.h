#ifndef ATS_SERVER_BOOTSTRAP_H_
#define ATS_SERVER_BOOTSTRAP_H_

#include <string>

#include "absl/status/statusor.h"
#include "server/clock.h"
#include "server/random.h"
#include "storage/store.h"

namespace ats::server {

// Where the first start left its keys, when it did.
struct BootstrapResult {
  bool created = false;
  std::string operator_key_path;
  std::string admin_key_path;
};

// On a database without any API key: creates an operator key, a default
// account with an admin key, and writes both secrets to `key_dir`
// (operator.key, admin.key; mode 0600) before the keys are committed, so a
// crash in between leaves no key that nobody holds. Does nothing otherwise.
absl::StatusOr<BootstrapResult> BootstrapIfEmpty(storage::Store& store,
                                                 const Clock& clock,
                                                 RandomSource& random,
                                                 const std::string& key_dir);

}  // namespace ats::server

#endif  // ATS_SERVER_BOOTSTRAP_H_
