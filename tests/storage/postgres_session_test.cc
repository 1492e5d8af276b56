// The PostgreSQL session: SQL written for both backends, run on a throwaway
// cluster.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/failure.h"
#include "storage/postgres/connection.h"
#include "storage/postgres/session.h"
#include "tests/support/postgres_cluster.h"

namespace ats::storage::postgres {
namespace {

using ::testing::HasSubstr;

// Two, three and four byte characters, and what looks like a parameter.
constexpr char kUtf8[] = "h\xC3\xA9llo \xE2\x9C\x93 \xF0\x9D\x84\x9E '?1'";

TEST(ToPostgresSqlTest, NumbersParameters) {
  const PostgresSql sql =
      ToPostgresSql("SELECT a FROM t WHERE a = ?1 AND b IN (?10, ?2) OR c=?1");
  EXPECT_EQ(sql.text,
            "SELECT a FROM t WHERE a = $1 AND b IN ($10, $2) OR c=$1");
  EXPECT_EQ(sql.parameters, 10);
}

TEST(ToPostgresSqlTest, DropsUnaryPlusHintsButNotAdditions) {
  EXPECT_EQ(ToPostgresSql("SELECT a FROM t WHERE +a = ?1 AND +b = 2 OR (+c)")
                .text,
            "SELECT a FROM t WHERE a = $1 AND b = 2 OR (c)");
  EXPECT_EQ(ToPostgresSql("SELECT a +b, a + 1, +1 FROM t WHERE x = y+z").text,
            "SELECT a +b, a + 1, +1 FROM t WHERE x = y+z");
}

TEST(ToPostgresSqlTest, LeavesLiteralsQuotedNamesAndCommentsAlone) {
  const std::string text =
      "SELECT '?1', 'it''s ?2', \"odd ?3 name\" -- ?4 NOT INDEXED\n"
      "/* ?5 INDEXED BY x */ FROM t";
  const PostgresSql sql = ToPostgresSql(text + " WHERE x = ?6");
  EXPECT_EQ(sql.text, text + " WHERE x = $6");
  EXPECT_EQ(sql.parameters, 6);
}

TEST(ToPostgresSqlTest, LeavesWhatIsNotANumberedParameter) {
  for (const char* text :
       {"SELECT ?", "SELECT ?0", "SELECT ?70000", "SELECT ?1a", "SELECT ? 1"}) {
    const PostgresSql sql = ToPostgresSql(text);
    EXPECT_EQ(sql.text, text);
    EXPECT_EQ(sql.parameters, 0) << text;
  }
}

TEST(ToPostgresSqlTest, DropsPlannerHints) {
  EXPECT_EQ(ToPostgresSql("SELECT id FROM events INDEXED BY events_by_due\n"
                          "  WHERE due < ?1")
                .text,
            "SELECT id FROM events\n  WHERE due < $1");
  EXPECT_EQ(
      ToPostgresSql("SELECT 1 FROM t indexed  by \"my index\" WHERE x").text,
      "SELECT 1 FROM t WHERE x");
  EXPECT_EQ(
      ToPostgresSql("SELECT 1 FROM t Not Indexed WHERE x NOT IN (1)").text,
      "SELECT 1 FROM t WHERE x NOT IN (1)");
  // Words that only look alike stay.
  for (const char* text :
       {"SELECT indexed, indexed_by FROM t WHERE NOT indexed_at",
        "SELECT 'INDEXED BY x' FROM t", "SELECT x FROM t WHERE NOT INDEX"}) {
    EXPECT_EQ(ToPostgresSql(text).text, text);
  }
}

class PostgresSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto uri = ::ats::testing::CreateTestDatabase();
    ASSERT_TRUE(uri.ok()) << uri.status();
    auto connection = Connection::Open(*uri, absl::Seconds(10));
    ASSERT_TRUE(connection.ok()) << connection.status();
    connection_ = *std::move(connection);
    session_ = std::make_unique<Session>(*connection_);
    ASSERT_TRUE(connection_
                    ->Exec("CREATE TABLE t (id text PRIMARY KEY, i bigint, "
                           "d double precision, s text, b bytea, c bytea)")
                    .ok());
  }

