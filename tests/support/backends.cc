#include "tests/support/backends.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "storage/postgres/connection.h"
#include "storage/postgres/migrations.h"
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

namespace {

// The database each test store clones, with the schema already migrated:
// migrating once per cluster rather than once per test.
constexpr char kMigratedTemplate[] = "ats_migrated_template";

// Makes the template unless it is there: one process makes it while the
// others wait on an advisory lock, and one that died half way is redone
// (only a finished one is marked a template).
absl::Status EnsureMigratedTemplate(PostgresCluster& cluster) {
  auto admin =
      storage::postgres::Connection::Open(cluster.Uri(), absl::Seconds(10));
  if (!admin.ok()) return admin.status();
  storage::postgres::Connection& db = **admin;
  absl::Status status =
      db.Exec("SELECT pg_advisory_lock(x'61747374706c'::bigint)");
  if (!status.ok()) return status;
  auto found = db.Query(
      "SELECT datistemplate FROM pg_database WHERE datname = $1",
      {kMigratedTemplate});
  if (found.ok() && (found->rows() == 0 || !found->Bool(0, 0))) {
    // Two commands: neither may run inside a transaction.
    status = db.Exec(absl::StrCat("DROP DATABASE IF EXISTS ", kMigratedTemplate));
    if (status.ok()) {
      status = db.Exec(absl::StrCat("CREATE DATABASE ", kMigratedTemplate));
    }
    if (status.ok()) {
      auto migrating = storage::postgres::Connection::Open(
          cluster.UriOf(kMigratedTemplate), absl::Seconds(10));
      status = migrating.ok()
                   ? storage::postgres::ApplyMigrations(**migrating)
                   : migrating.status();
    }
    if (status.ok()) {
      status = db.Exec(absl::StrCat("ALTER DATABASE ", kMigratedTemplate,
                                    " IS_TEMPLATE true"));
    }
  } else if (!found.ok()) {
    status = found.status();
  }
  absl::Status unlocked =
      db.Exec("SELECT pg_advisory_unlock(x'61747374706c'::bigint)");
  return status.ok() ? unlocked : status;
}

// Creates a new database with the whole schema in the shared cluster and
// returns its URI.
absl::StatusOr<std::string> CreateMigratedDatabase() {
  absl::StatusOr<PostgresCluster*> cluster = SharedPostgresCluster();
  if (!cluster.ok()) return cluster.status();
  absl::Status status = EnsureMigratedTemplate(**cluster);
  if (!status.ok()) return status;
  return (*cluster)->CreateDatabase(kMigratedTemplate);
}

}  // namespace

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

absl::StatusOr<TestDatabase> TestDatabase::Create(Backend backend,
                                                  const std::string& dir) {
  const std::string key_file = dir + "/ats.secrets.key";
  if (backend == Backend::kSqlite) {
    return TestDatabase(backend, dir + "/ats.db", key_file);
  }
  absl::StatusOr<std::string> uri = CreateMigratedDatabase();
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
