// Running one test suite on every storage backend: SQLite in a temporary
// directory, and PostgreSQL in a fresh database of the shared throwaway
// cluster (tests/support/postgres_cluster.h).
//
//   class MyTest : public ::testing::TestWithParam<Backend> {...};
//   INSTANTIATE_TEST_SUITE_P(Backends, MyTest, AllBackends(), BackendName);
#ifndef ATS_TESTS_SUPPORT_BACKENDS_H_
#define ATS_TESTS_SUPPORT_BACKENDS_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "storage/sql/session.h"
#include "storage/store.h"

namespace ats::testing {

enum class Backend { kSqlite, kPostgres };

// The backends every storage test runs on.
inline auto AllBackends() {
  return ::testing::Values(Backend::kSqlite, Backend::kPostgres);
}

// The backend named by the environment variable ATS_TEST_BACKEND
// ("postgres" or, when unset, "sqlite"), for tests that run whole binaries
// on each backend rather than instantiate each test twice. Aborts on any
// other value, so a typo cannot quietly test SQLite twice.
Backend BackendOfEnvironment();

// Names a test instance after its backend: "Sqlite" or "Postgres".
std::string BackendName(const ::testing::TestParamInfo<Backend>& info);

// One new, empty database of a backend, for one test.
class TestDatabase {
 public:
  // Makes the database: a SQLite file name in `dir`, or a fresh PostgreSQL
  // database. The secrets key file goes in `dir` too, which must exist.
  static absl::StatusOr<TestDatabase> Create(Backend backend,
                                             const std::string& dir);

  // Opens the store on it (the first open creates the schema).
  absl::StatusOr<std::unique_ptr<storage::Store>> Open(
      const storage::StoreObserver& observer = {}) const;

  // Runs `use` on a connection of its own, outside any transaction: SQL
  // behind the repositories' back, to corrupt what they stored or count
  // what they do not show. Parameters are numbered ?1, ?2...
  absl::Status WithSession(
      const std::function<absl::Status(storage::sql::Session&)>& use) const;

  Backend backend() const { return backend_; }

 private:
  TestDatabase(Backend backend, std::string location, std::string key_file)
      : backend_(backend),
        location_(std::move(location)),
        key_file_(std::move(key_file)) {}

  Backend backend_;
  // The SQLite file, or the PostgreSQL URI.
  std::string location_;
  std::string key_file_;
};

}  // namespace ats::testing

#endif  // ATS_TESTS_SUPPORT_BACKENDS_H_
