// The single writer with group commit, exercised through Database so that
// results can be checked from the reader side too.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "storage/sqlite/database.h"
#include "tests/support/temp_dir.h"

namespace ats::storage::sqlite {
namespace {

using ::ats::testing::TempDir;

constexpr Migration kSchema[] = {
    {1, "items",
     "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
     "CREATE TABLE parents (id INTEGER PRIMARY KEY);"
     "CREATE TABLE children (parent_id INTEGER REFERENCES parents (id) "
     "                       DEFERRABLE INITIALLY DEFERRED);"},
};

absl::Status InsertItem(Connection& connection, const std::string& name) {
  return connection.Prepare("INSERT INTO items (name) VALUES (?)")
      .Bind(1, name)
      .Run();
}

Database::WriteFn InsertItemFn(std::string name) {
  return [name = std::move(name)](Connection& connection) {
    return InsertItem(connection, name);
  };
}

// Collects the outcomes the writer reports, keyed by the op's label.
class Outcomes {
 public:
  Database::DoneFn Record(std::string label) {
    return [this, label = std::move(label)](absl::Status status) {
      absl::MutexLock lock(&mu_);
      statuses_.emplace_back(label, std::move(status));
    };
  }

  // Blocks until `count` outcomes have arrived.
  void WaitFor(size_t count) {
    struct Wanted {
      Outcomes* self;
      size_t count;
    } wanted{this, count};
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](Wanted* w) {
          w->self->mu_.AssertHeld();
          return w->self->statuses_.size() >= w->count;
        },
        &wanted));
  }

  absl::Status Get(const std::string& label) {
    absl::MutexLock lock(&mu_);
    for (const auto& [key, status] : statuses_) {
      if (key == label) return status;
    }
    return absl::NotFoundError("no outcome for " + label);
  }

 private:
  absl::Mutex mu_;
  std::vector<std::pair<std::string, absl::Status>> statuses_
      ABSL_GUARDED_BY(mu_);
};

// Queues on `database` an op that holds its writer until `release` is
// notified, and returns once the op runs, so that every op submitted
// meanwhile waits in the queue. `release` must outlive the op's batch.
void HoldWriter(Database& database, absl::Notification& release) {
  auto started = std::make_shared<absl::Notification>();
  database.Write(
      [started, &release](Connection&) {
        // Its batch may run again (an op failed): it signals only once.
        if (!started->HasBeenNotified()) started->Notify();
        release.WaitForNotification();
        return absl::OkStatus();
      },
      nullptr);
  started->WaitForNotification();
}

class WriteQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DatabaseOptions options;
    options.path = dir_.File("db.sqlite");
    // Batches are cut by count only, so what shares a transaction depends on
    // the test's ordering, never on timing.
    options.writes.max_batch_duration = absl::InfiniteDuration();
    absl::StatusOr<std::unique_ptr<Database>> database =
        Database::Open(options, kSchema);
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = *std::move(database);
  }

  void TearDown() override {
    // A failed assertion must not leave the writer blocked forever.
    if (!release_writer_.HasBeenNotified()) release_writer_.Notify();
    database_.reset();
  }

  // Queues an op that holds the writer until ReleaseWriter(), so every op
  // submitted meanwhile waits in the queue. Once per test.
  void BlockWriter() { HoldWriter(*database_, release_writer_); }

  void ReleaseWriter() { release_writer_.Notify(); }

  int64_t CountItems(const std::string& where = "1") {
    int64_t count = -1;
    absl::Status status = database_->Read([&](Connection& connection) {
      // Test-only: `where` is a fixed literal chosen by the test.
      const std::string sql = "SELECT count(*) FROM items WHERE " + where;
      Statement& statement = connection.Prepare(sql.c_str());
      absl::StatusOr<bool> row = statement.Step();
      if (!row.ok()) return row.status();
      count = statement.ColumnInt64(0);
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status;
    return count;
  }

  TempDir dir_;
  std::unique_ptr<Database> database_;
  absl::Notification release_writer_;
};

TEST_F(WriteQueueTest, WriteAndWaitReturnsTheOpsOutcome) {
  EXPECT_TRUE(database_->WriteAndWait(InsertItemFn("a")).ok());
  absl::Status duplicate = database_->WriteAndWait(InsertItemFn("a"));
  EXPECT_EQ(duplicate.code(), absl::StatusCode::kAlreadyExists) << duplicate;
  absl::Status custom = database_->WriteAndWait(
      [](Connection&) { return absl::NotFoundError("job 7 not found"); });
  EXPECT_EQ(custom, absl::NotFoundError("job 7 not found"));
  EXPECT_EQ(CountItems(), 1);
  // Each failed alone in its batch: rolling back was enough.
  EXPECT_EQ(database_->write_stats().batches_run_again, 0);
}

TEST_F(WriteQueueTest, OutcomesArriveInCommitOrderWithoutHoldingTheWriter) {
  // The first op's outcome is held until a later op has run: possible only
  // because outcomes are reported on their own thread, not the writer's.
  absl::Notification later_op_ran;
  bool writer_went_on = false;
  std::vector<std::string> order;
  absl::Mutex order_mu;
  auto record = [&](std::string label) {
    return [&, label](absl::Status status) {
      EXPECT_TRUE(status.ok()) << label << ": " << status;
      absl::MutexLock lock(&order_mu);
      order.push_back(label);
    };
  };
  database_->Write(InsertItemFn("first"), [&](absl::Status status) {
    writer_went_on =
        later_op_ran.WaitForNotificationWithTimeout(absl::Seconds(30));
    record("first")(std::move(status));
  });
  for (int i = 0; i < 20; ++i) {
    database_->Write(InsertItemFn("op" + std::to_string(i)),
                     record("op" + std::to_string(i)));
  }
  ASSERT_TRUE(database_
                  ->WriteAndWait([&](Connection& connection) {
                    later_op_ran.Notify();
                    return InsertItem(connection, "last");
                  })
                  .ok());
  EXPECT_TRUE(writer_went_on);
  absl::MutexLock lock(&order_mu);
  ASSERT_EQ(order.size(), 21u);
  EXPECT_EQ(order[0], "first");
  for (int i = 0; i < 20; ++i) EXPECT_EQ(order[i + 1], "op" + std::to_string(i));
}

TEST_F(WriteQueueTest, ConcurrentSubmitsShareTransactions) {
  constexpr int kThreads = 8;
  constexpr int kOpsPerThread = 125;
  constexpr int kOps = kThreads * kOpsPerThread;
  const WriteQueueStats before = database_->write_stats();

  BlockWriter();
  Outcomes outcomes;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kOpsPerThread; ++i) {
        const std::string name =
            "item-" + std::to_string(t) + "-" + std::to_string(i);
        database_->Write(InsertItemFn(name), outcomes.Record(name));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ReleaseWriter();
  outcomes.WaitFor(kOps);

  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kOpsPerThread; ++i) {
      const std::string name =
          "item-" + std::to_string(t) + "-" + std::to_string(i);
      EXPECT_TRUE(outcomes.Get(name).ok())
          << name << ": " << outcomes.Get(name);
    }
  }
  EXPECT_EQ(CountItems(), kOps);

  const WriteQueueStats after = database_->write_stats();
  const int64_t transactions =
      after.transactions_committed - before.transactions_committed;
  const int64_t ops = after.ops_committed - before.ops_committed;
  EXPECT_EQ(ops, kOps + 1);  // The blocking op commits too.
  EXPECT_LT(transactions, ops);
  // The blocking op opened a batch that, once released, took ops up to the
  // limit; the others, all queued by then, filled batches up to it.
  const int64_t limit = static_cast<int64_t>(WriteQueueOptions().max_batch_ops);
  EXPECT_EQ(transactions, (ops + limit - 1) / limit);
  EXPECT_EQ(after.ops_failed, before.ops_failed);
}

