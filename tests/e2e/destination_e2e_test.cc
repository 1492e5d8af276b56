// End to end, where webhooks may go, with the real ats-server binary and the
// real partner-sink on loopback. Without --allowed_destination_networks a
// literal loopback address is refused on save, and a partner listed at
// localhost (a name, accepted on save) is refused on connect: the sink
// receives nothing and the event is DEAD after one attempt naming the
// address. With the flag opening loopback the same partner is delivered to.
// A bad network in the flag stops start-up before anything is written.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ats/v1/integration_service.grpc.pb.h"
#include "ats/v1/job_service.grpc.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "tests/delivery/sink_process.h"
#include "tests/e2e/partner_setup.h"
#include "tests/support/child_process.h"
#include "tests/support/files.h"
#include "tests/support/loopback_port.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"

#ifndef ATS_SERVER_BIN
#error "ATS_SERVER_BIN must name the ats-server binary"
#endif

namespace ats::testing {
namespace {

constexpr char kServerBin[] = ATS_SERVER_BIN;
constexpr char kLoopback[] = "--allowed_destination_networks=127.0.0.0/8,::1/128";
// Bounds on waits, generous for a loaded machine; none is a timing
// assertion.
constexpr absl::Duration kStartTimeout = absl::Seconds(30);
constexpr absl::Duration kDeliveryTimeout = absl::Seconds(60);
constexpr int kCallSeconds = 30;

// The fields the BadRequest detail of `status` names.
std::vector<std::string> ViolatedFields(const grpc::Status& status) {
  std::vector<std::string> fields;
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return fields;
  for (const google::protobuf::Any& any : details.details()) {
    google::rpc::BadRequest bad_request;
    if (!any.UnpackTo(&bad_request)) continue;
    for (const auto& violation : bad_request.field_violations()) {
      fields.push_back(violation.field());
    }
  }
  return fields;
}

class DestinationE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(kServerBin, X_OK), 0) << "no ats-server at " << kServerBin;
    dir_ = MakeTempDir();
    auto sink = SinkProcess::Start(ATS_PARTNER_SINK_BIN);
    ASSERT_TRUE(sink.ok()) << sink.status();
    sink_ = *std::move(sink);
  }
  void TearDown() override { RemoveTree(dir_); }

  // Starts ats-server with `extra` flags and a retry schedule with attempts
  // to spare, and waits until it listens.
  std::optional<ChildProcess> StartServer(
      const std::vector<std::string>& extra) {
    const int port = PickFreeLoopbackPort();
    std::vector<std::string> argv = {
        kServerBin, absl::StrCat("--listen=127.0.0.1:", port),
        "--db=" + dir_ + "/ats.db", "--key_dir=" + dir_, "--shutdown_grace=2s",
        "--retry_schedule=0s,1h,1h", "--delivery_connect_timeout=2s"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto server = ChildProcess::StartListening(argv, port, kStartTimeout);
    if (!server.ok()) {
      ADD_FAILURE() << "cannot start ats-server: " << server.status();
      return std::nullopt;
    }
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                       grpc::InsecureChannelCredentials());
    integrations_ = ats::v1::IntegrationService::NewStub(channel);
    jobs_ = ats::v1::JobService::NewStub(channel);
    operator_key_ = ReadKey(dir_ + "/ats.operator.key");
    admin_key_ = ReadKey(dir_ + "/ats.admin.key");
    return *std::move(server);
  }

  // Connects a partner at http://localhost:<sink port>/webhooks, sends it an
  // event for a new candidate and waits (bounded) until the event is in a
  // final state; returns the event with its attempts.
  ats::v1::Event SendToLocalhost() {
    const absl::StatusOr<std::string> integration = ConnectSinkPartner(
        *integrations_, operator_key_, admin_key_, *sink_,
        absl::StrCat("http://localhost:", sink_->port(), "/webhooks"));
    EXPECT_TRUE(integration.ok()) << integration.status();
    ats::v1::CreateCandidateRequest create;
    create.mutable_candidate()->set_given_name("Ada");
    ats::v1::Candidate candidate;
    grpc::Status status = jobs_->CreateCandidate(
        KeyContext(admin_key_, kCallSeconds).get(), create, &candidate);
    EXPECT_TRUE(status.ok()) << status.error_message();
    ats::v1::TriggerIntegrationRequest trigger;
    trigger.set_integration(integration.value_or(""));
    trigger.set_candidate(candidate.name());
    ats::v1::TriggerIntegrationResponse triggered;
    status = integrations_->TriggerIntegration(
        KeyContext(admin_key_, kCallSeconds).get(), trigger, &triggered);
    EXPECT_TRUE(status.ok()) << status.error_message();

    absl::StatusOr<ats::v1::Event> event =
        AwaitEventState(*integrations_, admin_key_, triggered.event().name(),
                        {ats::v1::EVENT_STATE_SENT, ats::v1::EVENT_STATE_DEAD},
                        kDeliveryTimeout);
    EXPECT_TRUE(event.ok()) << event.status();
    return event.value_or(ats::v1::Event());
  }

  std::string dir_;
  std::unique_ptr<SinkProcess> sink_;
  std::unique_ptr<ats::v1::IntegrationService::Stub> integrations_;
  std::unique_ptr<ats::v1::JobService::Stub> jobs_;
  std::string operator_key_;
  std::string admin_key_;
};

