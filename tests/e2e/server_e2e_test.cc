// End to end: the real ats-server binary on a loopback port, driven with
// `buf curl` over server reflection, as an operator with grpcurl-like tools
// would drive it. Covers what only the binary does: flags, first-start key
// files, signals and shutdown, restart on an existing database, and refusing
// a database from a newer version.

#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ats/v1/account_service.pb.h"
#include "ats/v1/integration_service.pb.h"
#include "ats/v1/job_service.pb.h"
#include "ats/v1/operations_service.pb.h"
#include "ats/v1/template_service.pb.h"
#include "google/rpc/error_details.pb.h"
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

// Bounds on every wait, generous for a loaded machine; none is a timing
// assertion, they only keep a broken server from hanging the test.
constexpr absl::Duration kStartTimeout = absl::Seconds(30);
constexpr absl::Duration kCommandTimeout = absl::Seconds(60);
// The server gets --shutdown_grace=2s; it must exit by itself well within
// this bound (Stop SIGKILLs it after, which reads as exit code 137).
constexpr absl::Duration kStopTimeout = absl::Seconds(15);

// Names and contents of the regular files in `dir`.
std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    files[entry.path().filename().string()] =
        entry.is_regular_file() ? ReadFile(entry.path().string()) : "<dir>";
  }
  return files;
}

bool Matches(const std::string& text, const std::string& pattern) {
  return std::regex_search(text, std::regex(pattern));
}

// The gRPC code buf curl printed for a failed call, e.g. "unauthenticated".
std::string ErrorCode(const std::string& output) {
  std::smatch match;
  static const std::regex kCode(R"re("code"\s*:\s*"([a-z_]+)")re");
  if (!std::regex_search(output, match, kCode)) return "";
  return match[1];
}

// The google.rpc.BadRequest detail buf curl printed (base64 of the message,
// std or URL alphabet, padded or not), if any.
std::optional<google::rpc::BadRequest> BadRequestDetail(
    const std::string& output) {
  std::smatch match;
  static const std::regex kDetail(
      R"re("type"\s*:\s*"google\.rpc\.BadRequest"\s*,\s*"value"\s*:\s*"([A-Za-z0-9+/_=-]*)")re");
  if (!std::regex_search(output, match, kDetail)) return std::nullopt;
  std::string encoded = match[1];
  std::replace(encoded.begin(), encoded.end(), '-', '+');
  std::replace(encoded.begin(), encoded.end(), '_', '/');
  while (encoded.size() % 4 != 0) encoded += '=';
  std::string bytes;
  google::rpc::BadRequest bad_request;
  if (!absl::Base64Unescape(encoded, &bytes) ||
      !bad_request.ParseFromString(bytes)) {
    return std::nullopt;
  }
  return bad_request;
}

// "package.Service/Method" for every RPC of every service that the proto
// file of `message` declares.
void AddMethodsOf(const google::protobuf::Descriptor* message,
                  std::set<std::string>* methods) {
  const google::protobuf::FileDescriptor* file = message->file();
  for (int s = 0; s < file->service_count(); ++s) {
    const google::protobuf::ServiceDescriptor* service = file->service(s);
    for (int m = 0; m < service->method_count(); ++m) {
      methods->insert(
          absl::StrCat(service->full_name(), "/", service->method(m)->name()));
    }
  }
}

