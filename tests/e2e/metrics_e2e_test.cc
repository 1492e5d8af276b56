// End to end, the Prometheus metrics: the real ats-server binary with
// --metrics_listen on a loopback port, driven over gRPC, delivering to the
// real partner-sink, and scraped over HTTP as Prometheus would; every
// scrape is parsed by the prometheus_client library's parser
// (tests/support/parse_metrics.py). The counters must move as the calls
// are made: RPCs by method and code (refused ones included), events
// created, sent and dead by integration, delivery attempts and lag, the
// store's commits, the rate limits' refusals.

#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ats/v1/integration_service.grpc.pb.h"
#include "ats/v1/job_service.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "tests/delivery/sink_process.h"
#include "tests/e2e/partner_setup.h"
#include "tests/support/child_process.h"
#include "tests/support/files.h"
#include "tests/support/loopback_port.h"
#include "tests/support/metrics_text.h"
#include "tests/support/run_command.h"
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
constexpr absl::Duration kWaitTimeout = absl::Seconds(60);
constexpr int kCallSeconds = 30;

// `name{labels}` as parse_metrics.py spells a series.
std::string Series(const std::string& name, const std::string& labels = "") {
  return labels.empty() ? name : absl::StrCat(name, "{", labels, "}");
}

std::string RpcCalls(const std::string& method, const std::string& code) {
  return Series("ats_rpc_calls_total",
                absl::StrCat("code=\"", code, "\",method=\"", method, "\""));
}

class MetricsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(kServerBin, X_OK), 0) << "no ats-server at " << kServerBin;
    dir_ = MakeTempDir();
    auto sink = SinkProcess::Start(ATS_PARTNER_SINK_BIN);
    ASSERT_TRUE(sink.ok()) << sink.status();
    sink_ = *std::move(sink);
  }
  void TearDown() override { RemoveTree(dir_); }

  // Starts ats-server serving metrics on a free loopback port, with one
  // delivery attempt per event and `extra` flags; waits until it listens.
  std::optional<ChildProcess> StartServer(
      const std::vector<std::string>& extra = {}) {
    const int port = PickFreeLoopbackPort();
    metrics_port_ = PickFreeLoopbackPort();
    std::vector<std::string> argv = {
        kServerBin,
        absl::StrCat("--listen=127.0.0.1:", port),
        absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port_),
        "--db=" + dir_ + "/ats.db",
        "--key_dir=" + dir_,
        "--shutdown_grace=2s",
        "--retry_schedule=0s",
        "--allowed_destination_networks=127.0.0.0/8,::1/128"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto server = ChildProcess::StartListening(argv, port, kStartTimeout);
    if (!server.ok()) {
      ADD_FAILURE() << "cannot start ats-server: " << server.status();
      return std::nullopt;
    }
    if (!server->WaitForTcpPort(metrics_port_, kStartTimeout)) {
      ADD_FAILURE() << "no metrics on port " << metrics_port_ << "\n"
                    << server->Log();
      return std::nullopt;
    }
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials());
    integrations_ = ats::v1::IntegrationService::NewStub(channel_);
    jobs_ = ats::v1::JobService::NewStub(channel_);
    operator_key_ = ReadKey(dir_ + "/ats.operator.key");
    admin_key_ = ReadKey(dir_ + "/ats.admin.key");
    return *std::move(server);
  }

  // Scrapes GET /metrics with a real HTTP client and parses what it gets.
  MetricSamples Scrape() {
    httplib::Client client("127.0.0.1", metrics_port_);
    client.set_read_timeout(kCallSeconds, 0);
    httplib::Result result = client.Get("/metrics");
    if (!result) {
      ADD_FAILURE() << "GET /metrics: " << httplib::to_string(result.error());
      return {};
    }
    EXPECT_EQ(result->status, 200);
    EXPECT_EQ(result->get_header_value("Content-Type"),
              "text/plain; version=0.0.4; charset=utf-8");
    absl::StatusOr<MetricSamples> samples = ParseMetricsText(result->body);
    if (!samples.ok()) {
      ADD_FAILURE() << samples.status() << "\n" << result->body;
      return {};
    }
    return *std::move(samples);
  }

  // Scrapes until `series` is `value` (bounded: the database's gauges are
  // read at most once a second, and events settle in their own time);
  // returns the last scrape.
  MetricSamples ScrapeUntil(const std::string& series, double value) {
    MetricSamples samples;
    const absl::Time deadline = absl::Now() + kWaitTimeout;
    do {
      samples = Scrape();
      if (SampleOr0(samples, series) == value) break;
      absl::SleepFor(absl::Milliseconds(50));
    } while (absl::Now() < deadline);
    EXPECT_EQ(SampleOr0(samples, series), value) << series;
    return samples;
  }

  // Creates a job whose second stage notifies `integration`, and a
  // candidate in its first stage; returns the application's name and the
  // second stage's.
  std::pair<std::string, std::string> JobWithTrigger(
      const std::string& integration) {
    const absl::StatusOr<ats::v1::Job> job =
        CreateJobNotifying(*jobs_, admin_key_, integration);
    if (!job.ok()) {
      ADD_FAILURE() << job.status();
      return {};
    }
    ats::v1::AddCandidateToJobRequest add;
    add.set_job(job->name());
    add.set_candidate(NewCandidate());
    ats::v1::AddCandidateToJobResponse added;
    grpc::Status status = jobs_->AddCandidateToJob(
        KeyContext(admin_key_, kCallSeconds).get(), add, &added);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {added.application().name(), job->stages(1).name()};
  }

  // Returns the name of a new candidate.
  std::string NewCandidate() {
    ats::v1::CreateCandidateRequest create;
    create.mutable_candidate()->set_given_name("Ada");
    ats::v1::Candidate candidate;
    grpc::Status status = jobs_->CreateCandidate(
        KeyContext(admin_key_, kCallSeconds).get(), create, &candidate);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return candidate.name();
  }

  // Calls `method` with a request that does not parse; returns the status.
  grpc::Status CallWithGarbage(const std::string& method) {
    grpc::GenericStub stub(channel_);
    // A varint that never ends.
    grpc::Slice slice(std::string(5, '\xff'));
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext context;
    absl::Notification done;
    grpc::Status status;
    stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                   [&](grpc::Status result) {
                     status = std::move(result);
                     done.Notify();
                   });
    done.WaitForNotification();
    return status;
  }

  // Triggers `integration` by hand for a new candidate.
  void Trigger(const std::string& integration) {
    ats::v1::TriggerIntegrationRequest trigger;
    trigger.set_integration(integration);
    trigger.set_candidate(NewCandidate());
    ats::v1::TriggerIntegrationResponse triggered;
    grpc::Status status = integrations_->TriggerIntegration(
        KeyContext(admin_key_, kCallSeconds).get(), trigger, &triggered);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }

  std::string dir_;
  int metrics_port_ = 0;
  std::unique_ptr<SinkProcess> sink_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ats::v1::IntegrationService::Stub> integrations_;
  std::unique_ptr<ats::v1::JobService::Stub> jobs_;
  std::string operator_key_;
  std::string admin_key_;
};