  // Inserts row `id` with `bind` applied to its statement.
  void Insert(const char* id, void (*bind)(sql::Statement&)) {
    sql::Statement& insert = session_->Prepare(
        "INSERT INTO t (id, i, d, s, b) "
        "VALUES (?1, ?2, ?3, ?4, ?5)");
    bind(insert.Bind(1, id));
    ASSERT_TRUE(insert.Run().ok()) << insert.Run();
  }

  // Steps `statement` to its one row.
  void StepToRow(sql::Statement& statement) {
    absl::StatusOr<bool> row = statement.Step();
    ASSERT_TRUE(row.ok()) << row.status();
    ASSERT_TRUE(*row);
  }

  sql::Statement& SelectRow(const char* id) {
    sql::Statement& select =
        session_->Prepare("SELECT i, d, s, b FROM t WHERE id = ?1");
    select.Bind(1, id);
    StepToRow(select);
    return select;
  }

  std::unique_ptr<Connection> connection_;
  std::unique_ptr<Session> session_;
};

TEST_F(PostgresSessionTest, IsThePostgresDialect) {
  EXPECT_EQ(session_->dialect(), sql::Dialect::kPostgres);
}

TEST_F(PostgresSessionTest, RoundTripsIntegers) {
  for (int64_t value :
       {std::numeric_limits<int64_t>::min(), int64_t{-1}, int64_t{0},
        int64_t{1} << 53, std::numeric_limits<int64_t>::max()}) {
    sql::Statement& update = session_->Prepare(
        "INSERT INTO t (id, i) VALUES ('k', ?1) "
        "ON CONFLICT (id) DO UPDATE SET i = excluded.i");
    ASSERT_TRUE(update.Bind(1, value).Run().ok()) << value;
    EXPECT_EQ(SelectRow("k").ColumnInt64(0), value);
  }
}

TEST_F(PostgresSessionTest, RoundTripsDoublesExactly) {
  const double values[] = {0.1,
                           1.0 / 3,
                           -1e308,
                           std::numeric_limits<double>::denorm_min(),
                           std::numeric_limits<double>::max(),
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity()};
  for (double value : values) {
    sql::Statement& update = session_->Prepare(
        "INSERT INTO t (id, d) VALUES ('k', ?1) "
        "ON CONFLICT (id) DO UPDATE SET d = excluded.d");
    ASSERT_TRUE(update.Bind(1, value).Run().ok()) << value;
    EXPECT_EQ(SelectRow("k").ColumnDouble(1), value);
  }
  Insert("nan", [](sql::Statement& s) {
    s.Bind(3, std::numeric_limits<double>::quiet_NaN());
  });
  EXPECT_TRUE(std::isnan(SelectRow("nan").ColumnDouble(1)));
}

TEST_F(PostgresSessionTest, TextKeepsUtf8AndTellsEmptyFromNull) {
  Insert("utf8", [](sql::Statement& s) { s.Bind(4, kUtf8); });
  Insert("empty", [](sql::Statement& s) { s.Bind(4, std::string_view()); });
  Insert("null", [](sql::Statement& s) { s.BindNull(4); });

  EXPECT_EQ(SelectRow("utf8").ColumnText(2), kUtf8);
  sql::Statement& empty = SelectRow("empty");
  EXPECT_EQ(empty.ColumnText(2), "");
  EXPECT_FALSE(empty.ColumnIsNull(2));
  sql::Statement& null = SelectRow("null");
  EXPECT_EQ(null.ColumnText(2), "");
  EXPECT_TRUE(null.ColumnIsNull(2));
  EXPECT_EQ(null.ColumnInt64(0), 0);
  EXPECT_EQ(null.ColumnDouble(1), 0.0);
  EXPECT_EQ(null.ColumnBlob(3), "");
}

