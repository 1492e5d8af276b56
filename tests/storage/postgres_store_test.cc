// What the PostgreSQL store adds for replicas sharing one database: every
// replica seals under the same key, their writes run at once yet lose
// nothing, their claims never take the same event, and one replica's
// commits that make events due wake the others.

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "storage/postgres/write_lanes.h"
#include "storage/store.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/temp_dir.h"

namespace ats::storage {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto uri = ::ats::testing::CreateTestDatabase();
    ASSERT_TRUE(uri.ok()) << uri.status();
    uri_ = *uri;
  }

  // Opens a replica's store whose secrets key file is `key_file` (in the
  // test's directory).
  absl::StatusOr<std::unique_ptr<Store>> OpenReplica(
      const std::string& key_file) {
    PostgresStoreOptions options;
    options.uri = uri_;
    options.secrets_key_file = dir_.File(key_file);
    options.connections = 4;
    return OpenPostgresStore(options);
  }

  // Opens a replica that seals with the test's one key.
  std::unique_ptr<Store> Replica() {
    auto store = OpenReplica("ats.secrets.key");
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  // Opens two replicas into replicas_.
  void StartTwoReplicas() {
    replicas_.push_back(Replica());
    replicas_.push_back(Replica());
    ASSERT_TRUE(replicas_[0] && replicas_[1]);
  }

  // Opens two replicas into replicas_ and stores account "acct" with
  // integration "int" through the first.
  void StartTwoSeededReplicas() {
    StartTwoReplicas();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(SeedIntegration(*replicas_[0]).ok());
  }

  // Stores account "acct" with integration "int" through `store`.
  static absl::Status SeedIntegration(Store& store) {
    return store.WriteAndWait([](Transaction& t) {
      absl::Status status =
          t.accounts().InsertAccount({"acct", "A", kT0, "", {}, ""});
      PartnerRow partner;
      partner.id = "p1";
      partner.listing.set_display_name("Assessly");
      partner.create_time = partner.update_time = kT0;
      if (status.ok()) status = t.integrations().InsertPartner(partner);
      IntegrationRow integration;
      integration.account_id = "acct";
      integration.id = "int";
      integration.partner_id = "p1";
      integration.display_name = "Assessly";
      integration.create_time = integration.update_time = kT0;
      if (status.ok()) status = t.integrations().InsertIntegration(integration);
      return status;
    });
  }

  // Stores a PENDING event `id` of integration "int", due at kT0.
  static absl::Status InsertDueEvent(Store& store, const std::string& id) {
    return store.WriteAndWait([&id](Transaction& t) {
      EventRow event;
      event.account_id = "acct";
      event.id = id;
      event.state = ats::v1::EVENT_STATE_PENDING;
      event.integration_id = "int";
      event.candidate_id = "c1";
      event.source = ats::v1::EVENT_SOURCE_MANUAL;
      event.create_time = event.due_time = event.update_time = kT0;
      return t.events().InsertEvent(event);
    });
  }

  ::ats::testing::TempDir dir_;
  std::string uri_;
  std::vector<std::unique_ptr<Store>> replicas_;
};

// Claims up to `limit` due events inside `t` as a dispatcher does (SENDING
// under a lease) into `ids`, replacing what an earlier run put there.
absl::Status ClaimDue(Transaction& t, int limit, std::vector<std::string>* ids) {
  ids->clear();
  const absl::Time now = kT0 + absl::Seconds(1);
  auto due = t.events().ListDue(now, limit, {});
  if (!due.ok()) return due.status();
  for (const DueEvent& key : *due) {
    auto event = t.events().ReadDueEvent(key, now);
    if (!event.ok()) return event.status();
    if (!event->has_value()) continue;  // Another claim holds it.
    EventRow& leased = (*event)->event;
    leased.attempt_count = 1;
    leased.lease_expire_time = now + absl::Minutes(1);
    absl::Status updated = t.events().LeaseDueEvent(key, leased);
    if (!updated.ok()) return updated;
    ids->push_back(leased.id);
  }
  return absl::OkStatus();
}