TEST_F(DestinationE2eTest, WithoutTheFlagLoopbackIsRefusedAndNothingIsSent) {
  std::optional<ChildProcess> server = StartServer({});
  ASSERT_TRUE(server.has_value());

  // On save: an address, in any spelling, is checked at once.
  for (const char* host : {"127.0.0.1", "2130706433", "[::1]"}) {
    ats::v1::CreatePartnerRequest create;
    create.mutable_partner()->set_display_name("Loopy");
    create.mutable_partner()->set_category(ats::v1::PARTNER_CATEGORY_ASSESSMENT);
    create.mutable_partner()->set_webhook_uri(
        absl::StrCat("http://", host, ":", sink_->port(), "/webhooks"));
    ats::v1::Partner partner;
    grpc::Status status = integrations_->CreatePartner(
        KeyContext(operator_key_, kCallSeconds).get(), create, &partner);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << host << ": " << status.error_message();
    EXPECT_EQ(ViolatedFields(status),
              std::vector<std::string>{"partner.webhook_uri"})
        << host << ": " << status.error_message();
  }

  // On connect: a name is resolved, and its loopback address refused.
  const ats::v1::Event event = SendToLocalhost();
  EXPECT_EQ(event.state(), ats::v1::EVENT_STATE_DEAD)
      << event.ShortDebugString() << "\n" << server->Log();
  ASSERT_EQ(event.attempts_size(), 1) << event.ShortDebugString();
  EXPECT_EQ(event.attempts(0).http_status(), 0);
  EXPECT_TRUE(absl::StrContains(
      event.attempts(0).error(),
      "destination 127.0.0.1 is not allowed: loopback (127.0.0.0/8)"))
      << event.attempts(0).error();
  EXPECT_EQ(event.state_reason(), event.attempts(0).error());
  auto received = sink_->Received();
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(received->accepted + received->duplicates + received->failed +
                received->rejected,
            0);
  EXPECT_EQ(server->Stop(), 0) << server->Log();
}

TEST_F(DestinationE2eTest, WithLoopbackOpenedTheSinkGetsTheEvent) {
  std::optional<ChildProcess> server = StartServer({kLoopback});
  ASSERT_TRUE(server.has_value());
  const ats::v1::Event event = SendToLocalhost();
  EXPECT_EQ(event.state(), ats::v1::EVENT_STATE_SENT)
      << event.ShortDebugString() << "\n" << server->Log();
  auto received = sink_->Received();
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(received->accepted, 1);
  EXPECT_EQ(received->rejected, 0);
  EXPECT_EQ(server->Stop(), 0) << server->Log();
}

TEST_F(DestinationE2eTest, BadNetworkStopsStartUpBeforeAnythingIsWritten) {
  for (const char* networks :
       {"10.0.0.1/8", "127.0.0.0/8,localhost", "::1/129", "127.0.0.1"}) {
    SCOPED_TRACE(networks);
    const CommandResult result = RunCommand(
        {kServerBin, "--listen=127.0.0.1:0", "--db=" + dir_ + "/var/ats.db",
         absl::StrCat("--allowed_destination_networks=", networks)},
        absl::Seconds(30));
    EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
    EXPECT_TRUE(
        absl::StartsWith(result.err, "--allowed_destination_networks: "))
        << result.err;
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/var"));
  }
  const CommandResult result = RunCommand(
      {kServerBin, "--listen=127.0.0.1:0", "--db=" + dir_ + "/var/ats.db",
       "--allowed_destination_networks=10.0.0.1/8"},
      absl::Seconds(30));
  EXPECT_TRUE(absl::StrContains(result.err, "did you mean 10.0.0.0/8?"))
      << result.err;
}

}  // namespace
}  // namespace ats::testing
