// Reading the files our programs write, as a test looks at them.
#ifndef ATS_TESTS_SUPPORT_FILES_H_
#define ATS_TESTS_SUPPORT_FILES_H_

#include <string>

namespace ats::testing {

// Returns the bytes of file `path`; empty if it cannot be read.
std::string ReadFile(const std::string& path);

// Returns the API key in key file `path`: its first line (empty if none).
std::string ReadKey(const std::string& path);

// Returns the permission bits of `path` (e.g. 0600), or -1 if it cannot be
// stat'ed.
int FileMode(const std::string& path);

}  // namespace ats::testing

#endif  // ATS_TESTS_SUPPORT_FILES_H_
