// End to end, bulk operations across a crash: the real ats-server binary runs
// a bulk operation in small batches, is SIGKILLed while it works, and is
// restarted on the same database. The operation must resume by itself and
// finish with exact counts. For a bulk trigger, the real partner-sink must
// receive exactly one event per candidate (deliveries of the same event may
// repeat; a second event for a candidate may not); for a recover of dead
// events, it must receive each of them again, each re-queued once.

#include <unistd.h>

#include <csignal>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ats/v1/integration_service.grpc.pb.h"
#include "ats/v1/job_service.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "server/contract/timestamps.h"
#include "tests/delivery/sink_process.h"
#include "tests/e2e/partner_setup.h"
#include "tests/support/child_process.h"
#include "tests/support/loopback_port.h"
#include "tests/support/temp_dir.h"

#ifndef ATS_SERVER_BIN
#error "ATS_SERVER_BIN must name the ats-server binary"
#endif

namespace ats::testing {
namespace {

constexpr char kServerBin[] = ATS_SERVER_BIN;
constexpr int kCandidates = 400;
// Bounds on waits, generous for a loaded machine; none is a timing
// assertion.
constexpr absl::Duration kStartTimeout = absl::Seconds(30);
constexpr absl::Duration kFinishTimeout = absl::Seconds(90);
// Deadline of each call, in seconds.
constexpr int kCallSeconds = 60;

class BulkRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(kServerBin, X_OK), 0) << "no ats-server at " << kServerBin;
  }

  // Starts ats-server on the test's database with tiny bulk batches (so the
  // operation takes many transactions) and quick delivery retries on
  // `retry_schedule`.
  std::optional<ChildProcess> StartServer(
      const std::string& retry_schedule =
          "0s,100ms,200ms,400ms,800ms,1s,1s,1s,1s,1s") {
    const int port = PickFreeLoopbackPort();
    auto server = ChildProcess::StartListening(
        {kServerBin, absl::StrCat("--listen=127.0.0.1:", port),
         "--db=" + dir_.File("ats.db"), "--key_dir=" + dir_.path(),
         "--shutdown_grace=2s", "--log_level=warn", "--bulk_batch_size=3",
         "--retry_schedule=" + retry_schedule, "--dispatch_lease=2s",
         "--delivery_timeout=1s",
         "--allowed_destination_networks=127.0.0.0/8,::1/128"},
        port, kStartTimeout);
    if (!server.ok()) {
      ADD_FAILURE() << "cannot start ats-server: " << server.status();
      return std::nullopt;
    }
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                       grpc::InsecureChannelCredentials());
    integrations_ = ats::v1::IntegrationService::NewStub(channel);
    jobs_ = ats::v1::JobService::NewStub(channel);
    return *std::move(server);
  }

  std::string ReadKey(const std::string& name) {
    std::ifstream in(dir_.File(name));
    std::string key;
    std::getline(in, key);
    return key;
  }

  // Polls bulk operation `name` with `key` until it ends (or the wait is
  // too long); returns it as last read.
  ats::v1::BulkOperation WaitUntilEnded(const std::string& key,
                                        const std::string& name) {
    ats::v1::BulkOperation polled;
    ats::v1::GetBulkOperationRequest get;
    get.set_name(name);
    const absl::Time deadline = absl::Now() + kFinishTimeout;
    while (absl::Now() < deadline) {
      grpc::Status status = integrations_->GetBulkOperation(
          KeyContext(key, kCallSeconds).get(), get, &polled);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok() ||
          polled.state() != ats::v1::BULK_OPERATION_STATE_RUNNING) {
        break;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    return polled;
  }

  // Reads `reader` until its operation has created or re-queued events,
  // then kills `server`; returns the last message read.
  static ats::v1::BulkOperation KillWhenUnderWay(
      grpc::ClientReader<ats::v1::BulkOperation>& reader,
      ChildProcess& server) {
    ats::v1::BulkOperation progress;
    while (reader.Read(&progress) &&
           progress.created_count() + progress.requeued_count() == 0) {
    }
    server.Kill();
    reader.Finish();
    return progress;
  }

  // What `partner` received once it has accepted `count` events (or the
  // wait is too long).
  static SinkReceived WaitForAccepted(const SinkProcess& partner, int count) {
    const absl::Time deadline = absl::Now() + kFinishTimeout;
    SinkReceived received;
    while (absl::Now() < deadline) {
      auto now = partner.Received();
      EXPECT_TRUE(now.ok()) << now.status();
      if (!now.ok()) break;
      received = *std::move(now);
      if (received.accepted >= count) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return received;
  }

  TempDir dir_;
  std::unique_ptr<ats::v1::IntegrationService::Stub> integrations_;
  std::unique_ptr<ats::v1::JobService::Stub> jobs_;
};

TEST_F(BulkRestartTest, ABulkOperationResumesAfterASigkillAndReachesEachCandidateOnce) {
  auto sink = SinkProcess::Start(ATS_PARTNER_SINK_BIN);
  ASSERT_TRUE(sink.ok()) << sink.status();
  SinkProcess& partner = **sink;

  std::optional<ChildProcess> server = StartServer();
  ASSERT_TRUE(server.has_value());
  const std::string operator_key = ReadKey("ats.operator.key");
  const std::string admin_key = ReadKey("ats.admin.key");

  const absl::StatusOr<std::string> integration =
      ConnectSinkPartner(*integrations_, operator_key, admin_key, partner);
  ASSERT_TRUE(integration.ok()) << integration.status();
  grpc::Status status;

  std::set<std::string> candidates;
  for (int i = 0; i < kCandidates; ++i) {
    ats::v1::CreateCandidateRequest create;
    create.mutable_candidate()->set_given_name(absl::StrCat("Candidate ", i));
    ats::v1::Candidate candidate;
    status = jobs_->CreateCandidate(KeyContext(admin_key, kCallSeconds).get(),
                                    create, &candidate);
    ASSERT_TRUE(status.ok()) << status.error_message();
    candidates.insert(candidate.name());
  }

  // Everyone, watched until events are being created; then the server dies.
  ats::v1::BulkTriggerIntegrationRequest bulk;
  bulk.set_integration(*integration);
  bulk.mutable_selection()->set_all_candidates(true);
  bulk.set_request_id("everyone-1");
  ats::v1::BulkOperation progress;
  {
    auto context = KeyContext(admin_key, kCallSeconds);
    progress = KillWhenUnderWay(
        *integrations_->BulkTriggerIntegration(context.get(), bulk), *server);
  }
  ASSERT_GT(progress.created_count(), 0) << server->Log();
  EXPECT_LT(progress.created_count(), kCandidates)
      << "the operation ended before the kill; the test proves little";
  const std::string name = progress.name();

  // Restarted, the server finishes the operation by itself...
  server = StartServer();
  ASSERT_TRUE(server.has_value());
  const ats::v1::BulkOperation polled = WaitUntilEnded(admin_key, name);
  ASSERT_EQ(polled.state(), ats::v1::BULK_OPERATION_STATE_SUCCEEDED)
      << polled.state_reason() << server->Log();

  // ...and a retry of the call (same request_id) shows the same operation.
  ats::v1::BulkOperation done;
  {
    auto context = KeyContext(admin_key, kCallSeconds);
    auto reader = integrations_->BulkTriggerIntegration(context.get(), bulk);
    while (reader->Read(&done)) {
    }
    status = reader->Finish();
  }
  ASSERT_TRUE(status.ok()) << status.error_message() << server->Log();
  EXPECT_EQ(done.name(), name);
  EXPECT_EQ(done.state(), ats::v1::BULK_OPERATION_STATE_SUCCEEDED)
      << done.state_reason();
  EXPECT_EQ(done.total_count(), kCandidates);
  EXPECT_EQ(done.created_count(), kCandidates);
  EXPECT_EQ(done.skipped_count() + done.failed_count(), 0);
  EXPECT_EQ(done.created_count(), polled.created_count());

  // The partner gets every candidate, each in exactly one event.
  const SinkReceived received = WaitForAccepted(partner, kCandidates);
  EXPECT_EQ(received.rejected, 0) << partner.Log();
  ASSERT_EQ(received.accepted, kCandidates) << server->Log();
  std::map<std::string, std::set<std::string>> events_by_candidate;
  for (const auto& [event_id, body] : received.bodies) {
    ats::v1::PartnerEvent event;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(body, &event).ok())
        << body;
    EXPECT_EQ(event.source(), ats::v1::EVENT_SOURCE_BULK);
    events_by_candidate[event.candidate().name()].insert(event_id);
  }
  std::set<std::string> reached;
  for (const auto& [candidate, events] : events_by_candidate) {
    EXPECT_EQ(events.size(), 1u) << candidate << " got several events";
    reached.insert(candidate);
  }
  EXPECT_EQ(reached, candidates);
  std::printf("bulk restart test: %lld of %d events created before SIGKILL\n",
              static_cast<long long>(progress.created_count()), kCandidates);
  EXPECT_EQ(server->Stop(SIGTERM, absl::Seconds(15)), 0) << server->Log();
}

