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

}  // namespace ats::testing

#endif  // ATS_TESTS_SUPPORT_TEMP_DIR_H_
