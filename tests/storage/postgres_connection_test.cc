// The PostgreSQL connection and migrations, on a throwaway cluster.

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "storage/failure.h"
#include "storage/postgres/connection.h"
#include "storage/postgres/migrations.h"
#include "tests/support/loopback_port.h"
#include "tests/support/postgres_cluster.h"

namespace ats::storage::postgres {
namespace {

class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto uri = ::ats::testing::CreateTestDatabase();
    ASSERT_TRUE(uri.ok()) << uri.status();
    uri_ = *uri;
  }

  std::unique_ptr<Connection> Open() {
    auto connection = Connection::Open(uri_, absl::Seconds(10));
    EXPECT_TRUE(connection.ok()) << connection.status();
    return connection.ok() ? *std::move(connection) : nullptr;
  }

  std::string uri_;
};

TEST_F(PostgresTest, QueriesWithParametersNullsAndBytes) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(
      db->Exec("CREATE TABLE t (id text PRIMARY KEY, n bigint, b bytea)").ok());
  const std::string bytes("\0\x01\xff'\\x", 6);
  for (int round = 0; round < 2; ++round) {  // The second reuses the statement.
    auto inserted = db->Query("INSERT INTO t VALUES ($1, $2, $3)",
                              {Param(absl::StrCat("k", round)),
                               round == 0 ? Param(std::nullopt) : Param(-7),
                               Param::Bytes(bytes)});
    ASSERT_TRUE(inserted.ok()) << inserted.status();
    EXPECT_EQ(inserted->affected_rows(), 1);
  }
  auto rows = db->Query("SELECT id, n, b FROM t ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows(), 2);
  EXPECT_EQ(rows->Text(0, 0), "k0");
  EXPECT_TRUE(rows->IsNull(0, 1));
  EXPECT_EQ(rows->Int64(1, 1), -7);
  EXPECT_EQ(rows->Bytes(0, 2), bytes);
}

TEST_F(PostgresTest, ErrorsCarryTheCodeToActOn) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t (id text PRIMARY KEY, "
                       "n bigint CHECK (n > 0))")
                  .ok());
  ASSERT_TRUE(db->Query("INSERT INTO t VALUES ('a', 1)").ok());
  absl::Status duplicate = db->Query("INSERT INTO t VALUES ('a', 2)").status();
  EXPECT_EQ(duplicate.code(), absl::StatusCode::kAlreadyExists) << duplicate;
  EXPECT_TRUE(IsStorageFailure(duplicate));
  absl::Status check = db->Query("INSERT INTO t VALUES ('b', -1)").status();
  EXPECT_EQ(check.code(), absl::StatusCode::kFailedPrecondition) << check;
  absl::Status syntax = db->Exec("SELEC 1");
  EXPECT_EQ(syntax.code(), absl::StatusCode::kInternal) << syntax;
  EXPECT_FALSE(IsRetryableConflict(syntax));
  // The connection is still usable after errors.
  EXPECT_TRUE(db->Query("SELECT 1").ok());
}

TEST_F(PostgresTest, SerializationFailureIsARetryableConflict) {
  auto first = Open();
  auto second = Open();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(first->Exec("CREATE TABLE t (id text PRIMARY KEY, n bigint); "
                          "INSERT INTO t VALUES ('a', 0)")
                  .ok());
  // Both read, then both write the row: the second to commit must fail.
  for (Connection* db : {first.get(), second.get()}) {
    ASSERT_TRUE(db->Exec("BEGIN ISOLATION LEVEL SERIALIZABLE").ok());
    ASSERT_TRUE(db->Query("SELECT n FROM t WHERE id = 'a'").ok());
  }
  ASSERT_TRUE(first->Query("UPDATE t SET n = 1 WHERE id = 'a'").ok());
  ASSERT_TRUE(first->Exec("COMMIT").ok());
  absl::Status conflict =
      second->Query("UPDATE t SET n = 2 WHERE id = 'a'").status();
  EXPECT_EQ(conflict.code(), absl::StatusCode::kAborted) << conflict;
  EXPECT_TRUE(IsRetryableConflict(conflict));
  EXPECT_TRUE(second->Exec("ROLLBACK").ok());
}

