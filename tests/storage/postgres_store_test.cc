// What the PostgreSQL store adds for replicas sharing one database: every
// replica seals under the same key, and one replica's commits that make
// events due wake the others.

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
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
    options.connections = 3;
    return OpenPostgresStore(options);
  }

  ::ats::testing::TempDir dir_;
  std::string uri_;
};

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
  ASSERT_TRUE((*writer)
                  ->WriteAndWait([](Transaction& t) {
                    absl::Status status =
                        t.accounts().InsertAccount({"acct", "A", kT0, "", {}});
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
                    if (status.ok()) {
                      status = t.integrations().InsertIntegration(integration);
                    }
                    return status;
                  })
                  .ok());

  // The listener wakes its watcher once when it starts listening: let that
  // pass before watching, so that only the event can wake the watcher.
  absl::SleepFor(absl::Seconds(1));
  absl::Notification woken_by_event;
  (*watcher)->WatchEventsDue([&woken_by_event] {
    if (!woken_by_event.HasBeenNotified()) woken_by_event.Notify();
  });

  ASSERT_TRUE((*writer)
                  ->WriteAndWait([](Transaction& t) {
                    EventRow event;
                    event.account_id = "acct";
                    event.id = "e1";
                    event.state = ats::v1::EVENT_STATE_PENDING;
                    event.integration_id = "int";
                    event.candidate_id = "c1";
                    event.source = ats::v1::EVENT_SOURCE_MANUAL;
                    event.create_time = event.due_time = event.update_time = kT0;
                    return t.events().InsertEvent(event);
                  })
                  .ok());
  EXPECT_TRUE(woken_by_event.WaitForNotificationWithTimeout(absl::Seconds(30)));
  (*watcher)->WatchEventsDue(nullptr);
}

}  // namespace
}  // namespace ats::storage
