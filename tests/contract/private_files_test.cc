#include "server/contract/private_files.h"

#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace ats::server {
namespace {

TEST(PrivateFilesTest, OpenToOthersNamesFilesWithWiderModes) {
  ::ats::testing::TempDir dir;
  const std::string shared = dir.File("shared.db");
  const std::string private_file = dir.File("private.key");
  std::ofstream(shared) << "x";
  std::ofstream(private_file) << "x";
  ASSERT_EQ(::chmod(shared.c_str(), 0644), 0);
  ASSERT_EQ(::chmod(private_file.c_str(), 0600), 0);
  EXPECT_EQ(OpenToOthers({shared, private_file, dir.File("missing")}),
            std::vector<std::string>{shared + " (0644)"});
}

}  // namespace
}  // namespace ats::server