// Polls (bounded) until `process`'s output contains `text`.
bool WaitForOutput(ChildProcess& process, const std::string& text,
                   absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (absl::StrContains(process.Log(), text)) return true;
    if (absl::Now() >= deadline || !process.Running()) {
      return absl::StrContains(process.Log(), text);
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

class ServerE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(kServerBin, X_OK), 0) << "no ats-server at " << kServerBin;
    ASSERT_EQ(access(kBufBin, X_OK), 0)
        << "buf not found at " << kBufBin << ": run tools/setup.sh";
    dir_ = MakeTempDir();
    db_path_ = dir_ + "/ats.db";
    key_dir_ = dir_ + "/keys";
    buf_cache_ = dir_ + "/buf-cache";
  }

  void TearDown() override { RemoveTree(dir_); }

  std::string operator_key_path() const { return key_dir_ + "/ats.operator.key"; }
  std::string admin_key_path() const { return key_dir_ + "/ats.admin.key"; }

  // Starts ats-server on the test's database and a free port, with
  // `extra_flags`, and waits until it accepts connections.
  std::optional<ChildProcess> StartServer(
      const std::vector<std::string>& extra_flags = {}) {
    port_ = PickFreeLoopbackPort();
    std::vector<std::string> argv = {
        kServerBin, absl::StrCat("--listen=127.0.0.1:", port_),
        "--db=" + db_path_, "--key_dir=" + key_dir_, "--shutdown_grace=2s"};
    argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
    auto server = ChildProcess::StartListening(argv, port_, kStartTimeout);
    if (!server.ok()) {
      ADD_FAILURE() << "cannot start ats-server: " << server.status();
      return std::nullopt;
    }
    return *std::move(server);
  }

  std::vector<std::string> BufCurlArgs() const {
    return {
        "env",  "BUF_CACHE_DIR=" + buf_cache_, kBufBin, "curl", "--protocol",
        "grpc", "--http2-prior-knowledge"};
  }

  std::string Url(const std::string& method = "") const {
    return absl::StrCat("http://127.0.0.1:", port_, method.empty() ? "" : "/",
                        method);
  }

  // Calls `method` ("pkg.Service/Method") with the JSON request `json`,
  // sending `authorization` as that header when not empty.
  CommandResult Call(const std::string& method, const std::string& json,
                     const std::string& authorization = "") {
    std::vector<std::string> argv = BufCurlArgs();
    if (!authorization.empty()) {
      argv.push_back("-H");
      argv.push_back("authorization: " + authorization);
    }
    argv.push_back("-d");
    argv.push_back(json);
    argv.push_back(Url(method));
    return RunCommand(argv, kCommandTimeout);
  }

  // Makes calls that succeed and fail, with both keys and without one, so
  // that every path of the call log runs (an error message with quotes and
  // a newline in it too).
  void CallEveryWay(const std::string& operator_key,
                    const std::string& admin_key) {
    EXPECT_EQ(Call("ats.v1.AccountService/ListAccounts", "{}",
                   "Bearer " + operator_key)
                  .exit_code,
              0);
    ExpectCallFailed(
        Call("ats.v1.AccountService/ListAccounts", "{}", "Bearer " + admin_key),
        "permission_denied");
    ExpectCallFailed(
        Call("ats.v1.AccountService/CreateAccount",
             R"({"account": {"displayName": "\"quoted\"\n\u00e9"}})",
             "Bearer " + operator_key),
        "invalid_argument");
    ExpectCallFailed(Call("ats.v1.AccountService/ListApiKeys",
                          R"({"pageToken": "bogus"})", "Bearer " + admin_key),
                     "invalid_argument");
    ExpectCallFailed(Call("ats.v1.AccountService/ListAccounts", "{}"),
                     "unauthenticated");
  }

  // Expects `result` to be buf curl's report of a failed call with `code`.
  static void ExpectCallFailed(const CommandResult& result,
                               const std::string& code) {
    EXPECT_NE(result.exit_code, 0) << result.out;
    EXPECT_NE(result.exit_code, -1) << "buf curl timed out: " << result.err;
    EXPECT_EQ(ErrorCode(result.err + result.out), code)
        << "stdout: " << result.out << "\nstderr: " << result.err;
  }

  std::string dir_;
  std::string db_path_;
  std::string key_dir_;
  std::string buf_cache_;
  int port_ = 0;
};

