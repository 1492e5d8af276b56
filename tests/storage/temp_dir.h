#ifndef ATS_TESTS_STORAGE_TEMP_DIR_H_
#define ATS_TESTS_STORAGE_TEMP_DIR_H_

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

#include "gtest/gtest.h"

namespace ats::storage::testing {

// A fresh directory under the test temp dir, removed with its contents on
// destruction, so every test gets its own database files.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "ats_storage_XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed for " << pattern;
    }
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  // Returns the path of `name` inside the directory.
  std::string File(const std::string& name) const {
    return (std::filesystem::path(path_) / name).string();
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace ats::storage::testing

#endif  // ATS_TESTS_STORAGE_TEMP_DIR_H_
