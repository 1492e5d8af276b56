// End to end, an account's notification endpoint: the real ats-server and
// two real partner-sinks on loopback, one the partner's webhook and one the
// account's notification endpoint, which verifies every notification with
// the account's webhook signing secret. An event that dies, an endpoint
// disabled by 410 Gone and a bulk operation that ends each reach it once,
// as the documented JSON; a notification that dies notifies nothing.

#include <unistd.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ats/v1/account_service.grpc.pb.h"
#include "ats/v1/integration_service.grpc.pb.h"
#include "ats/v1/job_service.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "tests/delivery/sink_process.h"
#include "tests/e2e/partner_setup.h"
#include "tests/support/child_process.h"
#include "tests/support/files.h"
#include "tests/support/loopback_port.h"
#include "tests/support/temp_dir.h"

#ifndef ATS_SERVER_BIN
#error "ATS_SERVER_BIN must name the ats-server binary"
#endif

namespace ats::testing {
namespace {

constexpr char kServerBin[] = ATS_SERVER_BIN;
// Bounds on waits, generous for a loaded machine; none is a timing
// assertion.
constexpr absl::Duration kStartTimeout = absl::Seconds(30);
constexpr absl::Duration kDeliveryTimeout = absl::Seconds(60);
constexpr int kCallSeconds = 30;

class NotificationsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(kServerBin, X_OK), 0) << "no ats-server at " << kServerBin;
    dir_ = MakeTempDir();
    for (auto* sink : {&partner_, &endpoint_}) {
      auto started = SinkProcess::Start(ATS_PARTNER_SINK_BIN);
      ASSERT_TRUE(started.ok()) << started.status();
      *sink = *std::move(started);
    }
    // One attempt per event: a failure is final at once.
    const int port = PickFreeLoopbackPort();
    auto server = ChildProcess::StartListening(
        {kServerBin, absl::StrCat("--listen=127.0.0.1:", port),
         "--db=" + dir_ + "/ats.db", "--key_dir=" + dir_, "--shutdown_grace=2s",
         "--retry_schedule=0s",
         "--allowed_destination_networks=127.0.0.0/8,::1/128"},
        port, kStartTimeout);
    ASSERT_TRUE(server.ok()) << server.status();
    server_.emplace(*std::move(server));
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                       grpc::InsecureChannelCredentials());
    accounts_ = ats::v1::AccountService::NewStub(channel);
    integrations_ = ats::v1::IntegrationService::NewStub(channel);
    jobs_ = ats::v1::JobService::NewStub(channel);
    operator_key_ = ReadKey(dir_ + "/ats.operator.key");
    admin_key_ = ReadKey(dir_ + "/ats.admin.key");
    auto integration = ConnectSinkPartner(*integrations_, operator_key_,
                                          admin_key_, *partner_);
    ASSERT_TRUE(integration.ok()) << integration.status();
    integration_ = *integration;
  }

  void TearDown() override {
    if (server_.has_value()) server_->Stop();
    RemoveTree(dir_);
  }

  // Gives the admin's account a webhook signing secret, which the endpoint
  // sink verifies with, and points its notifications at that sink.
  void SetNotificationEndpoint() {
    ats::v1::RotateWebhookSigningSecretRequest rotate;
    ats::v1::ListAccountsResponse listed;
    grpc::Status status = accounts_->ListAccounts(
        KeyContext(operator_key_, kCallSeconds).get(), {}, &listed);
    ASSERT_TRUE(status.ok()) << status.error_message();
    account_ = listed.accounts(0).name();
    rotate.set_name(account_);
    ats::v1::RotateWebhookSigningSecretResponse rotated;
    status = accounts_->RotateWebhookSigningSecret(
        KeyContext(admin_key_, kCallSeconds).get(), rotate, &rotated);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_TRUE(endpoint_->AddSecret(rotated.signing_secret()).ok());

    ats::v1::UpdateAccountRequest update;
    update.mutable_account()->set_name(account_);
    update.mutable_account()->set_notification_uri(endpoint_->webhook_url());
    update.mutable_update_mask()->add_paths("notification_uri");
    ats::v1::Account updated;
    status = accounts_->UpdateAccount(
        KeyContext(admin_key_, kCallSeconds).get(), update, &updated);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  // Creates a candidate and triggers the integration for them; returns the
  // event's name.
  std::string Trigger() {
    ats::v1::CreateCandidateRequest create;
    create.mutable_candidate()->set_given_name("Ada");
    ats::v1::Candidate candidate;
    grpc::Status status = jobs_->CreateCandidate(
        KeyContext(admin_key_, kCallSeconds).get(), create, &candidate);
    EXPECT_TRUE(status.ok()) << status.error_message();
    candidates_.push_back(candidate.name());
    ats::v1::TriggerIntegrationRequest trigger;
    trigger.set_integration(integration_);
    trigger.set_candidate(candidate.name());
    ats::v1::TriggerIntegrationResponse triggered;
    status = integrations_->TriggerIntegration(
        KeyContext(admin_key_, kCallSeconds).get(), trigger, &triggered);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return triggered.event().name();
  }

  // Waits (bounded) until the endpoint has accepted `count` notifications;
  // returns them all, by event name, as the bodies parse.
  std::map<std::string, ats::v1::PartnerEvent> WaitForNotifications(
      size_t count) {
    std::map<std::string, ats::v1::PartnerEvent> notifications;
    const absl::Time deadline = absl::Now() + kDeliveryTimeout;
    while (true) {
      auto received = endpoint_->Received();
      EXPECT_TRUE(received.ok()) << received.status();
      if (!received.ok()) return notifications;
      EXPECT_EQ(received->rejected, 0) << endpoint_->Log();
      if (received->bodies.size() >= count || absl::Now() > deadline) {
        for (const auto& [id, body] : received->bodies) {
          ats::v1::PartnerEvent& parsed = notifications[id];
          EXPECT_TRUE(
              google::protobuf::util::JsonStringToMessage(body, &parsed).ok())
              << body;
          EXPECT_EQ(received->deliveries.at(id), 1) << id;
        }
        EXPECT_EQ(notifications.size(), count) << endpoint_->Log();
        return notifications;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  }

  // Waits (bounded) until event `name` is in `state`.
  void WaitForEvent(const std::string& name, ats::v1::EventState state) {
    absl::StatusOr<ats::v1::Event> event = AwaitEventState(
        *integrations_, admin_key_, name, {state}, kDeliveryTimeout);
    ASSERT_TRUE(event.ok()) << event.status();
    EXPECT_EQ(event->state(), state) << event->DebugString();
  }

  // The notifications among the account's events, newest first.
  std::vector<ats::v1::Event> NotificationEvents() {
    ats::v1::ListEventsRequest list;
    list.set_page_size(1000);
    ats::v1::ListEventsResponse response;
    grpc::Status status = integrations_->ListEvents(
        KeyContext(admin_key_, kCallSeconds).get(), list, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<ats::v1::Event> notifications;
    for (const ats::v1::Event& event : response.events()) {
      if (event.source() == ats::v1::EVENT_SOURCE_NOTIFICATION) {
        notifications.push_back(event);
      }
    }
    return notifications;
  }

  std::string dir_;
  std::unique_ptr<SinkProcess> partner_;
  std::unique_ptr<SinkProcess> endpoint_;
  std::optional<ChildProcess> server_;
  std::unique_ptr<ats::v1::AccountService::Stub> accounts_;
  std::unique_ptr<ats::v1::IntegrationService::Stub> integrations_;
  std::unique_ptr<ats::v1::JobService::Stub> jobs_;
  std::string operator_key_;
  std::string admin_key_;
  std::string account_;
  std::string integration_;
  std::vector<std::string> candidates_;
};

TEST_F(NotificationsE2eTest, DeathsDisablingAndBulkEndsAreNotifiedSigned) {
  // Before the account has an endpoint, a death notifies nobody.
  ASSERT_TRUE(partner_->SetBehaviour(R"({"status": 500})").ok());
  WaitForEvent(Trigger(), ats::v1::EVENT_STATE_DEAD);
  EXPECT_TRUE(NotificationEvents().empty());
  SetNotificationEndpoint();

  // event.dead, with why and what the partner said.
  ASSERT_TRUE(
      partner_->SetBehaviour(R"({"status": 500, "body": "quota exceeded"})")
          .ok());
  const std::string dead = Trigger();
  WaitForEvent(dead, ats::v1::EVENT_STATE_DEAD);
  auto notifications = WaitForNotifications(1);
  ASSERT_EQ(notifications.size(), 1u);
  const auto& [id, first] = *notifications.begin();
  EXPECT_EQ(first.event_id(), id);
  EXPECT_EQ(first.account(), account_);
  EXPECT_EQ(first.source(), ats::v1::EVENT_SOURCE_NOTIFICATION);
  EXPECT_FALSE(first.has_candidate());
  EXPECT_EQ(first.notification().type(), "event.dead");
  const ats::v1::EventDeadNotification& event_dead =
      first.notification().event_dead();
  EXPECT_EQ(event_dead.event(), dead);
  EXPECT_EQ(event_dead.integration(), integration_);
  EXPECT_EQ(event_dead.candidate(), candidates_.back());
  EXPECT_TRUE(absl::StrContains(event_dead.reason(), "gave up after 1"))
      << event_dead.reason();
  EXPECT_EQ(event_dead.attempt_count(), 1);
  EXPECT_EQ(event_dead.partner_message(), "quota exceeded");

  // bulk_operation.finished, with the final counts.
  ASSERT_TRUE(partner_->SetBehaviour(R"({"status": 200})").ok());
  ats::v1::BulkTriggerIntegrationRequest bulk;
  bulk.set_integration(integration_);
  for (const std::string& candidate : candidates_) {
    bulk.mutable_selection()->mutable_candidates()->add_candidates(candidate);
  }
  auto context = KeyContext(admin_key_, kCallSeconds);
  auto reader = integrations_->BulkTriggerIntegration(context.get(), bulk);
  ats::v1::BulkOperation operation;
  while (reader->Read(&operation)) {
  }
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_EQ(operation.state(), ats::v1::BULK_OPERATION_STATE_SUCCEEDED);
  notifications = WaitForNotifications(2);
  ASSERT_EQ(notifications.size(), 2u);
  const ats::v1::Notification& finished =
      notifications.rbegin()->second.notification();
  EXPECT_EQ(finished.type(), "bulk_operation.finished");
  EXPECT_EQ(finished.bulk_operation_finished().bulk_operation(),
            operation.name());
  EXPECT_EQ(finished.bulk_operation_finished().state(),
            "BULK_OPERATION_STATE_SUCCEEDED");
  EXPECT_EQ(finished.bulk_operation_finished().created_count(), 2);

  // 410 Gone: the event dies and the endpoint is disabled, both notified.
  ASSERT_TRUE(partner_->SetBehaviour(R"({"status": 410})").ok());
  const std::string gone = Trigger();
  WaitForEvent(gone, ats::v1::EVENT_STATE_DEAD);
  notifications = WaitForNotifications(4);
  std::map<std::string, const ats::v1::Notification*> by_type;
  for (const auto& [name, body] : notifications) {
    by_type[body.notification().type()] = &body.notification();
  }
  ASSERT_EQ(by_type.count("integration.disabled"), 1u);
  const auto& disabled =
      by_type["integration.disabled"]->integration_disabled();
  EXPECT_EQ(disabled.integration(), integration_);
  EXPECT_TRUE(absl::StrContains(disabled.reason(), "410")) << disabled.reason();
  int deaths_of_gone = 0;
  for (const auto& [name, body] : notifications) {
    if (body.notification().event_dead().event() == gone) ++deaths_of_gone;
  }
  EXPECT_EQ(deaths_of_gone, 1);

  // A notification that dies notifies nothing: the next death's
  // notification fails once and is final, and nothing follows it.
  ats::v1::ReactivateIntegrationRequest reactivate;
  reactivate.set_name(integration_);
  ats::v1::Integration reactivated;
  grpc::Status status = integrations_->ReactivateIntegration(
      KeyContext(admin_key_, kCallSeconds).get(), reactivate, &reactivated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(partner_->SetBehaviour(R"({"status": 500})").ok());
  ASSERT_TRUE(endpoint_->SetBehaviour(R"({"status": 500})").ok());
  const std::string unsent = Trigger();
  WaitForEvent(unsent, ats::v1::EVENT_STATE_DEAD);
  std::vector<ats::v1::Event> listed = NotificationEvents();
  ASSERT_EQ(listed.size(), 5u);
  EXPECT_EQ(listed[0].notification().event_dead().event(), unsent);
  WaitForEvent(listed[0].name(), ats::v1::EVENT_STATE_DEAD);
  // Its death and any notification of it would be one write: none came.
  EXPECT_EQ(NotificationEvents().size(), 5u);
  EXPECT_EQ(listed[0].webhook_uri(), endpoint_->webhook_url());
  EXPECT_EQ(listed[0].candidate(), "");
}

}  // namespace
}  // namespace ats::testing
