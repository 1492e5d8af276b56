#include "server/contract/private_files.h"

#include <sys/stat.h>

#include <cstdio>

#include "absl/strings/str_cat.h"

namespace ats::server {

std::vector<std::string> OpenToOthers(const std::vector<std::string>& paths) {
  std::vector<std::string> open;
  for (const std::string& path : paths) {
    struct stat info;
    if (::stat(path.c_str(), &info) != 0) continue;
    const unsigned mode = info.st_mode & 07777;
    if ((mode & 077) == 0) continue;
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", mode);
    open.push_back(absl::StrCat(path, " (", octal, ")"));
  }
  return open;
}

}  // namespace ats::server
