// Running a command to completion, as a test of a command-line tool does.
#ifndef ATS_TESTS_SUPPORT_RUN_COMMAND_H_
#define ATS_TESTS_SUPPORT_RUN_COMMAND_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace ats::testing {

struct CommandResult {
  // The exit code of a normal exit, 128 + the signal number if a signal killed
  // it, or -1 if it could not be started or ran past its time limit.
  int exit_code = -1;
  std::string out;  // Everything written to stdout.
  std::string err;  // Everything written to stderr (or why it did not start).
};

// Runs argv[0] (a path, or a name looked up in PATH) with `argv`, writes
// `stdin_data` to its stdin and closes it, and collects its output until it
// exits. A command still running after `timeout` is killed, along with its
// process group, and yields exit_code -1 with the output read so far.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         absl::Duration timeout,
                         const std::string& stdin_data = "");

}  // namespace ats::testing

#endif  // ATS_TESTS_SUPPORT_RUN_COMMAND_H_