TEST_F(ServerE2eTest, ReflectionListsEveryServiceAndHealth) {
  std::optional<ChildProcess> server = StartServer();
  ASSERT_TRUE(server.has_value());

  std::vector<std::string> argv = BufCurlArgs();
  argv.push_back("--list-methods");
  argv.push_back(Url());
  CommandResult listed = RunCommand(argv, kCommandTimeout);
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  std::set<std::string> methods;
  for (absl::string_view line : absl::StrSplit(listed.out, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!line.empty()) methods.insert(std::string(line));
  }

  // Every RPC the contracts declare is served and described.
  std::set<std::string> expected = {"grpc.health.v1.Health/Check",
                                    "grpc.health.v1.Health/Watch"};
  AddMethodsOf(ats::v1::CreateAccountRequest::descriptor(), &expected);
  AddMethodsOf(ats::v1::ListPartnersRequest::descriptor(), &expected);
  AddMethodsOf(ats::v1::CreateJobRequest::descriptor(), &expected);
  AddMethodsOf(ats::v1::GetJobTemplateRequest::descriptor(), &expected);
  AddMethodsOf(ats::v1::BackupDatabaseRequest::descriptor(), &expected);
  for (const char* service :
       {"ats.v1.AccountService/", "ats.v1.IntegrationService/",
        "ats.v1.JobService/", "ats.v1.TemplateService/",
        "ats.v1.OperationsService/"}) {
    EXPECT_TRUE(std::any_of(expected.begin(), expected.end(),
                            [&](const std::string& method) {
                              return absl::StartsWith(method, service);
                            }))
        << service;
  }
  for (const std::string& method : expected) {
    EXPECT_EQ(methods.count(method), 1u) << method << " not listed in:\n"
                                         << listed.out;
  }
  // Nothing else but reflection itself.
  for (const std::string& method : methods) {
    if (absl::StartsWith(method, "grpc.reflection.")) continue;
    EXPECT_EQ(expected.count(method), 1u) << "unexpected method " << method;
  }
  EXPECT_EQ(server->Stop(SIGTERM, kStopTimeout), 0) << server->Log();
}

TEST_F(ServerE2eTest, ServesHealthAuthenticatedCallsAndRichErrors) {
  std::optional<ChildProcess> server = StartServer();
  ASSERT_TRUE(server.has_value());

  // Health needs no key.
  CommandResult health = Call("grpc.health.v1.Health/Check", "{}");
  ASSERT_EQ(health.exit_code, 0) << health.err;
  EXPECT_TRUE(Matches(health.out, R"("status"\s*:\s*"SERVING")")) << health.out;

  // The first start wrote both keys, readable by the owner only.
  EXPECT_EQ(FileMode(operator_key_path()), 0600);
  EXPECT_EQ(FileMode(admin_key_path()), 0600);
  const std::string operator_key = ReadKey(operator_key_path());
  const std::string admin_key = ReadKey(admin_key_path());
  ASSERT_FALSE(operator_key.empty());
  ASSERT_FALSE(admin_key.empty());
  EXPECT_NE(operator_key, admin_key);

  CommandResult accounts = Call("ats.v1.AccountService/ListAccounts", "{}",
                                "Bearer " + operator_key);
  ASSERT_EQ(accounts.exit_code, 0) << accounts.err << "\n" << server->Log();
  EXPECT_TRUE(Matches(accounts.out, R"("displayName"\s*:\s*"Default account")"))
      << accounts.out;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(
      accounts.out, match,
      std::regex(R"re("name"\s*:\s*"(accounts/[a-z0-9-]+)")re")))
      << accounts.out;
  const std::string account = match[1];

  // The admin key acts for the default account.
  CommandResult got = Call("ats.v1.AccountService/GetAccount",
                           absl::StrCat(R"({"name": ")", account, R"("})"),
                           "Bearer " + admin_key);
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_TRUE(absl::StrContains(got.out, account)) << got.out;

  ExpectCallFailed(Call("ats.v1.AccountService/ListAccounts", "{}"),
                   "unauthenticated");
  ExpectCallFailed(
      Call("ats.v1.AccountService/ListAccounts", "{}", "Bearer not-a-key"),
      "unauthenticated");
  ExpectCallFailed(
      Call("ats.v1.AccountService/ListAccounts", "{}", "Bearer " + admin_key),
      "permission_denied");

  CommandResult invalid =
      Call("ats.v1.AccountService/CreateAccount",
           R"({"account": {"displayName": ""}})", "Bearer " + operator_key);
  ExpectCallFailed(invalid, "invalid_argument");
  std::optional<google::rpc::BadRequest> bad_request =
      BadRequestDetail(invalid.err + invalid.out);
  ASSERT_TRUE(bad_request.has_value())
      << "no google.rpc.BadRequest detail in:\n"
      << invalid.err << invalid.out;
  ASSERT_EQ(bad_request->field_violations_size(), 1);
  EXPECT_EQ(bad_request->field_violations(0).field(), "account.display_name");
  EXPECT_FALSE(bad_request->field_violations(0).description().empty());

  EXPECT_EQ(server->Stop(SIGTERM, kStopTimeout), 0) << server->Log();
}

