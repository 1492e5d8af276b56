#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "storage/sqlite/connection.h"
#include "tests/support/temp_dir.h"

namespace ats::storage::sqlite {
namespace {

using ::ats::testing::TempDir;

std::unique_ptr<Connection> OpenOrDie(const std::string& path,
                                      const ConnectionOptions& options = {}) {
  absl::StatusOr<std::unique_ptr<Connection>> connection =
      Connection::Open(path, options);
  EXPECT_TRUE(connection.ok()) << connection.status();
  return connection.ok() ? *std::move(connection) : nullptr;
}

// Returns the single text value `sql` yields.
std::string QueryText(Connection& connection, const char* sql) {
  Statement& statement = connection.Prepare(sql);
  absl::StatusOr<bool> row = statement.Step();
  EXPECT_TRUE(row.ok()) << row.status();
  EXPECT_TRUE(row.ok() && *row) << sql << " returned no row";
  std::string value = statement.ColumnText(0);
  connection.ResetStatements();
  return value;
}

TEST(ConnectionTest, OpenEnablesWalAndForeignKeys) {
  TempDir dir;
  std::unique_ptr<Connection> connection = OpenOrDie(dir.File("db.sqlite"));
  ASSERT_NE(connection, nullptr);
  EXPECT_EQ(QueryText(*connection, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(QueryText(*connection, "PRAGMA foreign_keys"), "1");
  // NORMAL is 1, FULL is 2.
  EXPECT_EQ(QueryText(*connection, "PRAGMA synchronous"), "1");
  EXPECT_EQ(QueryText(*connection, "PRAGMA busy_timeout"), "5000");
  EXPECT_FALSE(connection->read_only());
}

TEST(ConnectionTest, OptionsSetSynchronousAndBusyTimeout) {
  TempDir dir;
  ConnectionOptions options;
  options.synchronous_full = true;
  options.busy_timeout_ms = 1234;
  std::unique_ptr<Connection> connection =
      OpenOrDie(dir.File("db.sqlite"), options);
  ASSERT_NE(connection, nullptr);
  EXPECT_EQ(QueryText(*connection, "PRAGMA synchronous"), "2");
  EXPECT_EQ(QueryText(*connection, "PRAGMA busy_timeout"), "1234");
}

TEST(ConnectionTest, ReadOnlyConnectionSeesDataButCannotWrite) {
  TempDir dir;
  std::unique_ptr<Connection> writer = OpenOrDie(dir.File("db.sqlite"));
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Exec("CREATE TABLE t (x INTEGER)").ok());
  ASSERT_TRUE(writer->Exec("INSERT INTO t VALUES (7)").ok());

  ConnectionOptions options;
  options.read_only = true;
  std::unique_ptr<Connection> reader =
      OpenOrDie(dir.File("db.sqlite"), options);
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(reader->read_only());
  EXPECT_EQ(QueryText(*reader, "SELECT x FROM t"), "7");
  EXPECT_EQ(QueryText(*reader, "PRAGMA foreign_keys"), "1");
  EXPECT_FALSE(reader->Exec("INSERT INTO t VALUES (8)").ok());
}

TEST(ConnectionTest, ReadOnlyOpenOfMissingFileFails) {
  TempDir dir;
  ConnectionOptions options;
  options.read_only = true;
  absl::StatusOr<std::unique_ptr<Connection>> connection =
      Connection::Open(dir.File("missing.sqlite"), options);
  EXPECT_EQ(connection.status().code(), absl::StatusCode::kFailedPrecondition)
      << connection.status();
}

TEST(ConnectionTest, PrepareReusesCachedStatementAndResetsIt) {
  TempDir dir;
  std::unique_ptr<Connection> connection = OpenOrDie(dir.File("db.sqlite"));
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->Exec("CREATE TABLE t (x INTEGER)").ok());
  ASSERT_TRUE(connection->Exec("INSERT INTO t VALUES (1), (2), (3)").ok());

  const char* kSql = "SELECT x FROM t WHERE x >= ? ORDER BY x";
  Statement& first = connection->Prepare(kSql);
  first.Bind(1, 2);
  ASSERT_EQ(first.Step().value_or(false), true);
  EXPECT_EQ(first.ColumnInt64(0), 2);
  // Stop mid-way; the next user must start from the top, unbound.

  Statement& second = connection->Prepare(kSql);
  EXPECT_EQ(&first, &second);
  // An unbound parameter is NULL, and x >= NULL matches nothing.
  EXPECT_EQ(second.Step().value_or(true), false);

  second.Bind(1, 1);
  std::vector<int64_t> values;
  while (true) {
    absl::StatusOr<bool> row = second.Step();
    ASSERT_TRUE(row.ok()) << row.status();
    if (!*row) break;
    values.push_back(second.ColumnInt64(0));
  }
  EXPECT_EQ(values, (std::vector<int64_t>{1, 2, 3}));

  // A different text is a different statement, even if equivalent.
  EXPECT_NE(&connection->Prepare("SELECT x FROM t WHERE x >= ?  ORDER BY x"),
            &second);
}

TEST(ConnectionTest, StatementRerunsAfterFinishingWithSameBindings) {
  TempDir dir;
  std::unique_ptr<Connection> connection = OpenOrDie(dir.File("db.sqlite"));
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->Exec("CREATE TABLE t (x INTEGER)").ok());
  Statement& insert = connection->Prepare("INSERT INTO t VALUES (?)");
  insert.Bind(1, 5);
  ASSERT_TRUE(insert.Run().ok());
  ASSERT_TRUE(insert.Run().ok());
  EXPECT_EQ(QueryText(*connection, "SELECT count(*) FROM t WHERE x = 5"), "2");
}

TEST(ConnectionTest, ResetStatementsReleasesOpenCursors) {
  TempDir dir;
  std::unique_ptr<Connection> connection = OpenOrDie(dir.File("db.sqlite"));
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->Exec("CREATE TABLE t (x INTEGER)").ok());
  ASSERT_TRUE(connection->Exec("INSERT INTO t VALUES (1), (2)").ok());
  ASSERT_TRUE(connection->Exec("BEGIN").ok());
  Statement& select = connection->Prepare("SELECT x FROM t");
  ASSERT_EQ(select.Step().value_or(false), true);
  connection->ResetStatements();
  // With the cursor gone, dropping the table it read is allowed.
  EXPECT_TRUE(connection->Exec("DROP TABLE t").ok());
  EXPECT_TRUE(connection->Exec("COMMIT").ok());
}

