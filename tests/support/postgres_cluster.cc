#include "tests/support/postgres_cluster.h"

#include <pwd.h>
#include <unistd.h>

#include <fstream>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tests/support/loopback_port.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"

namespace ats::testing {
namespace {

constexpr char kBin[] = "/usr/lib/postgresql/15/bin/";
constexpr absl::Duration kToolTimeout = absl::Seconds(60);

// `tool` of PostgreSQL 15 with `args`, as the `postgres` user when we are
// root: PostgreSQL refuses to run as root.
std::vector<std::string> AsPostgres(const std::string& tool,
                                    std::vector<std::string> args) {
  std::vector<std::string> argv;
  if (geteuid() == 0) argv = {"runuser", "-u", "postgres", "--"};
  argv.push_back(absl::StrCat(kBin, tool));
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

absl::Status Run(const std::vector<std::string>& argv) {
  CommandResult result = RunCommand(argv, kToolTimeout);
  if (result.exit_code == 0) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      argv[geteuid() == 0 ? 4 : 0], " exited ", result.exit_code, ": ",
      result.out, result.err));
}

// Hands `path` to the `postgres` user when we are root.
absl::Status GiveToPostgres(const std::string& path) {
  if (geteuid() != 0) return absl::OkStatus();
  const passwd* user = getpwnam("postgres");
  if (user == nullptr) {
    return absl::FailedPreconditionError(
        "no postgres user: install postgresql-15 (tools/setup.sh does)");
  }
  if (chown(path.c_str(), user->pw_uid, user->pw_gid) != 0) {
    return absl::InternalError(absl::StrCat("cannot chown ", path));
  }
  return absl::OkStatus();
}

// Starts the server of the cluster in `dir` and waits until it serves.
absl::Status StartServerIn(const std::string& dir) {
  return Run(AsPostgres("pg_ctl", {"-D", dir + "/data", "-l",
                                   dir + "/postgres.log", "-w", "-t", "60",
                                   "start"}));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresCluster>> PostgresCluster::Start() {
  if (access(absl::StrCat(kBin, "initdb").c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        "PostgreSQL 15 is not installed: run tools/setup.sh");
  }
  const std::string dir = MakeTempDir();
  absl::Status status = GiveToPostgres(dir);
  if (status.ok()) {
    status = Run(AsPostgres("initdb", {"-D", dir + "/data", "-U", "postgres",
                                       "--auth=trust", "--encoding=UTF8",
                                       "--no-locale", "--no-sync"}));
  }
  // A free port can be taken between picking and binding it: try again.
  for (int attempt = 0; status.ok() && attempt < 3; ++attempt) {
    const int port = PickFreeLoopbackPort();
    // The data outlives no test, so durability is traded for speed.
    std::ofstream conf(dir + "/data/postgresql.auto.conf", std::ios::trunc);
    conf << "listen_addresses = '127.0.0.1'\n"
         << "port = " << port << "\n"
         << "unix_socket_directories = '" << dir << "'\n"
         << "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
         << "max_connections = 200\nshared_buffers = 128MB\n";
    conf.close();
    status = StartServerIn(dir);
    if (status.ok()) {
      return std::unique_ptr<PostgresCluster>(
          new PostgresCluster(dir, port, /*owned=*/true));
    }
  }
  RemoveTree(dir);
  return status;
}

absl::StatusOr<std::unique_ptr<PostgresCluster>> PostgresCluster::Attach(
    const std::string& state_file) {
  std::ifstream in(state_file);
  std::string dir;
  int port = 0;
  if (!(in >> dir >> port)) {
    return absl::FailedPreconditionError(
        absl::StrCat("no PostgreSQL cluster described in ", state_file));
  }
  return std::unique_ptr<PostgresCluster>(
      new PostgresCluster(dir, port, /*owned=*/false));
}

absl::Status PostgresCluster::WriteState(const std::string& state_file) const {
  std::ofstream out(state_file, std::ios::trunc);
  out << dir_ << " " << port_ << "\n";
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", state_file));
  return absl::OkStatus();
}

PostgresCluster::~PostgresCluster() {
  if (!owned_) return;
  Run(AsPostgres("pg_ctl", {"-D", dir_ + "/data", "-m", "immediate", "-w",
                            "stop"}))
      .IgnoreError();
  RemoveTree(dir_);
}

absl::Status PostgresCluster::StopServer() {
  return Run(AsPostgres("pg_ctl", {"-D", dir_ + "/data", "-m", "fast", "-w",
                                   "stop"}));
}

absl::Status PostgresCluster::StartServer() { return StartServerIn(dir_); }

absl::StatusOr<std::string> PostgresCluster::CreateDatabase(
    const std::string& template_name) {
  const std::string name =
      absl::StrCat("ats_test_", getpid(), "_", ++databases_created_);
  std::vector<std::string> args = {"-h", "127.0.0.1", "-p",
                                   absl::StrCat(port_), "-U", "postgres"};
  if (!template_name.empty()) {
    args.insert(args.end(), {"-T", template_name});
  }
  args.push_back(name);
  absl::Status status = Run(AsPostgres("createdb", args));
  if (!status.ok()) return status;
  return UriOf(name);
}

std::string PostgresCluster::UriOf(const std::string& database) const {
  return absl::StrCat("postgresql://postgres@127.0.0.1:", port_, "/",
                      database);
}

absl::StatusOr<PostgresCluster*> SharedPostgresCluster() {
  // Destroyed when the binary exits, which stops a cluster it started.
  static absl::StatusOr<std::unique_ptr<PostgresCluster>> cluster = [] {
    // The CTest fixture's cluster, while it runs (its stop removes the
    // file).
    if (std::ifstream(ATS_POSTGRES_FIXTURE_STATE_FILE).good()) {
      return PostgresCluster::Attach(ATS_POSTGRES_FIXTURE_STATE_FILE);
    }
    return PostgresCluster::Start();
  }();
  if (!cluster.ok()) return cluster.status();
  return cluster->get();
}

absl::StatusOr<std::string> CreateTestDatabase() {
  absl::StatusOr<PostgresCluster*> cluster = SharedPostgresCluster();
  if (!cluster.ok()) return cluster.status();
  return (*cluster)->CreateDatabase();
}

}  // namespace ats::testing
