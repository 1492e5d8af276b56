// Tests of the event insert baseline on real SQLite files.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "storage/sqlite/connection.h"
#include "storage/sqlite/event_insert_baseline.h"
#include "tests/support/temp_dir.h"

namespace ats::storage::sqlite {
namespace {

using ::ats::testing::TempDir;

// What the events table of the database at `path` holds.
struct EventsSummary {
  int64_t rows = -1;
  int64_t distinct_ids = -1;
  int64_t shortest_payload = -1;
  int64_t longest_payload = -1;
};

EventsSummary SummarizeEvents(const std::string& path) {
  ConnectionOptions options;
  options.read_only = true;
  absl::StatusOr<std::unique_ptr<Connection>> db =
      Connection::Open(path, options);
  EXPECT_TRUE(db.ok()) << db.status();
  if (!db.ok()) return {};
  Statement& stmt = (*db)->Prepare(
      "SELECT count(*), count(DISTINCT id), min(length(payload)), "
      "max(length(payload)) FROM events");
  absl::StatusOr<bool> row = stmt.Step();
  EXPECT_TRUE(row.ok() && *row) << row.status();
  if (!row.ok() || !*row) return {};
  return {stmt.ColumnInt64(0), stmt.ColumnInt64(1), stmt.ColumnInt64(2),
          stmt.ColumnInt64(3)};
}

// Each test has a scratch directory and a database path in it.
class EventInsertBaselineTest : public ::testing::Test {
 protected:
  TempDir dir_;
  const std::string path_ = dir_.File("baseline.db");
};

TEST_F(EventInsertBaselineTest, InsertsEveryRowWithItsOwnIdAndPayloadSize) {
  absl::StatusOr<absl::Duration> took =
      TimeEventInserts(path_, 250, 123, /*synchronous_full=*/false);

  ASSERT_TRUE(took.ok()) << took.status();
  EXPECT_GT(*took, absl::ZeroDuration());
  const EventsSummary events = SummarizeEvents(path_);
  EXPECT_EQ(events.rows, 250);
  EXPECT_EQ(events.distinct_ids, 250);
  EXPECT_EQ(events.shortest_payload, 123);
  EXPECT_EQ(events.longest_payload, 123);
}

TEST_F(EventInsertBaselineTest, InsertsWithFullSynchronousCommits) {
  ASSERT_TRUE(TimeEventInserts(path_, 10, 40, /*synchronous_full=*/true).ok());

  EXPECT_EQ(SummarizeEvents(path_).rows, 10);
}

TEST_F(EventInsertBaselineTest, AveragePayloadIsThatOfTheStoredEvents) {
  ASSERT_TRUE(
      TimeEventInserts(path_, 20, 321, /*synchronous_full=*/false).ok());

  absl::StatusOr<int64_t> bytes = AverageEventPayloadBytes(path_);

  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, 321);
}

TEST_F(EventInsertBaselineTest, AveragePayloadIsZeroWithoutEvents) {
  ASSERT_TRUE(TimeEventInserts(path_, 0, 321, /*synchronous_full=*/false).ok());

  absl::StatusOr<int64_t> bytes = AverageEventPayloadBytes(path_);

  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, 0);
}

TEST_F(EventInsertBaselineTest, AveragePayloadFailsWithoutADatabase) {
  EXPECT_FALSE(AverageEventPayloadBytes(dir_.File("missing.db")).ok());
}

}  // namespace
}  // namespace ats::storage::sqlite