TEST_F(ServerE2eTest, RaisesItsOpenFileLimitToTheSystemsMost) {
  struct rlimit ours;
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &ours), 0);
  if (ours.rlim_max != RLIM_INFINITY && ours.rlim_max <= 256) {
    GTEST_SKIP() << "the hard limit leaves nothing to raise";
  }
  // The server inherits a low soft limit from us.
  struct rlimit low = ours;
  low.rlim_cur = 256;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  std::optional<ChildProcess> server = StartServer();
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &ours), 0);
  ASSERT_TRUE(server.has_value());

  std::ifstream limits(absl::StrCat("/proc/", server->pid(), "/limits"));
  std::string line;
  std::string open_files;
  while (std::getline(limits, line)) {
    if (absl::StartsWith(line, "Max open files")) open_files = line;
  }
  const std::string hard = ours.rlim_max == RLIM_INFINITY
                               ? "unlimited"
                               : absl::StrCat(ours.rlim_max);
  EXPECT_TRUE(Matches(open_files, absl::StrCat("Max open files\\s+", hard,
                                               "\\s+", hard)))
      << open_files;
}

TEST_F(ServerE2eTest, SigtermDrainsWithinGraceAndLogsNoSecret) {
  std::optional<ChildProcess> server = StartServer();
  ASSERT_TRUE(server.has_value());
  const std::string operator_key = ReadKey(operator_key_path());
  const std::string admin_key = ReadKey(admin_key_path());
  ASSERT_FALSE(operator_key.empty());
  ASSERT_FALSE(admin_key.empty());

  CallEveryWay(operator_key, admin_key);

  // A Watch stream never ends by itself: shutdown must report NOT_SERVING
  // to it, then cancel it when the grace runs out rather than wait forever.
  std::vector<std::string> watch_argv = BufCurlArgs();
  watch_argv.insert(watch_argv.end(),
                    {"-d", "{}", Url("grpc.health.v1.Health/Watch")});
  auto watch = ChildProcess::Start(watch_argv);
  ASSERT_TRUE(watch.ok()) << watch.status();
  ASSERT_TRUE(WaitForOutput(*watch, "SERVING", kStartTimeout)) << watch->Log();

  EXPECT_EQ(server->Stop(SIGTERM, kStopTimeout), 0) << server->Log();
  const std::string log = server->Log();
  EXPECT_TRUE(absl::StrContains(log, "shutting down")) << log;
  EXPECT_FALSE(absl::StrContains(log, operator_key)) << log;
  EXPECT_FALSE(absl::StrContains(log, admin_key)) << log;

  ASSERT_TRUE(watch->WaitForExit(kStopTimeout).has_value()) << watch->Log();
  EXPECT_TRUE(absl::StrContains(watch->Log(), "NOT_SERVING")) << watch->Log();
}

// Checks, with Python's strict JSON parser, that every line of the log
// file argv[1] is one JSON object with time, level and msg, and every call
// line has the call's fields; prints the codes of the call lines.
constexpr char kCheckJsonLog[] = R"py(
import json, sys
codes = []
with open(sys.argv[1], encoding="utf-8") as log:
    for number, line in enumerate(log, 1):
        record = json.loads(line)
        assert isinstance(record, dict), (number, line)
        missing = {"time", "level", "msg"} - record.keys()
        if record["msg"] == "rpc":
            missing |= {"method", "code", "latency_ms", "account", "key"} - record.keys()
            assert isinstance(record["latency_ms"], float), (number, line)
            if record["code"] != "OK":
                missing |= {"error"} - record.keys()
            codes.append(record["code"])
        assert not missing, (number, line, missing)
print(" ".join(sorted(codes)))
)py";

