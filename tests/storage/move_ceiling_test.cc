// Tests of the move ceiling on real SQLite files.

#include "storage/sqlite/move_ceiling.h"

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "storage/sqlite/connection.h"
#include "tests/support/temp_dir.h"

namespace ats::storage::sqlite {
namespace {

using ::ats::testing::TempDir;

// The first column of the one row `sql` yields on the database at `path`.
int64_t QueryInt(const std::string& path, const char* sql) {
  ConnectionOptions options;
  options.read_only = true;
  absl::StatusOr<std::unique_ptr<Connection>> db =
      Connection::Open(path, options);
  EXPECT_TRUE(db.ok()) << db.status();
  if (!db.ok()) return -1;
  Statement& stmt = (*db)->Prepare(sql);
  absl::StatusOr<bool> row = stmt.Step();
  EXPECT_TRUE(row.ok() && *row) << sql;
  if (!row.ok() || !*row) return -1;
  return stmt.ColumnInt64(0);
}

class MoveCeilingTest : public ::testing::Test {
 protected:
  TempDir dir_;
  const std::string path_ = dir_.File("ceiling.db");
};

// 100 moves over 30 applications: more than one commit of 64, and each
// application moved several times, back and forth; then the same with the
// delivery of every event.
TEST_F(MoveCeilingTest, WritesATransitionAndTwoEventsPerMove) {
  for (const CeilingRows rows :
       {CeilingRows::kMove, CeilingRows::kMoveAndDelivery}) {
    const bool delivered = rows == CeilingRows::kMoveAndDelivery;
    SCOPED_TRACE(delivered ? "with delivery" : "moves alone");
    const std::string path = dir_.File(delivered ? "delivered.db" : "moved.db");
    absl::StatusOr<double> rate = MeasureMoveCeiling(
        path, /*applications=*/30, /*moves=*/100, /*payload_bytes=*/350,
        /*synchronous_full=*/false, rows);

    ASSERT_TRUE(rate.ok()) << rate.status();
    EXPECT_GT(*rate, 0);
    // Each application's add is a transition too, from no stage.
    EXPECT_EQ(QueryInt(path,
                       "SELECT count(*) FROM stage_transitions "
                       "WHERE from_stage_id <> ''"),
              100);
    EXPECT_EQ(QueryInt(path, "SELECT count(*) FROM stage_transitions"), 130);
    EXPECT_EQ(QueryInt(path, "SELECT count(*) FROM events"), 200);
    EXPECT_EQ(QueryInt(path, "SELECT count(DISTINCT id) FROM events"), 200);
    // Every event is for its integration, with its payload: due for
    // delivery, or SENT after one attempt.
    EXPECT_EQ(
        QueryInt(path, delivered
                           ? "SELECT count(*) FROM events WHERE state = 4 "
                             "AND attempt_count = 1 "
                             "AND destination = integration_id "
                             "AND length(payload) = 350"
                           : "SELECT count(*) FROM events WHERE state = 2 "
                             "AND destination = integration_id "
                             "AND length(payload) = 350"),
        200);
    EXPECT_EQ(QueryInt(path,
                       "SELECT count(*) FROM delivery_attempts a JOIN events e "
                       "ON e.id = a.event_id WHERE a.number = 1"),
              delivered ? 200 : 0);
    EXPECT_EQ(QueryInt(path, "SELECT count(*) FROM delivery_attempts"),
              delivered ? 200 : 0);
    // Each application's entry count is its adds and moves; the stage counts
    // the schema's triggers keep add up to every application.
    EXPECT_EQ(QueryInt(path, "SELECT sum(entry_count) FROM applications"), 130);
    EXPECT_EQ(QueryInt(path, "SELECT sum(candidate_count) FROM stages"), 30);
    EXPECT_EQ(QueryInt(path,
                       "SELECT count(*) FROM applications a "
                       "WHERE entry_count <> (SELECT max(entry) FROM "
                       "stage_transitions t WHERE t.candidate_id = "
                       "a.candidate_id AND t.to_stage_id = a.stage_id)"),
              0);
  }
}

TEST_F(MoveCeilingTest, WritesWithFullSynchronousCommits) {
  ASSERT_TRUE(
      MeasureMoveCeiling(path_, 4, 10, 100, /*synchronous_full=*/true).ok());

  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM events"), 20);
}

TEST_F(MoveCeilingTest, RefusesNoApplications) {
  EXPECT_FALSE(MeasureMoveCeiling(path_, 0, 10, 100, false).ok());
}

}  // namespace
}  // namespace ats::storage::sqlite