TEST_F(PostgresSessionTest, BlobsKeepEveryByteAndTellEmptyFromNull) {
  std::string all(256, '\0');
  for (int i = 0; i < 256; ++i) all[i] = static_cast<char>(i);
  sql::Statement& insert =
      session_->Prepare("INSERT INTO t (id, b, c) VALUES (?1, ?2, ?3)");
  ASSERT_TRUE(
      insert.Bind(1, "all").BindBlob(2, all).BindBlob(3, "x").Run().ok());
  // Bindings stay until the statement is prepared again.
  ASSERT_TRUE(
      insert.Bind(1, "also x").BindBlob(2, std::string_view()).Run().ok());
  ASSERT_TRUE(session_->Prepare("INSERT INTO t (id, b, c) VALUES (?1, ?2, ?3)")
                  .Bind(1, "empty")
                  .BindBlob(2, std::string_view())
                  .Run()
                  .ok());

  sql::Statement& select =
      session_->Prepare("SELECT b, c, s FROM t WHERE id = ?1");
  StepToRow(select.Bind(1, "all"));
  // Each column's bytes stay valid while the row is current.
  const std::string_view b = select.ColumnBlob(0);
  const std::string_view c = select.ColumnBlob(1);
  EXPECT_EQ(select.ColumnBlob(0).data(), b.data());
  EXPECT_EQ(b, all);
  EXPECT_EQ(c, "x");
  sql::Statement& also_x =
      session_->Prepare("SELECT b, c, s FROM t WHERE id = ?1");
  StepToRow(also_x.Bind(1, "also x"));
  EXPECT_EQ(also_x.ColumnBlob(1), "x");

  sql::Statement& empty = session_->Prepare("SELECT b, c FROM t WHERE id = ?1");
  StepToRow(empty.Bind(1, "empty"));
  EXPECT_EQ(empty.ColumnBlob(0), "");
  EXPECT_FALSE(empty.ColumnIsNull(0));
  EXPECT_TRUE(empty.ColumnIsNull(1));
}

TEST_F(PostgresSessionTest, BlobOfATextColumnIsItsText) {
  sql::Statement& select = session_->Prepare("SELECT 'a\\x00'");
  StepToRow(select);
  EXPECT_EQ(select.ColumnBlob(0), "a\\x00");
}

TEST_F(PostgresSessionTest, OptionalsBindTheirValueOrNull) {
  sql::Statement& insert =
      session_->Prepare("INSERT INTO t (id, i, s) VALUES (?1, ?2, ?3)");
  ASSERT_TRUE(insert.Bind(1, "set")
                  .Bind(2, std::optional<int64_t>(7))
                  .Bind(3, std::optional<std::string>("seven"))
                  .Run()
                  .ok());
  ASSERT_TRUE(insert.Bind(1, "unset")
                  .Bind(2, std::optional<int64_t>())
                  .Bind(3, std::optional<std::string>())
                  .Run()
                  .ok());
  sql::Statement& set = SelectRow("set");
  EXPECT_EQ(set.ColumnInt64(0), 7);
  EXPECT_EQ(set.ColumnText(2), "seven");
  sql::Statement& unset = SelectRow("unset");
  EXPECT_TRUE(unset.ColumnIsNull(0));
  EXPECT_TRUE(unset.ColumnIsNull(2));
}

TEST_F(PostgresSessionTest, BooleansAndAggregatesReadAsSqliteNumbers) {
  ASSERT_TRUE(session_
                  ->Prepare("INSERT INTO t (id, i) VALUES ('a', 1), ('b', 2), "
                            "('c', 9223372036854775807)")
                  .Run()
                  .ok());
  sql::Statement& select = session_->Prepare(
      "SELECT EXISTS (SELECT 1 FROM t WHERE i = ?1), 1 = 2, "
      "(SELECT sum(i) FROM t WHERE i < 3), (SELECT avg(i) FROM t WHERE i < 3), "
      "(SELECT sum(i) FROM t)");
  StepToRow(select.Bind(1, 2));
  EXPECT_EQ(select.ColumnInt64(0), 1);
  EXPECT_EQ(select.ColumnInt64(1), 0);
  EXPECT_EQ(select.ColumnInt64(2), 3);  // A numeric.
  EXPECT_EQ(select.ColumnText(2), "3");
  EXPECT_EQ(select.ColumnInt64(3), 1);  // 1.5, truncated.
  EXPECT_EQ(select.ColumnDouble(3), 1.5);
  EXPECT_EQ(select.ColumnDouble(0), 1.0);
  // Past int64: saturated.
  EXPECT_EQ(select.ColumnInt64(4), std::numeric_limits<int64_t>::max());
}

