// What a store tells monitoring, on each backend: the event state changes
// its committed writes made (StoreObserver::events_changed), its group
// commits, its queue and WAL (Store::Stats), and the due events CountDue
// finds.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "storage/store.h"
#include "tests/support/backends.h"
#include "tests/support/temp_dir.h"

namespace ats::storage {
namespace {

using ::ats::testing::TempDir;
using ats::v1::EventState;

#define ASSERT_OK(expr)                   \
  do {                                    \
    const absl::Status status_ = (expr);  \
    ASSERT_TRUE(status_.ok()) << status_; \
  } while (false)

constexpr char kAccount[] = "acct";
constexpr char kIntegration[] = "int-1";

absl::Time At(int64_t seconds) { return absl::FromUnixSeconds(seconds); }

// Event `id` of integration int-1 (a webhook's without one) in `state`,
// due at `due`.
EventRow Event(const std::string& id, EventState state, absl::Time due,
               const std::string& integration = kIntegration) {
  EventRow event;
  event.account_id = kAccount;
  event.id = id;
  event.state = state;
  event.integration_id = integration;
  if (integration.empty()) event.webhook_uri = "https://hooks.example/x";
  event.candidate_id = "c1";
  event.source = ats::v1::EVENT_SOURCE_MANUAL;
  event.create_time = event.update_time = At(1);
  event.due_time = due;
  return event;
}

// One change, as a test spells it.
struct Change {
  std::string integration_id;
  EventState from;
  EventState to;
  bool operator==(const Change& other) const {
    return integration_id == other.integration_id && from == other.from &&
           to == other.to;
  }
};

std::ostream& operator<<(std::ostream& out, const Change& change) {
  return out << "{" << change.integration_id << " "
             << ats::v1::EventState_Name(change.from) << "->"
             << ats::v1::EventState_Name(change.to) << "}";
}

class StoreObserverTest
    : public ::testing::TestWithParam<::ats::testing::Backend> {
 protected:
  void SetUp() override {
    auto database =
        ::ats::testing::TestDatabase::Create(GetParam(), dir_.path());
    ASSERT_TRUE(database.ok()) << database.status();
    StoreObserver observer;
    observer.events_changed =
        [this](const std::vector<EventStateChange>& changes) {
          absl::MutexLock lock(&mu_);
          for (const EventStateChange& change : changes) {
            changes_.push_back({change.integration_id, change.from, change.to});
            due_times_.push_back(change.due_time);
          }
        };
    observer.batch_committed = [this](int64_t writes) {
      absl::MutexLock lock(&mu_);
      batches_.push_back(writes);
    };
    absl::StatusOr<std::unique_ptr<Store>> store = database->Open(observer);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_OK(store_->WriteAndWait([](Transaction& t) -> absl::Status {
      absl::Status status =
          t.accounts().InsertAccount({kAccount, "Account", At(1), "", {}, ""});
      if (!status.ok()) return status;
      PartnerRow partner;
      partner.id = "p1";
      partner.listing.set_display_name("Assessly");
      partner.create_time = partner.update_time = At(1);
      status = t.integrations().InsertPartner(partner);
      if (!status.ok()) return status;
      IntegrationRow integration;
      integration.account_id = kAccount;
      integration.id = kIntegration;
      integration.partner_id = "p1";
      integration.display_name = "Assessly";
      integration.create_time = integration.update_time = At(1);
      return t.integrations().InsertIntegration(integration);
    }));
  }

  // The changes reported so far, forgotten.
  std::vector<Change> TakeChanges() {
    absl::MutexLock lock(&mu_);
    std::vector<Change> taken;
    taken.swap(changes_);
    return taken;
  }

  absl::Status Insert(const std::vector<EventRow>& events) {
    return store_->WriteAndWait([&](Transaction& t) {
      for (const EventRow& event : events) {
        absl::Status status = t.events().InsertEvent(event);
        if (!status.ok()) return status;
      }
      return absl::OkStatus();
    });
  }

  absl::StatusOr<DueQueue> CountDue(absl::Time now) {
    absl::StatusOr<DueQueue> due = absl::UnknownError("not run");
    absl::Status read = store_->Read([&](Transaction& t) {
      due = t.events().CountDue(now);
      return due.status();
    });
    if (!read.ok()) return read;
    return due;
  }

  TempDir dir_;
  absl::Mutex mu_;
  std::vector<Change> changes_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Time> due_times_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> batches_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Store> store_;
};

TEST_P(StoreObserverTest, ReportsTheStateChangesOfCommittedWrites) {
  TakeChanges();  // The setup's.
  ASSERT_OK(Insert({Event("e1", ats::v1::EVENT_STATE_PENDING, At(10)),
                    Event("e2", ats::v1::EVENT_STATE_SKIPPED, At(10)),
                    Event("w1", ats::v1::EVENT_STATE_PENDING, At(10), "")}));
  EXPECT_EQ(TakeChanges(), (std::vector<Change>{
                               {kIntegration, ats::v1::EVENT_STATE_UNSPECIFIED,
                                ats::v1::EVENT_STATE_PENDING},
                               {kIntegration, ats::v1::EVENT_STATE_UNSPECIFIED,
                                ats::v1::EVENT_STATE_SKIPPED},
                               {"", ats::v1::EVENT_STATE_UNSPECIFIED,
                                ats::v1::EVENT_STATE_PENDING}}));

  // A claim, its settling, an update that keeps the state (a result
  // amended), and a cancellation of many at once.
  EventRow claimed = Event("e1", ats::v1::EVENT_STATE_SENDING, At(10));
  claimed.attempt_count = 1;
  claimed.lease_expire_time = At(100);
  EventRow sent = claimed;
  sent.state = ats::v1::EVENT_STATE_SENT;
  sent.lease_expire_time.reset();
  ASSERT_OK(store_->WriteAndWait([&](Transaction& t) -> absl::Status {
    absl::Status status = t.events().UpdateEvent(claimed);
    if (!status.ok()) return status;
    absl::StatusOr<bool> held = t.events().SettleClaim(claimed, sent);
    if (!held.ok()) return held.status();
    EXPECT_TRUE(*held);
    EventRow amended = sent;
    amended.state_reason = "amended";
    status = t.events().UpdateEvent(amended);
    if (!status.ok()) return status;
    return t.events()
        .CancelOpenEvents(kAccount, "c1", "", "gone", At(20))
        .status();
  }));
  EXPECT_EQ(TakeChanges(),
            (std::vector<Change>{{kIntegration, ats::v1::EVENT_STATE_PENDING,
                                  ats::v1::EVENT_STATE_SENDING},
                                 {kIntegration, ats::v1::EVENT_STATE_SENDING,
                                  ats::v1::EVENT_STATE_SENT},
                                 {"", ats::v1::EVENT_STATE_PENDING,
                                  ats::v1::EVENT_STATE_CANCELED}}));
  // Each with the due time it was left with.
  absl::MutexLock lock(&mu_);
  for (absl::Time due : due_times_) EXPECT_EQ(due, At(10));
}

TEST_P(StoreObserverTest, AWriteThatRollsBackReportsNothing) {
  TakeChanges();
  const absl::Status failed = store_->WriteAndWait([](Transaction& t) {
    absl::Status status = t.events().InsertEvent(
        Event("e1", ats::v1::EVENT_STATE_PENDING, At(1)));
    if (!status.ok()) return status;
    return absl::AbortedError("changed my mind");
  });
  EXPECT_TRUE(absl::IsAborted(failed)) << failed;
  EXPECT_TRUE(TakeChanges().empty());

  // The next write reports its own changes only, through either kind of
  // write.
  absl::Notification done;
  store_->Write(
      WriteScope::WholeDeployment(),
      [](Transaction& t) {
        return t.events().InsertEvent(
            Event("e2", ats::v1::EVENT_STATE_DEAD, At(1)));
      },
      [&](absl::Status status) {
        EXPECT_TRUE(status.ok()) << status;
        done.Notify();
      });
  done.WaitForNotification();
  EXPECT_EQ(
      TakeChanges(),
      (std::vector<Change>{{kIntegration, ats::v1::EVENT_STATE_UNSPECIFIED,
                            ats::v1::EVENT_STATE_DEAD}}));
}

TEST_P(StoreObserverTest, ReportsGroupCommitsAndItsQueueAndWal) {
  // Each WriteAndWait commits alone: the setup's, then this one.
  ASSERT_OK(Insert({Event("e1", ats::v1::EVENT_STATE_PENDING, At(1))}));
  {
    absl::MutexLock lock(&mu_);
    EXPECT_EQ(batches_, (std::vector<int64_t>{1, 1}));
  }
  const StoreStats stats = store_->Stats();
  EXPECT_EQ(stats.queued_writes, 0);
  if (GetParam() == ::ats::testing::Backend::kSqlite) {
    // Two commits' pages, of 4 KiB each.
    EXPECT_GT(stats.wal_bytes, 0);
    EXPECT_EQ(stats.wal_bytes % 4096, 0);
  } else {
    // PostgreSQL's WAL is the server's, not the store's.
    EXPECT_EQ(stats.wal_bytes, 0);
  }
}

TEST_P(StoreObserverTest, CountsTheEventsDueAndTheOldest) {
  std::vector<EventRow> events = {
      Event("scheduled-due", ats::v1::EVENT_STATE_SCHEDULED, At(900)),
      Event("scheduled-later", ats::v1::EVENT_STATE_SCHEDULED, At(1001)),
      Event("pending", ats::v1::EVENT_STATE_PENDING, At(800)),
      Event("retrying-later", ats::v1::EVENT_STATE_RETRYING, At(5000)),
      Event("webhook", ats::v1::EVENT_STATE_RETRYING, At(1000), ""),
      Event("sent", ats::v1::EVENT_STATE_SENT, At(1)),
      Event("dead", ats::v1::EVENT_STATE_DEAD, At(1))};
  EventRow expired =
      Event("sending-expired", ats::v1::EVENT_STATE_SENDING, At(700));
  expired.lease_expire_time = At(990);
  EventRow leased =
      Event("sending-leased", ats::v1::EVENT_STATE_SENDING, At(600));
  leased.lease_expire_time = At(1030);
  events.push_back(expired);
  events.push_back(leased);
  ASSERT_OK(Insert(events));

  absl::StatusOr<DueQueue> due = CountDue(At(1000));
  ASSERT_TRUE(due.ok()) << due.status();
  // What ListDue would claim: the lease still held and the final states
  // are not due.
  EXPECT_EQ(due->events, 4);
  EXPECT_EQ(due->oldest_due_time, At(700));
  due = CountDue(At(1030));
  ASSERT_TRUE(due.ok()) << due.status();
  EXPECT_EQ(due->events, 6);
  EXPECT_EQ(due->oldest_due_time, At(600));
  due = CountDue(At(500));
  ASSERT_TRUE(due.ok()) << due.status();
  EXPECT_EQ(due->events, 0);
  EXPECT_FALSE(due->oldest_due_time.has_value());
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreObserverTest,
                         ::ats::testing::AllBackends(),
                         ::ats::testing::BackendName);

}  // namespace
}  // namespace ats::storage