TEST(ConnectionTest, BindsAndReadsEveryType) {
  TempDir dir;
  std::unique_ptr<Connection> connection = OpenOrDie(dir.File("db.sqlite"));
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection
                  ->Exec("CREATE TABLE t (i INTEGER, d REAL, s TEXT, b BLOB, "
                         "n TEXT, oi INTEGER, os TEXT)")
                  .ok());
  const std::string blob("a\0b\xff", 4);
  const std::string text("h\xc3\xa9llo");
  Statement& insert =
      connection->Prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)");
  insert.Bind(1, int64_t{1} << 40)
      .Bind(2, 2.5)
      .Bind(3, text)
      .BindBlob(4, blob)
      .BindNull(5)
      .Bind(6, std::optional<int64_t>(9))
      .Bind(7, std::optional<std::string>());
  ASSERT_TRUE(insert.Run().ok());
  EXPECT_EQ(connection->changes(), 1);
  EXPECT_EQ(connection->last_insert_rowid(), 1);

  Statement& select = connection->Prepare("SELECT * FROM t");
  ASSERT_EQ(select.Step().value_or(false), true);
  EXPECT_EQ(select.ColumnInt64(0), int64_t{1} << 40);
  EXPECT_EQ(select.ColumnDouble(1), 2.5);
  EXPECT_EQ(select.ColumnText(2), text);
  EXPECT_EQ(select.ColumnBlob(3), blob);
  EXPECT_TRUE(select.ColumnIsNull(4));
  EXPECT_EQ(select.ColumnText(4), "");
  EXPECT_FALSE(select.ColumnIsNull(5));
  EXPECT_EQ(select.ColumnInt64(5), 9);
  EXPECT_TRUE(select.ColumnIsNull(6));
  EXPECT_EQ(select.Step().value_or(true), false);
}

