#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "storage/sqlite/connection.h"
#include "storage/sqlite/migrations.h"
#include "tests/support/temp_dir.h"

namespace ats::storage::sqlite {
namespace {

using ::ats::testing::TempDir;

constexpr Migration kTwoMigrations[] = {
    {1, "create_notes",
     "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"},
    {2, "seed_notes", "INSERT INTO notes (body) VALUES ('first');"},
};

constexpr Migration kThreeMigrations[] = {
    kTwoMigrations[0],
    kTwoMigrations[1],
    {3, "add_tags",
     "CREATE TABLE tags (note_id INTEGER REFERENCES notes (id));"},
};

class MigrationsTest : public ::testing::Test {
 protected:
  std::unique_ptr<Connection> Open() {
    absl::StatusOr<std::unique_ptr<Connection>> connection =
        Connection::Open(dir_.File("db.sqlite"), ConnectionOptions());
    EXPECT_TRUE(connection.ok()) << connection.status();
    return connection.ok() ? *std::move(connection) : nullptr;
  }

  int64_t QueryInt(Connection& connection, const char* sql) {
    Statement& statement = connection.Prepare(sql);
    absl::StatusOr<bool> row = statement.Step();
    EXPECT_TRUE(row.ok() && *row) << sql << ": " << row.status();
    int64_t value = statement.ColumnInt64(0);
    connection.ResetStatements();
    return value;
  }

  int64_t UserVersion(Connection& connection) {
    return QueryInt(connection, "PRAGMA user_version");
  }