TEST_F(MetricsE2eTest, CountersMoveAsCallsAreMadeAndEventsDelivered) {
  std::optional<ChildProcess> server = StartServer({"--auth_failure_limit=2"});
  ASSERT_TRUE(server.has_value());
  const MetricSamples before = Scrape();
  ASSERT_FALSE(before.empty());
  const absl::StatusOr<std::string> integration =
      ConnectSinkPartner(*integrations_, operator_key_, admin_key_, *sink_);
  ASSERT_TRUE(integration.ok()) << integration.status();
  const std::string label = absl::StrCat("integration=\"", *integration, "\"");

  // A move into a stage that notifies the partner: one event, delivered.
  const auto [application, stage] = JobWithTrigger(*integration);
  ats::v1::MoveCandidateRequest move;
  move.set_name(application);
  move.set_stage(stage);
  ats::v1::MoveCandidateResponse moved;
  grpc::Status status = jobs_->MoveCandidate(
      KeyContext(admin_key_, kCallSeconds).get(), move, &moved);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(moved.events_size(), 1);
  MetricSamples after = ScrapeUntil(Series("ats_events_sent_total", label), 1);
  EXPECT_EQ(SampleOr0(after, Series("ats_events_created_total", label)), 1);
  EXPECT_EQ(SampleOr0(after, RpcCalls("ats.v1.JobService/MoveCandidate", "OK")),
            1);
  EXPECT_EQ(SampleOr0(after, Series("ats_rpc_duration_seconds_count",
                                    "code=\"OK\",method=\"ats.v1.JobService/"
                                    "MoveCandidate\"")),
            1);
  EXPECT_EQ(
      SampleOr0(after, Series("ats_delivery_attempt_duration_seconds_count",
                              "outcome=\"success\"")),
      1);
  EXPECT_EQ(SampleOr0(after, Series("ats_delivery_lag_seconds_count")), 1);
  EXPECT_GT(SampleOr0(after, Series("ats_storage_commit_batch_writes_count")),
            SampleOr0(before, Series("ats_storage_commit_batch_writes_count")));
  EXPECT_GT(SampleOr0(after, Series("ats_storage_wal_bytes")), 0);
  EXPECT_EQ(
      after.count(Series("ats_delivery_in_flight",
                         absl::StrCat("destination=\"", *integration, "\""))),
      1u);
  EXPECT_EQ(SampleOr0(after, Series("ats_bulk_operations_running")), 0);
  auto received = sink_->Received();
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(received->accepted, 1);

  // A partner refusing: the one attempt fails and the event is DEAD.
  ASSERT_TRUE(sink_->SetBehaviour(R"({"status": 500})").ok());
  Trigger(*integration);
  after = ScrapeUntil(Series("ats_events_dead_total", label), 1);
  EXPECT_EQ(SampleOr0(after, Series("ats_events_created_total", label)), 2);
  EXPECT_EQ(
      SampleOr0(after, Series("ats_delivery_attempt_duration_seconds_count",
                              "outcome=\"failure\"")),
      1);
  EXPECT_EQ(SampleOr0(after, Series("ats_events_sent_total", label)), 1);
  // Nothing left to deliver.
  after = ScrapeUntil(Series("ats_delivery_due_events"), 0);
  EXPECT_EQ(SampleOr0(after, Series("ats_delivery_oldest_due_age_seconds")), 0);

  // Calls refused before any handler: bytes that are no request (counted
  // with the code the client gets), no key, then a client address over
  // --auth_failure_limit (two failures, then refused whatever the key).
  EXPECT_EQ(CallWithGarbage("/ats.v1.JobService/GetJob").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  for (int i = 0; i < 3; ++i) {
    ats::v1::GetJobRequest get;
    get.set_name("jobs/nope");
    ats::v1::Job job;
    grpc::ClientContext context;
    status = jobs_->GetJob(&context, get, &job);
    EXPECT_EQ(status.error_code(), i < 2 ? grpc::StatusCode::UNAUTHENTICATED
                                         : grpc::StatusCode::RESOURCE_EXHAUSTED)
        << i << ": " << status.error_message();
  }
  after = Scrape();
  EXPECT_EQ(SampleOr0(after,
                      RpcCalls("ats.v1.JobService/GetJob", "INVALID_ARGUMENT")),
            1);
  EXPECT_EQ(
      SampleOr0(after, RpcCalls("ats.v1.JobService/GetJob", "UNAUTHENTICATED")),
      2);
  EXPECT_EQ(SampleOr0(after, RpcCalls("ats.v1.JobService/GetJob",
                                      "RESOURCE_EXHAUSTED")),
            1);
  EXPECT_EQ(SampleOr0(after, Series("ats_rate_limit_rejections_total",
                                    "limit=\"client_address\"")),
            1);
  EXPECT_EQ(SampleOr0(after, Series("ats_rate_limit_rejections_total",
                                    "limit=\"api_key\"")),
            0);
  EXPECT_EQ(server->Stop(), 0) << server->Log();
}

TEST_F(MetricsE2eTest, IntegrationsBeyondTheLabelBudgetCountAsOther) {
  std::optional<ChildProcess> server =
      StartServer({"--metrics_integration_labels=0"});
  ASSERT_TRUE(server.has_value());
  const absl::StatusOr<std::string> integration =
      ConnectSinkPartner(*integrations_, operator_key_, admin_key_, *sink_);
  ASSERT_TRUE(integration.ok()) << integration.status();
  Trigger(*integration);
  const MetricSamples after =
      ScrapeUntil(Series("ats_events_sent_total", "integration=\"other\""), 1);
  EXPECT_EQ(SampleOr0(after, Series("ats_events_created_total",
                                    "integration=\"other\"")),
            1);
  for (const auto& [series, value] : after) {
    EXPECT_EQ(series.find(*integration), std::string::npos) << series;
  }
  EXPECT_EQ(server->Stop(), 0) << server->Log();
}

TEST_F(MetricsE2eTest, HelpDocumentsTheFlagsAndBadOnesStopTheStart) {
  const CommandResult help =
      RunCommand({kServerBin, "--help"}, absl::Seconds(30));
  EXPECT_NE(help.out.find("-metrics_listen"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("-metrics_integration_labels"), std::string::npos);
  for (const char* flag : {"--metrics_listen=9464", "--metrics_listen=::1:9464",
                           "--metrics_integration_labels=-1"}) {
    const CommandResult result =
        RunCommand({kServerBin, "--listen=127.0.0.1:0",
                    "--db=" + dir_ + "/var/ats.db", flag},
                   absl::Seconds(30));
    EXPECT_EQ(result.exit_code, 2) << flag << "\n" << result.err;
    EXPECT_NE(result.err.find("--metrics_"), std::string::npos) << flag << "\n"
                                                                << result.err;
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/var")) << flag;
  }
}

}  // namespace
}  // namespace ats::testing
