#include <sqlite3.h>

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "storage/failure.h"
#include "storage/sqlite/connection.h"
#include "storage/sqlite/errors.h"
#include "tests/support/temp_dir.h"

namespace ats::storage::sqlite {
namespace {

using ::ats::testing::TempDir;

class ErrorMappingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Connection>> connection =
        Connection::Open(dir_.File("db.sqlite"), ConnectionOptions());
    ASSERT_TRUE(connection.ok()) << connection.status();
    connection_ = *std::move(connection);
    ASSERT_TRUE(
        connection_
            ->Exec("CREATE TABLE parent (id INTEGER PRIMARY KEY, "
                   "                     name TEXT UNIQUE NOT NULL);"
                   "CREATE TABLE child (id INTEGER PRIMARY KEY, "
                   "  parent_id INTEGER NOT NULL REFERENCES parent (id),"
                   "  size INTEGER CHECK (size > 0));"
                   "INSERT INTO parent VALUES (1, 'one');")
            .ok());
  }

  TempDir dir_;
  std::unique_ptr<Connection> connection_;
};

TEST_F(ErrorMappingTest, UniqueViolationIsAlreadyExists) {
  absl::Status status = connection_->Prepare("INSERT INTO parent VALUES (?, ?)")
                            .Bind(1, 2)
                            .Bind(2, "one")
                            .Run();
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists) << status;
  EXPECT_NE(status.message().find("UNIQUE constraint failed: parent.name"),
            absl::string_view::npos)
      << status;
  // The context names the statement.
  EXPECT_NE(status.message().find("INSERT INTO parent"),
            absl::string_view::npos)
      << status;
}

TEST_F(ErrorMappingTest, PrimaryKeyViolationIsAlreadyExists) {
  absl::Status status = connection_->Prepare("INSERT INTO parent VALUES (?, ?)")
                            .Bind(1, 1)
                            .Bind(2, "uno")
                            .Run();
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists) << status;
}

TEST_F(ErrorMappingTest, ForeignKeyViolationIsFailedPrecondition) {
  absl::Status status =
      connection_->Prepare("INSERT INTO child (parent_id) VALUES (?)")
          .Bind(1, 99)
          .Run();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_NE(status.message().find("FOREIGN KEY constraint failed"),
            absl::string_view::npos)
      << status;
}

TEST_F(ErrorMappingTest, OtherConstraintViolationsAreFailedPrecondition) {
  absl::Status not_null =
      connection_->Prepare("INSERT INTO parent (id) VALUES (?)")
          .Bind(1, 5)
          .Run();
  EXPECT_EQ(not_null.code(), absl::StatusCode::kFailedPrecondition) << not_null;
  absl::Status check =
      connection_->Prepare("INSERT INTO child (parent_id, size) VALUES (1, ?)")
          .Bind(1, -1)
          .Run();
  EXPECT_EQ(check.code(), absl::StatusCode::kFailedPrecondition) << check;
}

TEST_F(ErrorMappingTest, LockContentionIsUnavailable) {
  ConnectionOptions impatient;
  impatient.busy_timeout_ms = 0;
  absl::StatusOr<std::unique_ptr<Connection>> other =
      Connection::Open(dir_.File("db.sqlite"), impatient);
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_TRUE(connection_->Exec("BEGIN IMMEDIATE").ok());
  absl::Status status = (*other)->Exec("BEGIN IMMEDIATE");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  ASSERT_TRUE(connection_->Exec("COMMIT").ok());
  EXPECT_TRUE((*other)->Exec("BEGIN IMMEDIATE; COMMIT").ok());
}

// A database that reached its size limit behaves as on a full disk.
TEST_F(ErrorMappingTest, FullDatabaseIsResourceExhausted) {
  ASSERT_TRUE(connection_->Exec("PRAGMA max_page_count = 8").ok());
  absl::Status status;
  for (int i = 0; i < 1000 && status.ok(); ++i) {
    status = connection_->Prepare("INSERT INTO parent VALUES (?, ?)")
                 .Bind(1, i + 10)
                 .Bind(2, std::string(500, 'a' + i % 26) + std::to_string(i))
                 .Run();
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_NE(status.message().find("full"), absl::string_view::npos) << status;
  // The detail is for the log: the server replaces it for clients.
  EXPECT_TRUE(IsStorageFailure(status));
}

TEST(SqliteErrorTest, EveryErrorIsAStorageFailure) {
  for (int rc : {SQLITE_CONSTRAINT_UNIQUE, SQLITE_BUSY, SQLITE_FULL,
                 SQLITE_CORRUPT, SQLITE_CANTOPEN}) {
    EXPECT_TRUE(IsStorageFailure(SqliteError(rc, nullptr, "x"))) << rc;
  }
  EXPECT_FALSE(IsStorageFailure(absl::NotFoundError("job 1 not found")));
  EXPECT_FALSE(IsStorageFailure(MarkStorageFailure(absl::OkStatus())));
}

TEST(SqliteErrorTest, MapsResultCodes) {
  EXPECT_EQ(SqliteError(SQLITE_CONSTRAINT_UNIQUE, nullptr, "x").code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(SqliteError(SQLITE_CONSTRAINT_PRIMARYKEY, nullptr, "x").code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(SqliteError(SQLITE_CONSTRAINT_FOREIGNKEY, nullptr, "x").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(SqliteError(SQLITE_CONSTRAINT_CHECK, nullptr, "x").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(SqliteError(SQLITE_CONSTRAINT, nullptr, "x").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(SqliteError(SQLITE_BUSY, nullptr, "x").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(SqliteError(SQLITE_BUSY_SNAPSHOT, nullptr, "x").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(SqliteError(SQLITE_LOCKED, nullptr, "x").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(SqliteError(SQLITE_FULL, nullptr, "x").code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(SqliteError(SQLITE_CORRUPT, nullptr, "x").code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(SqliteError(SQLITE_IOERR_WRITE, nullptr, "x").code(),
            absl::StatusCode::kInternal);
}

TEST(SqliteErrorTest, MessageHasContextAndSqliteText) {
  absl::Status status = SqliteError(SQLITE_FULL, nullptr, "saving job 7");
  EXPECT_NE(status.message().find("saving job 7"), absl::string_view::npos);
  EXPECT_NE(status.message().find(sqlite3_errstr(SQLITE_FULL)),
            absl::string_view::npos)
      << status;
}

TEST(AbbreviateSqlTest, CollapsesWhitespaceAndTruncates) {
  EXPECT_EQ(AbbreviateSql("  SELECT *\n  FROM t\t WHERE x = ?  "),
            "SELECT * FROM t WHERE x = ?");
  const std::string abbreviated = AbbreviateSql(std::string(500, 'x'));
  EXPECT_LT(abbreviated.size(), 100u);
  EXPECT_EQ(abbreviated.substr(abbreviated.size() - 3), "...");
}

}  // namespace
}  // namespace ats::storage::sqlite