TEST_F(PostgresTest, NoServerIsUnavailable) {
  // Nothing listens on a port that was just free.
  auto refused = Connection::Open(
      absl::StrCat("postgresql://postgres@127.0.0.1:",
                   ::ats::testing::PickFreeLoopbackPort(), "/postgres"),
      absl::Seconds(2));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable)
      << refused.status();
}

TEST_F(PostgresTest, MigratesFromEmptyOnceAndRefusesANewerSchema) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(ApplyMigrations(*db).ok());
  ASSERT_TRUE(ApplyMigrations(*db).ok());  // Nothing left to do.
  auto version = db->Query("SELECT max(version) FROM ats_schema_migrations");
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(version->Int64(0, 0),
            static_cast<int64_t>(EmbeddedMigrations().size()));
  auto events = db->Query("SELECT count(*) FROM events");
  ASSERT_TRUE(events.ok()) << events.status();

  ASSERT_TRUE(db->Query("INSERT INTO ats_schema_migrations VALUES "
                        "(999, 'from_the_future', 0)")
                  .ok());
  absl::Status newer = ApplyMigrations(*db);
  EXPECT_EQ(newer.code(), absl::StatusCode::kFailedPrecondition) << newer;
}

TEST_F(PostgresTest, FailingMigrationLeavesNoTrace) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  constexpr Migration kMigrations[] = {
      {1, "notes", "CREATE TABLE notes (id bigint PRIMARY KEY)"},
      {2, "broken", "CREATE TABLE half (id bigint); SELECT no_such_column"},
  };
  absl::Status status = ApplyMigrations(*db, kMigrations);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("migration 2 (broken)"), std::string::npos)
      << status;
  auto tables = db->Query(
      "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables "
      "WHERE schemaname = 'public'");
  ASSERT_TRUE(tables.ok()) << tables.status();
  EXPECT_EQ(tables->Text(0, 0), "ats_schema_migrations,notes");
}

// Names of the indexes on table `table`, valid or not, comma-separated.
std::string IndexesOf(Connection& db, const std::string& table) {
  auto indexes = db.Query(
      "SELECT coalesce(string_agg(c.relname || CASE WHEN i.indisvalid THEN '' "
      "ELSE ' (invalid)' END, ',' ORDER BY c.relname), '') FROM pg_index i "
      "JOIN pg_class c ON c.oid = i.indexrelid "
      "WHERE i.indrelid = $1::regclass",
      {Param(table)});
  EXPECT_TRUE(indexes.ok()) << indexes.status();
  return indexes.ok() ? std::string(indexes->Text(0, 0)) : "";
}

TEST_F(PostgresTest, NoTransactionMigrationBuildsIndexesConcurrently) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  constexpr Migration kMigrations[] = {
      {1, "notes", "CREATE TABLE notes (id bigint PRIMARY KEY, body text)"},
      // Fails inside a transaction ("cannot run inside a transaction
      // block"), so it only passes if run on its own.
      {2, "notes_by_body",
       "-- ats:no-transaction\n"
       "-- A comment; with a semicolon;\n"
       "CREATE INDEX CONCURRENTLY notes_by_body\n"
       "  ON notes (body);\n"
       "CREATE INDEX CONCURRENTLY notes_by_length ON notes (length(body));\n"},
  };
  absl::Status status = ApplyMigrations(*db, kMigrations);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(IndexesOf(*db, "notes"),
            "notes_by_body,notes_by_length,notes_pkey");
  ASSERT_TRUE(ApplyMigrations(*db, kMigrations).ok());  // Nothing left.
  auto versions = db->Query(
      "SELECT string_agg(version || ':' || name, ',' ORDER BY version) "
      "FROM ats_schema_migrations");
  ASSERT_TRUE(versions.ok()) << versions.status();
  EXPECT_EQ(versions->Text(0, 0), "1:notes,2:notes_by_body");
}

