#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "storage/sqlite/database.h"
#include "tests/support/temp_dir.h"

namespace ats::storage::sqlite {
namespace {

using ::ats::testing::TempDir;

constexpr Migration kSchema[] = {
    {1, "counters",
     "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER);"},
};

absl::StatusOr<std::unique_ptr<Database>> OpenAt(const std::string& path,
                                                 int readers = 4) {
  DatabaseOptions options;
  options.path = path;
  options.reader_connections = readers;
  return Database::Open(options, kSchema);
}

absl::Status SetCounter(Connection& connection, const std::string& name,
                        int64_t value) {
  return connection
      .Prepare(
          "INSERT INTO counters (name, value) VALUES (?, ?) "
          "ON CONFLICT (name) DO UPDATE SET value = excluded.value")
      .Bind(1, name)
      .Bind(2, value)
      .Run();
}

absl::StatusOr<int64_t> GetCounter(Connection& connection,
                                   const std::string& name) {
  Statement& statement =
      connection.Prepare("SELECT value FROM counters WHERE name = ?");
  statement.Bind(1, name);
  absl::StatusOr<bool> row = statement.Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError("no counter " + name);
  return statement.ColumnInt64(0);
}

TEST(DatabaseTest, OpenCreatesMissingDirectoryAndAppliesMigrations) {
  TempDir dir;
  const std::string path = dir.File("nested/deeper/ats.sqlite");
  absl::StatusOr<std::unique_ptr<Database>> database = OpenAt(path);
  ASSERT_TRUE(database.ok()) << database.status();
  EXPECT_TRUE(std::filesystem::exists(path));

  int64_t version = -1;
  std::string journal_mode;
  ASSERT_TRUE((*database)
                  ->Read([&](Connection& connection) {
                    Statement& v = connection.Prepare("PRAGMA user_version");
                    absl::StatusOr<bool> row = v.Step();
                    if (!row.ok()) return row.status();
                    version = v.ColumnInt64(0);
                    Statement& j = connection.Prepare("PRAGMA journal_mode");
                    row = j.Step();
                    if (!row.ok()) return row.status();
                    journal_mode = j.ColumnText(0);
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(version, 1);
  EXPECT_EQ(journal_mode, "wal");
}

TEST(DatabaseTest, OpenWithEmbeddedMigrations) {
  TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("ats.sqlite");
  absl::StatusOr<std::unique_ptr<Database>> database = Database::Open(options);
  ASSERT_TRUE(database.ok()) << database.status();
}

TEST(DatabaseTest, OpenRefusesNewerSchema) {
  TempDir dir;
  const std::string path = dir.File("ats.sqlite");
  {
    DatabaseOptions options;
    options.path = path;
    const Migration newer[] = {kSchema[0], {2, "next", "SELECT 1;"}};
    ASSERT_TRUE(Database::Open(options, newer).ok());
  }
  absl::StatusOr<std::unique_ptr<Database>> database = OpenAt(path);
  EXPECT_EQ(database.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(database.status().message(),
            "database schema version 2 is newer than this server (1); "
            "upgrade ats-server");
}

TEST(DatabaseTest, OpenRejectsBadOptions) {
  EXPECT_EQ(OpenAt("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenAt(":memory:").status().code(),
            absl::StatusCode::kInvalidArgument);
  TempDir dir;
  EXPECT_EQ(OpenAt(dir.File("x.sqlite"), 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  DatabaseOptions no_checkpoints;
  no_checkpoints.path = dir.File("y.sqlite");
  no_checkpoints.checkpoint_threshold_pages = 0;
  EXPECT_EQ(Database::Open(no_checkpoints, kSchema).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DatabaseTest, OpenFailsWhenDirectoryCannotBeCreated) {
  TempDir dir;
  const std::string blocker = dir.File("not_a_directory");
  std::FILE* file = std::fopen(blocker.c_str(), "w");
  ASSERT_NE(file, nullptr);
  std::fclose(file);
  absl::StatusOr<std::unique_ptr<Database>> database =
      OpenAt(blocker + "/ats.sqlite");
  EXPECT_EQ(database.status().code(), absl::StatusCode::kFailedPrecondition)
      << database.status();
}

TEST(DatabaseTest, CommittedWritesAreVisibleToReadersAndSurviveReopen) {
  TempDir dir;
  const std::string path = dir.File("ats.sqlite");
  {
    absl::StatusOr<std::unique_ptr<Database>> database = OpenAt(path);
    ASSERT_TRUE(database.ok()) << database.status();
    ASSERT_TRUE((*database)
                    ->WriteAndWait([](Connection& connection) {
                      return SetCounter(connection, "a", 41);
                    })
                    .ok());
    absl::Notification written;
    (*database)->Write(
        [](Connection& connection) { return SetCounter(connection, "a", 42); },
        [&](absl::Status status) {
          EXPECT_TRUE(status.ok()) << status;
          written.Notify();
        });
    written.WaitForNotification();
    int64_t value = 0;
    ASSERT_TRUE((*database)
                    ->Read([&](Connection& connection) {
                      absl::StatusOr<int64_t> v = GetCounter(connection, "a");
                      if (v.ok()) value = *v;
                      return v.status();
                    })
                    .ok());
    EXPECT_EQ(value, 42);
  }
  absl::StatusOr<std::unique_ptr<Database>> reopened = OpenAt(path);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  absl::StatusOr<int64_t> value = -1;
  ASSERT_TRUE((*reopened)
                  ->Read([&](Connection& connection) {
                    value = GetCounter(connection, "a");
                    return value.status();
                  })
                  .ok());
  EXPECT_EQ(*value, 42);
}

TEST(DatabaseTest, ReadSeesOneSnapshotWhileWriterCommits) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<Database>> database =
      OpenAt(dir.File("ats.sqlite"));
  ASSERT_TRUE(database.ok()) << database.status();
  Database& db = **database;
  ASSERT_TRUE(db.WriteAndWait([](Connection& connection) {
                  return SetCounter(connection, "a", 1);
                }).ok());

  absl::Notification first_read_done;
  absl::Notification write_committed;
  int64_t first = 0;
  int64_t second = 0;
  std::thread reader([&] {
    absl::Status status = db.Read([&](Connection& connection) {
      absl::StatusOr<int64_t> v = GetCounter(connection, "a");
      if (!v.ok()) return v.status();
      first = *v;
      first_read_done.Notify();
      write_committed.WaitForNotification();
      v = GetCounter(connection, "a");
      if (!v.ok()) return v.status();
      second = *v;
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status;
  });
  first_read_done.WaitForNotification();
  // WAL: the writer commits while the reader's snapshot stays open.
  absl::Status write = db.WriteAndWait(
      [](Connection& connection) { return SetCounter(connection, "a", 2); });
  write_committed.Notify();
  reader.join();
  ASSERT_TRUE(write.ok()) << write;
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 1);

  int64_t after = 0;
  ASSERT_TRUE(db.Read([&](Connection& connection) {
                  absl::StatusOr<int64_t> v = GetCounter(connection, "a");
                  if (v.ok()) after = *v;
                  return v.status();
                }).ok());
  EXPECT_EQ(after, 2);
}

TEST(DatabaseTest, ReadsNeverExceedPoolSize) {
  TempDir dir;
  constexpr int kReaders = 2;
  absl::StatusOr<std::unique_ptr<Database>> database =
      OpenAt(dir.File("ats.sqlite"), kReaders);
  ASSERT_TRUE(database.ok()) << database.status();
  std::atomic<int> active{0};
  std::atomic<int> most_active{0};
  std::atomic<int> completed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        absl::Status status = (*database)->Read([&](Connection& connection) {
          const int now = ++active;
          int seen = most_active.load();
          while (now > seen && !most_active.compare_exchange_weak(seen, now)) {
          }
          absl::Status s =
              connection.Prepare("SELECT count(*) FROM counters").Run();
          --active;
          return s;
        });
        EXPECT_TRUE(status.ok()) << status;
        ++completed;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(completed.load(), 400);
  EXPECT_LE(most_active.load(), kReaders);
  EXPECT_GE(most_active.load(), 1);
}

TEST(DatabaseTest, ReadReturnsFnErrorAndConnectionStaysUsable) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<Database>> database =
      OpenAt(dir.File("ats.sqlite"), 1);
  ASSERT_TRUE(database.ok()) << database.status();
  absl::Status status = (*database)->Read([](Connection& connection) {
    // Leave a cursor open and fail.
    Statement& statement = connection.Prepare("SELECT 1 UNION ALL SELECT 2");
    absl::StatusOr<bool> row = statement.Step();
    if (!row.ok()) return row.status();
    return absl::NotFoundError("candidate not found");
  });
  EXPECT_EQ(status, absl::NotFoundError("candidate not found"));
  // The single connection came back, out of its transaction.
  status = (*database)->Read([](Connection& connection) {
    EXPECT_TRUE(connection.in_transaction());
    return connection.Prepare("SELECT 1").Run();
  });
  EXPECT_TRUE(status.ok()) << status;
}

TEST(DatabaseTest, ReadersCannotWrite) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<Database>> database =
      OpenAt(dir.File("ats.sqlite"));
  ASSERT_TRUE(database.ok()) << database.status();
  absl::Status status = (*database)->Read(
      [](Connection& connection) { return SetCounter(connection, "a", 1); });
  EXPECT_FALSE(status.ok());
}

TEST(DatabaseTest, CheckpointsKeepTheWalBoundedUnderSteadyWrites) {
  TempDir dir;
  const std::string path = dir.File("ats.sqlite");
  DatabaseOptions options;
  options.path = path;
  options.checkpoint_threshold_pages = 50;
  absl::StatusOr<std::unique_ptr<Database>> database =
      Database::Open(options, kSchema);
  ASSERT_TRUE(database.ok()) << database.status();

  // One commit per row: thousands of WAL frames, far past the threshold.
  static constexpr int kCommits = 3000;
  for (int i = 0; i < kCommits; ++i) {
    ASSERT_TRUE((*database)
                    ->WriteAndWait([i](Connection& connection) {
                      return SetCounter(connection, "c" + std::to_string(i), i);
                    })
                    .ok());
  }
  // The WAL file keeps its largest size; restarted from its beginning after
  // each full checkpoint it stays near the threshold instead of holding
  // every frame written.
  const auto wal_bytes = std::filesystem::file_size(path + "-wal");
  EXPECT_LT(wal_bytes, 500u * 4096u);
  // Copied back while open, not only by the final close.
  EXPECT_GT(std::filesystem::file_size(path), 20u * 4096u);

  database->reset();
  database = OpenAt(path);
  ASSERT_TRUE(database.ok()) << database.status();
  ASSERT_TRUE((*database)
                  ->Read([](Connection& connection) -> absl::Status {
                    Statement& count =
                        connection.Prepare("SELECT count(*) FROM counters");
                    absl::StatusOr<bool> row = count.Step();
                    if (!row.ok()) return row.status();
                    EXPECT_EQ(count.ColumnInt64(0), kCommits);
                    return absl::OkStatus();
                  })
                  .ok());
}

}  // namespace
}  // namespace ats::storage::sqlite