TEST_F(WriteQueueTest, BatchIsCutAtMaxOps) {
  TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("small_batches.sqlite");
  options.writes.max_batch_ops = 10;
  options.writes.max_batch_duration = absl::InfiniteDuration();
  absl::StatusOr<std::unique_ptr<Database>> database =
      Database::Open(options, kSchema);
  ASSERT_TRUE(database.ok()) << database.status();

  absl::Notification release;
  HoldWriter(**database, release);
  Outcomes outcomes;
  for (int i = 0; i < 95; ++i) {
    (*database)->Write(InsertItemFn(std::to_string(i)),
                       outcomes.Record(std::to_string(i)));
  }
  release.Notify();
  outcomes.WaitFor(95);
  const WriteQueueStats stats = (*database)->write_stats();
  EXPECT_EQ(stats.ops_committed, 96);
  // The blocking op and 95 inserts, all queued before the first batch could
  // take a second op, in batches of 10.
  EXPECT_EQ(stats.transactions_committed, 10);
}

TEST_F(WriteQueueTest, FailingOpIsRolledBackAloneInItsBatch) {
  ASSERT_TRUE(database_->WriteAndWait(InsertItemFn("existing")).ok());
  const WriteQueueStats before = database_->write_stats();

  BlockWriter();
  Outcomes outcomes;
  std::atomic<int> first_runs{0};
  database_->Write(
      [&](Connection& connection) {
        ++first_runs;
        return InsertItem(connection, "first");
      },
      outcomes.Record("first"));
  database_->Write(
      [](Connection& connection) {
        absl::Status status = InsertItem(connection, "partial");
        if (!status.ok()) return status;
        return absl::InvalidArgumentError("changed my mind");
      },
      outcomes.Record("gives_up"));
  database_->Write(InsertItemFn("existing"), outcomes.Record("duplicate"));
  database_->Write(InsertItemFn("last"), outcomes.Record("last"));
  ReleaseWriter();
  outcomes.WaitFor(4);

  EXPECT_TRUE(outcomes.Get("first").ok()) << outcomes.Get("first");
  EXPECT_EQ(outcomes.Get("gives_up"),
            absl::InvalidArgumentError("changed my mind"));
  EXPECT_EQ(outcomes.Get("duplicate").code(), absl::StatusCode::kAlreadyExists)
      << outcomes.Get("duplicate");
  EXPECT_TRUE(outcomes.Get("last").ok()) << outcomes.Get("last");

  EXPECT_EQ(CountItems("name = 'first'"), 1);
  EXPECT_EQ(CountItems("name = 'partial'"), 0);
  EXPECT_EQ(CountItems("name = 'last'"), 1);
  EXPECT_EQ(CountItems(), 3);

  const WriteQueueStats after = database_->write_stats();
  // The blocking op, first and last, all in one transaction.
  EXPECT_EQ(after.transactions_committed - before.transactions_committed, 1);
  EXPECT_EQ(after.ops_committed - before.ops_committed, 3);
  EXPECT_EQ(after.ops_failed - before.ops_failed, 2);
  // The ops ran without savepoints until "gives_up" failed; then the batch
  // ran again from its start, each op in its own savepoint, and so did the
  // rest of it: "duplicate" failing did not make it run a third time.
  EXPECT_EQ(after.batches_run_again - before.batches_run_again, 1);
  EXPECT_EQ(first_runs, 2);
}

// Runs `ops` as one batch of `database`: queued behind an op that holds the
// writer until they all are. Returns their outcomes, in order.
std::vector<absl::Status> RunAsOneBatch(
    Database& database, const std::vector<Database::WriteFn>& ops) {
  absl::Notification release;
  HoldWriter(database, release);
  Outcomes outcomes;
  for (size_t i = 0; i < ops.size(); ++i) {
    database.Write(ops[i], outcomes.Record(std::to_string(i)));
  }
  release.Notify();
  outcomes.WaitFor(ops.size());
  std::vector<absl::Status> statuses;
  for (size_t i = 0; i < ops.size(); ++i) {
    statuses.push_back(outcomes.Get(std::to_string(i)));
  }
  return statuses;
}