TEST_F(PostgresTest, NoTransactionMigrationThatFailsRunsAgainWhole) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE notes (id bigint, body text); "
                       "INSERT INTO notes VALUES (1, 'a'), (1, 'b')")
                  .ok());
  // The unique index fails midway on the duplicate id, leaving an invalid
  // index behind; the first statement drops it on the next run.
  constexpr char kSwap[] =
      "-- ats:no-transaction\n"
      "DROP INDEX CONCURRENTLY IF EXISTS notes_by_id;\n"
      "CREATE UNIQUE INDEX CONCURRENTLY notes_by_id ON notes (id);\n";
  const Migration kMigrations[] = {{1, "notes_by_id", kSwap}};
  absl::Status status = ApplyMigrations(*db, kMigrations);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("migration 1 (notes_by_id)"),
            std::string::npos)
      << status;
  EXPECT_EQ(IndexesOf(*db, "notes"), "notes_by_id (invalid)");
  auto recorded = db->Query("SELECT count(*) FROM ats_schema_migrations");
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_EQ(recorded->Int64(0, 0), 0);
  // The lock was let go: another connection can take it at once.
  auto other = Open();
  ASSERT_NE(other, nullptr);
  auto locked = other->Query("SELECT pg_try_advisory_lock($1)",
                             {Param(int64_t{0x6174736d696772})});
  ASSERT_TRUE(locked.ok()) << locked.status();
  EXPECT_TRUE(locked->Bool(0, 0));
  ASSERT_TRUE(other->Query("SELECT pg_advisory_unlock_all()").ok());

  ASSERT_TRUE(db->Exec("DELETE FROM notes WHERE body = 'b'").ok());
  status = ApplyMigrations(*db, kMigrations);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(IndexesOf(*db, "notes"), "notes_by_id");
}

// A replica upgrading while others, still on the old version, write: one
// keeps a transaction open, which the build waits for, and meanwhile
// another's writes are not held up behind the build (as they would be
// behind a plain CREATE INDEX waiting for its lock).
TEST_F(PostgresTest, NoTransactionMigrationLetsOtherReplicasWrite) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE notes (id bigint, body text)").ok());
  auto open_transaction = Open();
  ASSERT_NE(open_transaction, nullptr);
  ASSERT_TRUE(
      open_transaction->Exec("BEGIN; INSERT INTO notes VALUES (1, 'a')").ok());
  absl::Status migrated;
  std::thread upgrade([&] {
    constexpr Migration kMigrations[] = {
        {1, "notes_by_body",
         "-- ats:no-transaction\n"
         "CREATE INDEX CONCURRENTLY notes_by_body ON notes (body);\n"}};
    migrated = ApplyMigrations(*db, kMigrations);
  });
  absl::SleepFor(absl::Milliseconds(300));  // The build is waiting.
  auto writer = Open();
  ASSERT_NE(writer, nullptr);
  EXPECT_TRUE(writer
                  ->Exec("SET statement_timeout = '5s'; "
                         "INSERT INTO notes VALUES (2, 'b')")
                  .ok());
  EXPECT_TRUE(open_transaction->Exec("COMMIT").ok());
  upgrade.join();
  EXPECT_TRUE(migrated.ok()) << migrated;
  EXPECT_EQ(IndexesOf(*db, "notes"), "notes_by_body");
}

TEST_F(PostgresTest, ReplicasStartingTogetherMigrateOnce) {
  std::vector<absl::Status> results(4);
  std::vector<std::thread> replicas;
  for (absl::Status& result : results) {
    replicas.emplace_back([&] {
      auto db = Connection::Open(uri_, absl::Seconds(10));
      result = db.ok() ? ApplyMigrations(**db) : db.status();
    });
  }
  for (std::thread& replica : replicas) replica.join();
  for (const absl::Status& result : results) EXPECT_TRUE(result.ok()) << result;
  auto db = Open();
  ASSERT_NE(db, nullptr);
  auto count = db->Query("SELECT count(*) FROM ats_schema_migrations");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->Int64(0, 0),
            static_cast<int64_t>(EmbeddedMigrations().size()));
}

}  // namespace
}  // namespace ats::storage::postgres
