#include "tests/support/backends.h"

#include <cstdio>
#include <cstdlib>

#include "absl/time/time.h"
#include "storage/postgres/connection.h"
#include "storage/postgres/session.h"
#include "storage/sqlite/connection.h"
#include "tests/support/postgres_cluster.h"

namespace ats::testing {

Backend BackendOfEnvironment() {
  const char* name = std::getenv("ATS_TEST_BACKEND");
  if (name == nullptr || std::string(name) == "sqlite") return Backend::kSqlite;
  if (std::string(name) == "postgres") return Backend::kPostgres;
  std::fprintf(stderr, "ATS_TEST_BACKEND must be sqlite or postgres, not %s\n",
               name);
  std::abort();
}

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

absl::StatusOr<TestDatabase> TestDatabase::Create(Backend backend,
                                                  const std::string& dir) {
  const std::string key_file = dir + "/ats.secrets.key";
  if (backend == Backend::kSqlite) {
    return TestDatabase(backend, dir + "/ats.db", key_file);
  }
  absl::StatusOr<std::string> uri = CreateTestDatabase();
  if (!uri.ok()) return uri.status();
  return TestDatabase(backend, *uri, key_file);
}

absl::StatusOr<std::unique_ptr<storage::Store>> TestDatabase::Open(
    const storage::StoreObserver& observer) const {
  if (backend_ == Backend::kSqlite) {
    storage::SqliteStoreOptions options;
    options.path = location_;
    options.secrets_key_file = key_file_;
    options.observer = observer;
    return storage::OpenSqliteStore(options);
  }
  storage::PostgresStoreOptions options;
  options.uri = location_;
  options.secrets_key_file = key_file_;
  options.connections = 4;
  options.observer = observer;
  return storage::OpenPostgresStore(options);
}

absl::Status TestDatabase::WithSession(
    const std::function<absl::Status(storage::sql::Session&)>& use) const {
  if (backend_ == Backend::kSqlite) {
    auto db = storage::sqlite::Connection::Open(
        location_, storage::sqlite::ConnectionOptions());
    if (!db.ok()) return db.status();
    absl::Status status = use(**db);
    (*db)->ResetStatements();
    return status;
  }
  auto connection =
      storage::postgres::Connection::Open(location_, absl::Seconds(5));
  if (!connection.ok()) return connection.status();
  storage::postgres::Session session(**connection);
  return use(session);
}

}  // namespace ats::testing