TEST_F(ServerE2eTest, JsonLogsAreOneObjectPerLineWithTheCallsFields) {
  std::optional<ChildProcess> server = StartServer({"--log_format=json"});
  ASSERT_TRUE(server.has_value());
  CallEveryWay(ReadKey(operator_key_path()), ReadKey(admin_key_path()));
  EXPECT_EQ(server->Stop(SIGTERM, kStopTimeout), 0) << server->Log();

  const CommandResult checked = RunCommand(
      {"python3", "-c", kCheckJsonLog, server->log_path()}, kCommandTimeout);
  EXPECT_EQ(checked.exit_code, 0) << checked.err << server->Log();
  EXPECT_EQ(checked.out,
            "INVALID_ARGUMENT INVALID_ARGUMENT OK PERMISSION_DENIED "
            "UNAUTHENTICATED\n")
      << server->Log();
  // The lines around the calls are there too, as JSON.
  EXPECT_TRUE(absl::StrContains(server->Log(), R"("msg":"stopped")"))
      << server->Log();
}

TEST_F(ServerE2eTest, RestartKeepsKeysAndData) {
  std::map<std::string, std::string> keys_before;
  {
    std::optional<ChildProcess> server = StartServer();
    ASSERT_TRUE(server.has_value());
    EXPECT_TRUE(absl::StrContains(server->Log(), "first start"))
        << server->Log();
    keys_before = Snapshot(key_dir_);
    ASSERT_EQ(keys_before.size(), 2u);
    ASSERT_EQ(keys_before.count("ats.operator.key"), 1u);
    ASSERT_EQ(keys_before.count("ats.admin.key"), 1u);
    EXPECT_EQ(server->Stop(SIGTERM, kStopTimeout), 0) << server->Log();
  }
  const std::string operator_key = ReadKey(operator_key_path());
  const std::string admin_key = ReadKey(admin_key_path());

  std::optional<ChildProcess> server = StartServer();
  ASSERT_TRUE(server.has_value());
  // No second bootstrap: the key files are exactly as the first start left
  // them, and there is no other file.
  EXPECT_FALSE(absl::StrContains(server->Log(), "first start"))
      << server->Log();
  EXPECT_EQ(Snapshot(key_dir_), keys_before);
  EXPECT_EQ(FileMode(operator_key_path()), 0600);

  // The old keys still work, on the old data: one default account.
  CommandResult accounts = Call("ats.v1.AccountService/ListAccounts", "{}",
                                "Bearer " + operator_key);
  ASSERT_EQ(accounts.exit_code, 0) << accounts.err << "\n" << server->Log();
  EXPECT_TRUE(Matches(accounts.out, R"("displayName"\s*:\s*"Default account")"))
      << accounts.out;
  const std::regex account_name(R"("name"\s*:\s*"accounts/)");
  const auto names =
      std::distance(std::sregex_iterator(accounts.out.begin(),
                                         accounts.out.end(), account_name),
                    std::sregex_iterator());
  EXPECT_EQ(names, 1) << accounts.out;

  CommandResult keys =
      Call("ats.v1.AccountService/ListApiKeys", "{}", "Bearer " + admin_key);
  ASSERT_EQ(keys.exit_code, 0) << keys.err;
  EXPECT_TRUE(Matches(keys.out, R"("role"\s*:\s*"ROLE_ADMIN")")) << keys.out;

  EXPECT_EQ(server->Stop(SIGTERM, kStopTimeout), 0) << server->Log();
}

TEST_F(ServerE2eTest, RefusesDatabaseOfNewerVersion) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc =
      sqlite3_exec(db, "PRAGMA user_version = 999;", nullptr, nullptr, &error);
  const std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message;

  CommandResult result = RunCommand(
      {kServerBin, absl::StrCat("--listen=127.0.0.1:", PickFreeLoopbackPort()),
       "--db=" + db_path_, "--key_dir=" + key_dir_, "--shutdown_grace=2s"},
      kCommandTimeout);
  EXPECT_NE(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.exit_code, -1) << "ats-server kept running:\n"
                                  << result.out << result.err;
  EXPECT_TRUE(absl::StrContains(result.out + result.err, "newer"))
      << result.out << result.err;
  // It refused before writing anything: no keys for a database it won't
  // serve.
  EXPECT_FALSE(std::filesystem::exists(operator_key_path()));
}

}  // namespace
}  // namespace ats::testing

