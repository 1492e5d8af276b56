#include "tests/support/temp_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace ats::testing {

std::string MakeTempDir() {
  std::string path = "/tmp/ats-test-XXXXXX";
  if (mkdtemp(path.data()) == nullptr) {
    std::fprintf(stderr, "mkdtemp(%s): %s\n", path.c_str(), std::strerror(errno));
    std::abort();
  }
  return path;
}

void RemoveTree(const std::string& path) {
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
}

}  // namespace ats::testing