TEST_F(PostgresStoreTest, AReplicaWithAnotherSecretsKeyIsRefused) {
  auto first = OpenReplica("a.secrets.key");
  ASSERT_TRUE(first.ok()) << first.status();
  // Nothing is sealed yet; the key still belongs to the deployment.
  auto other = OpenReplica("b.secrets.key");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition)
      << other.status();
  EXPECT_TRUE(OpenReplica("a.secrets.key").ok());
}

TEST_F(PostgresStoreTest, EventsMadeDueOnOneReplicaWakeTheOthers) {
  auto writer = OpenReplica("ats.secrets.key");
  ASSERT_TRUE(writer.ok()) << writer.status();
  auto watcher = OpenReplica("ats.secrets.key");
  ASSERT_TRUE(watcher.ok()) << watcher.status();
  ASSERT_TRUE(SeedIntegration(**writer).ok());

  // The listener wakes its watcher once when it starts listening: let that
  // pass before watching, so that only the event can wake the watcher.
  absl::SleepFor(absl::Seconds(1));
  absl::Notification woken_by_event;
  (*watcher)->WatchEventsDue([&woken_by_event] {
    if (!woken_by_event.HasBeenNotified()) woken_by_event.Notify();
  });

  ASSERT_TRUE(InsertDueEvent(**writer, "e1").ok());
  EXPECT_TRUE(woken_by_event.WaitForNotificationWithTimeout(absl::Seconds(30)));
  (*watcher)->WatchEventsDue(nullptr);
}

TEST_F(PostgresStoreTest, ConcurrentWritesOfTwoReplicasLoseNoUpdate) {
  StartTwoSeededReplicas();
  if (HasFatalFailure()) return;

  // Every write reads the integration's revision and stores it plus one,
  // all at once on both replicas, several to a batch, most scoped to the
  // account and some to the whole deployment: unless the writes of both
  // replicas follow one another, increments are lost.
  constexpr int kWritesPerReplica = 100;
  std::atomic<int> failed{0};
  absl::Mutex mu;
  int done = 0;
  for (const auto& replica : replicas_) {
    for (int i = 0; i < kWritesPerReplica; ++i) {
      replica->Write(
          i % 5 == 0 ? WriteScope::WholeDeployment()
                     : WriteScope::Account("acct"),
          [](Transaction& t) {
            auto row = t.integrations().GetIntegration("acct", "int");
            if (!row.ok()) return row.status();
            ++row->revision;
            return t.integrations().UpdateIntegration(*row);
          },
          [&](absl::Status status) {
            if (!status.ok()) ++failed;
            absl::MutexLock lock(&mu);
            ++done;
          });
    }
  }
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](int* done) { return *done == 2 * kWritesPerReplica; }, &done));
  }
  EXPECT_EQ(failed, 0);
  int64_t revision = 0;
  ASSERT_TRUE(replicas_[1]
                  ->Read([&](Transaction& t) {
                    auto row = t.integrations().GetIntegration("acct", "int");
                    if (row.ok()) revision = row->revision;
                    return row.status();
                  })
                  .ok());
  EXPECT_EQ(revision, 1 + 2 * kWritesPerReplica);
}