TEST(ConnectionTest, BorrowedBindsReadTheCallersBytesWhenTheStatementRuns) {
  TempDir dir;
  std::unique_ptr<Connection> connection = OpenOrDie(dir.File("db.sqlite"));
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->Exec("CREATE TABLE t (s TEXT, b BLOB)").ok());
  std::string text = "before";
  std::string blob("a\0b", 3);
  Statement& insert = connection->Prepare("INSERT INTO t VALUES (?, ?)");
  insert.BindBorrowed(1, text).BindBlobBorrowed(2, blob);
  // Not copied at the bind: what the statement stores is what the caller's
  // buffers hold when it runs.
  text = "after!";
  blob[0] = 'z';
  ASSERT_TRUE(insert.Run().ok());
  // Empty values are empty text and an empty blob, not NULL.
  ASSERT_TRUE(connection->Prepare("INSERT INTO t VALUES (?, ?)")
                  .BindBorrowed(1, std::string_view())
                  .BindBlobBorrowed(2, std::string_view())
                  .Run()
                  .ok());

  Statement& select = connection->Prepare(
      "SELECT s, b, typeof(s), typeof(b) FROM t ORDER BY rowid");
  ASSERT_EQ(select.Step().value_or(false), true);
  EXPECT_EQ(select.ColumnText(0), "after!");
  EXPECT_EQ(select.ColumnBlob(1), std::string("z\0b", 3));
  ASSERT_EQ(select.Step().value_or(false), true);
  EXPECT_EQ(select.ColumnText(0), "");
  EXPECT_EQ(select.ColumnText(2), "text");
  EXPECT_EQ(select.ColumnText(3), "blob");
}

TEST(ConnectionTest, EmptyBlobIsNotNull) {
  TempDir dir;
  std::unique_ptr<Connection> connection = OpenOrDie(dir.File("db.sqlite"));
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->Exec("CREATE TABLE t (b BLOB)").ok());
  ASSERT_TRUE(connection->Prepare("INSERT INTO t VALUES (?)")
                  .BindBlob(1, "")
                  .Run()
                  .ok());
  EXPECT_EQ(QueryText(*connection, "SELECT typeof(b) FROM t"), "blob");
}

TEST(ConnectionTest, PrepareErrorIsReportedByStepAndRetriedLater) {
  TempDir dir;
  std::unique_ptr<Connection> connection = OpenOrDie(dir.File("db.sqlite"));
  ASSERT_NE(connection, nullptr);
  const char* kSql = "SELECT x FROM later";
  absl::StatusOr<bool> row = connection->Prepare(kSql).Bind(1, 5).Step();
  EXPECT_EQ(row.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(row.status().message().find("no such table: later"),
            absl::string_view::npos)
      << row.status();
  EXPECT_NE(row.status().message().find("SELECT x FROM later"),
            absl::string_view::npos)
      << row.status();

  ASSERT_TRUE(connection->Exec("CREATE TABLE later (x INTEGER)").ok());
  EXPECT_TRUE(connection->Prepare(kSql).Run().ok());
}

TEST(ConnectionTest, BindErrorIsReportedByStep) {
  TempDir dir;
  std::unique_ptr<Connection> connection = OpenOrDie(dir.File("db.sqlite"));
  ASSERT_NE(connection, nullptr);
  Statement& statement = connection->Prepare("SELECT ?");
  absl::Status status = statement.Bind(1, 1).Bind(2, 2).Run();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("bind parameter 2"), absl::string_view::npos)
      << status;
  // Handing the statement out again forgets the old bind error.
  EXPECT_TRUE(connection->Prepare("SELECT ?").Bind(1, 1).Run().ok());
}

TEST(ConnectionTest, PrepareRejectsSeveralStatements) {
  TempDir dir;
  std::unique_ptr<Connection> connection = OpenOrDie(dir.File("db.sqlite"));
  ASSERT_NE(connection, nullptr);
  absl::Status status = connection->Prepare("SELECT 1; SELECT 2").Run();
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_TRUE(connection->Prepare("SELECT 1;").Run().ok());
}

TEST(ConnectionTest, InTransactionFollowsBeginAndCommit) {
  TempDir dir;
  std::unique_ptr<Connection> connection = OpenOrDie(dir.File("db.sqlite"));
  ASSERT_NE(connection, nullptr);
  EXPECT_FALSE(connection->in_transaction());
  ASSERT_TRUE(connection->Exec("BEGIN").ok());
  EXPECT_TRUE(connection->in_transaction());
  ASSERT_TRUE(connection->Exec("COMMIT").ok());
  EXPECT_FALSE(connection->in_transaction());
}

}  // namespace
}  // namespace ats::storage::sqlite
