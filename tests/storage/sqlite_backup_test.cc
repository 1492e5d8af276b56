// Online backups of a database that keeps being written: the copy is one
// consistent snapshot, taken without restarting however often the writer
// commits between the backup's steps.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "storage/sqlite/backup.h"
#include "storage/sqlite/database.h"
#include "tests/support/temp_dir.h"

namespace ats::storage::sqlite {
namespace {

using ::ats::testing::TempDir;

// Every write adds a row and counts it in `tally`, in one transaction: a
// consistent copy has as many rows as its tally says, numbered 1 to that.
constexpr Migration kSchema[] = {
    {1, "rows and their tally",
     "CREATE TABLE rows (id INTEGER PRIMARY KEY, payload BLOB NOT NULL);"
     "CREATE TABLE tally (id INTEGER PRIMARY KEY CHECK (id = 1),"
     "                    count INTEGER NOT NULL);"
     "INSERT INTO tally VALUES (1, 0);"},
};

// Rows of 2 KiB: a few thousand make a file of many backup steps.
constexpr int kPayloadBytes = 2048;
constexpr int kInitialRows = 2000;
constexpr int kPagesPerStep = 16;
// Several times the steps a copy of those rows takes.
constexpr int kMaxSteps = 1000;

absl::Status AddRow(Connection& db) {
  absl::Status status = db.Prepare("INSERT INTO rows (payload) VALUES (?)")
                            .BindBlob(1, std::string(kPayloadBytes, 'x'))
                            .Run();
  if (!status.ok()) return status;
  return db.Prepare("UPDATE tally SET count = count + 1").Run();
}

// Returns the single integer `sql` answers on `db`.
absl::StatusOr<int64_t> QueryInt(Connection& db, const char* sql) {
  Statement& statement = db.Prepare(sql);
  absl::StatusOr<bool> row = statement.Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(sql);
  const int64_t value = statement.ColumnInt64(0);
  db.ResetStatements();
  return value;
}

// Writes `copy` to the file `path`.
void SaveCopy(BackupCopy& copy, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  out << copy.bytes->rdbuf();
  ASSERT_TRUE(out.good()) << path;
}

// Names of the files in `dir`.
std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DatabaseOptions options;
    options.path = dir_.File("ats.db");
    auto db = Database::Open(options, kSchema);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    ASSERT_TRUE(db_->WriteAndWait([](Connection& db) {
                     for (int i = 0; i < kInitialRows; ++i) {
                       absl::Status status = AddRow(db);
                       if (!status.ok()) return status;
                     }
                     return absl::OkStatus();
                   })
                    .ok());
  }

  // Keeps adding rows, one committed write at a time, until Stop.
  void StartWriting() {
    writer_ = std::thread([this] {
      while (!stop_) {
        absl::Status status = db_->WriteAndWait(AddRow);
        if (!status.ok()) {
          ADD_FAILURE() << status;
          return;
        }
        committed_.fetch_add(1);
      }
    });
  }
  void StopWriting() {
    stop_ = true;
    if (writer_.joinable()) writer_.join();
  }
  void TearDown() override { StopWriting(); }

  // Waits (up to 10 s) until the writer has committed past `seen`.
  bool WaitForCommitAfter(int64_t seen) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (committed_.load() <= seen && absl::Now() < deadline) {
      absl::SleepFor(absl::Microseconds(200));
    }
    return committed_.load() > seen;
  }

  TempDir dir_;
  std::unique_ptr<Database> db_;
  std::thread writer_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> committed_{0};
};

TEST_F(BackupTest, CopyIsOneSnapshotTakenWithoutRestartsWhileWritesCommit) {
  StartWriting();
  ASSERT_TRUE(WaitForCommitAfter(0));
  const int64_t committed_before = committed_.load();
  // Between every two steps the writer commits at least once more: a backup
  // that restarted on each change of the source would never finish, so it
  // is cancelled (and fails the test) long after it should have ended.
  int steps = 0;
  absl::StatusOr<BackupCopy> copy = BackupDatabase(
      dir_.File("ats.db"),
      [&] {
        ++steps;
        EXPECT_TRUE(WaitForCommitAfter(committed_.load()));
        return steps > kMaxSteps;
      },
      kPagesPerStep);
  const int64_t committed_after = committed_.load();
  StopWriting();
  ASSERT_TRUE(copy.ok()) << copy.status() << " after " << steps << " steps";
  ASSERT_GT(copy->size, 0);
  EXPECT_EQ(copy->size % 4096, 0);
  const int64_t pages = copy->size / 4096;
  // One step per kPagesPerStep pages, the last one finishing the copy (and
  // not reported), so no step was spent copying a page twice.
  EXPECT_EQ(steps, (pages + kPagesPerStep - 1) / kPagesPerStep - 1);
  EXPECT_GT(steps, 50);

  SaveCopy(*copy, dir_.File("copy.db"));
  auto restored = Connection::Open(dir_.File("copy.db"), ConnectionOptions());
  ASSERT_TRUE(restored.ok()) << restored.status();
  Statement& check = (*restored)->Prepare("PRAGMA integrity_check");
  absl::StatusOr<bool> row = check.Step();
  ASSERT_TRUE(row.ok() && *row) << row.status();
  EXPECT_EQ(check.ColumnText(0), "ok");
  (*restored)->ResetStatements();

  auto rows = QueryInt(**restored, "SELECT count(*) FROM rows");
  auto last = QueryInt(**restored, "SELECT max(id) FROM rows");
  auto tally = QueryInt(**restored, "SELECT count FROM tally");
  ASSERT_TRUE(rows.ok() && last.ok() && tally.ok());
  EXPECT_EQ(*rows, *tally);
  EXPECT_EQ(*last, *tally);
  // Every write acknowledged before the backup began is in it; the writes
  // committed during its steps are not.
  EXPECT_GE(*tally, kInitialRows + committed_before);
  EXPECT_LT(*tally, kInitialRows + committed_after);
}

TEST_F(BackupTest, CopyLeavesNoFileBehind) {
  const std::vector<std::string> before = FilesIn(dir_.path());
  absl::StatusOr<BackupCopy> copy =
      BackupDatabase(dir_.File("ats.db"), [] { return false; });
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ(FilesIn(dir_.path()), before);
  // Its bytes are still there to read.
  std::string bytes(16, '\0');
  ASSERT_TRUE(copy->bytes->read(bytes.data(), bytes.size()));
  EXPECT_EQ(bytes, std::string("SQLite format 3\0", 16));
}

TEST_F(BackupTest, CancelledCopyStopsAndLeavesNoFileBehind) {
  const std::vector<std::string> before = FilesIn(dir_.path());
  int steps = 0;
  absl::StatusOr<BackupCopy> copy = BackupDatabase(
      dir_.File("ats.db"), [&] { return ++steps == 3; }, kPagesPerStep);
  EXPECT_EQ(copy.status().code(), absl::StatusCode::kCancelled)
      << copy.status();
  EXPECT_EQ(steps, 3);
  EXPECT_EQ(FilesIn(dir_.path()), before);
}

TEST_F(BackupTest, MissingDatabaseIsAnErrorAndLeavesNoFileBehind) {
  const std::vector<std::string> before = FilesIn(dir_.path());
  absl::StatusOr<BackupCopy> copy =
      BackupDatabase(dir_.File("absent.db"), [] { return false; });
  EXPECT_FALSE(copy.ok());
  EXPECT_EQ(FilesIn(dir_.path()), before);
}

}  // namespace
}  // namespace ats::storage::sqlite