// The events of `integration` in `state`, as `key` lists them.
std::vector<ats::v1::Event> EventsIn(ats::v1::IntegrationService::Stub& stub,
                                     const std::string& key,
                                     const std::string& integration,
                                     ats::v1::EventState state) {
  ats::v1::ListEventsRequest request;
  request.set_integration(integration);
  request.set_state(state);
  request.set_page_size(1000);
  ats::v1::ListEventsResponse response;
  grpc::Status status =
      stub.ListEvents(KeyContext(key, kCallSeconds).get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return {response.events().begin(), response.events().end()};
}

TEST_F(BulkRestartTest,
       ARecoverResumesAfterASigkillAndDeliversEachDeadEventAgain) {
  constexpr int kEvents = 60;
  auto sink = SinkProcess::Start(ATS_PARTNER_SINK_BIN);
  ASSERT_TRUE(sink.ok()) << sink.status();
  SinkProcess& partner = **sink;
  // The partner is down: every event dies after three attempts.
  ASSERT_TRUE(partner.SetBehaviour(R"({"status": 500})").ok());
  const std::string kQuickDeath = "0s,50ms,50ms";
  std::optional<ChildProcess> server = StartServer(kQuickDeath);
  ASSERT_TRUE(server.has_value());
  const std::string operator_key = ReadKey("ats.operator.key");
  const std::string admin_key = ReadKey("ats.admin.key");
  const absl::StatusOr<std::string> integration =
      ConnectSinkPartner(*integrations_, operator_key, admin_key, partner);
  ASSERT_TRUE(integration.ok()) << integration.status();
  const absl::Time outage = absl::Now();

  ats::v1::BulkTriggerIntegrationRequest bulk;
  bulk.set_integration(*integration);
  for (int i = 0; i < kEvents; ++i) {
    ats::v1::CreateCandidateRequest create;
    create.mutable_candidate()->set_given_name(absl::StrCat("Candidate ", i));
    ats::v1::Candidate candidate;
    grpc::Status status = jobs_->CreateCandidate(
        KeyContext(admin_key, kCallSeconds).get(), create, &candidate);
    ASSERT_TRUE(status.ok()) << status.error_message();
    bulk.mutable_selection()->mutable_candidates()->add_candidates(
        candidate.name());
  }
  {
    auto context = KeyContext(admin_key, kCallSeconds);
    auto reader = integrations_->BulkTriggerIntegration(context.get(), bulk);
    ats::v1::BulkOperation ignored;
    while (reader->Read(&ignored)) {
    }
    ASSERT_TRUE(reader->Finish().ok());
  }
  std::set<std::string> dead;
  const absl::Time deadline = absl::Now() + kFinishTimeout;
  while (absl::Now() < deadline && dead.size() < kEvents) {
    dead.clear();
    for (const ats::v1::Event& event :
         EventsIn(*integrations_, admin_key, *integration,
                  ats::v1::EVENT_STATE_DEAD)) {
      dead.insert(event.name());
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(dead.size(), kEvents) << server->Log();

  // The partner is back. The recover runs until it has re-queued some
  // events; then the server dies.
  ASSERT_TRUE(partner.SetBehaviour(R"({"status": 200})").ok());
  ats::v1::RecoverEventsRequest recover;
  recover.set_integration(*integration);
  *recover.mutable_since() = server::ToProtoTime(outage);
  recover.set_request_id("recover-1");
  ats::v1::BulkOperation progress;
  {
    auto context = KeyContext(admin_key, kCallSeconds);
    progress = KillWhenUnderWay(
        *integrations_->RecoverEvents(context.get(), recover), *server);
  }
  ASSERT_GT(progress.requeued_count(), 0) << server->Log();
  EXPECT_LT(progress.requeued_count(), kEvents)
      << "the operation ended before the kill; the test proves little";

  // Restarted, the server finishes it by itself, each event re-queued once.
  server = StartServer(kQuickDeath);
  ASSERT_TRUE(server.has_value());
  const ats::v1::BulkOperation done =
      WaitUntilEnded(admin_key, progress.name());
  ASSERT_EQ(done.state(), ats::v1::BULK_OPERATION_STATE_SUCCEEDED)
      << done.state_reason() << server->Log();
  EXPECT_EQ(done.kind(), ats::v1::BULK_OPERATION_KIND_RECOVER);
  EXPECT_EQ(done.total_count(), kEvents);
  EXPECT_EQ(done.requeued_count(), kEvents);
  EXPECT_EQ(done.skipped_count() + done.failed_count(), 0);

  // The partner gets every dead event again: the same ids, now accepted.
  const SinkReceived received = WaitForAccepted(partner, kEvents);
  std::set<std::string> delivered;
  for (const auto& [event_id, body] : received.bodies) {
    delivered.insert(event_id);  // The webhook-id: the event's name.
  }
  EXPECT_EQ(delivered, dead) << server->Log();
  EXPECT_EQ(EventsIn(*integrations_, admin_key, *integration,
                     ats::v1::EVENT_STATE_DEAD)
                .size(),
            0u);
  std::printf(
      "recover restart test: %lld of %d events re-queued before "
      "SIGKILL\n",
      static_cast<long long>(progress.requeued_count()), kEvents);
  EXPECT_EQ(server->Stop(SIGTERM, absl::Seconds(15)), 0) << server->Log();
}

}  // namespace
}  // namespace ats::testing
