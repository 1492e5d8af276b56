// Scratch directories for tests.
#ifndef ATS_TESTS_SUPPORT_TEMP_DIR_H_
#define ATS_TESTS_SUPPORT_TEMP_DIR_H_

#include <string>

namespace ats::testing {

// Creates a new, empty directory /tmp/ats-test-XXXXXX and returns its path.
// Aborts the process if it cannot, since no test could go on without it.
std::string MakeTempDir();

// Removes `path` and everything below it; a missing path is not an error.
void RemoveTree(const std::string& path);

// A directory from MakeTempDir, removed with everything below it when this
// object goes away: one per test keeps tests' files apart and cleans up even
// when an assertion returns early.
class TempDir {
 public:
  TempDir() : path_(MakeTempDir()) {}
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() { RemoveTree(path_); }

  // Returns the path of `name` inside the directory.
  std::string File(const std::string& name) const { return path_ + "/" + name; }

  const std::string& path() const { return path_; }

 private:
  const std::string path_;
};

}  // namespace ats::testing

#endif  // ATS_TESTS_SUPPORT_TEMP_DIR_H_