TEST_F(PostgresSessionTest, ChangesCountsTheLatestWriteOnly) {
  ASSERT_TRUE(session_
                  ->Prepare("INSERT INTO t (id, i) VALUES ('a', 1), ('b', 2), "
                            "('c', 3)")
                  .Run()
                  .ok());
  EXPECT_EQ(session_->changes(), 3);
  ASSERT_TRUE(session_->Prepare("UPDATE t SET i = i + 1 WHERE i > ?1")
                  .Bind(1, 1)
                  .Run()
                  .ok());
  EXPECT_EQ(session_->changes(), 2);
  ASSERT_TRUE(session_->Prepare("SELECT * FROM t").Run().ok());
  ASSERT_TRUE(session_->Prepare("CREATE TABLE other (x bigint)").Run().ok());
  EXPECT_EQ(session_->changes(), 2);
  ASSERT_TRUE(
      session_->Prepare("UPDATE t SET i = 0 WHERE id = 'none'").Run().ok());
  EXPECT_EQ(session_->changes(), 0);
  sql::Statement& returning =
      session_->Prepare("DELETE FROM t WHERE i >= ?1 RETURNING id");
  returning.Bind(1, 3);
  StepToRow(returning);
  EXPECT_EQ(session_->changes(), 2);
}

TEST_F(PostgresSessionTest, SteppingPastTheEndRerunsWithTheSameBindings) {
  sql::Statement& count =
      session_->Prepare("SELECT count(*) FROM t WHERE i = ?1");
  count.Bind(1, 5);
  for (const char* id : {"a", "b"}) {
    ASSERT_TRUE(session_->Prepare("INSERT INTO t (id, i) VALUES (?1, 5)")
                    .Bind(1, id)
                    .Run()
                    .ok());
    StepToRow(count);
    EXPECT_EQ(count.ColumnInt64(0), id == std::string("a") ? 1 : 2);
    absl::StatusOr<bool> row = count.Step();
    ASSERT_TRUE(row.ok()) << row.status();
    EXPECT_FALSE(*row);
    EXPECT_TRUE(count.ColumnIsNull(0));  // No current row.
  }
}

TEST_F(PostgresSessionTest, PreparingAgainRestartsWithoutBindings) {
  ASSERT_TRUE(
      session_->Prepare("INSERT INTO t (id, i) VALUES ('a', 1), ('b', 2)")
          .Run()
          .ok());
  const std::string text =
      "SELECT id FROM t WHERE CAST(?1 AS text) IS NOT NULL ORDER BY id";
  sql::Statement& first = session_->Prepare(text.c_str());
  StepToRow(first.Bind(1, "x"));
  StepToRow(first);
  EXPECT_EQ(first.ColumnText(0), "b");
  // The cache goes by text: another copy of it is the same statement.
  const std::string copy = text;
  sql::Statement& again = session_->Prepare(copy.c_str());
  EXPECT_EQ(&again, &first);
  absl::StatusOr<bool> row = again.Step();  // ?1 is NULL now.
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_FALSE(*row);
}

TEST_F(PostgresSessionTest, ResetDropsRowsAndKeepsBindings) {
  ASSERT_TRUE(
      session_->Prepare("INSERT INTO t (id, i) VALUES ('a', 1), ('b', 2)")
          .Run()
          .ok());
  sql::Statement& select =
      session_->Prepare("SELECT id FROM t WHERE i >= ?1 ORDER BY id");
  StepToRow(select.Bind(1, 1));
  StepToRow(select);
  session_->Reset();
  EXPECT_EQ(select.ColumnText(0), "");
  StepToRow(select);
  EXPECT_EQ(select.ColumnText(0), "a");
}

