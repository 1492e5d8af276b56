#include "tests/support/files.h"

#include <sys/stat.h>

#include <fstream>
#include <iterator>

namespace ats::testing {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string ReadKey(const std::string& path) {
  const std::string contents = ReadFile(path);
  return contents.substr(0, contents.find('\n'));
}

int FileMode(const std::string& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) return -1;
  return static_cast<int>(info.st_mode & 07777);
}

}  // namespace ats::testing
