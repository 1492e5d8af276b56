// End to end, at-least-once across a crash: the real ats-server binary
// delivers the events of a batch move to the real partner-sink (answering
// slowly), is SIGKILLed while deliveries are under way, and restarted on the
// same database. Every event must end SENT and have reached the partner at
// least once; duplicates are allowed (and counted), losses are not.

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ats/v1/account_service.grpc.pb.h"
#include "ats/v1/integration_service.grpc.pb.h"
#include "ats/v1/job_service.grpc.pb.h"
#include "grpcpp/client_context.h"
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
constexpr int kCandidates = 50;
// Bounds on waits, generous for a loaded machine; none is a timing
// assertion.
constexpr absl::Duration kStartTimeout = absl::Seconds(30);
constexpr absl::Duration kDeliveryTimeout = absl::Seconds(60);
// Deadline of each call, in seconds.
constexpr int kCallSeconds = 30;

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(kServerBin, X_OK), 0) << "no ats-server at " << kServerBin;
    dir_ = MakeTempDir();
  }
  void TearDown() override { RemoveTree(dir_); }

  // Starts ats-server on the test's database with a compressed retry
  // schedule and a 1 s lease; waits until it listens.
  std::optional<ChildProcess> StartServer() {
    port_ = PickFreeLoopbackPort();
    auto server = ChildProcess::StartListening(
        {kServerBin, absl::StrCat("--listen=127.0.0.1:", port_),
         "--db=" + dir_ + "/ats.db", "--key_dir=" + dir_,
         "--shutdown_grace=2s", "--log_level=warn",
         "--retry_schedule=0s,100ms,200ms,400ms,800ms,1s,1s,1s,1s,1s",
         "--dispatch_lease=1s", "--delivery_timeout=800ms",
         "--delivery_connect_timeout=500ms", "--dispatch_in_flight=8",
         "--dispatch_per_destination=4",
         "--allowed_destination_networks=127.0.0.0/8,::1/128"},
        port_, kStartTimeout);
    if (!server.ok()) {
      ADD_FAILURE() << "cannot start ats-server: " << server.status();
      return std::nullopt;
    }
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_),
                                   grpc::InsecureChannelCredentials());
    return *std::move(server);
  }

  // Events of `job`, by name, with their states.
  std::map<std::string, ats::v1::EventState> Events(const std::string& job) {
    std::map<std::string, ats::v1::EventState> states;
    auto stub = ats::v1::IntegrationService::NewStub(channel_);
    ats::v1::ListEventsRequest request;
    request.set_job(job);
    request.set_page_size(1000);
    do {
      ats::v1::ListEventsResponse response;
      grpc::Status status = stub->ListEvents(
          KeyContext(admin_key_, kCallSeconds).get(), request, &response);
      if (!status.ok()) {
        ADD_FAILURE() << "ListEvents: " << status.error_message();
        return states;
      }
      for (const ats::v1::Event& event : response.events()) {
        states[event.name()] = event.state();
      }
      request.set_page_token(response.next_page_token());
    } while (!request.page_token().empty());
    return states;
  }

  std::string dir_;
  int port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::string admin_key_;
};