namespace ats::testing {
namespace {

TEST_F(ServerE2eTest, ServesTlsWhenGivenACertificate) {
  const std::string cert = dir_ + "/server.pem";
  const std::string key = dir_ + "/server.key";
  const CommandResult made = RunCommand(
      {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
       "1", "-subj", "/CN=localhost", "-addext",
       "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out",
       cert},
      kCommandTimeout);
  ASSERT_EQ(made.exit_code, 0) << made.err;

  port_ = PickFreeLoopbackPort();
  auto server = ChildProcess::Start(
      {kServerBin, absl::StrCat("--listen=127.0.0.1:", port_),
       "--db=" + db_path_, "--key_dir=" + key_dir_, "--tls_cert=" + cert,
       "--tls_key=" + key});
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE(server->WaitForTcpPort(port_, kStartTimeout)) << server->Log();
  const std::string https = absl::StrCat("https://127.0.0.1:", port_);

  // Trusting the certificate, a call over TLS works...
  CommandResult secure = RunCommand(
      {"env", "BUF_CACHE_DIR=" + buf_cache_, kBufBin, "curl", "--protocol",
       "grpc", "--cacert", cert, "-H",
       "authorization: Bearer " + ReadKey(operator_key_path()), "-d", "{}",
       https + "/ats.v1.AccountService/ListAccounts"},
      kCommandTimeout);
  EXPECT_EQ(secure.exit_code, 0) << secure.out << secure.err;
  EXPECT_TRUE(Matches(secure.out, "Default account")) << secure.out;

  // ...and plaintext is refused.
  CommandResult plain = Call("grpc.health.v1.Health/Check", "{}");
  EXPECT_NE(plain.exit_code, 0) << plain.out;
  EXPECT_EQ(server->Stop(), 0) << server->Log();
}

TEST_F(ServerE2eTest, RefusesHalfATlsConfiguration) {
  auto server = ChildProcess::Start(
      {kServerBin, "--listen=127.0.0.1:0", "--db=" + db_path_,
       "--key_dir=" + key_dir_, "--tls_cert=" + dir_ + "/missing.pem"});
  ASSERT_TRUE(server.ok()) << server.status();
  std::optional<int> exit_code = server->WaitForExit(kStopTimeout);
  ASSERT_TRUE(exit_code.has_value()) << server->Log();
  EXPECT_EQ(*exit_code, 2);
  EXPECT_TRUE(Matches(server->Log(), "--tls_key")) << server->Log();
  // Refused before anything was written.
  EXPECT_FALSE(std::filesystem::exists(db_path_));
  EXPECT_FALSE(std::filesystem::exists(key_dir_));
}

// Every flag is checked before anything is written: a start with a bad one
// exits with code 2, says why, and leaves the directory as it was.
TEST_F(ServerE2eTest, BadFlagsExitWithCode2AndWriteNothing) {
  const std::string cert = dir_ + "/server.pem";
  std::ofstream(cert) << "a readable file\n";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--tls_cert=" + cert}, "--tls_key"},
      {{"--tls_key=" + cert}, "--tls_cert"},
      {{"--tls_cert=" + cert, "--tls_key=" + dir_ + "/missing.key"},
       "missing.key"},
      {{"--listen=localhost"}, "--listen"},
      {{"--listen=127.0.0.1:65536"}, "--listen"},
      {{"--listen=::1:50051"}, "--listen"},
      {{"--rate_limit=-1"}, "--rate_limit"},
      {{"--rate_limit=10", "--rate_burst=0"}, "--rate_burst"},
      {{"--auth_failure_limit=-5"}, "--auth_failure_limit"},
      {{"--max_message_bytes=0"}, "--max_message_bytes"},
      {{"--log_level=loud"}, "--log_level"},
      {{"--log_format=xml"}, "--log_format"},
      {{"--dispatch_lease=1s"}, "--dispatch_lease"},
  };
  const std::map<std::string, std::string> before = Snapshot(dir_);
  for (const auto& [flags, named] : cases) {
    SCOPED_TRACE(absl::StrJoin(flags, " "));
    // A free loopback port first, so that a case wrongly accepted serves
    // nothing beyond this machine (a later --listen wins).
    std::vector<std::string> argv = {kServerBin, "--listen=127.0.0.1:0",
                                     "--db=" + db_path_,
                                     "--key_dir=" + key_dir_};
    argv.insert(argv.end(), flags.begin(), flags.end());
    CommandResult result = RunCommand(argv, kCommandTimeout);
    EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
    EXPECT_TRUE(absl::StrContains(result.err, named)) << result.err;
    EXPECT_EQ(Snapshot(dir_), before);
  }
}

TEST_F(ServerE2eTest, HelpListsTheFlags) {
  CommandResult help = RunCommand({kServerBin, "--help"}, kCommandTimeout);
  EXPECT_NE(help.exit_code, -1) << help.err;
  const std::string text = help.out + help.err;
  EXPECT_FALSE(absl::StrContains(text, "No flags matched")) << text;
  for (const char* flag : {"--listen", "--db", "--tls_cert", "--rate_limit",
                           "--rate_burst", "--auth_failure_limit"}) {
    EXPECT_TRUE(absl::StrContains(text, flag)) << flag << " missing:\n"
                                                << text;
  }
}

TEST_F(ServerE2eTest, VersionPrintsTheVersionAndExits) {
  CommandResult version =
      RunCommand({kServerBin, "--version"}, kCommandTimeout);
  EXPECT_EQ(version.exit_code, 0) << version.err;
  EXPECT_TRUE(absl::StartsWith(version.out, "ats-server ")) << version.out;
  EXPECT_TRUE(absl::StrContains(version.out, ATS_VERSION)) << version.out;
}

// A key over --rate_limit is told to wait, with a google.rpc.RetryInfo.
TEST_F(ServerE2eTest, KeysAreRateLimitedByTheFlags) {
  std::optional<ChildProcess> server =
      StartServer({"--rate_limit=0.01", "--rate_burst=2"});
  ASSERT_TRUE(server.has_value());
  const std::string operator_key = "Bearer " + ReadKey(operator_key_path());
  for (int i = 0; i < 2; ++i) {
    CommandResult listed =
        Call("ats.v1.AccountService/ListAccounts", "{}", operator_key);
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
  }
  CommandResult over =
      Call("ats.v1.AccountService/ListAccounts", "{}", operator_key);
  ExpectCallFailed(over, "resource_exhausted");
  EXPECT_TRUE(absl::StrContains(over.err + over.out, "google.rpc.RetryInfo"))
      << over.err << over.out;
  EXPECT_TRUE(absl::StrContains(over.err + over.out, "rate limit"))
      << over.err << over.out;
  EXPECT_EQ(server->Stop(SIGTERM, kStopTimeout), 0) << server->Log();
}

// After --auth_failure_limit failures an address is refused, whatever key
// it sends; the health service and reflection, which take no key, still
// answer it.
TEST_F(ServerE2eTest, ThrottlesFailedAuthenticationButNotHealthOrReflection) {
  std::optional<ChildProcess> server =
      StartServer({"--auth_failure_limit=2"});
  ASSERT_TRUE(server.has_value());
  for (int i = 0; i < 2; ++i) {
    ExpectCallFailed(
        Call("ats.v1.AccountService/ListAccounts", "{}", "Bearer not-a-key"),
        "unauthenticated");
  }
  CommandResult refused =
      Call("ats.v1.AccountService/ListAccounts", "{}", "Bearer not-a-key");
  ExpectCallFailed(refused, "resource_exhausted");
  EXPECT_TRUE(
      absl::StrContains(refused.err + refused.out, "google.rpc.RetryInfo"))
      << refused.err << refused.out;
  ExpectCallFailed(Call("ats.v1.AccountService/ListAccounts", "{}",
                        "Bearer " + ReadKey(operator_key_path())),
                   "resource_exhausted");

  CommandResult health = Call("grpc.health.v1.Health/Check", "{}");
  EXPECT_EQ(health.exit_code, 0) << health.err;
  std::vector<std::string> argv = BufCurlArgs();
  argv.push_back("--list-methods");
  argv.push_back(Url());
  CommandResult listed = RunCommand(argv, kCommandTimeout);
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_TRUE(absl::StrContains(listed.out, "ats.v1.JobService/CreateJob"))
      << listed.out;
  EXPECT_EQ(server->Stop(SIGTERM, kStopTimeout), 0) << server->Log();
}

}  // namespace
}  // namespace ats::testing