// Opens two replicas, and on the first runs a write of `first_scope` that
// waits inside its transaction, up to `patience`, for a write of
// `second_scope` on the second replica to commit; returns whether it did.
bool SecondWriteCommitsWhileTheFirstRuns(
    std::vector<std::unique_ptr<Store>>& replicas, const WriteScope& first_scope,
    const WriteScope& second_scope, absl::Duration patience) {
  absl::Notification second_committed;
  absl::Notification first_started;
  bool committed_meanwhile = false;
  absl::Notification first_done;
  replicas[0]->Write(
      first_scope,
      [&](Transaction&) {
        first_started.Notify();
        committed_meanwhile =
            second_committed.WaitForNotificationWithTimeout(patience);
        return absl::OkStatus();
      },
      [&](absl::Status status) {
        EXPECT_TRUE(status.ok()) << status;
        first_done.Notify();
      });
  first_started.WaitForNotification();
  EXPECT_TRUE(replicas[1]
                  ->WriteAndWait(second_scope,
                                 [&](Transaction&) {
                                   second_committed.Notify();
                                   return absl::OkStatus();
                                 })
                  .ok());
  first_done.WaitForNotification();
  return committed_meanwhile;
}

// Two account ids whose writes fall in different lanes.
std::pair<std::string, std::string> AccountsOfTwoLanes() {
  const std::string first = "acct";
  for (int i = 0;; ++i) {
    std::string second = absl::StrCat("acct", i);
    if (postgres::AccountLane(second) != postgres::AccountLane(first)) {
      return {first, second};
    }
  }
}

TEST(WriteLanesTest, AnAccountsLaneIsTheSameOnEveryBuild) {
  // Replicas of two versions running at once must agree.
  EXPECT_EQ(postgres::AccountLane(""), 2166136261u % postgres::kWriteLanes);
  EXPECT_EQ(postgres::AccountLane("acct"), 0x492008aau % postgres::kWriteLanes);
}

TEST_F(PostgresStoreTest, WritesOfAccountsInDifferentLanesRunAtOnce) {
  StartTwoReplicas();
  if (HasFatalFailure()) return;
  const auto [first, second] = AccountsOfTwoLanes();
  // Were they one at a time, the second would wait out the first's patience.
  EXPECT_TRUE(SecondWriteCommitsWhileTheFirstRuns(
      replicas_, WriteScope::Account(first), WriteScope::Account(second),
      absl::Seconds(60)));
}

TEST_F(PostgresStoreTest, WritesSharingAnAccountOrTheDeploymentRunOneAtATime) {
  StartTwoReplicas();
  if (HasFatalFailure()) return;
  const auto [first, second] = AccountsOfTwoLanes();
  const absl::Duration patience = absl::Seconds(1);
  EXPECT_FALSE(SecondWriteCommitsWhileTheFirstRuns(
      replicas_, WriteScope::Account(first), WriteScope::Account(first),
      patience));
  EXPECT_FALSE(SecondWriteCommitsWhileTheFirstRuns(
      replicas_, WriteScope::Account(first),
      WriteScope{{second, first}}, patience));
  EXPECT_FALSE(SecondWriteCommitsWhileTheFirstRuns(
      replicas_, WriteScope::Account(first), WriteScope::WholeDeployment(),
      patience));
  EXPECT_FALSE(SecondWriteCommitsWhileTheFirstRuns(
      replicas_, WriteScope::WholeDeployment(), WriteScope::Account(second),
      patience));
}

TEST_F(PostgresStoreTest, ClaimsOfTwoReplicasNeverTakeTheSameEvent) {
  StartTwoSeededReplicas();
  if (HasFatalFailure()) return;
  constexpr int kEvents = 200;
  for (int i = 0; i < kEvents; ++i) {
    ASSERT_TRUE(InsertDueEvent(*replicas_[0], absl::StrCat("e", i)).ok());
  }

  absl::Mutex mu;
  std::vector<std::string> claimed;
  std::vector<std::thread> dispatchers;
  for (int d = 0; d < 4; ++d) {
    dispatchers.emplace_back([&, d] {
      for (;;) {
        std::vector<std::string> ids;
        absl::Notification finished;
        absl::Status outcome;
        replicas_[d % 2]->Claim(
            [&](Transaction& t) { return ClaimDue(t, 7, &ids); },
            [&](absl::Status status) {
              outcome = status;
              finished.Notify();
            });
        finished.WaitForNotification();
        EXPECT_TRUE(outcome.ok()) << outcome;
        if (!outcome.ok() || ids.empty()) return;
        absl::MutexLock lock(&mu);
        claimed.insert(claimed.end(), ids.begin(), ids.end());
      }
    });
  }
  for (std::thread& dispatcher : dispatchers) dispatcher.join();
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kEvents));
  EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(),
            static_cast<size_t>(kEvents));
}