TEST_F(CrashTest, EveryEventIsDeliveredAtLeastOnceAcrossASigkill) {
  auto sink = SinkProcess::Start(ATS_PARTNER_SINK_BIN);
  ASSERT_TRUE(sink.ok()) << sink.status();
  SinkProcess& partner = **sink;
  ASSERT_TRUE(partner.SetBehaviour(R"({"delay_ms": 200})").ok());

  std::optional<ChildProcess> server = StartServer();
  ASSERT_TRUE(server.has_value());
  const std::string operator_key = ReadKey(dir_ + "/ats.operator.key");
  admin_key_ = ReadKey(dir_ + "/ats.admin.key");
  ASSERT_FALSE(operator_key.empty());
  ASSERT_FALSE(admin_key_.empty());
  auto integrations = ats::v1::IntegrationService::NewStub(channel_);
  auto jobs = ats::v1::JobService::NewStub(channel_);

  // A partner, the account's integration with it, and a job whose second
  // stage notifies it.
  const absl::StatusOr<std::string> integration =
      ConnectSinkPartner(*integrations, operator_key, admin_key_, partner);
  ASSERT_TRUE(integration.ok()) << integration.status();

  const absl::StatusOr<ats::v1::Job> created =
      CreateJobNotifying(*jobs, admin_key_, *integration);
  ASSERT_TRUE(created.ok()) << created.status();
  const ats::v1::Job& job = *created;
  const std::string assessment = job.stages(1).name();
  grpc::Status status;

  ats::v1::BatchMoveCandidatesRequest move;
  move.set_parent(job.name());
  move.set_stage(assessment);
  move.set_request_id("move-everyone");
  for (int i = 0; i < kCandidates; ++i) {
    ats::v1::CreateCandidateRequest create_candidate;
    create_candidate.mutable_candidate()->set_given_name(
        absl::StrCat("Candidate ", i));
    ats::v1::Candidate candidate;
    status = jobs->CreateCandidate(KeyContext(admin_key_, kCallSeconds).get(),
                                   create_candidate, &candidate);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ats::v1::AddCandidateToJobRequest add;
    add.set_job(job.name());
    add.set_candidate(candidate.name());
    ats::v1::AddCandidateToJobResponse added;
    status = jobs->AddCandidateToJob(KeyContext(admin_key_, kCallSeconds).get(),
                                     add, &added);
    ASSERT_TRUE(status.ok()) << status.error_message();
    move.add_candidates(candidate.name());
  }
  ats::v1::BatchMoveCandidatesResponse moved;
  status = jobs->BatchMoveCandidates(KeyContext(admin_key_, kCallSeconds).get(),
                                     move, &moved);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(moved.events_size(), kCandidates);

  // Kill the server while the slow partner is part-way through the batch.
  absl::Time deadline = absl::Now() + kDeliveryTimeout;
  int64_t accepted_before_kill = 0;
  while (absl::Now() < deadline) {
    auto received = partner.Received();
    ASSERT_TRUE(received.ok()) << received.status();
    accepted_before_kill = received->accepted;
    if (accepted_before_kill >= 8) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  server->Kill();
  ASSERT_GE(accepted_before_kill, 8) << server->Log();
  EXPECT_LT(accepted_before_kill, kCandidates)
      << "everything was delivered before the kill; the test proves little";

  // Restarted on the same database, it finishes the job by itself.
  server = StartServer();
  ASSERT_TRUE(server.has_value());
  std::map<std::string, ats::v1::EventState> states;
  int sent = 0;
  deadline = absl::Now() + kDeliveryTimeout;
  while (absl::Now() < deadline) {
    states = Events(job.name());
    sent = 0;
    for (const auto& [name, state] : states) {
      if (state == ats::v1::EVENT_STATE_SENT) ++sent;
    }
    if (sent == kCandidates) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  auto received = partner.Received();
  ASSERT_TRUE(received.ok()) << received.status();
  ASSERT_EQ(states.size(), static_cast<size_t>(kCandidates));
  if (sent != kCandidates) {
    std::map<std::string, int> by_state;
    for (const auto& [name, state] : states) {
      ++by_state[ats::v1::EventState_Name(state)];
    }
    std::string summary;
    for (const auto& [state, count] : by_state) {
      absl::StrAppend(&summary, state, ": ", count, "\n");
    }
    for (const std::string& rejection : received->rejections) {
      absl::StrAppend(&summary, "sink rejected ", rejection, "\n");
    }
    ADD_FAILURE() << sent << " of " << kCandidates << " SENT:\n"
                  << summary << "server log:\n"
                  << server->Log();
  }
  EXPECT_EQ(received->rejected, 0) << partner.Log();
  int64_t duplicates = 0;
  for (const auto& [name, state] : states) {
    auto it = received->deliveries.find(name);
    ASSERT_NE(it, received->deliveries.end()) << name << " never reached the partner";
    duplicates += it->second - 1;
  }
  EXPECT_EQ(received->accepted, kCandidates);
  std::printf("crash test: %lld of %d events accepted before SIGKILL; "
              "%lld duplicate deliveries after the restart (at-least-once)\n",
              static_cast<long long>(accepted_before_kill), kCandidates,
              static_cast<long long>(duplicates));
  EXPECT_EQ(server->Stop(SIGTERM, absl::Seconds(15)), 0) << server->Log();
}

}  // namespace
}  // namespace ats::testing
