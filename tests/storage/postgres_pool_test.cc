// The PostgreSQL connection pool's transaction loop, on a throwaway cluster.

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "storage/postgres/pool.h"
#include "tests/support/loopback_port.h"
#include "tests/support/postgres_cluster.h"

namespace ats::storage::postgres {
namespace {

class PoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto uri = ::ats::testing::CreateTestDatabase();
    ASSERT_TRUE(uri.ok()) << uri.status();
    options_.uri = *uri;
    options_.size = 4;
    auto pool = ConnectionPool::Open(options_);
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
    ASSERT_TRUE(Run([](Connection& db) {
                  return db.Exec(
                      "CREATE TABLE counter (id int PRIMARY KEY, n bigint); "
                      "INSERT INTO counter VALUES (1, 0)");
                }).ok());
  }

  absl::Status Run(const std::function<absl::Status(Connection&)>& work,
                   Isolation isolation = Isolation::kSerializable) {
    return pool_->RunTransaction(isolation, work);
  }

  int64_t Counter() {
    int64_t n = -1;
    EXPECT_TRUE(Run(
                    [&](Connection& db) {
                      auto row = db.Query("SELECT n FROM counter");
                      if (!row.ok()) return row.status();
                      n = row->Int64(0, 0);
                      return absl::OkStatus();
                    },
                    Isolation::kRepeatableReadReadOnly)
                    .ok());
    return n;
  }

  PoolOptions options_;
  std::unique_ptr<ConnectionPool> pool_;
};

// Read, then write what was read plus one: without serializable isolation
// and the retry loop, concurrent increments would be lost.
absl::Status Increment(Connection& db) {
  auto row = db.Query("SELECT n FROM counter WHERE id = 1");
  if (!row.ok()) return row.status();
  return db
      .Query("UPDATE counter SET n = $1 WHERE id = 1",
             {Param(row->Int64(0, 0) + 1)})
      .status();
}

TEST_F(PoolTest, ConcurrentReadThenWriteTransactionsLoseNothing) {
  constexpr int kThreads = 6;
  constexpr int kEach = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        if (!Run(Increment).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Counter(), kThreads * kEach);
}

TEST_F(PoolTest, AFailedWorkRollsBackEverything) {
  absl::Status status = Run([](Connection& db) {
    absl::Status incremented = Increment(db);
    if (!incremented.ok()) return incremented;
    return absl::NotFoundError("job jobs/x not found");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Counter(), 0);
}

TEST_F(PoolTest, ALostConnectionIsReplacedAndTheWorkRunAgain) {
  // Every pooled connection is killed from outside, as a failover would.
  int runs = 0;
  ASSERT_TRUE(Run([&](Connection& db) {
                ++runs;
                if (runs == 1) {
                  auto killer = Connection::Open(options_.uri, absl::Seconds(5));
                  if (!killer.ok()) return killer.status();
                  auto killed = (*killer)->Query(
                      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = current_database() "
                      "AND pid <> pg_backend_pid()");
                  if (!killed.ok()) return killed.status();
                }
                return Increment(db);
              }).ok());
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(Counter(), 1);
}

TEST_F(PoolTest, AnUnreachableDatabaseIsUnavailableAfterTheWait) {
  PoolOptions nowhere = options_;
  nowhere.uri = absl::StrCat("postgresql://postgres@127.0.0.1:",
                             ::ats::testing::PickFreeLoopbackPort(), "/x");
  EXPECT_EQ(ConnectionPool::Open(nowhere).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace ats::storage::postgres