TEST_F(PostgresStoreTest, AClaimPassesOverAnEventAWriteHolds) {
  StartTwoSeededReplicas();
  if (HasFatalFailure()) return;
  Store* holder = replicas_[0].get();
  Store* claimer = replicas_[1].get();
  ASSERT_TRUE(InsertDueEvent(*holder, "held").ok());
  ASSERT_TRUE(InsertDueEvent(*holder, "free").ok());

  // A write on one replica changes event "held" and stays open.
  absl::Notification holding, release;
  std::thread writer([&] {
    EXPECT_TRUE(holder
                    ->WriteAndWait([&](Transaction& t) {
                      auto event = t.events().GetEvent("acct", "held",
                                                       PayloadParts::kAll);
                      if (!event.ok()) return event.status();
                      event->attempt_count = 5;
                      absl::Status updated = t.events().UpdateEvent(*event);
                      if (!holding.HasBeenNotified()) holding.Notify();
                      release.WaitForNotification();
                      return updated;
                    })
                    .ok());
  });
  holding.WaitForNotification();

  // A claim on the other replica takes the free event without waiting.
  std::vector<std::string> ids;
  absl::Notification claimed;
  claimer->Claim(
      [&](Transaction& t) { return ClaimDue(t, 10, &ids); },
      [&](absl::Status status) {
        EXPECT_TRUE(status.ok()) << status;
        claimed.Notify();
      });
  const bool claimed_in_time =
      claimed.WaitForNotificationWithTimeout(absl::Seconds(30));
  release.Notify();
  writer.join();
  ASSERT_TRUE(claimed_in_time);
  EXPECT_EQ(ids, std::vector<std::string>{"free"});
}

TEST_F(PostgresStoreTest, AWriteChangingAnEventAClaimHoldsSeesTheClaim) {
  StartTwoSeededReplicas();
  if (HasFatalFailure()) return;
  Store* claimer = replicas_[0].get();
  Store* writer = replicas_[1].get();
  ASSERT_TRUE(InsertDueEvent(*claimer, "e1").ok());

  // A claim on one replica takes the event and stays open.
  absl::Notification holding, release, claimed;
  claimer->Claim(
      [&](Transaction& t) {
        std::vector<std::string> ids;
        absl::Status taken = ClaimDue(t, 10, &ids);
        if (!taken.ok()) return taken;
        if (!holding.HasBeenNotified()) holding.Notify();
        release.WaitForNotification();
        return absl::OkStatus();
      },
      [&](absl::Status status) {
        EXPECT_TRUE(status.ok()) << status;
        claimed.Notify();
      });
  holding.WaitForNotification();

  // A write on the other replica that reads the event to change it waits
  // for the claim, then reads what the claim did.
  ats::v1::EventState seen = ats::v1::EVENT_STATE_UNSPECIFIED;
  std::thread write([&] {
    EXPECT_TRUE(writer
                    ->WriteAndWait([&](Transaction& t) {
                      auto event = t.events().GetEventToChange(
                          "acct", "e1", PayloadParts::kAll);
                      if (!event.ok()) return event.status();
                      seen = event->state;
                      return absl::OkStatus();
                    })
                    .ok());
  });
  absl::SleepFor(absl::Milliseconds(300));
  release.Notify();
  write.join();
  claimed.WaitForNotification();
  EXPECT_EQ(seen, ats::v1::EVENT_STATE_SENDING);
}

}  // namespace
}  // namespace ats::storage