  int64_t TableCount(Connection& connection, const char* table) {
    Statement& statement = connection.Prepare(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?");
    statement.Bind(1, table);
    absl::StatusOr<bool> row = statement.Step();
    EXPECT_TRUE(row.ok() && *row) << row.status();
    int64_t value = statement.ColumnInt64(0);
    connection.ResetStatements();
    return value;
  }

  TempDir dir_;
};

TEST_F(MigrationsTest, AppliesAllToEmptyDatabase) {
  std::unique_ptr<Connection> connection = Open();
  ASSERT_NE(connection, nullptr);
  ASSERT_EQ(UserVersion(*connection), 0);
  absl::Status status = ApplyMigrations(*connection, kTwoMigrations);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(UserVersion(*connection), 2);
  EXPECT_EQ(QueryInt(*connection, "SELECT count(*) FROM notes"), 1);
  EXPECT_FALSE(connection->in_transaction());
}

TEST_F(MigrationsTest, ReopeningAppliesOnlyNewMigrations) {
  {
    std::unique_ptr<Connection> connection = Open();
    ASSERT_NE(connection, nullptr);
    ASSERT_TRUE(ApplyMigrations(*connection, kTwoMigrations).ok());
  }
  {
    std::unique_ptr<Connection> connection = Open();
    ASSERT_NE(connection, nullptr);
    ASSERT_TRUE(ApplyMigrations(*connection, kTwoMigrations).ok());
    // The seed would have inserted a second row had it run again.
    EXPECT_EQ(QueryInt(*connection, "SELECT count(*) FROM notes"), 1);
    EXPECT_EQ(UserVersion(*connection), 2);
  }
  {
    std::unique_ptr<Connection> connection = Open();
    ASSERT_NE(connection, nullptr);
    ASSERT_TRUE(ApplyMigrations(*connection, kThreeMigrations).ok());
    EXPECT_EQ(QueryInt(*connection, "SELECT count(*) FROM notes"), 1);
    EXPECT_EQ(TableCount(*connection, "tags"), 1);
    EXPECT_EQ(UserVersion(*connection), 3);
  }
}

TEST_F(MigrationsTest, RefusesDatabaseNewerThanServer) {
  std::unique_ptr<Connection> connection = Open();
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(ApplyMigrations(*connection, kThreeMigrations).ok());
  absl::Status status = ApplyMigrations(*connection, kTwoMigrations);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "database schema version 3 is newer than this server (2); "
            "upgrade ats-server");
  EXPECT_EQ(UserVersion(*connection), 3);
}

TEST_F(MigrationsTest, RejectsNonContiguousVersions) {
  std::unique_ptr<Connection> connection = Open();
  ASSERT_NE(connection, nullptr);
  const Migration gap[] = {{1, "a", "SELECT 1;"}, {3, "c", "SELECT 1;"}};
  const Migration not_from_one[] = {{2, "b", "SELECT 1;"}};
  const Migration duplicate[] = {{1, "a", "SELECT 1;"}, {1, "b", "SELECT 1;"}};
  const Migration out_of_order[] = {{2, "b", "SELECT 1;"},
                                    {1, "a", "SELECT 1;"}};
  for (absl::Span<const Migration> migrations :
       {absl::Span<const Migration>(gap),
        absl::Span<const Migration>(not_from_one),
        absl::Span<const Migration>(duplicate),
        absl::Span<const Migration>(out_of_order)}) {
    absl::Status status = ApplyMigrations(*connection, migrations);
    EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  }
  // Nothing was applied.
  EXPECT_EQ(UserVersion(*connection), 0);
}

TEST_F(MigrationsTest, FailingMigrationLeavesNoTrace) {
  std::unique_ptr<Connection> connection = Open();
  ASSERT_NE(connection, nullptr);
  const Migration migrations[] = {
      kTwoMigrations[0],
      {2, "broken",
       "CREATE TABLE half_done (x INTEGER);"
       "INSERT INTO notes (body) VALUES ('from broken');"
       "INSERT INTO no_such_table VALUES (1);"},
  };
  absl::Status status = ApplyMigrations(*connection, migrations);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_NE(status.message().find("migration 2 (broken)"),
            absl::string_view::npos)
      << status;
  EXPECT_NE(status.message().find("no such table: no_such_table"),
            absl::string_view::npos)
      << status;
  EXPECT_EQ(UserVersion(*connection), 1);
  EXPECT_EQ(TableCount(*connection, "half_done"), 0);
  EXPECT_EQ(QueryInt(*connection, "SELECT count(*) FROM notes"), 0);
  EXPECT_FALSE(connection->in_transaction());

  // Fixed in a later build, the migration applies.
  ASSERT_TRUE(ApplyMigrations(*connection, kTwoMigrations).ok());
  EXPECT_EQ(UserVersion(*connection), 2);
}

TEST_F(MigrationsTest, MigrationLeavingDanglingReferencesFails) {
  std::unique_ptr<Connection> connection = Open();
  ASSERT_NE(connection, nullptr);
  const Migration migrations[] = {
      {1, "parents", "CREATE TABLE parent (id INTEGER PRIMARY KEY);"},
      {2, "dangling",
       "CREATE TABLE child (parent_id INTEGER REFERENCES parent (id));"
       "INSERT INTO child VALUES (42);"},
  };
  absl::Status status = ApplyMigrations(*connection, migrations);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_NE(status.message().find("foreign key violation in table child"),
            absl::string_view::npos)
      << status;
  EXPECT_EQ(UserVersion(*connection), 1);
  EXPECT_EQ(TableCount(*connection, "child"), 0);
  // Enforcement is back on for everything after the migrations.
  EXPECT_EQ(QueryInt(*connection, "PRAGMA foreign_keys"), 1);
}

TEST_F(MigrationsTest, MigrationCanRebuildReferencedTable) {
  std::unique_ptr<Connection> connection = Open();
  ASSERT_NE(connection, nullptr);
  const Migration migrations[] = {
      {1, "tables",
       "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
       "CREATE TABLE child (parent_id INTEGER REFERENCES parent (id) "
       "                    ON DELETE CASCADE);"
       "INSERT INTO parent VALUES (1);"
       "INSERT INTO child VALUES (1);"},
      // SQLite's recipe for schema changes ALTER TABLE cannot make.
      {2, "rebuild_parent",
       "CREATE TABLE parent_new (id INTEGER PRIMARY KEY, label TEXT "
       "                         NOT NULL DEFAULT '');"
       "INSERT INTO parent_new (id) SELECT id FROM parent;"
       "DROP TABLE parent;"
       "ALTER TABLE parent_new RENAME TO parent;"},
  };
  absl::Status status = ApplyMigrations(*connection, migrations);
  ASSERT_TRUE(status.ok()) << status;
  // The cascade did not fire when the old parent table was dropped.
  EXPECT_EQ(QueryInt(*connection, "SELECT count(*) FROM child"), 1);
  EXPECT_EQ(QueryInt(*connection, "PRAGMA foreign_keys"), 1);
  EXPECT_EQ(UserVersion(*connection), 2);
}

TEST(EmbeddedMigrationsTest, AreContiguousAndApplyToEmptyDatabase) {
  absl::Span<const Migration> migrations = EmbeddedMigrations();
  ASSERT_FALSE(migrations.empty());
  EXPECT_TRUE(ValidateMigrations(migrations).ok());
  EXPECT_STREQ(migrations[0].name, "foundation");

  TempDir dir;
  absl::StatusOr<std::unique_ptr<Connection>> connection =
      Connection::Open(dir.File("db.sqlite"), ConnectionOptions());
  ASSERT_TRUE(connection.ok()) << connection.status();
  absl::Status status = ApplyMigrations(**connection);
  ASSERT_TRUE(status.ok()) << status;
  Statement& version = (*connection)->Prepare("PRAGMA user_version");
  ASSERT_EQ(version.Step().value_or(false), true);
  EXPECT_EQ(version.ColumnInt64(0), static_cast<int64_t>(migrations.size()));
}

TEST(EmbeddedMigrationsTest, StageCandidateCountsStartFromTheApplications) {
  absl::Span<const Migration> migrations = EmbeddedMigrations();
  size_t counts = 0;
  while (counts < migrations.size() &&
         std::string(migrations[counts].name) != "stage_candidate_counts") {
    ++counts;
  }
  ASSERT_LT(counts, migrations.size());

  TempDir dir;
  absl::StatusOr<std::unique_ptr<Connection>> opened =
      Connection::Open(dir.File("db.sqlite"), ConnectionOptions());
  ASSERT_TRUE(opened.ok()) << opened.status();
  Connection& db = **opened;
  ASSERT_TRUE(ApplyMigrations(db, migrations.first(counts)).ok());
  for (const char* insert : {
           "INSERT INTO accounts (id, display_name, create_time) "
           "VALUES ('a', 'A', 1)",
           "INSERT INTO jobs (account_id, id, title, description, state, "
           "template_id, create_time, update_time, revision) "
           "VALUES ('a', 'j', 'Job', '', 1, '', 1, 1, 1)",
           "INSERT INTO stages (account_id, id, job_id, display_name, "
           "position, create_time) VALUES ('a', 's1', 'j', 'One', 0, 1), "
           "('a', 's2', 'j', 'Two', 1, 1), ('a', 's3', 'j', 'Three', 2, 1)",
           "INSERT INTO candidates (account_id, id, given_name, family_name, "
           "email, email_key, phone, create_time, update_time, revision) "
           "VALUES ('a', 'c1', '', '', '', '', '', 1, 1, 1), "
           "('a', 'c2', '', '', '', '', '', 1, 1, 1), "
           "('a', 'c3', '', '', '', '', '', 1, 1, 1)",
           "INSERT INTO applications (account_id, job_id, candidate_id, "
           "stage_id, stage_enter_time, entry_count, create_time) "
           "VALUES ('a', 'j', 'c1', 's1', 1, 1, 1), "
           "('a', 'j', 'c2', 's1', 1, 1, 1), ('a', 'j', 'c3', 's3', 1, 1, 1)",
       }) {
    ASSERT_TRUE(db.Exec(insert).ok()) << insert;
  }

  ASSERT_TRUE(ApplyMigrations(db, migrations.first(counts + 1)).ok());
  Statement& read = db.Prepare(
      "SELECT group_concat(id || '=' || candidate_count, ' ') "
      "FROM (SELECT id, candidate_count FROM stages ORDER BY id)");
  ASSERT_EQ(read.Step().value_or(false), true);
  EXPECT_EQ(read.ColumnText(0), "s1=2 s2=0 s3=1");
}

}  // namespace
}  // namespace ats::storage::sqlite
