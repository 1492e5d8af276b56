#ifndef ATS_SERVER_CONTRACT_PRIVATE_FILES_H_
#define ATS_SERVER_CONTRACT_PRIVATE_FILES_H_

// Files only their owner should read: the server's database and keys, and
// the API key files ats-admin reads. Both sides warn about the same modes.

#include <string>
#include <vector>

namespace ats::server {

// Returns those of `paths` that exist and that the group or others may read,
// write or execute, each with its mode, e.g. "var/ats.db (0644)".
std::vector<std::string> OpenToOthers(const std::vector<std::string>& paths);

}  // namespace ats::server

#endif  // ATS_SERVER_CONTRACT_PRIVATE_FILES_H_
