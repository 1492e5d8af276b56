// A throwaway PostgreSQL 15 cluster for tests: initdb into a temporary
// directory, a server on a free loopback port, everything removed at the end.
// Starting one takes seconds, so tests share one and each gets a fresh
// database in it. Under CTest the cluster is a fixture, started once for
// every test binary that needs it (ats_postgres_fixture start, see
// tests/support/CMakeLists.txt), which records it in a state file in the
// build directory; a binary run by hand starts its own.
#ifndef ATS_TESTS_SUPPORT_POSTGRES_CLUSTER_H_
#define ATS_TESTS_SUPPORT_POSTGRES_CLUSTER_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"

namespace ats::testing {

class PostgresCluster {
 public:
  // Runs initdb (as the `postgres` user when this process is root, since
  // PostgreSQL refuses to run as root) into a new temporary directory and
  // starts the server on 127.0.0.1 at a free port, with trust
  // authentication for the `postgres` role on loopback only. Fails with the
  // tools' output when PostgreSQL 15 is not installed (tools/setup.sh
  // installs it) or does not start.
  static absl::StatusOr<std::unique_ptr<PostgresCluster>> Start();

  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  // Returns the cluster that `state_file` (written by WriteState) describes,
  // which the caller does not own: destroying it leaves the server running.
  static absl::StatusOr<std::unique_ptr<PostgresCluster>> Attach(
      const std::string& state_file);

  // Records where the cluster is in `state_file`, for Attach.
  absl::Status WriteState(const std::string& state_file) const;

  // Makes this object the cluster's owner (true) or not (false); the owner
  // stops the server and removes its directory when destroyed.
  void set_owned(bool owned) { owned_ = owned; }

  // Stops the server at once (fast shutdown: every connection is cut),
  // keeping its data: a database outage.
  absl::Status StopServer();
  // Starts the server again, on its port, after StopServer.
  absl::Status StartServer();

  // When owned: stops the server at once and removes its directory.
  ~PostgresCluster();

  // Creates a new database, empty or a copy of database `template_name`
  // (which no one may be connected to), and returns its libpq URI
  // (postgresql://postgres@127.0.0.1:PORT/NAME). Names are unique within
  // the cluster. Not thread-safe.
  absl::StatusOr<std::string> CreateDatabase(
      const std::string& template_name = "");

  // The URI of the cluster's `postgres` database.
  std::string Uri() const { return UriOf("postgres"); }
  // The URI of database `database`.
  std::string UriOf(const std::string& database) const;
  int port() const { return port_; }

 private:
  PostgresCluster(std::string dir, int port, bool owned)
      : dir_(std::move(dir)), port_(port), owned_(owned) {}

  std::string dir_;
  int port_;
  bool owned_;
  int databases_created_ = 0;
};

// The cluster this test binary uses: the CTest fixture's while it runs,
// else one started on first use and stopped when the binary exits. A test
// that needs PostgreSQL calls this and fails with its status when there is
// none.
absl::StatusOr<PostgresCluster*> SharedPostgresCluster();

// Creates a new, empty database in SharedPostgresCluster() and returns its
// URI: what each PostgreSQL test starts from.
absl::StatusOr<std::string> CreateTestDatabase();

}  // namespace ats::testing

#endif  // ATS_TESTS_SUPPORT_POSTGRES_CLUSTER_H_
