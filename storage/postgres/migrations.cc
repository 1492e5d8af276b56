#include "storage/postgres/migrations.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"

namespace ats::storage::postgres {
namespace {

// The advisory lock every replica migrating this database takes: the
// characters "atsmigr" as a number, so it is recognisable in pg_locks.
constexpr int64_t kMigrationLock = 0x6174736d696772;

// How often a replica asks for the migration lock again while another holds
// it.
constexpr absl::Duration kLockPoll = absl::Milliseconds(50);

// The first line of a migration that runs outside a transaction, one
// statement at a time: what CREATE INDEX CONCURRENTLY needs, so that an
// index is built while replicas still on the previous version go on
// writing. A failure leaves the statements before it done and the
// migration unrecorded, so every statement must be safe to run again.
constexpr absl::string_view kNoTransaction = "-- ats:no-transaction\n";

absl::StatusOr<int64_t> ReadVersion(Connection& connection) {
  auto result = connection.Query(
      "SELECT coalesce(max(version), 0) FROM ats_schema_migrations");
  if (!result.ok()) return result.status();
  return result->Int64(0, 0);
}

absl::Status NotNewer(int64_t current, int64_t newest) {
  if (current <= newest) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "database schema version ", current, " is newer than this server (",
      newest, "); upgrade ats-server"));
}

// Takes the migration lock with `try_lock` (a pg_try_advisory_*lock query),
// asking again until it is free. Never waits inside a statement: a replica
// blocked on the lock would hold a snapshot, and CREATE INDEX CONCURRENTLY
// run under the lock waits for every older snapshot to end, so the two
// would wait for each other. `between` runs after each refusal (to end the
// transaction holding the snapshot of the try).
absl::Status PollForLock(Connection& connection, const std::string& try_lock,
                         absl::string_view between) {
  for (;;) {
    auto locked = connection.Query(try_lock, {Param(kMigrationLock)});
    if (!locked.ok()) return locked.status();
    if (locked->Bool(0, 0)) return absl::OkStatus();
    if (!between.empty()) {
      absl::Status status = connection.Exec(between);
      if (!status.ok()) return status;
    }
    absl::SleepFor(kLockPoll);
  }
}

// Begins a transaction holding the migration lock.
absl::Status BeginLocked(Connection& connection) {
  absl::Status status = connection.Exec("BEGIN");
  if (!status.ok()) return status;
  return PollForLock(connection, "SELECT pg_try_advisory_xact_lock($1)",
                     "ROLLBACK; BEGIN");
}

absl::Status Record(Connection& connection, const Migration& migration) {
  return connection
      .Query(
          "INSERT INTO ats_schema_migrations (version, name, apply_time) "
          "VALUES ($1, $2, "
          "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint)",
          {Param(migration.version), Param(migration.name)})
      .status();
}

// Returns the statements of `sql`: each ends with a line that ends in ';'.
// Those that are only comments (such as the kNoTransaction line) are left
// out.
std::vector<std::string> Statements(absl::string_view sql) {
  std::vector<std::string> statements;
  std::string statement;
  bool has_code = false;
  for (absl::string_view line : absl::StrSplit(sql, '\n')) {
    const absl::string_view code = absl::StripAsciiWhitespace(line);
    absl::StrAppend(&statement, line, "\n");
    has_code = has_code || (!code.empty() && !absl::StartsWith(code, "--"));
    if (absl::EndsWith(code, ";") && !absl::StartsWith(code, "--")) {
      if (has_code) statements.push_back(std::move(statement));
      statement.clear();
      has_code = false;
    }
  }
  if (has_code) statements.push_back(std::move(statement));
  return statements;
}

// Applies `migration` unless another replica did meanwhile, in the
// transaction BeginLocked started.
absl::Status ApplyInTransaction(Connection& connection,
                                const Migration& migration, int64_t newest) {
  absl::StatusOr<int64_t> current = ReadVersion(connection);
  if (!current.ok()) return current.status();
  absl::Status status = NotNewer(*current, newest);
  if (!status.ok() || *current >= migration.version) return status;
  status = connection.Exec(migration.sql);
  if (!status.ok()) return status;
  return Record(connection, migration);
}

// Applies `migration` (a kNoTransaction one) unless another replica did
// meanwhile, holding the migration lock for the session meanwhile.
absl::Status ApplyStatementByStatement(Connection& connection,
                                       const Migration& migration,
                                       int64_t newest) {
  absl::Status status = PollForLock(
      connection, "SELECT pg_try_advisory_lock($1)", /*between=*/"");
  if (!status.ok()) return status;
  absl::StatusOr<int64_t> current = ReadVersion(connection);
  status = current.status();
  if (status.ok()) status = NotNewer(*current, newest);
  if (status.ok() && *current < migration.version) {
    for (const std::string& statement : Statements(migration.sql)) {
      status = connection.Exec(statement);
      if (!status.ok()) break;
    }
    if (status.ok()) status = Record(connection, migration);
  }
  auto unlocked = connection.Query("SELECT pg_advisory_unlock($1)",
                                   {Param(kMigrationLock)});
  if (status.ok()) status = unlocked.status();
  return status;
}

absl::Status ApplyOne(Connection& connection, const Migration& migration,
                      int64_t newest) {
  absl::Status status;
  if (absl::StartsWith(migration.sql, kNoTransaction)) {
    status = ApplyStatementByStatement(connection, migration, newest);
  } else {
    status = BeginLocked(connection);
    if (status.ok()) status = ApplyInTransaction(connection, migration, newest);
    if (status.ok()) {
      status = connection.Exec("COMMIT");
    } else {
      connection.Exec("ROLLBACK").IgnoreError();
    }
  }
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrCat("migration ", migration.version, " (",
                                   migration.name, ") failed: ",
                                   status.message()));
}

}  // namespace

absl::Status ApplyMigrations(Connection& connection) {
  return ApplyMigrations(connection, EmbeddedMigrations());
}

absl::Status ApplyMigrations(Connection& connection,
                             absl::Span<const Migration> migrations) {
  absl::Status status = ValidateMigrations(migrations);
  if (!status.ok()) return status;
  // IF NOT EXISTS races when two replicas create it at once; the advisory
  // lock makes them take turns.
  status = BeginLocked(connection);
  if (status.ok()) {
    status = connection.Exec(
        "CREATE TABLE IF NOT EXISTS ats_schema_migrations ("
        "version integer PRIMARY KEY, name text NOT NULL, "
        "apply_time bigint NOT NULL); COMMIT");
  }
  if (!status.ok()) {
    connection.Exec("ROLLBACK").IgnoreError();
    return status;
  }
  absl::StatusOr<int64_t> current = ReadVersion(connection);
  if (!current.ok()) return current.status();
  const int64_t newest = static_cast<int64_t>(migrations.size());
  status = NotNewer(*current, newest);
  if (!status.ok()) return status;
  for (const Migration& migration : migrations) {
    if (migration.version <= *current) continue;
    status = ApplyOne(connection, migration, newest);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace ats::storage::postgres