TEST_F(PostgresSessionTest, ParametersFirstBoundNullTakeValuesLater) {
  sql::Statement& insert =
      session_->Prepare("INSERT INTO t (id, i, d, b) VALUES (?1, ?2, ?3, ?4)");
  ASSERT_TRUE(insert.Bind(1, "null").Run().ok());  // Unbound reads as NULL.
  ASSERT_TRUE(insert.Bind(1, "set")
                  .Bind(2, 5)
                  .Bind(3, 2.5)
                  .BindBlob(4, "z")
                  .Run()
                  .ok());
  sql::Statement& select =
      session_->Prepare("SELECT i, d, b FROM t WHERE id = ?1");
  StepToRow(select.Bind(1, "null"));
  EXPECT_TRUE(select.ColumnIsNull(0));
  EXPECT_TRUE(select.ColumnIsNull(1));
  EXPECT_TRUE(select.ColumnIsNull(2));
  StepToRow(
      session_->Prepare("SELECT i, d, b FROM t WHERE id = ?1").Bind(1, "set"));
  EXPECT_EQ(select.ColumnInt64(0), 5);
  EXPECT_EQ(select.ColumnDouble(1), 2.5);
  EXPECT_EQ(select.ColumnBlob(2), "z");
}

TEST_F(PostgresSessionTest, BadSqlFailsAtStepAsInternal) {
  for (const char* text : {"SELEC 1", "", "SELECT 1; SELECT 2", "SELECT ?0",
                           "SELECT * FROM missing"}) {
    sql::Statement& bad = session_->Prepare(text);
    absl::StatusOr<bool> row = bad.Step();
    EXPECT_EQ(row.status().code(), absl::StatusCode::kInternal)
        << text << ": " << row.status();
    EXPECT_TRUE(IsStorageFailure(row.status())) << text;
    EXPECT_EQ(bad.Run().code(), absl::StatusCode::kInternal) << text;
  }
  // The connection is still usable.
  EXPECT_TRUE(session_->Prepare("SELECT 1").Run().ok());
}

TEST_F(PostgresSessionTest, BadBindIndexFailsTheNextExecution) {
  const char* text = "INSERT INTO t (id, i) VALUES (?1, ?2)";
  for (int index : {0, -1, 3}) {
    sql::Statement& insert = session_->Prepare(text);
    insert.Bind(index, 1).Bind(1, "a").Bind(2, 2);
    absl::Status status = insert.Run();
    EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
    EXPECT_THAT(status.message(),
                HasSubstr(absl::StrCat("bind parameter ", index, " of")));
    EXPECT_EQ(insert.Run(), status);  // Remembered until prepared again.
  }
  EXPECT_TRUE(session_->Prepare(text).Bind(1, "a").Bind(2, 2).Run().ok());
  EXPECT_EQ(session_->changes(), 1);
}

TEST_F(PostgresSessionTest, BindingWhileRowsAreReadFailsTheNextStep) {
  sql::Statement& select =
      session_->Prepare("SELECT x FROM (VALUES (1), (2)) v (x) WHERE x > ?1");
  StepToRow(select.Bind(1, 0));
  absl::StatusOr<bool> row = select.Bind(1, 1).Step();
  EXPECT_EQ(row.status().code(), absl::StatusCode::kInternal) << row.status();
  EXPECT_THAT(row.status().message(), HasSubstr("rows are being read"));
}

TEST_F(PostgresSessionTest, DuplicateKeyIsAlreadyExists) {
  sql::Statement& insert = session_->Prepare("INSERT INTO t (id) VALUES (?1)");
  ASSERT_TRUE(insert.Bind(1, "a").Run().ok());
  absl::Status duplicate = insert.Run();
  EXPECT_EQ(duplicate.code(), absl::StatusCode::kAlreadyExists) << duplicate;
}

}  // namespace
}  // namespace ats::storage::postgres