TEST(WriteQueueIsolationTest, BatchesAfterARunAgainGiveEachOpASavepoint) {
  TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("isolation.sqlite");
  options.writes.max_batch_duration = absl::InfiniteDuration();
  options.writes.isolated_batches_after_failure = 2;
  std::atomic<int> reported_runs_again{0};
  options.writes.batch_run_again = [&] { ++reported_runs_again; };
  absl::StatusOr<std::unique_ptr<Database>> database =
      Database::Open(options, kSchema);
  ASSERT_TRUE(database.ok()) << database.status();

  // A batch of an insert that counts its runs and an op that fails after
  // changing a row, so that only a savepoint (or the batch's rollback)
  // undoes it.
  int runs = 0;
  int batch = 0;
  const auto run_batch = [&] {
    ++batch;
    const std::string name = "kept-" + std::to_string(batch);
    runs = 0;
    std::vector<absl::Status> statuses =
        RunAsOneBatch(**database, {[&runs, name](Connection& connection) {
                                     ++runs;
                                     return InsertItem(connection, name);
                                   },
                                   [name](Connection& connection) {
                                     absl::Status status = InsertItem(
                                         connection, name + "-undone");
                                     if (!status.ok()) return status;
                                     return absl::AbortedError("conflict");
                                   }});
    EXPECT_TRUE(statuses[0].ok()) << statuses[0];
    EXPECT_EQ(statuses[1], absl::AbortedError("conflict"));
    return (*database)->write_stats().batches_run_again;
  };

  EXPECT_EQ(run_batch(), 1);  // Without savepoints, then again with them.
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(run_batch(), 1);  // The two batches after it: savepoints.
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(run_batch(), 1);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(run_batch(), 2);  // Without savepoints again.
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(reported_runs_again, 2);

  int64_t kept = -1;
  int64_t undone = -1;
  ASSERT_TRUE((*database)
                  ->Read([&](Connection& connection) {
                    Statement& count = connection.Prepare(
                        "SELECT count(*) FILTER (WHERE name NOT LIKE "
                        "'%-undone'), count(*) FILTER (WHERE name LIKE "
                        "'%-undone') FROM items");
                    absl::StatusOr<bool> row = count.Step();
                    if (!row.ok()) return row.status();
                    kept = count.ColumnInt64(0);
                    undone = count.ColumnInt64(1);
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(kept, 4);
  EXPECT_EQ(undone, 0);
}

TEST_F(WriteQueueTest, DeferredForeignKeyViolationFailsOnlyItsOp) {
  ASSERT_TRUE(database_
                  ->WriteAndWait([](Connection& connection) {
                    return connection.Exec("INSERT INTO parents VALUES (1)");
                  })
                  .ok());
  BlockWriter();
  Outcomes outcomes;
  database_->Write(
      [](Connection& connection) {
        return connection.Exec("INSERT INTO children VALUES (1)");
      },
      outcomes.Record("valid"));
  database_->Write(
      [](Connection& connection) {
        return connection.Exec("INSERT INTO children VALUES (99)");
      },
      outcomes.Record("dangling"));
  database_->Write(InsertItemFn("after"), outcomes.Record("after"));
  ReleaseWriter();
  outcomes.WaitFor(3);

  EXPECT_TRUE(outcomes.Get("valid").ok()) << outcomes.Get("valid");
  EXPECT_EQ(outcomes.Get("dangling").code(),
            absl::StatusCode::kFailedPrecondition)
      << outcomes.Get("dangling");
  EXPECT_TRUE(outcomes.Get("after").ok()) << outcomes.Get("after");
  EXPECT_EQ(CountItems("name = 'after'"), 1);
}

TEST_F(WriteQueueTest, OpEndingTheTransactionFailsItsWholeBatch) {
  BlockWriter();
  Outcomes outcomes;
  database_->Write(InsertItemFn("before"), outcomes.Record("before"));
  database_->Write(
      [](Connection& connection) { return connection.Exec("ROLLBACK"); },
      outcomes.Record("rogue"));
  ReleaseWriter();
  outcomes.WaitFor(2);

  EXPECT_EQ(outcomes.Get("rogue").code(), absl::StatusCode::kInternal)
      << outcomes.Get("rogue");
  EXPECT_EQ(outcomes.Get("before").code(), absl::StatusCode::kUnavailable)
      << outcomes.Get("before");
  EXPECT_EQ(CountItems(), 0);
  // The writer recovers for the next batch.
  EXPECT_TRUE(database_->WriteAndWait(InsertItemFn("later")).ok());
  EXPECT_EQ(CountItems(), 1);
}

TEST_F(WriteQueueTest, OpMayUseItsOwnSavepoints) {
  absl::Status status = database_->WriteAndWait([](Connection& connection) {
    absl::Status s = InsertItem(connection, "kept");
    if (!s.ok()) return s;
    if (s = connection.Exec("SAVEPOINT inner_step"); !s.ok()) return s;
    if (s = InsertItem(connection, "undone"); !s.ok()) return s;
    return connection.Exec("ROLLBACK TO inner_step; RELEASE inner_step");
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(CountItems("name = 'kept'"), 1);
  EXPECT_EQ(CountItems("name = 'undone'"), 0);
}

TEST_F(WriteQueueTest, ShutdownCommitsQueuedOpsThenRefusesNewOnes) {
  BlockWriter();
  Outcomes outcomes;
  for (int i = 0; i < 20; ++i) {
    database_->Write(InsertItemFn(std::to_string(i)),
                     outcomes.Record(std::to_string(i)));
  }
  std::thread shutdown([&] { database_->ShutdownWrites(); });
  // Probe until the queue refuses writes, so shutdown has certainly begun
  // while the 20 ops are still queued behind the blocked writer.
  while (true) {
    auto refused = std::make_shared<std::atomic<bool>>(false);
    database_->Write([](Connection&) { return absl::OkStatus(); },
                     [refused](absl::Status status) {
                       if (absl::IsUnavailable(status)) *refused = true;
                     });
    if (*refused) break;
    std::this_thread::yield();
  }
  ReleaseWriter();
  shutdown.join();  // ShutdownWrites returns once the queue is drained.
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(outcomes.Get(std::to_string(i)).ok()) << i;
  }
  EXPECT_EQ(CountItems(), 20);

  absl::Status late = database_->WriteAndWait(InsertItemFn("late"));
  EXPECT_EQ(late.code(), absl::StatusCode::kUnavailable) << late;
  bool done_called = false;
  database_->Write(InsertItemFn("later"), [&](absl::Status status) {
    done_called = true;
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  });
  EXPECT_TRUE(done_called);  // Synchronously, on this thread.
  EXPECT_EQ(CountItems(), 20);
}

TEST(WriteQueueDirectTest, OwnsConnectionAndCountsWork) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<Connection>> connection =
      Connection::Open(dir.File("db.sqlite"), ConnectionOptions());
  ASSERT_TRUE(connection.ok()) << connection.status();
  ASSERT_TRUE(ApplyMigrations(**connection, kSchema).ok());
  WriteQueue queue(*std::move(connection), WriteQueueOptions());
  EXPECT_TRUE(queue.SubmitAndWait(InsertItemFn("x")).ok());
  EXPECT_EQ(queue.SubmitAndWait(nullptr).code(),
            absl::StatusCode::kInvalidArgument);
  const WriteQueueStats stats = queue.stats();
  EXPECT_EQ(stats.transactions_committed, 2);
  EXPECT_EQ(stats.ops_committed, 1);
  EXPECT_EQ(stats.ops_failed, 1);
  queue.Shutdown();
  queue.Shutdown();  // Idempotent.
  EXPECT_EQ(queue.SubmitAndWait(InsertItemFn("y")).code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace ats::storage::sqlite
