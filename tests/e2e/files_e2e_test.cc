// End to end: the files the real ats-server binary keeps. Modes (checked
// with stat) and warnings about wider ones, key files named after their
// database and never replaced, and the secrets key: a secret created over
// the API is nowhere in the database's files, a wrong or missing key stops
// the start, and a rotation re-seals under the new key.

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/support/files.h"
#include "tests/support/loopback_port.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"

#ifndef ATS_SERVER_BIN
#error "ATS_SERVER_BIN must name the ats-server binary"
#endif
#ifndef ATS_BUF_BIN
#error "ATS_BUF_BIN must name the buf CLI"
#endif

namespace ats::testing {
namespace {

constexpr char kServerBin[] = ATS_SERVER_BIN;
constexpr char kBufBin[] = ATS_BUF_BIN;

// Bounds that only keep a broken server from hanging the test.
constexpr absl::Duration kStartTimeout = absl::Seconds(30);
constexpr absl::Duration kCommandTimeout = absl::Seconds(60);

class FilesE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(kServerBin, X_OK), 0) << "no ats-server at " << kServerBin;
  }

  std::string File(const std::string& name) const { return dir_.File(name); }

  // Starts ats-server with `flags` on a free port; nullopt (and a test
  // failure) unless it listens.
  std::optional<ChildProcess> Start(const std::vector<std::string>& flags) {
    port_ = PickFreeLoopbackPort();
    std::vector<std::string> argv = {
        kServerBin, absl::StrCat("--listen=127.0.0.1:", port_),
        "--shutdown_grace=1s"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    auto server = ChildProcess::StartListening(argv, port_, kStartTimeout);
    if (!server.ok()) {
      ADD_FAILURE() << "cannot start ats-server: " << server.status();
      return std::nullopt;
    }
    return *std::move(server);
  }

  // Runs ats-server with `flags`, expecting it to refuse to start; returns
  // what it printed.
  std::string StartFails(const std::vector<std::string>& flags) {
    std::vector<std::string> argv = {
        kServerBin,
        absl::StrCat("--listen=127.0.0.1:", PickFreeLoopbackPort())};
    argv.insert(argv.end(), flags.begin(), flags.end());
    CommandResult result = RunCommand(argv, kCommandTimeout);
    EXPECT_NE(result.exit_code, 0) << result.out << result.err;
    EXPECT_NE(result.exit_code, -1) << "ats-server kept running";
    return result.out + result.err;
  }

  // Calls `method` with the JSON `request` and key `key`; returns stdout.
  std::string Call(const std::string& method, const std::string& request,
                   const std::string& key) {
    CommandResult result = RunCommand(
        {"env", "BUF_CACHE_DIR=" + File("buf-cache"), kBufBin, "curl",
         "--protocol", "grpc", "--http2-prior-knowledge", "-H",
         "authorization: Bearer " + key, "-d", request,
         absl::StrCat("http://127.0.0.1:", port_, "/", method)},
        kCommandTimeout);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result.out;
  }

  // Gives the default account of the server on var/ats.db a webhook signing
  // secret, and returns it (shown this once).
  std::string CreateWebhookSecret() {
    const std::string operator_key = ReadKey(File("var/ats.operator.key"));
    const std::string accounts =
        Call("ats.v1.AccountService/ListAccounts", "{}", operator_key);
    std::smatch account;
    if (!std::regex_search(accounts, account,
                           std::regex(R"re("(accounts/[a-z0-9-]+)")re"))) {
      ADD_FAILURE() << "no account in " << accounts;
      return "";
    }
    const std::string rotated = Call(
        "ats.v1.AccountService/RotateWebhookSigningSecret",
        absl::StrCat(R"({"name": ")", account[1].str(), R"("})"), operator_key);
    std::smatch secret;
    if (!std::regex_search(rotated, secret,
                           std::regex(R"re("signingSecret"\s*:\s*"([^"]+)")re"))) {
      ADD_FAILURE() << "no signing secret in " << rotated;
      return "";
    }
    return secret[1];
  }

  TempDir dir_;
  int port_ = 0;
};

TEST_F(FilesE2eTest, FirstStartMakesEveryFileAndDirectoryPrivate) {
  std::optional<ChildProcess> server = Start({"--db=" + File("var/ats.db")});
  ASSERT_TRUE(server.has_value());
  EXPECT_EQ(FileMode(File("var")), 0700);
  for (const char* name :
       {"var/ats.db", "var/ats.db-wal", "var/ats.db-shm",
        "var/ats.secrets.key", "var/ats.operator.key", "var/ats.admin.key"}) {
    EXPECT_EQ(FileMode(File(name)), 0600) << name;
  }
  EXPECT_FALSE(absl::StrContains(server->Log(), "readable or writable"))
      << server->Log();
  EXPECT_EQ(server->Stop(), 0) << server->Log();
}

TEST_F(FilesE2eTest, WarnsAboutFilesOthersCanRead) {
  {
    std::optional<ChildProcess> server = Start({"--db=" + File("var/ats.db")});
    ASSERT_TRUE(server.has_value());
    EXPECT_EQ(server->Stop(), 0) << server->Log();
  }
  ASSERT_EQ(::chmod(File("var/ats.db").c_str(), 0644), 0);
  ASSERT_EQ(::chmod(File("var/ats.admin.key").c_str(), 0640), 0);
  std::optional<ChildProcess> server = Start({"--db=" + File("var/ats.db")});
  ASSERT_TRUE(server.has_value());
  // Read once the server has exited, so the log is complete.
  EXPECT_EQ(server->Stop(), 0) << server->Log();
  const std::string log = server->Log();
  EXPECT_TRUE(absl::StrContains(log, File("var/ats.db") + " (0644)")) << log;
  EXPECT_TRUE(absl::StrContains(log, File("var/ats.admin.key") + " (0640)"))
      << log;
  EXPECT_FALSE(absl::StrContains(log, "ats.operator.key (")) << log;
}

TEST_F(FilesE2eTest, EachDatabaseInADirectoryHasItsOwnKeyFiles) {
  {
    std::optional<ChildProcess> server = Start({"--db=" + File("var/a.db")});
    ASSERT_TRUE(server.has_value());
    EXPECT_EQ(server->Stop(), 0) << server->Log();
  }
  const std::string a_operator = ReadFile(File("var/a.operator.key"));
  const std::string a_admin = ReadFile(File("var/a.admin.key"));
  ASSERT_FALSE(a_operator.empty());
  {
    std::optional<ChildProcess> server = Start({"--db=" + File("var/b.db")});
    ASSERT_TRUE(server.has_value());
    EXPECT_EQ(server->Stop(), 0) << server->Log();
  }
  EXPECT_EQ(ReadFile(File("var/a.operator.key")), a_operator);
  EXPECT_EQ(ReadFile(File("var/a.admin.key")), a_admin);
  EXPECT_FALSE(ReadFile(File("var/b.operator.key")).empty());
  EXPECT_NE(ReadFile(File("var/b.operator.key")), a_operator);
  EXPECT_NE(ReadFile(File("var/b.secrets.key")),
            ReadFile(File("var/a.secrets.key")));
}

TEST_F(FilesE2eTest, AFirstStartNeverReplacesAKeyFile) {
  std::filesystem::create_directories(File("keys"));
  std::ofstream(File("keys/ats.admin.key")) << "ats_another_databases_key\n";
  const std::string output =
      StartFails({"--db=" + File("var/ats.db"), "--key_dir=" + File("keys")});
  EXPECT_TRUE(absl::StrContains(output, File("keys/ats.admin.key") +
                                            " already exists"))
      << output;
  EXPECT_EQ(ReadFile(File("keys/ats.admin.key")),
            "ats_another_databases_key\n");
  // Both files are checked before either is written.
  EXPECT_FALSE(std::filesystem::exists(File("keys/ats.operator.key")));
}

TEST_F(FilesE2eTest, SecretsAreSealedAndNeedTheirKeyToStart) {
  const std::string db = "--db=" + File("var/ats.db");
  std::string secret;
  {
    std::optional<ChildProcess> server = Start({db});
    ASSERT_TRUE(server.has_value());
    secret = CreateWebhookSecret();
    ASSERT_TRUE(absl::StartsWith(secret, "whsec_")) << secret;
    // Running: the secret's row is in the WAL, and a copy of the file is
    // what a backup script would take.
    std::filesystem::copy_file(File("var/ats.db"), File("copy.db"));
    for (const char* name : {"var/ats.db", "var/ats.db-wal", "copy.db"}) {
      EXPECT_FALSE(absl::StrContains(ReadFile(File(name)), secret)) << name;
    }
    EXPECT_FALSE(absl::StrContains(server->Log(), secret));
    EXPECT_EQ(server->Stop(), 0) << server->Log();
  }
  EXPECT_FALSE(absl::StrContains(ReadFile(File("var/ats.db")), secret));

  // Another key cannot open it: the start fails and says why.
  std::ofstream(File("other.key"), std::ios::binary)
      << std::string(32, '\x5a');
  std::string output =
      StartFails({db, "--secrets_key_file=" + File("other.key")});
  EXPECT_TRUE(absl::StrContains(output, "sealed under key")) << output;

  // Without its key file neither, and no new key is made in its place.
  ASSERT_EQ(::rename(File("var/ats.secrets.key").c_str(),
                     File("old.key").c_str()),
            0);
  output = StartFails({db});
  EXPECT_TRUE(absl::StrContains(output, "does not exist")) << output;
  EXPECT_FALSE(std::filesystem::exists(File("var/ats.secrets.key")));

  // Rotation: a new key file (created now) seals; the old one still opens.
  {
    std::optional<ChildProcess> server =
        Start({db, "--secrets_key_file=" + File("new.key"),
               "--secrets_old_key_files=" + File("old.key")});
    ASSERT_TRUE(server.has_value());
    EXPECT_EQ(server->Stop(), 0) << server->Log();
  }
  EXPECT_EQ(FileMode(File("new.key")), 0600);
  // Everything was re-sealed: the new key alone serves, the old alone fails.
  {
    std::optional<ChildProcess> server =
        Start({db, "--secrets_key_file=" + File("new.key")});
    ASSERT_TRUE(server.has_value());
    EXPECT_EQ(server->Stop(), 0) << server->Log();
  }
  output = StartFails({db, "--secrets_key_file=" + File("old.key")});
  EXPECT_TRUE(absl::StrContains(output, "sealed under key")) << output;
}

}  // namespace
}  // namespace ats::testing
